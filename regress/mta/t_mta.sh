#! /usr/bin/env atf-sh
# The outbound engine of mta (obj/tools/mta-drive runs mta_route.c and
# mta_session.c alone) against smtp-peer instances: failover as GRAMMAR.md
# says, TLS modes, certificate checks, source address, AUTH, pipelined
# RCPTs with per-recipient results, dot-stuffing, hostile replies,
# connection reuse and parallelism, relay health.  Ports 25200-25399.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# A message with a line that needs dot-stuffing.
msg()
{
	h_world
	printf 'From: a@example.test\nTo: b@example.test\nSubject: t\nMessage-ID: <t.%s@example.test>\n\nline one\n.leading dot\n..two dots\nlast\n' \
	    "$$" > "$SMTPD_DIR/msg"
}

# mta-drive with the test message; output in ./out, log in ./log.
drive()
{
	"$H_TOOLS/mta-drive" -m "$SMTPD_DIR/msg" -t 60 "$@" > out 2> log
	_rc=$?
	grep -q '^TIMEOUT' out && atf_fail "mta-drive timed out: $(cat out)"
	return $_rc
}

result_of()
{
	sed -n "s/^RESULT $1 //p" out | cut -d' ' -f1
}

atf_test_case plain cleanup
plain_head() { atf_set descr "two recipients, one transaction, dot-stuffed"; }
plain_body()
{
	msg
	peer_start p 25200
	drive -h 127.0.0.1:25200:no a@x.test b@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	atf_check_equal Ok "$(result_of b@x.test)"
	peer_wait p 1 5
	atf_check_equal 1 "$(peer_count p)"
	atf_check_equal 2 "$(peer_meta p 1 rcpt_count)"
	atf_check_equal none "$(peer_meta p 1 tls)"
	atf_check_equal "<sender@drive.test>" "$(peer_meta p 1 mail_from)"
	peer_meta p 1 mail_params | grep -q 'BODY=8BITMIME' &&
	    atf_fail "BODY=8BITMIME for a 7-bit message"
	raw=$(peer_spool p)/000001.raw
	grep -q '^\.\.leading dot' "$raw" || atf_fail "not dot-stuffed"
	grep -q '^\.\.\.two dots' "$raw" || atf_fail "not dot-stuffed (2)"
	grep -q '^\.leading dot' "$(peer_body p 1)" || atf_fail "body changed"
	grep -q "result=Ok" log || atf_fail "no log line"
}
plain_cleanup() { smtpd_cleanup; }

atf_test_case failover cleanup
failover_head()
{
	atf_set descr "a;b;c: closed port, 421 greeting, working peer"
}
failover_body()
{
	msg
	peer_start b 25202 --reply greeting=421:busy
	peer_start c 25203
	drive -h 127.0.0.1:25201:no -h 127.0.0.1:25202:no \
	    -h 127.0.0.1:25203:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait c 1 5
	atf_check_equal 0 "$(peer_count b)"
	atf_check_equal 1 "$(peer_conns b)"
	atf_check_equal 1 "$(peer_count c)"
	# one line per hop attempt, naming the next hop
	grep -q 'hop=127.0.0.1:25201 .*result=TempFail reason="connect: Connection refused" next=127.0.0.1:25202' log ||
	    atf_fail "no log line for the closed port: $(cat log)"
	grep -q 'hop=127.0.0.1:25202 .*reason="greeting: 421 busy" next=127.0.0.1:25203' log ||
	    atf_fail "no log line for the 421: $(cat log)"
}
failover_cleanup() { smtpd_cleanup; }

atf_test_case all_fail cleanup
all_fail_head() { atf_set descr "every hop fails: tempfail with the last error"; }
all_fail_body()
{
	msg
	peer_start b 25205 --reply greeting=421:busy
	drive -h 127.0.0.1:25204:no -h 127.0.0.1:25205:no a@x.test
	atf_check_equal TempFail "$(result_of a@x.test)"
	grep -q "^RESULT a@x.test TempFail 451 4.4.1 .*25205: greeting: 421 busy" out ||
	    atf_fail "last error not carried: $(cat out)"
}
all_fail_cleanup() { smtpd_cleanup; }

