#! /usr/bin/env atf-sh
# The seed's relay model end to end: mail comes in over SMTP, is queued,
# lka routes it and mta relays it to smtp-peer instances (and dnsmasq for
# MX), each example of the seed (../shared/seed/README.md) as its own
# test.  Ports 25500-25799.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# Wait until the daemon's log matches an extended regexp (SEC, default 20).
log_wait()
{
	_n=$(( ${2:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -Eq "$1" "$SMTPD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	atf_fail "log never matched: $1 (log: $(tail -n 20 "$SMTPD_LOG"))"
}

# The common head of every configuration: $1 are the relay lines.
conf()
{
	cat <<-EOT
	listen on 127.0.0.1 port @PORT@
	spool "@SPOOL@"
	control socket "@SOCK@"
	queue retry 1s max 2s
	$1
	EOT
}

send()
{
	smtp_send "$SMTPD_PORT" "$@" > /dev/null
}

atf_test_case seed_host cleanup
seed_host_head() { atf_set descr "relay through a named host (seed: smtp.domain.com)"; }
seed_host_body()
{
	h_world
	dns_start 25500 --host-record=smtp.domain.test,127.0.0.1
	peer_start p 25501
	DNS_PORT=25500 smtpd_setup 25502 <<-EOT
	$(conf 'resolver 127.0.0.1 port @DNS_PORT@
	action "r" relay host "smtp.domain.test:25501"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test b@example.test
	peer_wait p 1
	atf_check_equal "<b@example.test>" "$(peer_meta p 1 rcpt)"
	log_wait 'mta envelope=[0-9a-f]+ hop=127.0.0.1:25501 host=smtp.domain.test .*result=Ok'
}
seed_host_cleanup() { smtpd_cleanup; }

atf_test_case seed_port cleanup
seed_port_head() { atf_set descr "relay on another port (seed: 192.168.1.100:8025)"; }
seed_port_body()
{
	peer_start p 25503
	smtpd_setup 25504 <<-EOT
	$(conf 'action "r" relay host "127.0.0.1:25503"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test b@example.test c@example.test
	peer_wait p 1
	# both recipients in one transaction
	atf_check_equal 2 "$(peer_meta p 1 rcpt_count)"
	atf_check_equal 25503 "$(peer_meta p 1 server_port)"
}
seed_port_cleanup() { smtpd_cleanup; }

atf_test_case seed_globs cleanup
seed_globs_head()
{
	atf_set descr "*.domain2 and *.* patterns; *.domain2 does not match domain2"
}
seed_globs_body()
{
	h_world
	printf 'domain1.test 127.0.0.1:25505\n*.domain2.test 127.0.0.1:25506\n*.* 127.0.0.1:25507\n' \
	    > "$SMTPD_DIR/routes"
	peer_start d1 25505
	peer_start sub 25506
	peer_start all 25507
	smtpd_setup 25508 <<-EOT
	$(conf 'table routes file:@DIR@/routes
	action "r" relay routes <routes>
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test x@domain1.test
	send a@example.test y@mx.domain2.test
	send a@example.test z@domain2.test
	peer_wait d1 1
	peer_wait sub 1
	peer_wait all 1
	atf_check_equal "<x@domain1.test>" "$(peer_meta d1 1 rcpt)"
	atf_check_equal "<y@mx.domain2.test>" "$(peer_meta sub 1 rcpt)"
	atf_check_equal "<z@domain2.test>" "$(peer_meta all 1 rcpt)"
	atf_check_equal 1 "$(peer_count sub)"
}
seed_globs_cleanup() { smtpd_cleanup; }

atf_test_case seed_needtls1 cleanup
seed_needtls1_head()
{
	atf_set descr "NeedTLS=1: TLS with STARTTLS, plain without, plain after a failed handshake"
}
seed_needtls1_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	peer_start tls 25509 --starttls --cert "$SMTPD_DIR/pki/server.crt" \
	    --key "$SMTPD_DIR/pki/server.key"
	peer_start plain 25510
	peer_start broken 25511 --ext STARTTLS --reply starttls=220:go
	printf 'tls.test 127.0.0.1:25509,NeedTLS=1\nplain.test 127.0.0.1:25510,NeedTLS=1\nbroken.test 127.0.0.1:25511,NeedTLS=1\n' \
	    > "$SMTPD_DIR/routes"
	smtpd_setup 25512 <<-EOT
	$(conf 'table routes file:@DIR@/routes
	action "r" relay routes <routes> tls no
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test u@tls.test
	send a@example.test u@plain.test
	send a@example.test u@broken.test
	peer_wait tls 1
	peer_wait plain 1
	peer_wait broken 1
	peer_meta tls 1 tls | grep -q '^TLSv1' || atf_fail "no TLS"
	atf_check_equal none "$(peer_meta plain 1 tls)"
	atf_check_equal none "$(peer_meta broken 1 tls)"
	atf_check_equal 1 "$(peer_count broken)"
}
seed_needtls1_cleanup() { smtpd_cleanup; }

atf_test_case seed_needtls2 cleanup
seed_needtls2_head()
{
	atf_set descr "NeedTLS=2 to a peer without STARTTLS: not sent; next hop; alone: queued"
}
seed_needtls2_body()
{
	peer_start notls 25513
	peer_start next 25514
	smtpd_setup 25515 <<-EOT
	$(conf 'action "two" relay host "127.0.0.1:25513,NeedTLS=2;127.0.0.1:25514"
	action "one" relay host "127.0.0.1:25513,NeedTLS=2,OutBind=127.0.0.1"
	match from local for rcpt-to "alone@x.test" action "one"
	match from local for any action "two"')
	EOT
	smtpd_start
	send a@example.test b@x.test
	peer_wait next 1
	atf_check_equal 0 "$(peer_count notls)"
	send a@example.test alone@x.test
	log_wait 'hop=127.0.0.1:25513 .*result=TempFail reason="STARTTLS not offered" next=none'
	log_wait 'queue envelope=[0-9a-f]+ event=tempfail rcpt=alone@x.test'
	atf_check_equal 0 "$(peer_count notls)"
	atf_check_equal 1 "$(peer_count next)"
}
seed_needtls2_cleanup() { smtpd_cleanup; }

atf_test_case seed_unknown_ca cleanup
seed_unknown_ca_head() { atf_set descr "required TLS with an unknown CA: not sent"; }
seed_unknown_ca_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	peer_start rogue 25516 --starttls --cert "$SMTPD_DIR/pki/rogue.crt" \
	    --key "$SMTPD_DIR/pki/rogue.key"
	peer_start good 25517 --starttls --cert "$SMTPD_DIR/pki/server.crt" \
	    --key "$SMTPD_DIR/pki/server.key"
	smtpd_setup 25518 <<-EOT
	$(conf 'action "bad" relay host "smtp+tls://localhost:25516" ca "@PKI@/ca.crt"
	action "good" relay host "smtp+tls://localhost:25517" ca "@PKI@/ca.crt"
	match from local for rcpt-to "good@x.test" action "good"
	match from local for any action "bad"')
	EOT
	smtpd_start
	send a@example.test b@x.test
	log_wait 'hop=127.0.0.1:25516 .*result=TempFail reason="TLS handshake: .*verif'
	atf_check_equal 0 "$(peer_count rogue)"
	send a@example.test good@x.test
	peer_wait good 1
	peer_meta good 1 tls | grep -q '^TLSv1' || atf_fail "no TLS"
}
seed_unknown_ca_cleanup() { smtpd_cleanup; }

atf_test_case seed_outbind cleanup
seed_outbind_head() { atf_set descr "OutBind=127.0.0.2: the peer sees that source"; }
seed_outbind_body()
{
	peer_start p 25519
	smtpd_setup 25520 <<-EOT
	$(conf 'action "r" relay host "127.0.0.1:25519,OutBind=127.0.0.2"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test b@x.test
	peer_wait p 1
	atf_check_equal 127.0.0.2 "$(peer_meta p 1 client_addr)"
	log_wait 'src=127.0.0.2 result=Ok'
}
seed_outbind_cleanup() { smtpd_cleanup; }

atf_test_case seed_failover cleanup
seed_failover_head()
{
	atf_set descr "a;b;c: closed port, 421 greeting, working peer: delivered once"
}
seed_failover_body()
{
	peer_start b 25522 --reply greeting=421:busy
	peer_start c 25523
	smtpd_setup 25524 <<-EOT
	$(conf 'action "r" relay host "127.0.0.1:25521;127.0.0.1:25522;127.0.0.1:25523"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test b@x.test
	peer_wait c 1
	sleep 1
	atf_check_equal 1 "$(peer_count c)"
	atf_check_equal 0 "$(peer_count b)"
	log_wait 'hop=127.0.0.1:25521 .*reason="connect: Connection refused" next=127.0.0.1:25522'
	log_wait 'hop=127.0.0.1:25522 .*reason="greeting: 421 busy" next=127.0.0.1:25523'
}
seed_failover_cleanup() { smtpd_cleanup; }

atf_test_case seed_random cleanup
seed_random_head()
{
	atf_set descr "#a;b;c over three peers: each gets a share, none duplicated"
	atf_set timeout 120
}
seed_random_body()
{
	peer_start a 25525
	peer_start b 25526
	peer_start c 25527
	smtpd_setup 25528 <<-EOT
	$(conf 'action "r" relay host "#127.0.0.1:25525;127.0.0.1:25526;127.0.0.1:25527"
	match from local for any action "r"')
	EOT
	smtpd_start
	i=0
	while [ $i -lt 30 ]; do
		send a@example.test "u$i@x.test"
		i=$((i + 1))
	done
	n=0 t=300
	while [ $t -gt 0 ]; do
		n=$(( $(peer_count a) + $(peer_count b) + $(peer_count c) ))
		[ "$n" -ge 30 ] && break
		sleep 0.1
		t=$((t - 1))
	done
	atf_check_equal 30 "$n"
	for p in a b c; do
		[ "$(peer_count $p)" -ge 3 ] ||
		    atf_fail "unfair: $(peer_count a) $(peer_count b) $(peer_count c)"
	done
	# no Message-ID twice
	d=$(cat "$(peer_spool a)"/*.eml "$(peer_spool b)"/*.eml \
	    "$(peer_spool c)"/*.eml | grep -i '^Message-ID:' | sort | uniq -d)
	[ -z "$d" ] || atf_fail "duplicates: $d"
}
seed_random_cleanup() { smtpd_cleanup; }

atf_test_case seed_auth cleanup
seed_auth_head() { atf_set descr "AUTH towards the relay: right and wrong password"; }
seed_auth_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	peer_start p 25529 --starttls --cert "$SMTPD_DIR/pki/server.crt" \
	    --key "$SMTPD_DIR/pki/server.key" --auth relayuser:s3cret
	printf 'localhost relayuser:s3cret\nbad relayuser:wrong\n' > "$SMTPD_DIR/secrets"
	smtpd_setup 25530 <<-EOT
	$(conf 'table secrets file:@DIR@/secrets
	action "good" relay host "smtp://localhost:25529" auth <secrets>
	action "bad" relay host "smtp://bad@localhost:25529" auth <secrets>
	match from local for rcpt-to "bad@x.test" action "bad"
	match from local for any action "good"')
	EOT
	smtpd_start
	send a@example.test good@x.test
	peer_wait p 1
	atf_check_equal relayuser "$(peer_meta p 1 auth_user)"
	send a@example.test bad@x.test
	log_wait 'reason="AUTH refused: 535'
	atf_check_equal 1 "$(peer_count p)"
}
seed_auth_cleanup() { smtpd_cleanup; }

atf_test_case seed_per_user cleanup
seed_per_user_head() { atf_set descr "per-user relay: only that user's mail takes it"; }
seed_per_user_body()
{
	h_world
	printf 'support@mail.example.test 127.0.0.1:25531\n' > "$SMTPD_DIR/routes"
	peer_start user 25531
	peer_start other 25532
	smtpd_setup 25533 <<-EOT
	$(conf 'table routes file:@DIR@/routes
	action "r" relay routes <routes> host "127.0.0.1:25532"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test support@mail.example.test
	send a@example.test sales@mail.example.test
	peer_wait user 1
	peer_wait other 1
	atf_check_equal "<support@mail.example.test>" "$(peer_meta user 1 rcpt)"
	atf_check_equal "<sales@mail.example.test>" "$(peer_meta other 1 rcpt)"
	atf_check_equal 1 "$(peer_count user)"
}
seed_per_user_cleanup() { smtpd_cleanup; }

atf_test_case seed_local_copy cleanup
seed_local_copy_head() { atf_set descr "relay plus a local copy: both delivered"; }
seed_local_copy_body()
{
	h_world
	if [ "$(id -u)" = 0 ]; then
		id _smtptest >/dev/null 2>&1 ||
		    atf_skip "no _smtptest user (tools/setup.sh --users)"
		duser=_smtptest
	else
		duser=$(id -un)
	fi
	peer_start p 25534
	mkdir -p "$SMTPD_DIR/maildir" && chmod 755 "$SMTPD_DIR/maildir"
	[ "$(id -u)" = 0 ] && chown "$duser" "$SMTPD_DIR/maildir"
	smtpd_setup 25535 <<-EOT
	$(conf "action \"local\" maildir \"@MAILDIR@/%{rcpt.user}\" user $duser
	action \"relay\" relay host \"127.0.0.1:25534\"
	match from local for rcpt-to \"support@mail.example.test\" action { \"local\", \"relay\" }")
	EOT
	smtpd_start
	send a@example.test support@mail.example.test
	peer_wait p 1
	n=0 t=100
	while [ $t -gt 0 ]; do
		n=$(ls "$SMTPD_DIR/maildir/support/new" 2>/dev/null | wc -l)
		[ "$n" -ge 1 ] && break
		sleep 0.1
		t=$((t - 1))
	done
	atf_check_equal 1 "$n"
	atf_check_equal 1 "$(peer_count p)"
}
seed_local_copy_cleanup() { smtpd_cleanup; }

atf_test_case seed_xmail cleanup
seed_xmail_head() { atf_set descr "an XMail smtpfwd.tab as it stands"; }
seed_xmail_body()
{
	h_world
	printf '# smtpfwd.tab\n"domain1.test"\t"127.0.0.1:25536;127.0.0.1:25537"\t"OutBind=127.0.0.3"\n"*.*"\t"127.0.0.1:25537"\n' \
	    > "$SMTPD_DIR/smtpfwd.tab"
	peer_start a 25536
	peer_start b 25537
	smtpd_setup 25538 <<-EOT
	$(conf 'table fwd xmail:@DIR@/smtpfwd.tab
	action "r" relay routes <fwd>
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test x@domain1.test
	send a@example.test y@other.test
	peer_wait a 1
	peer_wait b 1
	atf_check_equal 127.0.0.3 "$(peer_meta a 1 client_addr)"
	atf_check_equal "<y@other.test>" "$(peer_meta b 1 rcpt)"
}
seed_xmail_cleanup() { smtpd_cleanup; }

atf_test_case update_table cleanup
update_table_head()
{
	atf_set descr "smtpctl update table reroutes mail already queued"
	atf_set timeout 60
}
update_table_body()
{
	h_world
	printf 'x.test 127.0.0.1:25539\n' > "$SMTPD_DIR/routes"
	peer_start new 25540
	smtpd_setup 25541 <<-EOT
	$(conf 'table routes file:@DIR@/routes
	action "r" relay routes <routes>
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test b@x.test
	log_wait 'hop=127.0.0.1:25539 .*result=TempFail'
	printf 'x.test 127.0.0.1:25540\n' > "$SMTPD_DIR/routes"
	"$SMTPCTL_BIN" -s "$SMTPD_SOCK" update table routes ||
	    atf_skip "smtpctl update table not available yet"
	peer_wait new 1 30
}
update_table_cleanup() { smtpd_cleanup; }

atf_test_case mx_fallback cleanup
mx_fallback_head()
{
	atf_set descr "MX by preference, the next MX when the first fails"
}
mx_fallback_body()
{
	h_world
	dns_start 25542 --mx-host=mx.test,mx1.mx.test,10 \
	    --mx-host=mx.test,mx2.mx.test,20 \
	    --host-record=mx1.mx.test,127.0.0.3 \
	    --host-record=mx2.mx.test,127.0.0.4
	peer_start mx1 25543 -l 127.0.0.3 --reply greeting=421:down
	peer_start mx2 25543 -l 127.0.0.4
	DNS_PORT=25542 smtpd_setup 25544 <<-EOT
	$(conf 'resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay port 25543
	match from local for any action "out"')
	EOT
	smtpd_start
	send a@example.test b@mx.test
	peer_wait mx2 1
	atf_check_equal 1 "$(peer_conns mx1)"
	log_wait 'hop=127.0.0.3:25543 host=mx1.mx.test .*next=127.0.0.4:25543'
}
mx_fallback_cleanup() { smtpd_cleanup; }

atf_test_case no_mx cleanup
no_mx_head() { atf_set descr "a domain without MX: its address"; }
no_mx_body()
{
	h_world
	dns_start 25545 --host-record=nomx.test,127.0.0.5
	peer_start p 25546 -l 127.0.0.5
	DNS_PORT=25545 smtpd_setup 25547 <<-EOT
	$(conf 'resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay port 25546
	match from local for any action "out"')
	EOT
	smtpd_start
	send a@example.test b@nomx.test
	peer_wait p 1
	atf_check_equal "<b@nomx.test>" "$(peer_meta p 1 rcpt)"
}
no_mx_cleanup() { smtpd_cleanup; }

atf_test_case nxdomain cleanup
nxdomain_head() { atf_set descr "NXDOMAIN: the sender gets a 5.1.2 bounce"; }
nxdomain_body()
{
	h_world
	dns_start 25548 --host-record=sender.test,127.0.0.6
	peer_start sender 25549 -l 127.0.0.6
	DNS_PORT=25548 smtpd_setup 25550 <<-EOT
	$(conf 'resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay port 25549
	match from any for any action "out"')
	EOT
	smtpd_start
	send a@sender.test b@nx.test
	log_wait 'result=PermFail stat="550 5.1.2 domain nx.test not found"'
	peer_wait sender 1 30
	grep -q '5\.1\.2' "$(peer_body sender 1)" ||
	    atf_fail "the bounce does not say 5.1.2"
	atf_check_equal "<>" "$(peer_meta sender 1 mail_from)"
}
nxdomain_cleanup() { smtpd_cleanup; }

atf_test_case rcpt_5xx cleanup
rcpt_5xx_head() { atf_set descr "5xx at RCPT: bounced, no next hop"; }
rcpt_5xx_body()
{
	peer_start a 25551 --reply "rcpt=550:5.1.1 no such user"
	peer_start b 25552
	smtpd_setup 25553 <<-EOT
	$(conf 'action "r" relay host "127.0.0.1:25551;127.0.0.1:25552"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test nobody@x.test
	log_wait 'result=PermFail stat="550 5.1.1 no such user"'
	log_wait 'queue envelope=[0-9a-f]+ event=permfail rcpt=nobody@x.test'
	atf_check_equal 0 "$(peer_conns b)"
}
rcpt_5xx_cleanup() { smtpd_cleanup; }

atf_test_case drop_mid_data cleanup
drop_mid_data_head() { atf_set descr "connection lost in DATA: next hop, delivered once"; }
drop_mid_data_body()
{
	peer_start a 25554 --drop-mid-data
	peer_start b 25555
	smtpd_setup 25556 <<-EOT
	$(conf 'action "r" relay host "127.0.0.1:25554;127.0.0.1:25555"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test b@x.test
	peer_wait b 1
	sleep 1
	atf_check_equal 1 "$(peer_count b)"
	atf_check_equal 0 "$(peer_count a)"
}
drop_mid_data_cleanup() { smtpd_cleanup; }

atf_test_case partial_rcpt cleanup
partial_rcpt_head() { atf_set descr "per recipient results in one transaction"; }
partial_rcpt_body()
{
	peer_start p 25557 --reply "rcpt2=550:5.1.1 unknown" \
	    --reply "rcpt3=450:4.2.1 later"
	smtpd_setup 25558 <<-EOT
	$(conf 'action "r" relay host "127.0.0.1:25557"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test ok@x.test bad@x.test later@x.test
	peer_wait p 1
	atf_check_equal "<ok@x.test>" "$(peer_meta p 1 rcpt)"
	log_wait 'event=delivered rcpt=ok@x.test'
	log_wait 'event=permfail rcpt=bad@x.test'
	log_wait 'event=tempfail rcpt=later@x.test'
}
partial_rcpt_cleanup() { smtpd_cleanup; }

atf_test_case hostile cleanup
hostile_head() { atf_set descr "hostile replies: mta survives, next hop delivers"; }
hostile_body()
{
	peer_start b 25560 --hostile badmulti:mail
	peer_start c 25561 --hostile longline:rcpt
	peer_start d 25562
	smtpd_setup 25563 <<-EOT
	$(conf 'action "r" relay host "127.0.0.1:25560;127.0.0.1:25561;127.0.0.1:25562"
	match from local for any action "r"')
	EOT
	smtpd_start
	send a@example.test b@x.test
	peer_wait d 1
	atf_check_equal 0 "$(( $(peer_count b) + $(peer_count c) ))"
	# the daemon is still whole
	send a@example.test c@x.test
	peer_wait d 2
}
hostile_cleanup() { smtpd_cleanup; }

atf_test_case load_dead_gateway cleanup
load_dead_gateway_head()
{
	atf_set descr "1000 messages, three gateways, one dead: each delivered once, the dead one skipped"
	atf_set timeout 600
}
load_dead_gateway_body()
{
	peer_start a 25564
	peer_start b 25565
	peer_start dead 25566 --reply greeting=421:dead
	smtpd_setup 25567 <<-EOT
	$(conf 'action "r" relay host "#127.0.0.1:25564;127.0.0.1:25565;127.0.0.1:25566"
	match from local for any action "r"')
	EOT
	smtpd_start
	# 10 sessions of 100 messages, each with its own Message-ID
	s=0
	while [ $s -lt 10 ]; do
		set -- -p "$SMTPD_PORT" -q -t 60 -e 220 -s "EHLO client.test" -e 250
		i=0
		while [ $i -lt 100 ]; do
			set -- "$@" -s "MAIL FROM:<a@example.test>" -e 250 \
			    -s "RCPT TO:<u$i@x.test>" -e 250 -s DATA -e 354 \
			    -m "Message-ID: <$s.$i.$$@load.test>\nSubject: load\n\nmessage $s.$i\n" \
			    -e 250
			i=$((i + 1))
		done
		"$H_CLIENT" "$@" -s QUIT -e 221 > /dev/null ||
		    atf_fail "session $s failed"
		s=$((s + 1))
	done
	n=0 t=1200
	while [ $t -gt 0 ]; do
		n=$(( $(peer_count a) + $(peer_count b) ))
		[ "$n" -ge 1000 ] && break
		sleep 0.1
		t=$((t - 1))
	done
	atf_check_equal 1000 "$n"
	ids=$(cat "$(peer_spool a)"/*.eml "$(peer_spool b)"/*.eml |
	    grep -i '^Message-ID:' | sort -u | wc -l)
	atf_check_equal 1000 "$ids"
	atf_check_equal 0 "$(peer_count dead)"
	d=$(peer_conns dead)
	[ "$d" -le 10 ] || atf_fail "the dead gateway was tried $d times"
	[ "$(peer_count a)" -ge 100 ] && [ "$(peer_count b)" -ge 100 ] ||
	    atf_fail "unfair: $(peer_count a) $(peer_count b)"
}
load_dead_gateway_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case seed_host
	atf_add_test_case seed_port
	atf_add_test_case seed_globs
	atf_add_test_case seed_needtls1
	atf_add_test_case seed_needtls2
	atf_add_test_case seed_unknown_ca
	atf_add_test_case seed_outbind
	atf_add_test_case seed_failover
	atf_add_test_case seed_random
	atf_add_test_case seed_auth
	atf_add_test_case seed_per_user
	atf_add_test_case seed_local_copy
	atf_add_test_case seed_xmail
	atf_add_test_case update_table
	atf_add_test_case mx_fallback
	atf_add_test_case no_mx
	atf_add_test_case nxdomain
	atf_add_test_case rcpt_5xx
	atf_add_test_case drop_mid_data
	atf_add_test_case partial_rcpt
	atf_add_test_case hostile
	atf_add_test_case load_dead_gateway
}
