#! /usr/bin/env atf-sh
# The scriptable SMTP peer (obj/tools/smtp-peer) driven by the scripted
# client: scripted refusals at each step, drops, AUTH, records, hostile
# replies, limits and shutdown.  Ports 21100-21199.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# A whole transaction up to the end of DATA with a scripted failure at one
# step: $1 step name given to --reply, $2 code; the client expects the
# code where the step is.
refuse_at()
{
	_step=$1
	_code=$2
	_port=$3
	peer_start p "$_port" --reply "$_step=$_code:scripted refusal"
	_e_ehlo=250 _e_mail=250 _e_rcpt=250 _e_rcpt2=250 _e_data=354 _e_dot=250
	eval "_e_$_step=$_code"
	[ "$_step" = mail ] && _e_rcpt=503 _e_rcpt2=503 _e_data=503
	smtp_expect "$_port" -e 220 -s 'EHLO client.test' -e "$_e_ehlo" \
	    -s 'MAIL FROM:<a@example.test>' -e "$_e_mail" \
	    -s 'RCPT TO:<b@example.test>' -e "$_e_rcpt" \
	    -s 'RCPT TO:<c@example.test>' -e "$_e_rcpt2" \
	    -s DATA -e "$_e_data" > out
	if [ "$_e_data" = 354 ]; then
		smtp_expect "$_port" -e 220 -s 'EHLO client.test' -e 250 \
		    -s 'MAIL FROM:<a@example.test>' -e 250 \
		    -s 'RCPT TO:<b@example.test>' -e 250 \
		    -s DATA -e 354 -m 'Subject: x\n\nbody\n' -e "$_e_dot" \
		    -s QUIT -e 221 > out2
	fi
	grep -q "$_code scripted refusal" out out2 2>/dev/null ||
	    atf_fail "no scripted $_code at $_step"
}

atf_test_case greeting cleanup
greeting_head() { atf_set descr "--reply greeting=554: the banner is 554"; }
greeting_body()
{
	peer_start p 21100 --reply "greeting=554:go away"
	smtp_expect 21100 -e 554 -x "go away" -s QUIT -e 221
	"$H_CLIENT" -p 21100 -e 220 && atf_fail "client accepted a 554 banner"
	return 0
}
greeting_cleanup() { smtpd_cleanup; }

atf_test_case refuse_ehlo cleanup
refuse_ehlo_head() { atf_set descr "--reply ehlo=550"; }
refuse_ehlo_body()
{
	peer_start p 21101 --reply ehlo=550
	smtp_expect 21101 -e 220 -s 'EHLO x' -e 550 -s 'HELO x' -e 250
}
refuse_ehlo_cleanup() { smtpd_cleanup; }

atf_test_case refuse_mail cleanup
refuse_mail_body() { refuse_at mail 450 21102; }
refuse_mail_cleanup() { smtpd_cleanup; }

atf_test_case refuse_rcpt cleanup
refuse_rcpt_head() { atf_set descr "--reply rcpt=550 refuses every RCPT"; }
refuse_rcpt_body()
{
	peer_start p 21103 --reply rcpt=550
	smtp_expect 21103 -e 220 -s 'EHLO x' -e 250 -s 'MAIL FROM:<a@b>' \
	    -e 250 -s 'RCPT TO:<c@d>' -e 550 -s 'RCPT TO:<e@f>' -e 550 \
	    -s DATA -e 554
}
refuse_rcpt_cleanup() { smtpd_cleanup; }

atf_test_case refuse_rcpt2 cleanup
refuse_rcpt2_head() { atf_set descr "--reply rcpt2=452: only the 2nd RCPT"; }
refuse_rcpt2_body()
{
	refuse_at rcpt2 452 21104
	# The record holds the accepted recipient only.
	peer_wait p 1 5
	atf_check_equal "<b@example.test>" "$(peer_meta p 1 rcpt)"
}
refuse_rcpt2_cleanup() { smtpd_cleanup; }

atf_test_case refuse_data cleanup
refuse_data_body() { refuse_at data 554 21105; }
refuse_data_cleanup() { smtpd_cleanup; }

atf_test_case refuse_dot cleanup
refuse_dot_head() { atf_set descr "--reply dot=552: refused at the end of DATA, nothing recorded"; }
refuse_dot_body()
{
	refuse_at dot 552 21106
	atf_check_equal "0" "$(peer_count p)"
}
refuse_dot_cleanup() { smtpd_cleanup; }

