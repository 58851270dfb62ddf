#! /usr/bin/env atf-sh
# The daemon helpers of regress/lib/smtpd.sh: config templates, start and
# stop with a stand-in daemon (the real one is tested by its owners), the
# throw-away PKI.  Ports 21210-21219.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# A stand-in for obj/smtpd: a shell script that takes -d -f CONF and
# runs smtp-peer on the port found in CONF; with $1=leak it also leaves a
# grandchild behind when stopped.
fake_daemon()
{
	h_world
	cat > "$SMTPD_DIR/fake-smtpd" <<XEOF
#!/bin/sh
port=\$(sed -n 's/^listen on 127.0.0.1 port //p' "\$3")
[ "$1" = leak ] && setsid sleep 30 < /dev/null > /dev/null 2>&1 &
[ "$1" = die ] && { echo "fake: config error" >&2; exit 1; }
exec "$H_PEER" -q -p "\$port" --lifetime 60
XEOF
	chmod 755 "$SMTPD_DIR/fake-smtpd"
	SMTPD_BIN=$SMTPD_DIR/fake-smtpd
}

atf_test_case setup_template cleanup
setup_template_head() { atf_set descr "smtpd_setup substitutes @DIR@ @PORT@ @SPOOL@ @SOCK@ and set variables; unknown ones fail"; }
setup_template_body()
{
	PEER_PORT=21219
	smtpd_setup 21210 <<'EOF2'
listen on 127.0.0.1 port @PORT@
spool "@SPOOL@"
control socket "@SOCK@"
action "r" relay host smtp://127.0.0.1:@PEER_PORT@
# @DIR@ @MAILDIR@
EOF2
	atf_check -o inline:"listen on 127.0.0.1 port 21210
spool \"$SMTPD_DIR/spool\"
control socket \"$SMTPD_DIR/smtpd.sock\"
action \"r\" relay host smtp://127.0.0.1:21219
# $SMTPD_DIR $SMTPD_DIR/maildir
" cat "$SMTPD_CONF"
	case "$SMTPD_DIR" in /tmp/smtpd-test.*) ;; *) atf_fail "bad dir";; esac
	atf_check -o inline:"755\n" stat -c %a "$SMTPD_DIR"
	( atf_fail() { echo "FAIL: $*"; exit 1; }
	  echo 'x @NOSUCHVAR@' | smtpd_setup 21210 ) > out &&
	    atf_fail "unknown @NOSUCHVAR@ accepted"
	grep -q NOSUCHVAR out || atf_fail "no message"
}
setup_template_cleanup() { smtpd_cleanup; }

atf_test_case start_stop cleanup
start_stop_head() { atf_set descr "smtpd_start waits for the port, smtpd_stop leaves nothing running"; }
start_stop_body()
{
	echo 'listen on 127.0.0.1 port @PORT@' | smtpd_setup 21211
	fake_daemon
	smtpd_start
	pid=$(cat "$SMTPD_DIR/smtpd.pid")
	"$H_CLIENT" -p 21211 -e 220 -s QUIT -e 221 > /dev/null ||
	    atf_fail "not listening after smtpd_start"
	smtpd_stop
	h_alive "$pid" && atf_fail "daemon still running"
	[ -z "$(ss -Hltn 'sport = :21211')" ] || atf_fail "port still open"
	return 0
}
start_stop_cleanup() { smtpd_cleanup; }

atf_test_case stop_detects_leftover cleanup
stop_detects_leftover_head() { atf_set descr "smtpd_stop fails when a forked process survives"; }
stop_detects_leftover_body()
{
	echo 'listen on 127.0.0.1 port @PORT@' | smtpd_setup 21212
	fake_daemon leak
	smtpd_start
	sleep 0.3
	# a leftover never ends: 1 s of waiting shows it as well as 10 s
	( atf_fail() { echo "FAIL: $*"; exit 1; }; H_STOP_WAIT=10
	    smtpd_stop ) > out && atf_fail "leftover not detected"
	grep -q 'processes left' out || atf_fail "no message: $(cat out)"
}
stop_detects_leftover_cleanup() { smtpd_cleanup; }

