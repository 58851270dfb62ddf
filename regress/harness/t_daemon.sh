#! /usr/bin/env atf-sh
# The daemon helpers against the real obj/smtpd: smtpd_start returns once
# it listens, smtpd_stop leaves none of its processes.  Ports 21230-21239.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

atf_test_case start_send_stop cleanup
start_send_stop_head() { atf_set descr "real daemon: start, take one message, stop with no process left"; }
start_send_stop_body()
{
	[ -x "$SMTPD_BIN" ] || atf_skip "no $SMTPD_BIN"
	PEER_PORT=21231
	smtpd_setup 21230 <<'EOF2'
hostname harness.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
action "relay" relay host smtp+notls://127.0.0.1:@PEER_PORT@
match from local for any action "relay"
EOF2
	peer_start sink 21231
	smtpd_start
	pid=$(cat "$SMTPD_DIR/smtpd.pid")
	kids=$(h_descendants "$pid")
	[ -n "$kids" ] || atf_fail "the daemon forked no process"
	smtp_send 21230 a@harness.test b@example.test > /dev/null
	smtpd_stop
	h_alive "$pid" && atf_fail "daemon alive after smtpd_stop"
	for k in $kids; do
		h_alive "$k" && atf_fail "process $k alive after smtpd_stop"
	done
	[ -z "$(ss -Hltn 'sport = :21230')" ] || atf_fail "port still open"
	return 0
}
start_send_stop_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case start_send_stop
}