atf_test_case refuse_starttls cleanup
refuse_starttls_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	peer_start p 21107 --starttls --cert "$SMTPD_DIR/pki/server.crt" \
	    --key "$SMTPD_DIR/pki/server.key" --reply starttls=454
	smtp_expect 21107 -e 220 -s 'EHLO x' -e 250 -x STARTTLS \
	    -s STARTTLS -e 454 -s 'MAIL FROM:<a@b>' -e 250
}
refuse_starttls_cleanup() { smtpd_cleanup; }

atf_test_case reply_421_closes cleanup
reply_421_closes_body()
{
	peer_start p 21108 --reply mail=421
	smtp_expect 21108 -e 220 -s 'EHLO x' -e 250 -s 'MAIL FROM:<a@b>' \
	    -e 421 -c
}
reply_421_closes_cleanup() { smtpd_cleanup; }

atf_test_case reply_conns cleanup
reply_conns_head() { atf_set descr "--reply-conns 1: the script holds for the first connection only"; }
reply_conns_body()
{
	peer_start p 21109 --reply mail=451 --reply-conns 1
	smtp_expect 21109 -e 220 -s 'EHLO x' -e 250 -s 'MAIL FROM:<a@b>' -e 451
	smtp_expect 21109 -e 220 -s 'EHLO x' -e 250 -s 'MAIL FROM:<a@b>' -e 250
	atf_check_equal "2" "$(peer_conns p)"
}
reply_conns_cleanup() { smtpd_cleanup; }

atf_test_case drop_mid_data cleanup
drop_mid_data_body()
{
	peer_start p 21110 --drop-mid-data
	smtp_expect 21110 -e 220 -s 'EHLO x' -e 250 -s 'MAIL FROM:<a@b>' \
	    -e 250 -s 'RCPT TO:<c@d>' -e 250 -s DATA -e 354 \
	    -r 'Subject: x\r\n\r\nfirst line\r\n' -c > out
	grep -q '^closed' out || atf_fail "connection not closed"
	atf_check_equal "0" "$(peer_count p)"
	grep -q 'reason=drop-mid-data' "$(peer_spool p)/connections.log" ||
	    atf_fail "no drop logged"
}
drop_mid_data_cleanup() { smtpd_cleanup; }

atf_test_case auth_plain cleanup
auth_plain_head() { atf_set descr "AUTH PLAIN: good and bad password, AUTH required before MAIL, user recorded"; }
auth_plain_body()
{
	peer_start p 21111 --auth user1:secret1
	good=$(printf '\0user1\0secret1' | base64)
	bad=$(printf '\0user1\0wrong' | base64)
	smtp_expect 21111 -e 220 -s 'EHLO x' -e 250 -x 'AUTH PLAIN LOGIN' \
	    -s 'MAIL FROM:<a@b>' -e 530 -s "AUTH PLAIN $bad" -e 535 \
	    -s 'AUTH PLAIN' -e 334 -s "$good" -e 235 \
	    -s 'MAIL FROM:<a@b>' -e 250 -s 'RCPT TO:<c@d>' -e 250 \
	    -s DATA -e 354 -m 'Subject: auth\n\nx\n' -e 250
	peer_wait p 1 5
	atf_check_equal "user1" "$(peer_meta p 1 auth_user)"
}
auth_plain_cleanup() { smtpd_cleanup; }

atf_test_case auth_login cleanup
auth_login_body()
{
	peer_start p 21112 --auth user2:pass2
	smtp_expect 21112 -e 220 -s 'EHLO x' -e 250 -s 'AUTH LOGIN' \
	    -e 334 -x VXNlcm5hbWU6 -s "$(printf user2 | base64)" -e 334 \
	    -s "$(printf nope | base64)" -e 535 \
	    -s 'AUTH LOGIN' -e 334 -s "$(printf user2 | base64)" -e 334 \
	    -s "$(printf pass2 | base64)" -e 235
}
auth_login_cleanup() { smtpd_cleanup; }

