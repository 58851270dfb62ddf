#! /usr/bin/env atf-sh
# Integration tests of the queue: retry timing, expiry bounce, double
# bounce, corrupt envelope moved aside, recovery of a hand-made spool,
# disk full on a small tmpfs (root only), control, DSN NOTIFY variants
# delay notices and ETRN.  Ports 23000-23099.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# Local deliveries run as _smtptest when root, as ourselves otherwise;
# `user NAME` makes every local recipient valid.
q_world()
{
	h_world
	# every local recipient is a virtual one delivered as that user
	LOCALUSER="user $(id -un)"
	if [ "$(id -u)" = 0 ]; then
		id _smtptest >/dev/null 2>&1 ||
		    atf_fail "user _smtptest missing: run tools/setup.sh --users"
		LOCALUSER="user _smtptest"
	fi
	mkdir -p "$SMTPD_DIR/maildir/new" "$SMTPD_DIR/maildir/cur" \
	    "$SMTPD_DIR/maildir/tmp" "$SMTPD_DIR/var"
	chmod 777 "$SMTPD_DIR/var"
	if [ "$(id -u)" = 0 ]; then
		chown -R _smtptest "$SMTPD_DIR/maildir"
	fi
}

# Start the daemon and wait (bounded) for its control socket too.
q_start()
{
	smtpd_start
	_n=50
	while [ ! -S "$SMTPD_SOCK" ] && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ -S "$SMTPD_SOCK" ] || atf_fail "no control socket $SMTPD_SOCK"
}