atf_test_case random_spread cleanup
random_spread_head() { atf_set descr "#a;b;c: every peer gets a share, no duplicate"; }
random_spread_body()
{
	msg
	peer_start a 25206
	peer_start b 25207
	peer_start c 25208
	drive -r -N 60 -h 127.0.0.1:25206:no -h 127.0.0.1:25207:no \
	    -h 127.0.0.1:25208:no x@x.test
	grep -q "^DONE ok=60 " out || atf_fail "$(tail -1 out)"
	peer_wait a 1 5
	na=$(peer_count a) nb=$(peer_count b) nc=$(peer_count c)
	atf_check_equal 60 $((na + nb + nc))
	for n in $na $nb $nc; do
		[ "$n" -ge 5 ] || atf_fail "unfair spread: $na $nb $nc"
	done
	# the same order without -r: everything to the first
	peer_stop a; peer_stop b; peer_stop c
	peer_start d 25209
	peer_start e 25210
	drive -N 20 -h 127.0.0.1:25209:no -h 127.0.0.1:25210:no x@x.test
	atf_check_equal 20 "$(peer_count d)"
	atf_check_equal 0 "$(peer_count e)"
}
random_spread_cleanup() { smtpd_cleanup; }

atf_test_case needtls1_starttls cleanup
needtls1_starttls_head() { atf_set descr "NeedTLS=1 to a peer with STARTTLS: TLS"; }
needtls1_starttls_body()
{
	msg
	pki_make "$SMTPD_DIR/pki"
	peer_start p 25211 --starttls --cert "$SMTPD_DIR/pki/rogue.crt" \
	    --key "$SMTPD_DIR/pki/rogue.key"
	# opportunistic never refuses a certificate
	drive -h 127.0.0.1:25211:opportunistic a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait p 1 5
	peer_meta p 1 tls | grep -q '^TLSv1' || atf_fail "not TLS"
	grep -q "tls=TLSv1" log || atf_fail "log does not name TLS"
}
needtls1_starttls_cleanup() { smtpd_cleanup; }

atf_test_case needtls1_plain cleanup
needtls1_plain_head() { atf_set descr "NeedTLS=1 without STARTTLS: plain text"; }
needtls1_plain_body()
{
	msg
	peer_start p 25212
	drive -h 127.0.0.1:25212:opportunistic a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait p 1 5
	atf_check_equal none "$(peer_meta p 1 tls)"
}
needtls1_plain_cleanup() { smtpd_cleanup; }

atf_test_case needtls1_handshake cleanup
needtls1_handshake_head()
{
	atf_set descr "NeedTLS=1, failed handshake: plain text on a new connection"
}
needtls1_handshake_body()
{
	msg
	# STARTTLS offered and answered 220, but no TLS behind it
	peer_start p 25213 --ext STARTTLS --reply starttls=220:go
	drive -h 127.0.0.1:25213:opportunistic a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait p 1 5
	atf_check_equal none "$(peer_meta p 1 tls)"
	atf_check_equal 2 "$(peer_conns p)"
	grep -q "next=127.0.0.1:25213(plain)" log || atf_fail "$(cat log)"
}
needtls1_handshake_cleanup() { smtpd_cleanup; }

atf_test_case needtls2_no_starttls cleanup
needtls2_no_starttls_head()
{
	atf_set descr "NeedTLS=2 without STARTTLS: not sent, next hop, else tempfail"
}
needtls2_no_starttls_body()
{
	msg
	peer_start a 25214
	peer_start b 25215
	drive -h 127.0.0.1:25214:require -h 127.0.0.1:25215:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait b 1 5
	atf_check_equal 0 "$(peer_count a)"
	grep -q 'reason="STARTTLS not offered"' log || atf_fail "$(cat log)"
	drive -h 127.0.0.1:25214:require a@x.test
	atf_check_equal TempFail "$(result_of a@x.test)"
	atf_check_equal 0 "$(peer_count a)"
}
needtls2_no_starttls_cleanup() { smtpd_cleanup; }

