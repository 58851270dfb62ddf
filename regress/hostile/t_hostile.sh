#! /usr/bin/env atf-sh
# Defects found by review, each reproduced against a running daemon:
# table updates, hostile addresses end to end, relay tricks.
# Ports 29000-29099.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/../control/ctl_lib.sh"

atf_test_case update_table_same_size cleanup
update_table_same_size_head()
{
	atf_set descr "update table: a file with as many entries as the" \
	    "old one is looked up by its new keys (hash index swapped too)"
}
update_table_same_size_body()
{
	c_world
	printf 'bob: %s\n' "$C_USER" > "$SMTPD_DIR/aliases"
	chmod 644 "$SMTPD_DIR/aliases"
	# No "user" on the action: the alias table alone decides.
	cat > "$SMTPD_DIR/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table a file:$SMTPD_DIR/aliases
action "local" maildir "@MAILDIR@" alias <a>
match from local for any action "local"
EOF2
	smtpd_setup 29001 "$SMTPD_DIR/tmpl"
	smtpd_start
	smtp_expect 29001 -e 220 -s "EHLO x" -e 250 \
	    -s "MAIL FROM:<a@localhost>" -e 250 \
	    -s "RCPT TO:<bob@localhost>" -e 250 \
	    -s "RCPT TO:<carol@localhost>" -e 550 -s QUIT -e 221
	printf 'carol: %s\n' "$C_USER" > "$SMTPD_DIR/aliases"
	atf_check -o match:'table a updated \(1 entries\)' \
	    "$SMTPCTL_BIN" -s "$SMTPD_SOCK" update table a
	smtp_expect 29001 -e 220 -s "EHLO x" -e 250 \
	    -s "MAIL FROM:<a@localhost>" -e 250 \
	    -s "RCPT TO:<carol@localhost>" -e 250 \
	    -s "RCPT TO:<bob@localhost>" -e 550 -s QUIT -e 221
	smtpd_stop
}
update_table_same_size_cleanup() { smtpd_cleanup; }

# Who deliveries run as, and a directory they can write.
h_duser()
{
	if [ "$(id -u)" = 0 ]; then
		id _smtptest >/dev/null 2>&1 ||
		    atf_fail "user _smtptest missing: run tools/setup.sh --users"
		DUSER=_smtptest
		DUSER_OPT="user _smtptest"
	else
		DUSER=$(id -un)
		DUSER_OPT="user $DUSER"
	fi
}

h_userdir()
{
	mkdir -p "$1" && chmod 755 "$1" || atf_fail "mkdir $1"
	[ "$(id -u)" = 0 ] && chown "$DUSER" "$1"
	return 0
}