atf_test_case auth_scripted cleanup
auth_scripted_head() { atf_set descr "--reply auth=454 overrides a good password"; }
auth_scripted_body()
{
	peer_start p 21113 --auth u:p --reply auth=454
	smtp_expect 21113 -e 220 -s 'EHLO x' -e 250 \
	    -s "AUTH PLAIN $(printf '\0u\0p' | base64)" -e 454 \
	    -s 'MAIL FROM:<a@b>' -e 530
}
auth_scripted_cleanup() { smtpd_cleanup; }

atf_test_case source_address cleanup
source_address_head() { atf_set descr "records and the connection log hold the client's source address"; }
source_address_body()
{
	peer_start p 21114
	SMTP_CLIENT_ARGS="-b 127.0.0.2" smtp_send 21114 a@b.test c@d.test >/dev/null
	smtp_send 21114 a@b.test c@d.test >/dev/null
	peer_wait p 2 5
	atf_check_equal "127.0.0.2" "$(peer_meta p 1 client_addr)"
	atf_check_equal "127.0.0.1" "$(peer_meta p 2 client_addr)"
	atf_check_equal "1" "$(peer_conns p 127.0.0.2)"
	atf_check_equal "2" "$(peer_conns p)"
	atf_check_equal "none" "$(peer_meta p 1 tls)"
}
source_address_cleanup() { smtpd_cleanup; }

atf_test_case record_exact cleanup
record_exact_head() { atf_set descr "the .raw keeps the wire bytes, the .eml the unstuffed message, .meta the envelope"; }
record_exact_body()
{
	peer_start p 21115
	smtp_expect 21115 -e 220 -s 'EHLO exact.test' -e 250 \
	    -r 'MAIL FROM:<s@x.test> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<r1@y.test>\r\nRCPT TO:<r2@y.test> NOTIFY=NEVER\r\nDATA\r\n' \
	    -e 250 -e 250 -e 250 -e 354 \
	    -r 'Subject: e\r\n\r\n..dot\r\nbare\nlf\r\nnul\0x\r\n.\r\n' -e 250
	peer_wait p 1 5
	printf 'Subject: e\r\n\r\n..dot\r\nbare\nlf\r\nnul\0x\r\n.\r\n' > want.raw
	printf 'Subject: e\r\n\r\n.dot\r\nbare\nlf\r\nnul\0x\r\n' > want.eml
	cmp want.raw "$(peer_spool p)/000001.raw" || atf_fail ".raw differs"
	cmp want.eml "$(peer_spool p)/000001.eml" || atf_fail ".eml differs"
	atf_check_equal "<s@x.test>" "$(peer_meta p 1 mail_from)"
	atf_check_equal "SIZE=100 BODY=8BITMIME" "$(peer_meta p 1 mail_params)"
	atf_check_equal "<r1@y.test>
<r2@y.test>" "$(peer_meta p 1 rcpt)"
	atf_check_equal "exact.test" "$(peer_meta p 1 helo)"
	atf_check_equal "EHLO" "$(peer_meta p 1 helo_verb)"
}
record_exact_cleanup() { smtpd_cleanup; }

atf_test_case tls_ca cleanup
tls_ca_head() { atf_set descr "STARTTLS handshake verified with the throw-away CA; unknown CA fails"; }
tls_ca_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	k="$SMTPD_DIR/pki"
	peer_start p 21116 --starttls --require-tls --cert "$k/server.crt" \
	    --key "$k/server.key"
	smtp_expect 21116 -e 220 -s 'EHLO x' -e 250 -s 'MAIL FROM:<a@b>' -e 530
	smtp_expect 21116 -e 220 -s 'EHLO x' -e 250 -s STARTTLS -e 220 \
	    --ca "$k/ca.crt" --servername localhost -T -s 'EHLO x' -e 250 \
	    -s 'MAIL FROM:<a@b>' -e 250 -s 'RCPT TO:<c@d>' -e 250 \
	    -s DATA -e 354 -m 'Subject: tls\n\nx\n' -e 250 > out
	grep -q '^TLS: TLSv1' out || atf_fail "no TLS"
	peer_wait p 1 5
	peer_meta p 1 tls | grep -Eq '^TLSv1\.[23]$' || atf_fail "tls not recorded"
	# A client trusting another CA refuses the peer's certificate.
	smtp_expect 21116 -e 220 -s 'EHLO x' -e 250 -s STARTTLS -e 220 \
	    --ca "$k/rogue-ca.crt" -F
	# A peer with a certificate from the unknown CA is refused too.
	peer_stop p
	peer_start q 21117 --starttls --cert "$k/rogue.crt" --key "$k/rogue.key"
	smtp_expect 21117 -e 220 -s 'EHLO x' -e 250 -s STARTTLS -e 220 \
	    --ca "$k/ca.crt" -F
}
tls_ca_cleanup() { smtpd_cleanup; }