atf_test_case require_verify cleanup
require_verify_head()
{
	atf_set descr "required TLS verifies the certificate against ca"
}
require_verify_body()
{
	msg
	pki_make "$SMTPD_DIR/pki"
	peer_start good 25216 --starttls --cert "$SMTPD_DIR/pki/server.crt" \
	    --key "$SMTPD_DIR/pki/server.key"
	peer_start rogue 25217 --starttls --cert "$SMTPD_DIR/pki/rogue.crt" \
	    --key "$SMTPD_DIR/pki/rogue.key"
	drive -c "$SMTPD_DIR/pki/ca.crt" -h 127.0.0.1:25217:require a@x.test
	atf_check_equal TempFail "$(result_of a@x.test)"
	atf_check_equal 0 "$(peer_count rogue)"
	grep -q 'reason="TLS handshake: .*verif' log || atf_fail "$(cat log)"
	drive -c "$SMTPD_DIR/pki/ca.crt" -h 127.0.0.1:25216:require a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait good 1 5
	peer_meta good 1 tls | grep -q '^TLSv1' || atf_fail "not TLS"
	# no-verify takes the rogue certificate
	drive -n -c "$SMTPD_DIR/pki/ca.crt" -h 127.0.0.1:25217:require a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
}
require_verify_cleanup() { smtpd_cleanup; }

atf_test_case smtps cleanup
smtps_head() { atf_set descr "smtps: TLS from the first byte"; }
smtps_body()
{
	msg
	pki_make "$SMTPD_DIR/pki"
	peer_start p 25218 --smtps --cert "$SMTPD_DIR/pki/server.crt" \
	    --key "$SMTPD_DIR/pki/server.key"
	drive -c "$SMTPD_DIR/pki/ca.crt" -h 127.0.0.1:25218:smtps a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait p 1 5
	peer_meta p 1 tls | grep -q '^TLSv1' || atf_fail "not TLS"
}
smtps_cleanup() { smtpd_cleanup; }

atf_test_case outbind cleanup
outbind_head() { atf_set descr "OutBind=127.0.0.2: the peer sees that source"; }
outbind_body()
{
	msg
	peer_start p 25219
	drive -h 127.0.0.1:25219:no:127.0.0.2 a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait p 1 5
	atf_check_equal 127.0.0.2 "$(peer_meta p 1 client_addr)"
	# an address we cannot bind is a hop failure
	drive -h 127.0.0.1:25219:no:192.0.2.1 -h 127.0.0.1:25219:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	grep -q 'src=192.0.2.1 result=TempFail reason="bind 192.0.2.1' log ||
	    atf_fail "$(cat log)"
}
outbind_cleanup() { smtpd_cleanup; }

atf_test_case auth cleanup
auth_head() { atf_set descr "AUTH towards the relay: right and wrong password"; }
auth_body()
{
	msg
	pki_make "$SMTPD_DIR/pki"
	peer_start p 25220 --starttls --cert "$SMTPD_DIR/pki/server.crt" \
	    --key "$SMTPD_DIR/pki/server.key" --auth relayuser:s3cret
	drive -a relayuser:s3cret -h 127.0.0.1:25220:opportunistic a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait p 1 5
	atf_check_equal relayuser "$(peer_meta p 1 auth_user)"
	drive -a relayuser:wrong -h 127.0.0.1:25220:opportunistic a@x.test
	atf_check_equal TempFail "$(result_of a@x.test)"
	grep -q 'reason="AUTH refused: 535' log || atf_fail "$(cat log)"
	atf_check_equal 1 "$(peer_count p)"
}
auth_cleanup() { smtpd_cleanup; }

