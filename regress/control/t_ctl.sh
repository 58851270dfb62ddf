#! /usr/bin/env atf-sh
# smtpctl against a running daemon: show commands and their JSON, the
# queue levers (schedule, remove, pause/resume), permissions, update
# table, reload, log, monitor, encrypt.  Ports 26000-26199.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/ctl_lib.sh"

# A daemon whose local deliveries are paused: mail stays queued.
c_start_held()
{
	c_world
	{ c_conf_head; echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup "$1" "$SMTPD_DIR/tmpl"
	smtpd_start
	atf_check -o inline:"mda paused\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    pause mda
	smtp_send "$1" alice@localhost bob@localhost >/dev/null
	_n=50
	while [ "$_n" -gt 0 ]; do
		ctl show queue | grep -q "recipient=<" && break
		sleep 0.1
		_n=$((_n - 1))
	done
	[ "$_n" -gt 0 ] || atf_fail "message not queued"
}

atf_test_case show_stats cleanup
show_stats_head()
{
	atf_set descr "show stats: uptime and counters, text and JSON"
}
show_stats_body()
{
	c_world
	{ c_conf_head; echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26001 "$SMTPD_DIR/tmpl"
	smtpd_start
	smtp_send 26001 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 1
	atf_check -o match:'^uptime=[0-9]+$' -o match:'^uptime.human=' \
	    "$SMTPCTL_BIN" -s "$SMTPD_SOCK" show stats
	# The queue reports its deliveries to control.
	_n=50
	while [ "$_n" -gt 0 ]; do
		ctl show stats | grep -q '^queue.delivered=1$' && break
		sleep 0.1
		_n=$((_n - 1))
	done
	ctl show stats | grep -q '^queue.delivered=1$' ||
	    atf_fail "no queue.delivered counter: $(ctl show stats)"
	# The bytes of each accepted message: at least the 3000-byte body.
	{ printf 'Subject: bytes\n\n'; _i=0
	  while [ "$_i" -lt 50 ]; do
		printf '%059d\n' "$_i"; _i=$((_i + 1))
	  done; } > body.txt
	SMTP_BODY="$PWD/body.txt" smtp_send 26001 alice@localhost \
	    bob@localhost >/dev/null
	c_wait_maildir 2
	_n=50
	while [ "$_n" -gt 0 ]; do
		ctl show stats > st.txt
		grep -q '^smtp.message=2$' st.txt &&
		    grep -q '^queue.delivered=2$' st.txt && break
		sleep 0.1
		_n=$((_n - 1))
	done
	_b=$(ctl show stats | sed -n 's/^smtp\.bytes=//p')
	[ -n "$_b" ] && [ "$_b" -ge 3000 ] ||
	    atf_fail "smtp.bytes=$_b: $(ctl show stats | tr '\n' ' ')"
	ctl show stats --json > stats.json || atf_fail "show stats --json"
	c_json_ok stats.json
	_v=$(c_jq '.counters["queue.delivered"]' stats.json)
	[ "$_v" = 2 ] || [ "$_v" = skip ] || atf_fail "json: $(tr '\n' ' ' < stats.json)"
	grep -q '"uptime":[0-9]*,"started":[0-9]*' stats.json ||
	    atf_fail "json: $(tr '\n' ' ' < stats.json)"
	# -f CONFIG finds the socket too.
	atf_check -o match:'^uptime=' "$SMTPCTL_BIN" -f "$SMTPD_CONF" show stats
	smtpd_stop
}
show_stats_cleanup() { smtpd_cleanup; }

atf_test_case show_queue cleanup
show_queue_head()
{
	atf_set descr "show queue, envelope, message and status, text and JSON"
}
show_queue_body()
{
	c_start_held 26002
	ctl show queue > q.txt
	atf_check -o match:'^id=[0-9a-f]{16} message_id=[0-9a-f]{8} ' \
	    -o match:"sender=<alice@localhost> recipient=<$C_USER@localhost> " \
	    -o match:' age=[0-9dhms]+ action=local state=pending attempts=0 next_attempt=' \
	    -o match:'last_error=' cat q.txt
	id=$(sed -n 's/^id=\([0-9a-f]*\) .*/\1/p' q.txt | head -1)
	msg=$(sed -n 's/.* message_id=\([0-9a-f]*\) .*/\1/p' q.txt | head -1)
	ctl show queue --json > q.json || atf_fail "show queue --json"
	c_json_ok q.json
	for k in id message_id sender recipient action state attempts \
	    age next_attempt last_error; do
		grep -q "\"$k\":" q.json || atf_fail "no $k in $(tr '\n' ' ' < q.json)"
	done
	_v=$(c_jq '.[0].recipient' q.json)
	[ "$_v" = "$C_USER@localhost" ] || [ "$_v" = skip ] ||
	    atf_fail "json: $(tr '\n' ' ' < q.json)"
	atf_check -o match:"rcpt: $C_USER@localhost" "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" show envelope "$id"
	ctl show envelope "$id" --json > e.json || atf_fail "show envelope"
	c_json_ok e.json
	atf_check -o match:'hello from smtp_send' -o match:'^Received: ' \
	    "$SMTPCTL_BIN" -s "$SMTPD_SOCK" show message "$msg"
	atf_check -s exit:1 -e match:'unknown envelope' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" show envelope 0123456789abcdef
	atf_check -o match:'^smtp: running' -o match:'^mda: paused' \
	    "$SMTPCTL_BIN" -s "$SMTPD_SOCK" show status
	ctl show status --json > s.json
	c_json_ok s.json
	grep -q '"smtp":"running"' s.json && grep -q '"mda":"paused"' s.json ||
	    atf_fail "status json: $(tr '\n' ' ' < s.json)"
	# mailq is show queue
	atf_check -o match:"recipient=<$C_USER@localhost>" "$MAILQ" -C "$SMTPD_CONF"
	smtpd_stop
}
show_queue_cleanup() { smtpd_cleanup; }

atf_test_case pause_resume_mda cleanup
pause_resume_mda_head()
{
	atf_set descr "pause mda holds mail, resume mda and schedule deliver it"
}
pause_resume_mda_body()
{
	c_start_held 26003
	sleep 1
	[ "$(c_count)" = 0 ] || atf_fail "delivered while mda paused"
	atf_check -o inline:"mda resumed\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    resume mda
	atf_check -o match:'envelopes? scheduled' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" schedule all
	c_wait_maildir 1
	smtpd_stop
}
pause_resume_mda_cleanup() { smtpd_cleanup; }

atf_test_case remove cleanup
remove_head()
{
	atf_set descr "remove deletes queued mail: nothing is delivered"
}
remove_body()
{
	c_start_held 26004
	id=$(ctl show queue | sed -n 's/^id=\([0-9a-f]*\) .*/\1/p' | head -1)
	atf_check -o match:'1 envelope removed' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" remove "$id"
	atf_check -s exit:1 -e match:'no such envelope' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" remove "$id"
	ctl resume mda >/dev/null
	ctl schedule all >/dev/null
	sleep 1
	[ "$(c_count)" = 0 ] || atf_fail "a removed message was delivered"
	atf_check -o inline:"0 envelopes\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    show queue
	smtpd_stop
}
remove_cleanup() { smtpd_cleanup; }

atf_test_case pause_envelope cleanup
pause_envelope_head()
{
	atf_set descr "pause envelope holds one envelope until resumed"
}
pause_envelope_body()
{
	c_start_held 26005
	id=$(ctl show queue | sed -n 's/^id=\([0-9a-f]*\) .*/\1/p' | head -1)
	atf_check -o match:'1 envelope paused' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" pause envelope "$id"
	ctl show queue | grep -q "state=held" ||
	    atf_fail "not held: $(ctl show queue)"
	ctl resume mda >/dev/null
	ctl schedule all >/dev/null
	sleep 1
	[ "$(c_count)" = 0 ] || atf_fail "a paused envelope was delivered"
	atf_check -o match:'1 envelope resumed' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" resume envelope all
	ctl schedule all >/dev/null
	c_wait_maildir 1
	smtpd_stop
}
pause_envelope_cleanup() { smtpd_cleanup; }

atf_test_case pause_smtp cleanup
pause_smtp_head()
{
	atf_set descr "pause smtp stops accepting sessions, resume restores"
}
pause_smtp_body()
{
	c_world
	{ c_conf_head; echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26006 "$SMTPD_DIR/tmpl"
	smtpd_start
	atf_check -o inline:"smtp paused\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    pause smtp
	atf_check -o match:'^smtp: paused' "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    show status
	atf_check -o inline:"smtp resumed\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    resume smtp
	atf_check -o match:'^smtp: running' "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    show status
	smtp_send 26006 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 1
	atf_check -s exit:1 -e match:'usage' "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    pause lka
	smtpd_stop
}
pause_smtp_cleanup() { smtpd_cleanup; }

atf_test_case permissions cleanup
permissions_head()
{
	atf_set descr "a non-root user may only enqueue and read show stats"
	atf_set require.user root
}
permissions_body()
{
	c_world
	{ c_conf_head; echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26007 "$SMTPD_DIR/tmpl"
	smtpd_start
	atf_check -o match:'^uptime=' runuser -u _smtptest -- "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" show stats
	for c in "show queue" "show status" "schedule all" "remove all" \
	    "pause mta" "pause smtp" "reload" "update table x" \
	    "log verbose" "show route a@b.test" "show relays" \
	    "show envelope 0123456789abcdef" "pause envelope all"; do
		# shellcheck disable=SC2086
		atf_check -s exit:1 -e inline:"smtpctl: permission denied\n" \
		    runuser -u _smtptest -- "$SMTPCTL_BIN" -s "$SMTPD_SOCK" $c
	done
	atf_check -s exit:77 -e match:'permission denied' \
	    runuser -u _smtptest -- "$MAILQ" \
	    -C "$SMTPD_CONF"
	# ... and nothing was paused by the refused commands
	atf_check -o match:'^mta: running' -o match:'^smtp: running' \
	    "$SMTPCTL_BIN" -s "$SMTPD_SOCK" show status
	# enqueue is allowed
	printf 'Subject: from a user\n\nhi\n' > msg
	chmod 644 msg
	atf_check runuser -u _smtptest -- "$SENDMAIL" -C "$SMTPD_CONF" \
	    bob@localhost < msg
	c_wait_maildir 1
	grep -q '^Return-Path: <_smtptest@' "$(c_maildir_file 1)" ||
	    atf_fail "sender: $(head -3 "$(c_maildir_file 1)")"
	smtpd_stop
}
permissions_cleanup() { smtpd_cleanup; }

atf_test_case update_table cleanup
update_table_head()
{
	atf_set descr "update table: atomic, a bad file keeps the old one (FILE:LINE)"
}
update_table_body()
{
	c_world
	printf 'bob@localhost\n' > "$SMTPD_DIR/rcpts"
	chmod 644 "$SMTPD_DIR/rcpts"
	{ c_conf_head
	  echo "table rcpts file:$SMTPD_DIR/rcpts"
	  echo 'match from local for rcpt-to <rcpts> action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26008 "$SMTPD_DIR/tmpl"
	smtpd_start
	smtp_send 26008 alice@localhost bob@localhost >/dev/null
	atf_check -s exit:1 -o ignore -e ignore "$H_TOOLS/smtp-client" \
	    -p 26008 -e 220 -s "EHLO x" -e 250 -s "MAIL FROM:<a@localhost>" \
	    -e 250 -s "RCPT TO:<carol@localhost>" -e 250
	printf 'bob@localhost\ncarol@localhost\n' > "$SMTPD_DIR/rcpts"
	atf_check -o match:'table rcpts updated \(2 entries\)' \
	    "$SMTPCTL_BIN" -s "$SMTPD_SOCK" update table rcpts
	smtp_send 26008 alice@localhost carol@localhost >/dev/null
	c_wait_maildir 2
	# A file that does not parse: refused with FILE:LINE, old kept.
	printf 'bob@localhost\nbob@localhost\n' > "$SMTPD_DIR/rcpts"
	atf_check -s exit:1 -e match:"$SMTPD_DIR/rcpts:2: " "$SMTPCTL_BIN" \
	    -s "$SMTPD_SOCK" update table rcpts
	smtp_send 26008 alice@localhost carol@localhost >/dev/null
	c_wait_maildir 3
	atf_check -s exit:1 -e match:'unknown table nope' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" update table nope
	smtpd_stop
}
update_table_cleanup() { smtpd_cleanup; }

atf_test_case reload cleanup
reload_head()
{
	atf_set descr "reload: a valid file takes effect, an invalid one changes nothing"
}
reload_body()
{
	c_world
	{ c_conf_head
	  echo 'match from local for rcpt-to "bob@localhost" action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26009 "$SMTPD_DIR/tmpl"
	smtpd_start
	atf_check -s exit:1 -o ignore -e ignore "$H_TOOLS/smtp-client" \
	    -p 26009 -e 220 -s "EHLO x" -e 250 -s "MAIL FROM:<a@localhost>" \
	    -e 250 -s "RCPT TO:<carol@localhost>" -e 250
	cp "$SMTPD_CONF" good.conf
	# invalid: errors as FILE:LINE, exit 1, nothing changes
	echo 'match from local for any action "nonexistent"' >> "$SMTPD_CONF"
	atf_check -s exit:1 -e match:"^$SMTPD_CONF:[0-9]+: " \
	    -e match:'nothing changed' "$SMTPCTL_BIN" -s "$SMTPD_SOCK" reload
	smtp_send 26009 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 1
	# a new action is taken too (t_reload.sh tests what it does)
	cp good.conf "$SMTPD_CONF"
	echo 'action "new" relay host "127.0.0.1:26098"' >> "$SMTPD_CONF"
	atf_check -o match:'configuration reloaded' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" reload
	# valid: the new rule applies to new sessions
	cp good.conf "$SMTPD_CONF"
	echo 'match from local for rcpt-to "carol@localhost" action "local"' \
	    >> "$SMTPD_CONF"
	atf_check -o match:'configuration reloaded' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" reload
	smtp_send 26009 alice@localhost carol@localhost >/dev/null
	c_wait_maildir 2
	# SIGHUP does the same
	echo 'match from local for rcpt-to "dave@localhost" action "local"' \
	    >> "$SMTPD_CONF"
	kill -HUP "$(cat "$SMTPD_DIR/smtpd.pid")"
	_n=100
	while [ "$_n" -gt 0 ] && [ "$(grep -c 'lka event=reload result=ok' \
	    "$SMTPD_LOG")" -lt 2 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ "$_n" -gt 0 ] || atf_fail "no reload after SIGHUP"
	smtp_send 26009 alice@localhost dave@localhost >/dev/null
	c_wait_maildir 3
	smtpd_stop
}
reload_cleanup() { smtpd_cleanup; }

atf_test_case log_monitor cleanup
log_monitor_head()
{
	atf_set descr "log verbose/brief, trace, monitor (text and JSON)"
}
log_monitor_body()
{
	c_world
	{ c_conf_head; echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26010 "$SMTPD_DIR/tmpl"
	smtpd_start
	atf_check -o inline:"logging verbose\n" "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" log verbose
	atf_check -o ignore "$SMTPCTL_BIN" -s "$SMTPD_SOCK" trace smtp
	atf_check -o inline:"logging brief\n" "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" log brief
	atf_check -s exit:1 -e match:'unknown subsystem' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" trace nothing
	timeout -s INT 3 "$SMTPCTL_BIN" -s "$SMTPD_SOCK" monitor > mon.txt
	_l=$(wc -l < mon.txt)
	[ "$_l" -ge 2 ] && [ "$_l" -le 4 ] || atf_fail "monitor: $_l lines"
	grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2} uptime=[0-9]+' mon.txt ||
	    atf_fail "monitor: $(tr '\n' ' ' < mon.txt)"
	timeout -s INT 2 "$SMTPCTL_BIN" -s "$SMTPD_SOCK" monitor --json \
	    > mon.json
	head -1 mon.json > one.json
	c_json_ok one.json
	grep -q '"counters":' one.json || atf_fail "monitor json"
	smtpd_stop
}
log_monitor_cleanup() { smtpd_cleanup; }

atf_test_case no_daemon
no_daemon_head()
{
	atf_set descr "errors without a daemon, usage, encrypt"
}
no_daemon_body()
{
	_ctl=$(atf_get_srcdir)/../../obj/smtpctl
	atf_check -s exit:1 -e match:'cannot connect to /nonexistent/sock' \
	    "$_ctl" -s /nonexistent/sock show stats
	atf_check -s exit:1 -e match:'unknown command' "$_ctl" frobnicate
	"$_ctl" encrypt s3cret > h || atf_fail "encrypt"
	grep -qE '^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$' h ||
	    atf_fail "hash: $(tr '\n' ' ' < h)"
	printf 'a\nb\n' | "$_ctl" encrypt > h2
	[ "$(wc -l < h2)" = 2 ] || atf_fail "encrypt stdin: $(tr '\n' ' ' < h2)"
	if command -v openssl >/dev/null 2>&1; then
		_salt=$(cut -d'$' -f3 h)
		[ "$(openssl passwd -6 -salt "$_salt" s3cret)" = "$(cat h)" ] ||
		    atf_fail "hash does not verify with openssl passwd"
	fi
}

atf_init_test_cases()
{
	atf_add_test_case show_stats
	atf_add_test_case show_queue
	atf_add_test_case pause_resume_mda
	atf_add_test_case remove
	atf_add_test_case pause_envelope
	atf_add_test_case pause_smtp
	atf_add_test_case permissions
	atf_add_test_case update_table
	atf_add_test_case reload
	atf_add_test_case log_monitor
	atf_add_test_case no_daemon
}