# Wait (bounded) until the maildir holds at least N messages.
q_wait_maildir()
{
	_want=$1
	_n=$(( ${2:-30} * 10 ))
	while [ "$_n" -gt 0 ]; do
		_have=$(ls "$SMTPD_DIR/maildir/new" "$SMTPD_DIR/maildir/cur" |
		    grep -vc -e '^$' -e ':$')
		[ "$_have" -ge "$_want" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 40 "$SMTPD_LOG" >&2
	atf_fail "maildir holds $_have messages, expected $_want"
}

q_maildir_file()
{
	ls "$SMTPD_DIR"/maildir/new/* "$SMTPD_DIR"/maildir/cur/* 2>/dev/null |
	    sed -n "${1:-1}p"
}

# Wait until the log has a line matching the pattern.
q_wait_log()
{
	_n=$(( ${2:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -q -- "$1" "$SMTPD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 40 "$SMTPD_LOG" >&2
	atf_fail "no log line matching '$1'"
}

q_conf_common()
{
	cat <<EOF
hostname mx.test
postmaster "pm@localhost"
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
action "local" maildir "@MAILDIR@" @LOCALUSER@
EOF
}

# Checks that a file is an RFC 3464 report with three parts and prints
# its delivery-status part.
q_check_report()
{
	_f=$1
	grep -q '^Content-Type: multipart/report; report-type=delivery-status' \
	    "$_f" || atf_fail "not a multipart/report: $(head -20 "$_f")"
	_b=$(sed -n 's/^[[:space:]]*boundary="\(.*\)"\r*$/\1/p' "$_f" | head -1)
	[ -n "$_b" ] || atf_fail "no boundary"
	_parts=$(grep -c -- "^--$_b\r*\$" "$_f")
	[ "$_parts" -eq 3 ] || atf_fail "$_parts parts, expected 3"
	grep -q -- "^--$_b--" "$_f" || atf_fail "no closing boundary"
	grep -q '^Content-Type: message/delivery-status' "$_f" ||
	    atf_fail "no delivery-status part"
	grep -q '^Content-Type: text/rfc822-headers\|^Content-Type: message/rfc822' \
	    "$_f" || atf_fail "no original part"
	grep -q '^Reporting-MTA: dns; mx.test' "$_f" ||
	    atf_fail "no Reporting-MTA"
}

atf_test_case retry_timing cleanup
retry_timing_head()
{
	atf_set descr "a temporary failure is retried after queue retry"
	atf_set timeout 60
}
retry_timing_body()
{
	q_world
	PEER_PORT=23011
	peer_start p0 $PEER_PORT --reply "rcpt=451:4.3.0 try later"
	{ q_conf_common; cat <<EOF
queue retry 3s max 10s
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
	} | smtpd_setup 23010
	q_start
	smtp_send 23010 alice@localhost bob@remote.test >/dev/null
	q_wait_log 'event=tempfail'
	_t0=$(date +%s)
	# the remote accepts from now on
	peer_stop p0
	peer_start p $PEER_PORT
	peer_wait p 1 30
	_t1=$(date +%s)
	[ $((_t1 - _t0)) -ge 2 ] ||
	    atf_fail "retried after $((_t1 - _t0))s, queue retry is 3s"
	[ $((_t1 - _t0)) -le 8 ] ||
	    atf_fail "retried after $((_t1 - _t0))s, queue retry is 3s"
	q_wait_log 'event=delivered.*retries=1'
	smtpd_stop
}
retry_timing_cleanup() { smtpd_cleanup; }

atf_test_case retry_mda cleanup
retry_mda_head()
{
	atf_set descr "an mda exiting EX_TEMPFAIL is retried after queue retry"
	atf_set timeout 60
}
retry_mda_body()
{
	q_world
	cat > "$SMTPD_DIR/flaky.sh" <<EOF
#!/bin/sh
if [ ! -f "$SMTPD_DIR/var/tried" ]; then
	date +%s > "$SMTPD_DIR/var/tried"
	exit 75
fi
cat > "$SMTPD_DIR/var/out.eml"
date +%s > "$SMTPD_DIR/var/done"
exit 0
EOF
	chmod 755 "$SMTPD_DIR/flaky.sh"
	{ q_conf_common; cat <<EOF
queue retry 3s max 10s
action "flaky" mda "$SMTPD_DIR/flaky.sh" @LOCALUSER@
match from local for rcpt-to "flaky@localhost" action "flaky"
match from local for local action "local"
EOF
	} | smtpd_setup 23012
	q_start
	smtp_send 23012 alice@localhost flaky@localhost >/dev/null
	_n=300
	while [ ! -f "$SMTPD_DIR/var/done" ] && [ $_n -gt 0 ]; do
		sleep 0.1; _n=$((_n - 1))
	done
	[ -f "$SMTPD_DIR/var/done" ] || { tail -30 "$SMTPD_LOG" >&2;
	    atf_fail "never delivered"; }
	_d=$(( $(cat "$SMTPD_DIR/var/done") - $(cat "$SMTPD_DIR/var/tried") ))
	[ $_d -ge 2 ] || atf_fail "retried after ${_d}s, retry is 3s"
	grep -q "hello from smtp_send" "$SMTPD_DIR/var/out.eml" ||
	    atf_fail "message body not delivered"
	smtpd_stop
}
retry_mda_cleanup() { smtpd_cleanup; }

atf_test_case expiry_bounce cleanup
expiry_bounce_head()
{
	atf_set descr "mail still failing at queue ttl bounces (RFC 3464)"
	atf_set timeout 60
}
expiry_bounce_body()
{
	q_world
	PEER_PORT=23021
	peer_start p $PEER_PORT --reply "rcpt=451:4.7.1 greylisted"
	{ q_conf_common; cat <<EOF
queue ttl 4s
queue retry 1s max 1s
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
	} | smtpd_setup 23020
	q_start
	smtp_send 23020 alice@localhost bob@remote.test >/dev/null
	q_wait_maildir 1 40
	_f=$(q_maildir_file 1)
	q_check_report "$_f"
	grep -q '^To: <alice@localhost>' "$_f" || atf_fail "not to the sender"
	grep -q '^From: .*MAILER-DAEMON@mx.test' "$_f" ||
	    atf_fail "not from MAILER-DAEMON"
	grep -q '^Final-Recipient: rfc822; bob@remote.test' "$_f" ||
	    atf_fail "no Final-Recipient"
	grep -q '^Action: failed' "$_f" || atf_fail "no Action: failed"
	grep -q '^Status: 5.4.7' "$_f" || atf_fail "no Status: 5.4.7"
	grep -q '^Diagnostic-Code: smtp; 451 4.7.1 greylisted' "$_f" ||
	    atf_fail "no Diagnostic-Code with the remote reply"
	grep -q 'hello from smtp_send' "$_f" &&
	    atf_fail "body returned without RET=FULL"
	grep -q '^Subject: test' "$_f" || atf_fail "original headers missing"
	# the original is gone from the queue
	_n=50
	while [ -n "$(ls "$SMTPD_SPOOL/queue")" ] && [ $_n -gt 0 ]; do
		sleep 0.1; _n=$((_n - 1))
	done
	[ -z "$(ls "$SMTPD_SPOOL/queue")" ] || atf_fail "queue not empty"
	smtpd_stop
}
expiry_bounce_cleanup() { smtpd_cleanup; }

atf_test_case double_bounce cleanup
double_bounce_head()
{
	atf_set descr "a bounce that fails goes to postmaster, once"
	atf_set timeout 60
}
double_bounce_body()
{
	q_world
	PEER_PORT=23031
	peer_start p $PEER_PORT --reply "rcpt=550:5.1.1 no such user"
	{ q_conf_common; cat <<EOF
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
	} | smtpd_setup 23030
	q_start
	# a null-sender message (a bounce) that fails permanently
	smtp_expect 23030 -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<>" -e 250 -s "RCPT TO:<bob@remote.test>" -e 250 \
	    -s DATA -e 354 -m "Subject: a bounce\nMessage-ID: <db1@test>\n\nbody\n" \
	    -e 250 -s QUIT -e 221 >/dev/null
	q_wait_maildir 1 30
	_f=$(q_maildir_file 1)
	q_check_report "$_f"
	grep -q '^To: <pm@localhost>' "$_f" || atf_fail "not to postmaster"
	grep -q '^Status: 5.1.1' "$_f" || atf_fail "no Status: 5.1.1"
	grep -q 'event=double-bounce' "$SMTPD_LOG" ||
	    atf_fail "double bounce not logged"
	sleep 2
	[ "$(ls "$SMTPD_DIR/maildir/new" | wc -l)" -eq 1 ] ||
	    atf_fail "more than one notice"
	smtpd_stop
}
double_bounce_cleanup() { smtpd_cleanup; }

# A spool made by hand: one valid envelope (delivered after start-up) and
# one that does not parse (moved to corrupt/, the daemon goes on).
atf_test_case corrupt_envelope cleanup
corrupt_envelope_head()
{
	atf_set descr "an unparsable envelope is moved aside; valid ones load"
	atf_set timeout 60
}
corrupt_envelope_body()
{
	q_world
	{ q_conf_common; cat <<EOF
match from local for local action "local"
EOF
	} | smtpd_setup 23040
	_m=$SMTPD_SPOOL/queue/0badc0de
	mkdir -p "$SMTPD_SPOOL/incoming/01234567" "$_m"
	echo "leftover" > "$SMTPD_SPOOL/incoming/01234567/message"
	printf 'From: a@localhost\nSubject: recovered\nMessage-ID: <rec1@test>\n\nrecovered body\n' \
	    > "$_m/message"
	_now=$(date +%s)
	cat > "$_m/0badc0de00000001" <<EOF
version: 1
id: 0badc0de00000001
type: mda
action: local
sender: a@localhost
rcpt: b@localhost
user: $([ "$(id -u)" = 0 ] && echo _smtptest || id -un)
creation: $_now
nexttry: $_now
EOF
	printf 'version: 1\nid: 0badc0de00000002\ntype: mda\naction: local\nsender: \\q\n' \
	    > "$_m/0badc0de00000002"
	printf 'garbage\n' > "$_m/0badc0de00000003"
	if [ "$(id -u)" = 0 ]; then
		chown -R _smtpq:_smtpq "$SMTPD_SPOOL"
	fi
	q_start
	q_wait_maildir 1 20
	grep -q 'recovered body' "$(q_maildir_file 1)" ||
	    atf_fail "recovered message not delivered"
	q_wait_log 'event=corrupt.*0badc0de00000002'
	grep -q 'event=corrupt.*0badc0de00000003' "$SMTPD_LOG" ||
	    atf_fail "second corrupt envelope not logged"
	[ "$(ls "$SMTPD_SPOOL/corrupt" | grep -c 0badc0de)" -ge 2 ] ||
	    atf_fail "corrupt envelopes not in corrupt/"
	[ -z "$(ls "$SMTPD_SPOOL/incoming")" ] ||
	    atf_fail "incoming leftovers not removed"
	# the daemon still accepts mail
	smtp_send 23040 a@localhost b@localhost >/dev/null
	q_wait_maildir 2 20
	smtpd_stop
}
corrupt_envelope_cleanup() { smtpd_cleanup; }

atf_test_case disk_full cleanup
disk_full_head()
{
	atf_set descr "disk full at commit: 452 4.3.1, nothing half visible, recovery"
	atf_set require.user root
	atf_set timeout 60
}
disk_full_body()
{
	q_world
	mkdir -p "$SMTPD_SPOOL"
	mount -t tmpfs -o size=1m tmpfs "$SMTPD_SPOOL" ||
	    atf_skip "cannot mount tmpfs"
	echo "$SMTPD_SPOOL" > "$SMTPD_DIR/tmpfs"
	{ q_conf_common; cat <<EOF
match from local for local action "local"
EOF
	} | smtpd_setup 23050
	q_start
	# A message bigger than the spool.
	awk 'BEGIN { print "Subject: big\n"; for (i = 0; i < 30000; i++)
	    printf "%070d\n", i }' > "$SMTPD_DIR/big.eml"
	_out=$(smtp_client -p 23050 -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@localhost>" -e 250 -s "RCPT TO:<b@localhost>" \
	    -e 250 -s DATA -e 354 -D "$SMTPD_DIR/big.eml" -e 452 2>&1) ||
	    atf_fail "big message not refused with 452: $(echo "$_out" | tail -2 | tr "\n" " ")"
	echo "$_out" | grep -q '452 4.3.1' || atf_fail "no 4.3.1: $_out"
	[ -z "$(ls "$SMTPD_SPOOL/queue")" ] || atf_fail "half a message queued"
	[ -z "$(ls "$SMTPD_SPOOL/incoming")" ] ||
	    atf_fail "incoming not cleaned"
	# space is back (the big one is gone): a small message goes through
	smtp_send 23050 a@localhost b@localhost >/dev/null
	q_wait_maildir 1 20
	# The message fits but its envelope does not: the queue's own 452.
	# The delivered message's files wait in spare/ for reuse, emptied:
	# df counts every free block, so "2 pages left" is what it says.
	$SMTPCTL_BIN -s "$SMTPD_SOCK" pause mda >/dev/null
	_n=50	# the delivered message leaves queue/ just after the maildir
	while [ -n "$(ls "$SMTPD_SPOOL/queue")" ] && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	_full=$(find "$SMTPD_SPOOL/spare" -type f ! -empty)
	[ -z "$_full" ] || atf_fail "spare files keep their blocks: $_full"
	awk 'BEGIN { print "Subject: fits\n"; for (i = 0; i < 90; i++)
	    printf "%070d\n", i }' > "$SMTPD_DIR/fits.eml"
	_nfail=$(grep -c 'event=commit-failed reply="452 4.3.1' "$SMTPD_LOG")
	_free=$(df -B4096 --output=avail "$SMTPD_SPOOL" | tail -1)
	dd if=/dev/zero of="$SMTPD_SPOOL/filler" bs=4096 \
	    count=$((_free - 2)) 2>/dev/null
	_out=$(smtp_client -p 23050 -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@localhost>" -e 250 -s "RCPT TO:<b@localhost>" \
	    -e 250 -s DATA -e 354 -D "$SMTPD_DIR/fits.eml" -e 452 2>&1) ||
	    atf_fail "envelope-less commit not refused with 452: $(echo "$_out" | tail -2 | tr "\n" " ")"
	echo "$_out" | grep -q '452 4.3.1' || atf_fail "no 4.3.1"
	# the message was written whole: the refusal is the commit's
	[ "$(grep -c 'event=commit-failed reply="452 4.3.1' "$SMTPD_LOG")" \
	    -gt "$_nfail" ] ||
	    atf_fail "the 452 did not come from a failed commit"
	[ -z "$(ls "$SMTPD_SPOOL/queue")" ] || atf_fail "half a message queued"
	[ -z "$(ls "$SMTPD_SPOOL/incoming")" ] ||
	    atf_fail "incoming not cleaned"
	rm -f "$SMTPD_SPOOL/filler"
	smtp_send 23050 a@localhost b@localhost >/dev/null
	$SMTPCTL_BIN -s "$SMTPD_SOCK" resume mda >/dev/null
	q_wait_maildir 2 20
	smtpd_stop
}
disk_full_cleanup()
{
	h_world
	if [ -f "$SMTPD_DIR/tmpfs" ]; then
		for _pf in "$SMTPD_DIR"/*.pid; do
			[ -f "$_pf" ] && h_stop_pidfile "$_pf" x 2>/dev/null
		done
		umount "$(cat "$SMTPD_DIR/tmpfs")" 2>/dev/null
	fi
	smtpd_cleanup
}

atf_test_case control cleanup
control_head()
{
	atf_set descr "smtpctl show queue (text, JSON), pause/resume, remove"
	atf_set timeout 60
}
control_body()
{
	q_world
	{ q_conf_common; cat <<EOF
match from local for local action "local"
EOF
	} | smtpd_setup 23060
	q_start
	_c="$SMTPCTL_BIN -s $SMTPD_SOCK"
	_o=$($_c pause mda 2>&1) || atf_fail "pause mda failed: $_o"
	smtp_send 23060 a@localhost u@localhost v@localhost >/dev/null
	sleep 0.5
	_j=$($_c show queue --json) || atf_fail "show queue --json failed"
	[ "$(echo "$_j" | grep -o '"id":"[0-9a-f]\{16\}"' | wc -l)" -eq 2 ] ||
	    atf_fail "JSON does not list 2 envelopes: $_j"
	for _k in message_id sender recipient action state attempts \
	    next_attempt last_error; do
		echo "$_j" | grep -q "\"$_k\":" || atf_fail "JSON lacks $_k"
	done
	case "$_j" in "["*"]") ;; *) atf_fail "not a JSON array: $_j" ;; esac
	_t=$($_c show queue) || atf_fail "show queue failed"
	[ "$(echo "$_t" | grep -c '^id=.*state=pending')" -eq 2 ] ||
	    atf_fail "text: $_t"
	_id=$(echo "$_t" | grep 'recipient=<u@localhost>' |
	    sed 's/^id=\([0-9a-f]*\).*/\1/')
	$_c show envelope "$_id" | grep -q '^rcpt: u@localhost' ||
	    atf_fail "show envelope"
	$_c pause envelope "$_id" >/dev/null || atf_fail "pause envelope"
	$_c resume mda >/dev/null || atf_fail "resume mda"
	q_wait_maildir 1 10
	sleep 0.5
	_t=$($_c show queue)
	echo "$_t" | grep -q "^id=$_id .*state=held" ||
	    atf_fail "held envelope not held: $_t"
	[ "$(echo "$_t" | grep -c '^id=')" -eq 1 ] || atf_fail "queue: $_t"
	_o=$($_c remove "$_id" 2>&1) || atf_fail "remove: $_o"
	[ "$($_c show queue)" = "0 envelopes" ] || atf_fail "queue not empty after remove"
	[ -z "$(ls "$SMTPD_SPOOL/queue")" ] || atf_fail "spool not empty"
	smtpd_stop
}
control_cleanup() { smtpd_cleanup; }

# Send one message with RCPT parameters.
q_send_params()
{
	smtp_expect "$1" -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<$2>" -e 250 -s "RCPT TO:<$3> $4" -e 250 \
	    -s DATA -e 354 \
	    -m "From: <$2>\nSubject: dsn test\nMessage-ID: <dsn-$$@test>\n\nbody\n" \
	    -e 250 -s QUIT -e 221 >/dev/null
}

atf_test_case dsn_never cleanup
dsn_never_head()
{
	atf_set descr "NOTIFY=NEVER: a permanent failure sends no bounce"
	atf_set timeout 60
}
dsn_never_body()
{
	q_world
	PEER_PORT=23071
	peer_start p $PEER_PORT --reply "rcpt=550:5.1.1 no such user"
	{ q_conf_common; cat <<EOF
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
	} | smtpd_setup 23070
	q_start
	q_send_params 23070 alice@localhost bob@remote.test "NOTIFY=NEVER"
	q_wait_log 'event=no-bounce'
	sleep 2
	[ -z "$(ls "$SMTPD_DIR/maildir/new")" ] || atf_fail "a bounce was sent"
	[ -z "$(ls "$SMTPD_SPOOL/queue")" ] || atf_fail "queue not empty"
	smtpd_stop
}
dsn_never_cleanup() { smtpd_cleanup; }

atf_test_case dsn_success cleanup
dsn_success_head()
{
	atf_set descr "NOTIFY=SUCCESS: a local delivery sends a success notice"
	atf_set timeout 60
}
dsn_success_body()
{
	q_world
	{ q_conf_common; cat <<EOF
match from local for local action "local"
EOF
	} | smtpd_setup 23072
	q_start
	q_send_params 23072 alice@localhost bob@localhost \
	    "NOTIFY=SUCCESS ORCPT=rfc822;Bob@localhost"
	q_wait_maildir 2 20
	_f=$(grep -l '^Content-Type: multipart/report' \
	    "$SMTPD_DIR"/maildir/new/* | head -1)
	[ -n "$_f" ] || atf_fail "no success notice"
	q_check_report "$_f"
	grep -q '^To: <alice@localhost>' "$_f" || atf_fail "not to the sender"
	grep -q '^Action: delivered' "$_f" || atf_fail "no Action: delivered"
	grep -q '^Status: 2.0.0' "$_f" || atf_fail "no Status: 2.0.0"
	grep -q '^Original-Recipient: rfc822;Bob@localhost' "$_f" ||
	    atf_fail "no Original-Recipient from ORCPT"
	grep -q '^Subject: dsn test' "$_f" ||
	    atf_fail "original headers missing from the notice"
	smtpd_stop
}
dsn_success_cleanup() { smtpd_cleanup; }

atf_test_case delay_notice cleanup
delay_notice_head()
{
	atf_set descr "bounce warn-interval: a delay notice, once per interval"
	atf_set timeout 60
}
delay_notice_body()
{
	q_world
	PEER_PORT=23074
	peer_start p $PEER_PORT --reply "rcpt=451:4.2.2 mailbox full"
	{ q_conf_common; cat <<EOF
queue retry 1s max 1s
bounce warn-interval 3s
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
	} | smtpd_setup 23073
	q_start
	smtp_send 23073 alice@localhost bob@remote.test >/dev/null
	q_wait_maildir 1 20
	_f=$(q_maildir_file 1)
	q_check_report "$_f"
	grep -q '^Subject: Delayed Mail' "$_f" || atf_fail "not a delay notice"
	grep -q '^Action: delayed' "$_f" || atf_fail "no Action: delayed"
	grep -q '^Status: 4.2.2' "$_f" || atf_fail "no Status: 4.2.2"
	# the message is still queued, and at most one notice per interval
	[ -n "$(ls "$SMTPD_SPOOL/queue")" ] || atf_fail "message left the queue"
	sleep 1
	[ "$(ls "$SMTPD_DIR/maildir/new" | wc -l)" -le 1 ] ||
	    atf_fail "two notices within the interval"
	smtpd_stop
}
delay_notice_cleanup() { smtpd_cleanup; }

atf_test_case etrn cleanup
etrn_head()
{
	atf_set descr "ETRN schedules the mail for a domain at once"
	atf_set timeout 60
}
etrn_body()
{
	q_world
	PEER_PORT=23081
	peer_start p0 $PEER_PORT --reply "rcpt=451:4.3.0 later"
	{ q_conf_common; cat <<EOF
smtp etrn yes
queue retry 1h
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
	} | smtpd_setup 23080
	q_start
	smtp_send 23080 alice@localhost bob@remote.test >/dev/null
	q_wait_log 'event=tempfail'
	# the remote now accepts; only ETRN makes us try before an hour
	peer_stop p0
	peer_start p $PEER_PORT
	sleep 1
	[ "$(peer_count p)" -eq 0 ] || atf_fail "delivered before ETRN"
	smtp_expect 23080 -e 220 -s "EHLO client.test" -e 250 \
	    -s "ETRN remote.test" -e 250 -s QUIT -e 221 >/dev/null
	peer_wait p 1 10
	q_wait_log 'event=etrn domain=remote.test scheduled=1'
	smtpd_stop
}
etrn_cleanup() { smtpd_cleanup; }

atf_test_case min_free_space cleanup
min_free_space_head()
{
	atf_set descr "below smtp min-free-space, MAIL gets 452 4.3.1"
	atf_set timeout 60
}
min_free_space_body()
{
	q_world
	{ q_conf_common; cat <<EOF
smtp min-free-space 100000G
match from local for local action "local"
EOF
	} | smtpd_setup 23090
	q_start
	smtp_expect 23090 -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@localhost>" -e 452 -s QUIT -e 221 |
	    grep -q '452 4.3.1' || atf_fail "no 452 4.3.1"
	smtpd_stop
}
min_free_space_cleanup() { smtpd_cleanup; }

atf_test_case bounce_grouped cleanup
bounce_grouped_head()
{
	atf_set descr "recipients that fail together get one bounce"
	atf_set timeout 60
}
bounce_grouped_body()
{
	q_world
	PEER_PORT=23033
	peer_start p $PEER_PORT --reply "rcpt=550:5.1.1 no such user"
	{ q_conf_common; cat <<EOF
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for local action "local"
match from local for any action "out"
EOF
	} | smtpd_setup 23032
	q_start
	smtp_send 23032 alice@localhost bob@remote.test carol@remote.test \
	    >/dev/null
	q_wait_maildir 1 30
	sleep 2
	[ "$(ls "$SMTPD_DIR/maildir/new" | wc -l)" -eq 1 ] ||
	    atf_fail "more than one bounce"
	_f=$(q_maildir_file 1)
	q_check_report "$_f"
	grep -q '^Final-Recipient: rfc822; bob@remote.test' "$_f" ||
	    atf_fail "bob missing"
	grep -q '^Final-Recipient: rfc822; carol@remote.test' "$_f" ||
	    atf_fail "carol missing"
	[ "$(grep -c '^Status: 5.1.1' "$_f")" -eq 2 ] || atf_fail "Status"
	smtpd_stop
}
bounce_grouped_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case retry_timing
	atf_add_test_case retry_mda
	atf_add_test_case expiry_bounce
	atf_add_test_case double_bounce
	atf_add_test_case bounce_grouped
	atf_add_test_case corrupt_envelope
	atf_add_test_case disk_full
	atf_add_test_case control
	atf_add_test_case dsn_never
	atf_add_test_case dsn_success
	atf_add_test_case delay_notice
	atf_add_test_case etrn
	atf_add_test_case min_free_space
}