atf_test_case auth_needs_tls cleanup
auth_needs_tls_head() { atf_set descr "credentials never go out in clear"; }
auth_needs_tls_body()
{
	msg
	peer_start p 25221 --auth relayuser:s3cret
	drive -a relayuser:s3cret -h 127.0.0.1:25221:opportunistic a@x.test
	atf_check_equal TempFail "$(result_of a@x.test)"
	grep -q 'reason="AUTH not attempted: no TLS"' log || atf_fail "$(cat log)"
	grep -qi ' c: AUTH' "$(peer_spool p)/transcript.log" 2>/dev/null &&
	    atf_fail "AUTH sent in clear"
	atf_check_equal 0 "$(peer_count p)"
}
auth_needs_tls_cleanup() { smtpd_cleanup; }

atf_test_case rcpt_5xx cleanup
rcpt_5xx_head() { atf_set descr "5xx at RCPT: bounce, no next hop"; }
rcpt_5xx_body()
{
	msg
	peer_start a 25222 --reply "rcpt=550:5.1.1 no such user"
	peer_start b 25223
	drive -h 127.0.0.1:25222:no -h 127.0.0.1:25223:no a@x.test
	atf_check_equal PermFail "$(result_of a@x.test)"
	grep -q "^RESULT a@x.test PermFail 550 5.1.1 no such user" out ||
	    atf_fail "$(cat out)"
	atf_check_equal 0 "$(peer_conns b)"
}
rcpt_5xx_cleanup() { smtpd_cleanup; }

atf_test_case partial_rcpt cleanup
partial_rcpt_head() { atf_set descr "RCPT results: 250, 550 and 450 in one transaction"; }
partial_rcpt_body()
{
	msg
	peer_start a 25224 --reply "rcpt2=550:5.1.1 unknown" \
	    --reply "rcpt3=450:4.2.1 later"
	peer_start b 25225
	drive -h 127.0.0.1:25224:no -h 127.0.0.1:25225:no ok@x.test \
	    bad@x.test later@x.test
	atf_check_equal Ok "$(result_of ok@x.test)"
	atf_check_equal PermFail "$(result_of bad@x.test)"
	atf_check_equal TempFail "$(result_of later@x.test)"
	peer_wait a 1 5
	atf_check_equal 1 "$(peer_meta a 1 rcpt_count)"
	atf_check_equal 0 "$(peer_conns b)"
	# the same without PIPELINING
	peer_stop a
	peer_start c 25226 --no-pipelining --reply "rcpt2=550:5.1.1 unknown" \
	    --reply "rcpt3=450:4.2.1 later"
	drive -h 127.0.0.1:25226:no ok@x.test bad@x.test later@x.test
	atf_check_equal Ok "$(result_of ok@x.test)"
	atf_check_equal PermFail "$(result_of bad@x.test)"
	atf_check_equal TempFail "$(result_of later@x.test)"
}
partial_rcpt_cleanup() { smtpd_cleanup; }

atf_test_case mail_refused cleanup
mail_refused_head() { atf_set descr "4xx to MAIL: next hop; 5xx to MAIL: bounce"; }
mail_refused_body()
{
	msg
	peer_start a 25227 --reply "mail=451:4.3.0 later"
	peer_start b 25228
	drive -h 127.0.0.1:25227:no -h 127.0.0.1:25228:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait b 1 5
	peer_stop a
	peer_start c 25229 --reply "mail=553:5.7.1 refused"
	drive -h 127.0.0.1:25229:no -h 127.0.0.1:25228:no a@x.test
	atf_check_equal PermFail "$(result_of a@x.test)"
	atf_check_equal 1 "$(peer_count b)"
}
mail_refused_cleanup() { smtpd_cleanup; }