atf_test_case start_fails cleanup
start_fails_head() { atf_set descr "smtpd_start fails with the log when the daemon exits"; }
start_fails_body()
{
	echo 'listen on 127.0.0.1 port @PORT@' | smtpd_setup 21213
	fake_daemon die
	( atf_fail() { echo "FAIL: $*"; exit 1; }; smtpd_start ) > out 2>&1 &&
	    atf_fail "start of a dying daemon succeeded"
	grep -q 'exited (status 1)' out || atf_fail "no message: $(cat out)"
	grep -q 'fake: config error' out || atf_fail "log not shown"
}
start_fails_cleanup() { smtpd_cleanup; }

atf_test_case pki cleanup
pki_head() { atf_set descr "pki_make: server and client certs verify against the CA, rogue does not"; }
pki_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	k=$SMTPD_DIR/pki
	atf_check -o ignore openssl verify -CAfile "$k/ca.crt" "$k/server.crt"
	atf_check -o ignore openssl verify -CAfile "$k/ca.crt" "$k/client.crt"
	atf_check -s not-exit:0 -o ignore -e ignore openssl verify -CAfile "$k/ca.crt" "$k/rogue.crt"
	atf_check -o match:'DNS:localhost' -o match:'IP Address:127.0.0.1' \
	    openssl x509 -in "$k/server.crt" -noout -ext subjectAltName
	atf_check -o match:'IP Address:127.0.0.1' \
	    openssl x509 -in "$k/rogue.crt" -noout -ext subjectAltName
}
pki_cleanup() { smtpd_cleanup; }

atf_test_case cleanup_all cleanup
cleanup_all_head() { atf_set descr "smtpd_cleanup stops peers and dnsmasq and removes the world"; }
cleanup_all_body()
{
	peer_start a 21214
	dns_start 21215 --host-record=a.test,127.0.0.9
	d=$SMTPD_DIR
	p1=$(cat "$d/peer-a.pid")
	p2=$(cat "$d/dns.pid")
	smtpd_cleanup
	h_alive "$p1" && atf_fail "peer left"
	h_alive "$p2" && atf_fail "dnsmasq left"
	[ -d "$d" ] && atf_fail "world left"
	return 0
}
cleanup_all_cleanup() { smtpd_cleanup; }

atf_test_case waits cleanup
waits_head() { atf_set descr "h_wait_grep and maildir_wait see late arrivals and time out"; }
waits_body()
{
	h_world
	( sleep 1; echo "smtp event=ready" >> "$SMTPD_DIR/x.log" ) &
	h_wait_grep "$SMTPD_DIR/x.log" 'event=ready' 5
	( atf_fail() { echo "FAIL: $*"; exit 1; }
	  h_wait_grep "$SMTPD_DIR/x.log" 'event=never' 1 ) > out &&
	    atf_fail "h_wait_grep did not time out"
	m=$SMTPD_DIR/Maildir
	mkdir -p "$m/new" "$m/cur" "$m/tmp"
	( sleep 1; echo a > "$m/new/1"; echo b > "$m/cur/2:2,S" ) &
	maildir_wait "$m" 2 5
	atf_check_equal 2 "$(maildir_count "$m")"
	( atf_fail() { echo "FAIL: $*"; exit 1; }; maildir_wait "$m" 3 1 ) \
	    > out && atf_fail "maildir_wait did not time out"
	return 0
}
waits_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case waits
	atf_add_test_case setup_template
	atf_add_test_case start_stop
	atf_add_test_case stop_detects_leftover
	atf_add_test_case start_fails
	atf_add_test_case pki
	atf_add_test_case cleanup_all
}