# Wait (30 s) until the log has N lines matching the extended regex.
h_wait_count()
{
	_n=300
	while [ "$_n" -gt 0 ]; do
		[ "$(grep -Ec "$2" "$SMTPD_LOG")" -ge "$1" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 40 "$SMTPD_LOG" >&2
	atf_fail "fewer than $1 log lines match '$2'"
}

atf_test_case shell_metachars cleanup
shell_metachars_head()
{
	atf_set descr "shell metacharacters in addresses reach an mda" \
	    "command as plain argv words and a maildir path as one safe" \
	    "name: nothing run, nothing written outside"
	atf_set timeout 120
}
shell_metachars_body()
{
	h_duser
	h_world
	D=$SMTPD_DIR
	h_userdir "$D/out"
	h_userdir "$D/md"
	cat > "$D/rec.sh" <<'EOF2'
#! /bin/sh
# one line per argument, then the message is read
{ echo run; for a in "$@"; do printf 'arg=%s\n' "$a"; done; } >> \
    "${0%/*}/out/args"
cat > /dev/null
exit 0
EOF2
	chmod 755 "$D/rec.sh"
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
action "cmd" mda "$D/rec.sh %{rcpt} %{rcpt.user} %{sender}" $DUSER_OPT
action "md" maildir "$D/md/%{rcpt}/%{sender}" $DUSER_OPT
match from local for domain "cmd.test" action "cmd"
match from local for domain "md.test" action "md"
EOF2
	smtpd_setup 29002 "$D/tmpl"
	smtpd_start
	n=0
	for lp in "\"|touch $D/pwn1\"" '`touch$IFS'"$D"'/pwn2`' \
	    "\"\$(touch $D/pwn3)\"" "\";touch $D/pwn4;\"" \
	    "\"../../pwn5\"" "\"&&touch $D/pwn6||\"" "$D/pwn8" \
	    "|$D/rec.sh"; do
		for dom in cmd.test md.test; do
			smtp_send 29002 "\"\$(touch $D/pwn7)\"@x.test" \
			    "$lp@$dom" >/dev/null
			n=$((n + 1))
		done
	done
	h_wait_count "$n" 'mda envelope=.*result='
	grep -E 'mda envelope=.*result=' "$SMTPD_LOG" | grep -v result=Ok &&
	    atf_fail "a delivery failed"
	ls "$D"/pwn* 2>/dev/null && atf_fail "a command ran"
	[ -e "$D/../pwn5" ] && atf_fail "written outside the maildir root"
	# "/file" and "|command" are alias targets only, never an address
	[ -e "$D/pwn8" ] && atf_fail "an address was taken as a /file"
	[ "$(grep -c '^run$' "$D/out/args")" = 8 ] ||
	    atf_fail "an address was taken as a |command"
	# The mda command saw each address as one word, byte for byte but
	# for '/' (values are made path-safe in command words too).
	Ds=$(printf '%s' "$D" | tr / _)
	grep -Fqx "arg=\"|touch ${Ds}_pwn1\"@cmd.test" "$D/out/args" ||
	    atf_fail "argv: $(tr '\n' ' ' < "$D/out/args")"
	grep -Fqx 'arg=`touch$IFS'"$Ds"'_pwn2`@cmd.test' "$D/out/args" ||
	    atf_fail "argv: $(tr '\n' ' ' < "$D/out/args")"
	grep -Fqx "arg=\"\$(touch ${Ds}_pwn7)\"@x.test" "$D/out/args" ||
	    atf_fail "argv: $(tr '\n' ' ' < "$D/out/args")"
	[ "$(grep -c '^arg=' "$D/out/args")" = 24 ] ||
	    atf_fail "argv: $(tr '\n' ' ' < "$D/out/args")"
	# Eight maildirs, each one level under md/ (names made path-safe).
	[ "$(find "$D/md" -mindepth 1 -maxdepth 1 | wc -l)" = 8 ] ||
	    atf_fail "maildirs: $(find "$D/md" | tr '\n' ' ')"
	[ "$(find "$D/md" -path '*/new/*' -type f | wc -l)" = 8 ] ||
	    atf_fail "messages: $(find "$D/md" | tr '\n' ' ')"
	find "$D/md" -path '*/new/*' -type f | grep -v "^$D/md/[^/]*/[^/]*/new/" &&
	    atf_fail "a message outside its maildir"
	smtpd_stop
}
shell_metachars_cleanup() { smtpd_cleanup; }

atf_test_case virtual_runas cleanup
virtual_runas_head()
{
	atf_set descr "a |command reached through a virtual catch-all does" \
	    "not run as the system user the sender names in the local part"
	atf_set timeout 60
}
virtual_runas_body()
{
	h_world
	D=$SMTPD_DIR
	mkdir -p "$D/out" && chmod 777 "$D/out"
	cat > "$D/who.sh" <<'EOF2'
#! /bin/sh
id -un >> "${0%/*}/out/who"
cat > /dev/null
EOF2
	chmod 755 "$D/who.sh"
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table v { "@cmd.test" = "|$D/who.sh" }
action "cmd" maildir "$D/md" virtual <v>
match from local for domain "cmd.test" action "cmd"
EOF2
	smtpd_setup 29003 "$D/tmpl"
	smtpd_start
	# "daemon" is a system user (uid 1) on every Debian system.
	smtp_send 29003 a@x.test daemon@cmd.test >/dev/null
	h_wait_count 1 'mda envelope=.*result='
	grep -E 'mda envelope=.*user=daemon' "$SMTPD_LOG" &&
	    atf_fail "the command was given to user daemon"
	if [ "$(id -u)" = 0 ]; then
		[ -s "$D/out/who" ] || atf_fail "the command did not run"
		grep -qx daemon "$D/out/who" &&
		    atf_fail "the command ran as daemon"
	fi
	smtpd_stop
}
virtual_runas_cleanup() { smtpd_cleanup; }

atf_test_case pipe_no_mail_group cleanup
pipe_no_mail_group_head()
{
	atf_set descr "an alias |command under an mbox action does not get" \
	    "the mail group that mbox dotlocks need"
	atf_set timeout 60
	atf_set require.user root
}
pipe_no_mail_group_body()
{
	getent group mail >/dev/null || atf_skip "no group mail"
	h_world
	D=$SMTPD_DIR
	mkdir -p "$D/out" && chmod 777 "$D/out"
	cat > "$D/who.sh" <<'EOF2'
#! /bin/sh
id -Gn >> "${0%/*}/out/who"
cat > /dev/null
EOF2
	chmod 755 "$D/who.sh"
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table al { "bob" = "|$D/who.sh" }
action "mb" mbox alias <al>
match from local for domain "mb.test" action "mb"
EOF2
	smtpd_setup 29004 "$D/tmpl"
	smtpd_start
	smtp_send 29004 a@x.test bob@mb.test >/dev/null
	h_wait_count 1 'mda envelope=.*result='
	[ -s "$D/out/who" ] || atf_fail "the command did not run: $(grep 'mda envelope' "$SMTPD_LOG")"
	grep -qw mail "$D/out/who" &&
	    atf_fail "the command ran with group mail: $(cat "$D/out/who")"
	smtpd_stop
}
pipe_no_mail_group_cleanup() { smtpd_cleanup; }

atf_test_case alias_runas_not_daemon cleanup
alias_runas_not_daemon_head()
{
	atf_set descr "an alias |command with no user to run as never runs" \
	    "as the daemon's own users; mail to _smtpd or _smtpq is not" \
	    "delivered as them"
	atf_set timeout 60
	atf_set require.user root
}
alias_runas_not_daemon_body()
{
	h_world
	D=$SMTPD_DIR
	mkdir -p "$D/out" "$D/md" && chmod 777 "$D/out" "$D/md"
	cat > "$D/who.sh" <<'EOF2'
#! /bin/sh
id -un >> "${0%/*}/out/who"
cat > /dev/null
EOF2
	chmod 755 "$D/who.sh"
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table al { "bob" = "|$D/who.sh" }
action "al" maildir "$D/md/%{user}" alias <al>
match from local for domain "al.test" action "al"
EOF2
	smtpd_setup 29005 "$D/tmpl"
	smtpd_start
	smtp_send 29005 a@x.test bob@al.test >/dev/null
	smtp_send 29005 a@x.test _smtpd@al.test >/dev/null
	smtp_send 29005 a@x.test _smtpq@al.test >/dev/null
	h_wait_count 3 'mda envelope=.*result='
	[ -s "$D/out/who" ] || atf_fail "the command did not run"
	grep -q '^_smtp' "$D/out/who" &&
	    atf_fail "the command ran as $(cat "$D/out/who")"
	grep -E 'mda envelope=.*user=_smtp[dq] .*result=Ok' "$SMTPD_LOG" &&
	    atf_fail "delivered as a daemon user"
	[ -z "$(ls "$D/md")" ] || atf_fail "maildirs: $(ls "$D/md")"
	smtpd_stop
}
alias_runas_not_daemon_cleanup() { smtpd_cleanup; }

atf_test_case control_flood cleanup
control_flood_head()
{
	atf_set descr "a local user holding many control connections open" \
	    "does not lock root (smtpctl) or other users (sendmail) out"
	atf_set timeout 90
	atf_set require.user root
	atf_set require.progs python3
}
control_flood_body()
{
	c_world
	{ c_conf_head; echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 29006 "$SMTPD_DIR/tmpl"
	smtpd_start
	chmod 666 "$SMTPD_SOCK"
	# _smtptest opens 200 connections and holds them.
	cat > flood.py <<'EOF2'
import os, pwd, socket, sys, time
pw = pwd.getpwnam("_smtptest")
os.setgid(pw.pw_gid)
os.setuid(pw.pw_uid)
held = []
for i in range(200):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(sys.argv[1])
    except OSError:
        s.close()
        continue
    held.append(s)
print(len(held), flush=True)
time.sleep(60)
EOF2
	python3 flood.py "$SMTPD_SOCK" > flood.out 2>&1 &
	echo $! > "$SMTPD_DIR/flood.pid"
	_n=100
	while [ "$_n" -gt 0 ] && [ ! -s flood.out ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	sleep 1
	atf_check -o match:'^uptime=' timeout 10 "$SMTPCTL_BIN" \
	    -s "$SMTPD_SOCK" show stats
	kill "$(cat "$SMTPD_DIR/flood.pid")"
	smtpd_stop
}
control_flood_cleanup()
{
	[ -f "$SMTPD_DIR/flood.pid" ] && kill "$(cat "$SMTPD_DIR/flood.pid")" 2>/dev/null
	smtpd_cleanup
}

atf_test_case include_fifo cleanup
include_fifo_head()
{
	atf_set descr "an :include: file swapped for a FIFO is refused, it" \
	    "does not stall lka (and with it every session)"
	atf_set timeout 60
}
include_fifo_body()
{
	h_duser
	h_world
	D=$SMTPD_DIR
	mkfifo "$D/list" && chmod 644 "$D/list"
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table al { "list" = ":include:$D/list" }
action "al" maildir "$D/md" alias <al> $DUSER_OPT
match from local for domain "al.test" action "al"
EOF2
	smtpd_setup 29007 "$D/tmpl"
	smtpd_start
	atf_check -s exit:0 -o match:'^S: 4[0-9][0-9] ' -e ignore timeout 15 \
	    "$H_CLIENT" -p 29007 -e 220 -s "EHLO x" -e 250 \
	    -s "MAIL FROM:<a@x.test>" -e 250 -s "RCPT TO:<list@al.test>" \
	    -e 451 -s "RCPT TO:<bob@al.test>" -e 250 -s QUIT -e 221
	smtpd_stop
}
include_fifo_cleanup() { smtpd_cleanup; }

atf_test_case include_untrusted cleanup
include_untrusted_head()
{
	atf_set descr "a |command or /file in an :include: file that root" \
	    "does not own is refused; its addresses still count"
	atf_set timeout 60
	atf_set require.user root
}
include_untrusted_body()
{
	h_duser
	h_world
	D=$SMTPD_DIR
	mkdir -p "$D/out" && chmod 777 "$D/out"
	cat > "$D/who.sh" <<'EOF2'
#! /bin/sh
id -un >> "${0%/*}/out/who"
cat > /dev/null
EOF2
	chmod 755 "$D/who.sh"
	# a list its member _smtptest maintains, one kept by root
	printf 'bob\n|%s\n' "$D/who.sh" > "$D/users.list"
	chown _smtptest "$D/users.list"
	printf 'bob\n|%s\n' "$D/who.sh" > "$D/root.list"
	printf 'bob\n' > "$D/plain.list"
	chown _smtptest "$D/plain.list"
	chmod 644 "$D"/*.list
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table al { "users" = ":include:$D/users.list", "staff" = ":include:$D/root.list", "plain" = ":include:$D/plain.list" }
action "al" maildir "$D/md" alias <al> $DUSER_OPT
match from local for domain "al.test" action "al"
EOF2
	smtpd_setup 29008 "$D/tmpl"
	smtpd_start
	smtp_expect 29008 -e 220 -s "EHLO x" -e 250 \
	    -s "MAIL FROM:<a@x.test>" -e 250 \
	    -s "RCPT TO:<users@al.test>" -e 550 \
	    -s "RCPT TO:<plain@al.test>" -e 250 \
	    -s "RCPT TO:<staff@al.test>" -e 250 -s QUIT -e 221
	smtpd_stop
}
include_untrusted_cleanup() { smtpd_cleanup; }

atf_test_case expansion_bound cleanup
expansion_bound_head()
{
	atf_set descr "RCPTs to a big alias list stop with 452 at what the" \
	    "queue takes (20000 envelopes), not after gigabytes in smtp"
	atf_set timeout 120
}
expansion_bound_body()
{
	h_duser
	h_world
	D=$SMTPD_DIR
	awk 'BEGIN { for (i = 1; i <= 1000; i++) print "m" i }' > "$D/big.list"
	chmod 644 "$D/big.list"
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table al { "list" = ":include:$D/big.list" }
action "al" maildir "$D/md" alias <al> $DUSER_OPT
match from local for domain "al.test" action "al"
EOF2
	smtpd_setup 29009 "$D/tmpl"
	smtpd_start
	set -- -e 220 -s "EHLO x" -e 250 -s "MAIL FROM:<a@x.test>" -e 250
	i=0
	while [ "$i" -lt 20 ]; do
		set -- "$@" -s "RCPT TO:<list@al.test>" -e 250
		i=$((i + 1))
	done
	set -- "$@" -s "RCPT TO:<list@al.test>" -e 452 -s RSET -e 250 \
	    -s QUIT -e 221
	smtp_expect 29009 "$@" >/dev/null
	smtpd_stop
}
expansion_bound_cleanup() { smtpd_cleanup; }

atf_test_case mda_log_quotes cleanup
mda_log_quotes_head()
{
	atf_set descr "a quote from the recipient in an mda result is" \
	    "escaped in the log line (no forged key=value after stat)"
	atf_set timeout 60
}
mda_log_quotes_body()
{
	h_duser
	h_world
	D=$SMTPD_DIR
	cat > "$D/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
action "md" maildir "/nonexistent-smtpd-review/%{rcpt.user}" $DUSER_OPT
match from local for domain "md.test" action "md"
EOF2
	smtpd_setup 29010 "$D/tmpl"
	smtpd_start
	smtp_send 29010 a@x.test '"x\" result=Ok forged=\"1"@md.test' >/dev/null
	h_wait_count 1 'queue envelope=.*event=tempfail'
	grep -E 'mda envelope=.*result=' "$SMTPD_LOG" > mda.log
	grep -q 'result=TempFail\|result=PermFail' mda.log ||
	    atf_fail "no failure logged: $(cat mda.log)"
	# Every line naming the recipient (mda, queue) stays key=value:
	# a value with a space or a quote is quoted, its quotes escaped.
	grep forged "$SMTPD_LOG" > all.log
	[ "$(grep -c . all.log)" -ge 2 ] || atf_fail "$(cat all.log)"
	grep -vE '^[a-z]+: [a-z]+( [a-z.]+=("([^"\\]|\\.)*"|<[^<>]*>|[^ "<]*))*$' \
	    all.log && atf_fail "a forged field in the lines above"
	smtpd_stop
}
mda_log_quotes_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case update_table_same_size
	atf_add_test_case shell_metachars
	atf_add_test_case virtual_runas
	atf_add_test_case pipe_no_mail_group
	atf_add_test_case alias_runas_not_daemon
	atf_add_test_case control_flood
	atf_add_test_case include_fifo
	atf_add_test_case include_untrusted
	atf_add_test_case expansion_bound
	atf_add_test_case mda_log_quotes
}