atf_test_case drop_mid_data cleanup
drop_mid_data_head() { atf_set descr "connection lost in DATA: next hop, delivered once"; }
drop_mid_data_body()
{
	msg
	peer_start a 25230 --drop-mid-data
	peer_start b 25231
	drive -h 127.0.0.1:25230:no -h 127.0.0.1:25231:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait b 1 5
	atf_check_equal 0 "$(peer_count a)"
	atf_check_equal 1 "$(peer_count b)"
}
drop_mid_data_cleanup() { smtpd_cleanup; }

# A hostile reply of KIND at STEP from peer a: never a crash, never a
# misread success there; the message goes to peer b.
hostile()
{
	msg
	peer_start a "$3" --hostile "$1:$2"
	peer_start b "$4"
	drive -h "127.0.0.1:$3:no" -h "127.0.0.1:$4:no" a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	grep -q 'hop=127.0.0.1:'"$3"' .*result=TempFail' log ||
	    atf_fail "no failover from the hostile peer: $(cat log)"
	peer_wait b 1 5
	atf_check_equal 0 "$(peer_count a)"
	# nothing unescaped reaches the log
	if LC_ALL=C grep -q '[^[:print:][:space:]]' log; then
		atf_fail "control characters in the log"
	fi
}

atf_test_case hostile_longline cleanup
hostile_longline_head() { atf_set descr "a 100 kB reply line"; }
hostile_longline_body() { hostile longline ehlo 25232 25233; }
hostile_longline_cleanup() { smtpd_cleanup; }

atf_test_case hostile_badmulti cleanup
hostile_badmulti_head() { atf_set descr "multi-line reply with disagreeing codes"; }
hostile_badmulti_body() { hostile badmulti ehlo 25234 25235; }
hostile_badmulti_cleanup() { smtpd_cleanup; }

atf_test_case hostile_endless cleanup
hostile_endless_head() { atf_set descr "a reply that never ends"; }
hostile_endless_body() { hostile endless greeting 25236 25237; }
hostile_endless_cleanup() { smtpd_cleanup; }

atf_test_case hostile_garbage cleanup
hostile_garbage_head() { atf_set descr "garbage instead of a reply"; }
hostile_garbage_body() { hostile garbage mail 25238 25239; }
hostile_garbage_cleanup() { smtpd_cleanup; }

atf_test_case hostile_nul cleanup
hostile_nul_head() { atf_set descr "a NUL inside a reply"; }
hostile_nul_body() { hostile nul rcpt 25240 25241; }
hostile_nul_cleanup() { smtpd_cleanup; }

atf_test_case hostile_barecode cleanup
hostile_barecode_head()
{
	atf_set descr "a bare code line (CVE-2020-8794) is read as exactly that"
}
hostile_barecode_body()
{
	msg
	# "250" alone as the reply to the final dot: a success, no more
	peer_start a 25242 --hostile barecode:dot
	drive -h 127.0.0.1:25242:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	grep -q '^RESULT a@x.test Ok 250$' out || atf_fail "$(cat out)"
}
hostile_barecode_cleanup() { smtpd_cleanup; }

atf_test_case reuse cleanup
reuse_head()
{
	atf_set descr "50 messages to one hop: reused connections, at most 5"
}
reuse_body()
{
	msg
	peer_start p 25243
	drive -N 50 -h 127.0.0.1:25243:no a@x.test
	grep -q "^DONE ok=50 " out || atf_fail "$(tail -1 out)"
	peer_wait p 50 10
	c=$(peer_conns p)
	[ "$c" -ge 1 ] && [ "$c" -le 5 ] || atf_fail "$c connections"
}
reuse_cleanup() { smtpd_cleanup; }

