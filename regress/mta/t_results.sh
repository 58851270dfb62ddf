#! /usr/bin/env atf-sh
# What mta tells queue about a relayed recipient: the hop that answered
# (a bounce's Remote-MTA, its Diagnostic-Code the remote reply) and
# whether it offered DSN (NOTIFY=SUCCESS: a "relayed" notice from us only
# when the remote cannot send one).  Body and parameter downgrades
# (8BITMIME, SMTPUTF8).  Ports 31000-31099.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# Local deliveries run as _smtptest when root, as ourselves otherwise.
r_world()
{
	h_world
	LOCALUSER="user $(id -un)"
	if [ "$(id -u)" = 0 ]; then
		id _smtptest >/dev/null 2>&1 ||
		    atf_fail "user _smtptest missing: run tools/setup.sh --users"
		LOCALUSER="user _smtptest"
	fi
	mkdir -p "$SMTPD_DIR/maildir/new" "$SMTPD_DIR/maildir/cur" \
	    "$SMTPD_DIR/maildir/tmp"
	if [ "$(id -u)" = 0 ]; then
		chown -R _smtptest "$SMTPD_DIR/maildir"
	fi
}

# The configuration: local mail to the maildir, the rest to the peer.
r_conf()
{
	cat <<EOF
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
queue retry 1s max 2s
action "local" maildir "@MAILDIR@" @LOCALUSER@
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
}