atf_test_case smtps cleanup
smtps_head() { atf_set descr "--smtps: implicit TLS, client certificate recorded"; }
smtps_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	k="$SMTPD_DIR/pki"
	peer_start p 21118 --smtps --cert "$k/server.crt" --key "$k/server.key" \
	    --client-ca "$k/ca.crt"
	smtp_expect 21118 --smtps --ca "$k/ca.crt" --cert "$k/client.crt" \
	    --key "$k/client.key" -e 220 -s 'EHLO x' -e 250 \
	    -s 'MAIL FROM:<a@b>' -e 250 -s 'RCPT TO:<c@d>' -e 250 \
	    -s DATA -e 354 -m 'Subject: tls\n\nx\n' -e 250
	peer_wait p 1 5
	peer_meta p 1 tls_client_subject | grep -q 'CN=client.test' ||
	    atf_fail "client certificate not recorded"
	# a plain-text client gets no banner
	"$H_CLIENT" -t 2 -p 21118 -e 220 && atf_fail "plain text got a banner"
	return 0
}
smtps_cleanup() { smtpd_cleanup; }

hostile()
{
	peer_start p "$2" --hostile "$1"
	"$H_CLIENT" -t 5 -p "$2" -e 220 > out 2> err
	echo $? > rc
}

atf_test_case hostile_longline cleanup
hostile_longline_body()
{
	peer_start p 21120 --hostile longline
	atf_check -o match:'\.\.\.\(100006 bytes\)' "$H_CLIENT" -p 21120 -l 1
}
hostile_longline_cleanup() { smtpd_cleanup; }

atf_test_case hostile_badmulti cleanup
hostile_badmulti_body()
{
	hostile badmulti 21121
	atf_check -o inline:"1\n" cat rc
	grep -q malformed err || atf_fail "not seen as malformed"
	peer_stop p
	peer_start p 21121 --hostile badmulti:ehlo
	atf_check -o match:'^S: 250-first line' -o match:'^S: continuation without a code' \
	    -o match:'^S: 220-other code' "$H_CLIENT" -p 21121 -e 220 -s 'EHLO x' -l 4
}
hostile_badmulti_cleanup() { smtpd_cleanup; }

atf_test_case hostile_endless cleanup
hostile_endless_body()
{
	hostile endless 21122
	atf_check -o inline:"1\n" cat rc
	grep -q 'more than 1000 lines' err || atf_fail "endless reply not seen"
}
hostile_endless_cleanup() { smtpd_cleanup; }

atf_test_case hostile_small cleanup
hostile_small_head() { atf_set descr "barecode, barelf, garbage and nul replies are sent as such"; }
hostile_small_body()
{
	peer_start a 21123 --hostile barecode
	atf_check -o inline:"S: 220\n" "$H_CLIENT" -p 21123 -l 1
	peer_start b 21124 --hostile barelf
	atf_check -o match:'bare LF ending\\x0a$' "$H_CLIENT" -p 21124 -l 1
	peer_start c 21125 --hostile garbage
	atf_check -o inline:"S: hello, this is no reply\n" "$H_CLIENT" -p 21125 -l 1
	peer_start d 21126 --hostile nul:mail
	atf_check -o match:'S: 250 text\\x00with NUL$' "$H_CLIENT" -p 21126 \
	    -e 220 -s 'EHLO x' -e 250 -s 'MAIL FROM:<a@b>' -l 1
}
hostile_small_cleanup() { smtpd_cleanup; }

atf_test_case no_ehlo cleanup
no_ehlo_body()
{
	peer_start p 21127 --no-ehlo
	smtp_expect 21127 -e 220 -s 'EHLO x' -e 500 -s 'HELO old.test' -e 250 \
	    -s 'MAIL FROM:<a@b>' -e 250 -s 'RCPT TO:<c@d>' -e 250 -s DATA \
	    -e 354 -m 'x\n' -e 250
	peer_wait p 1 5
	atf_check_equal "HELO" "$(peer_meta p 1 helo_verb)"
}
no_ehlo_cleanup() { smtpd_cleanup; }