atf_test_case dead_gateway cleanup
dead_gateway_head()
{
	atf_set descr "1000 messages, 3 gateways, one dead: each once, dead skipped"
	atf_set timeout 300
}
dead_gateway_body()
{
	msg
	peer_start a 25244 --count-only
	peer_start b 25245 --count-only
	peer_start dead 25246 --reply greeting=421:dead
	drive -r -N 1000 -h 127.0.0.1:25244:no -h 127.0.0.1:25245:no \
	    -h 127.0.0.1:25246:no x@x.test
	grep -q "^DONE ok=1000 tempfail=0 permfail=0" out ||
	    atf_fail "$(tail -1 out)"
	na=$(wc -l < "$(peer_spool a)/messages.log")
	nb=$(wc -l < "$(peer_spool b)/messages.log")
	atf_check_equal 1000 $((na + nb))
	d=$(peer_conns dead)
	[ "$d" -le 10 ] || atf_fail "dead gateway tried $d times"
}
dead_gateway_cleanup() { smtpd_cleanup; }

atf_test_case smtputf8 cleanup
smtputf8_head()
{
	atf_set descr "SMTPUTF8 needed, not offered: permanent failure 5.6.7"
}
smtputf8_body()
{
	msg
	peer_start p 25247
	drive -u -h 127.0.0.1:25247:no a@x.test
	atf_check_equal PermFail "$(result_of a@x.test)"
	grep -q "^RESULT a@x.test PermFail 553 5.6.7 " out || atf_fail "$(cat out)"
	peer_stop p
	peer_start q 25248 --ext SMTPUTF8
	drive -u -8 -h 127.0.0.1:25248:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait q 1 5
	peer_meta q 1 mail_params | grep -q 'SMTPUTF8' || atf_fail "no SMTPUTF8"
	peer_meta q 1 mail_params | grep -q 'BODY=8BITMIME' ||
	    atf_fail "no BODY=8BITMIME"
}
smtputf8_cleanup() { smtpd_cleanup; }

atf_test_case dsn cleanup
dsn_head() { atf_set descr "DSN parameters when offered, xtext-encoded, never otherwise"; }
dsn_body()
{
	msg
	peer_start p 25249 --ext DSN
	drive -D "hdrs:id+1=x:sf:Orig User@x.test" -h 127.0.0.1:25249:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	peer_wait p 1 5
	peer_meta p 1 mail_params | grep -q 'RET=HDRS' || atf_fail "no RET"
	peer_meta p 1 mail_params | grep -q 'ENVID=id+2B1+3Dx' ||
	    atf_fail "ENVID not xtext: $(peer_meta p 1 mail_params)"
	grep -q 'c: RCPT TO:<a@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Orig+20User@x.test' \
	    "$(peer_spool p)/transcript.log" || atf_fail "RCPT parameters"
	peer_stop p
	peer_start q 25250
	drive -D "hdrs:id:sf:a@x.test" -h 127.0.0.1:25250:no a@x.test
	atf_check_equal Ok "$(result_of a@x.test)"
	grep -q 'NOTIFY\|ENVID' "$(peer_spool q)/transcript.log" &&
	    atf_fail "DSN parameters to a server without DSN"
	return 0
}
dsn_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case plain
	atf_add_test_case failover
	atf_add_test_case all_fail
	atf_add_test_case random_spread
	atf_add_test_case needtls1_starttls
	atf_add_test_case needtls1_plain
	atf_add_test_case needtls1_handshake
	atf_add_test_case needtls2_no_starttls
	atf_add_test_case require_verify
	atf_add_test_case smtps
	atf_add_test_case outbind
	atf_add_test_case auth
	atf_add_test_case auth_needs_tls
	atf_add_test_case rcpt_5xx
	atf_add_test_case partial_rcpt
	atf_add_test_case mail_refused
	atf_add_test_case drop_mid_data
	atf_add_test_case hostile_longline
	atf_add_test_case hostile_badmulti
	atf_add_test_case hostile_endless
	atf_add_test_case hostile_garbage
	atf_add_test_case hostile_nul
	atf_add_test_case hostile_barecode
	atf_add_test_case reuse
	atf_add_test_case dead_gateway
	atf_add_test_case smtputf8
	atf_add_test_case dsn
}