r_wait_log()
{
	_n=$(( ${2:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -Eq -- "$1" "$SMTPD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 40 "$SMTPD_LOG" >&2
	atf_fail "no log line matching '$1'"
}

r_maildir_file()
{
	ls "$SMTPD_DIR"/maildir/new/* "$SMTPD_DIR"/maildir/cur/* 2>/dev/null |
	    sed -n "${1:-1}p"
}

# One message with RCPT parameters $4 (and MAIL parameters $5).
r_send()
{
	smtp_expect "$1" -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<$2>${5:+ $5}" -e 250 -s "RCPT TO:<$3>${4:+ $4}" \
	    -e 250 -s DATA -e 354 \
	    -m "${R_BODY:-From: <$2>\nSubject: results\nMessage-ID: <r-$$@test>\n\nbody\n}" \
	    -e 250 -s QUIT -e 221 >/dev/null
}

atf_test_case bounce_remote_mta cleanup
bounce_remote_mta_head()
{
	atf_set descr "a bounce names the hop (Remote-MTA) and its reply"
	atf_set timeout 60
}
bounce_remote_mta_body()
{
	r_world
	PEER_PORT=31001
	peer_start p $PEER_PORT --reply "rcpt=550:5.1.1 no such user here"
	r_conf | smtpd_setup 31000
	smtpd_start
	r_send 31000 alice@localhost bob@remote.test
	maildir_wait "$SMTPD_DIR/maildir" 1 30
	_f=$(r_maildir_file 1)
	grep -q '^Action: failed' "$_f" || atf_fail "no Action: failed"
	grep -q '^Status: 5.1.1' "$_f" || atf_fail "no Status: 5.1.1"
	grep -q '^Remote-MTA: dns; 127.0.0.1' "$_f" ||
	    atf_fail "no Remote-MTA: $(cat "$_f")"
	grep -q '^Diagnostic-Code: smtp; 550 5.1.1 no such user here' "$_f" ||
	    atf_fail "no Diagnostic-Code with the remote reply"
}
bounce_remote_mta_cleanup() { smtpd_cleanup; }

atf_test_case success_relayed cleanup
success_relayed_head()
{
	atf_set descr "NOTIFY=SUCCESS relayed to a server without DSN: a relayed notice"
	atf_set timeout 60
}
success_relayed_body()
{
	r_world
	PEER_PORT=31003
	peer_start p $PEER_PORT
	r_conf | smtpd_setup 31002
	smtpd_start
	r_send 31002 alice@localhost bob@remote.test "NOTIFY=SUCCESS"
	peer_wait p 1
	maildir_wait "$SMTPD_DIR/maildir" 1 30
	_f=$(r_maildir_file 1)
	grep -q '^Action: relayed' "$_f" || atf_fail "no Action: relayed: $(cat "$_f")"
	grep -q '^Remote-MTA: dns; 127.0.0.1' "$_f" || atf_fail "no Remote-MTA"
	grep -q 'NOTIFY' "$(peer_spool p)/transcript.log" &&
	    atf_fail "NOTIFY sent to a server without DSN"
	return 0
}
success_relayed_cleanup() { smtpd_cleanup; }

atf_test_case success_remote_dsn cleanup
success_remote_dsn_head()
{
	atf_set descr "NOTIFY=SUCCESS relayed to a DSN server: passed on, no local notice"
	atf_set timeout 60
}
success_remote_dsn_body()
{
	r_world
	PEER_PORT=31005
	peer_start p $PEER_PORT --ext DSN
	r_conf | smtpd_setup 31004
	smtpd_start
	r_send 31004 alice@localhost bob@remote.test "NOTIFY=SUCCESS"
	peer_wait p 1
	grep -q 'c: RCPT TO:<bob@remote.test> NOTIFY=SUCCESS' \
	    "$(peer_spool p)/transcript.log" || atf_fail "NOTIFY not passed on"
	r_wait_log 'event=no-success-notice reason="remote DSN" hop=127.0.0.1'
	sleep 2
	atf_check_equal 0 "$(maildir_count "$SMTPD_DIR/maildir")"
}
success_remote_dsn_cleanup() { smtpd_cleanup; }

atf_test_case success_local cleanup
success_local_head()
{
	atf_set descr "NOTIFY=SUCCESS delivered locally: a delivered notice, no Remote-MTA"
	atf_set timeout 60
}
success_local_body()
{
	r_world
	PEER_PORT=31007
	r_conf | smtpd_setup 31006
	smtpd_start
	r_send 31006 alice@localhost bob@localhost "NOTIFY=SUCCESS"
	maildir_wait "$SMTPD_DIR/maildir" 2 30
	_f=$(grep -l '^Action: delivered' "$SMTPD_DIR"/maildir/new/* | head -1)
	[ -n "$_f" ] || atf_fail "no delivered notice"
	grep -q '^Remote-MTA' "$_f" && atf_fail "Remote-MTA for a local delivery"
	return 0
}
success_local_cleanup() { smtpd_cleanup; }

atf_test_case eightbit_downgrade cleanup
eightbit_downgrade_head()
{
	atf_set descr "BODY=8BITMIME to a server without 8BITMIME: 7-bit body sent, 8-bit body bounced 5.6.3"
	atf_set timeout 60
}
eightbit_downgrade_body()
{
	r_world
	PEER_PORT=31009
	# HELO only: no 8BITMIME offered
	peer_start p $PEER_PORT --no-ehlo
	r_conf | smtpd_setup 31008
	smtpd_start
	R_BODY="Subject: seven\nMessage-ID: <r7-$$@test>\n\nplain ascii\n" \
	    r_send 31008 alice@localhost bob@remote.test "" BODY=8BITMIME
	peer_wait p 1
	atf_check_equal "<bob@remote.test>" "$(peer_meta p 1 rcpt)"
	grep -q 'BODY=' "$(peer_spool p)/transcript.log" &&
	    atf_fail "BODY= sent to a server without 8BITMIME"
	grep -q 'plain ascii' "$(peer_body p 1)" || atf_fail "body changed"
	R_BODY="Subject: eight\nMessage-ID: <r8-$$@test>\n\ncaf\xc3\xa9\n" \
	    r_send 31008 alice@localhost carol@remote.test "" BODY=8BITMIME
	maildir_wait "$SMTPD_DIR/maildir" 1 30
	_f=$(r_maildir_file 1)
	grep -q '^Final-Recipient: rfc822; carol@remote.test' "$_f" ||
	    atf_fail "bounce not for carol: $(cat "$_f")"
	grep -q '^Status: 5.6.3' "$_f" || atf_fail "no Status: 5.6.3"
	atf_check_equal 1 "$(peer_count p)"
}
eightbit_downgrade_cleanup() { smtpd_cleanup; }

atf_test_case smtputf8_refused cleanup
smtputf8_refused_head()
{
	atf_set descr "SMTPUTF8 to a server without SMTPUTF8: bounced 5.6.7, nothing sent"
	atf_set timeout 60
}
smtputf8_refused_body()
{
	r_world
	PEER_PORT=31011
	peer_start p $PEER_PORT
	r_conf | smtpd_setup 31010
	smtpd_start
	_rcpt=$(printf 'j\303\266rg@remote.test')
	R_BODY="Subject: utf8\nMessage-ID: <ru-$$@test>\n\nhi\n" \
	    r_send 31010 alice@localhost "$_rcpt" "" SMTPUTF8
	maildir_wait "$SMTPD_DIR/maildir" 1 30
	_f=$(r_maildir_file 1)
	grep -q '^Action: failed' "$_f" || atf_fail "no Action: failed"
	grep -q '^Status: 5.6.7' "$_f" || atf_fail "no Status: 5.6.7: $(cat "$_f")"
	atf_check_equal 0 "$(peer_count p)"
	grep -q 'MAIL FROM' "$(peer_spool p)/transcript.log" &&
	    atf_fail "a transaction was started"
	return 0
}
smtputf8_refused_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case bounce_remote_mta
	atf_add_test_case success_relayed
	atf_add_test_case success_remote_dsn
	atf_add_test_case success_local
	atf_add_test_case eightbit_downgrade
	atf_add_test_case smtputf8_refused
}