atf_test_case pipelining cleanup
pipelining_body()
{
	peer_start p 21128
	atf_check -o match:'^S: 250-PIPELINING' -o not-match:SIZE \
	    "$H_CLIENT" -p 21128 -e 220 -s 'EHLO x' -e 250
	peer_stop p
	peer_start p 21128 --no-pipelining --max-size 1000 --ext DSN
	atf_check -o not-match:'PIPELINING' -o match:'^S: 250-SIZE 1000' \
	    -o match:'^S: 250-DSN' "$H_CLIENT" -p 21128 -e 220 -s 'EHLO x' -e 250
	smtp_expect 21128 -e 220 -s 'EHLO x' -e 250 \
	    -s 'MAIL FROM:<a@b> SIZE=5000' -e 552
}
pipelining_cleanup() { smtpd_cleanup; }

atf_test_case slow cleanup
slow_head() { atf_set descr "--slow 2000:greeting delays the banner"; }
slow_body()
{
	peer_start p 21129 --slow 2000:greeting
	"$H_CLIENT" -t 1 -p 21129 -e 220 2> err && atf_fail "banner not slow"
	grep -q timeout err || atf_fail "no timeout"
	smtp_expect 21129 -t 5 -e 220 -s 'EHLO x' -e 250
}
slow_cleanup() { smtpd_cleanup; }

atf_test_case conn_lifetime cleanup
conn_lifetime_body()
{
	peer_start p 21130 --max-conn-lifetime 1
	atf_check -o match:'^closed' "$H_CLIENT" -t 5 -p 21130 -e 220 -c
	grep -q 'reason=lifetime' "$(peer_spool p)/connections.log" ||
	    atf_fail "lifetime not logged"
}
conn_lifetime_cleanup() { smtpd_cleanup; }

atf_test_case sigterm cleanup
sigterm_head() { atf_set descr "SIGTERM stops the peer and its sessions, pidfile removed"; }
sigterm_body()
{
	peer_start p 21131
	pid=$(cat "$SMTPD_DIR/peer-p.pid")
	"$H_CLIENT" -p 21131 -e 220 -w 5000 >/dev/null 2>&1 &
	cl=$!
	sleep 0.5
	kids=$(pgrep -P "$pid")
	[ -n "$kids" ] || atf_fail "no session process"
	kill -TERM "$pid"
	n=50
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.1; n=$((n - 1))
	done
	kill -0 "$pid" 2>/dev/null && atf_fail "peer still running"
	for k in $kids; do
		h_alive "$k" && atf_fail "session $k still running"
	done
	[ -f "$SMTPD_DIR/peer-p.pid" ] && atf_fail "pidfile left"
	kill "$cl" 2>/dev/null
	wait "$cl" 2>/dev/null
	return 0
}
sigterm_cleanup() { smtpd_cleanup; }

atf_test_case concurrent cleanup
concurrent_head() { atf_set descr "20 concurrent clients, 20 records, distinct sequence numbers"; }
concurrent_body()
{
	peer_start p 21132
	i=0
	while [ $i -lt 20 ]; do
		smtp_send 21132 "s$i@a.test" "r$i@b.test" > "out.$i" 2>&1 &
		pids="${pids:-} $!"
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p" || atf_fail "client $p failed"
	done
	peer_wait p 20 10
	atf_check_equal "20" "$(peer_conns p)"
	n=$(cat "$(peer_spool p)"/*.meta | grep ^mail_from= | sort -u | wc -l)
	atf_check_equal 20 "$n"
	n=$(grep -c seq= "$(peer_spool p)/messages.log")
	atf_check_equal 20 "$n"
}
concurrent_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	for t in greeting refuse_ehlo refuse_mail refuse_rcpt refuse_rcpt2 \
	    refuse_data refuse_dot refuse_starttls reply_421_closes \
	    reply_conns drop_mid_data auth_plain auth_login auth_scripted \
	    source_address record_exact tls_ca smtps hostile_longline \
	    hostile_badmulti hostile_endless hostile_small no_ehlo \
	    pipelining slow conn_lifetime sigterm concurrent; do
		atf_add_test_case $t
	done
}
