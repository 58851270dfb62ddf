#! /usr/bin/env atf-sh
# End-to-end local delivery: a message sent over SMTP to the running
# daemon lands in a maildir, an mbox and an mda command's output byte
# for byte (after Return-Path, Delivered-To and the Received header).
# As root the deliveries run as _smtptest (tools/setup.sh --users), else
# as the invoking user.  Ports 24101-24109.

if [ -f "$(atf_get_srcdir)/../lib/smtpd.sh" ]; then
	. "$(atf_get_srcdir)/../lib/smtpd.sh"
fi

# Set DUSER, who deliveries run as; skip when the harness, the daemon or
# the test user is missing.  Not in a subshell: atf_skip must end the test.
h_init()
{
	command -v smtpd_setup >/dev/null 2>&1 ||
	    atf_skip "regress/lib/smtpd.sh is not there yet"
	[ -x "$(atf_get_srcdir)/../../obj/smtpd" ] ||
	    atf_skip "obj/smtpd is not built"
	[ -x "$(atf_get_srcdir)/../../obj/tools/smtp-client" ] ||
	    atf_skip "obj/tools/smtp-client is not built"
	if [ "$(id -u)" = 0 ]; then
		id _smtptest >/dev/null 2>&1 ||
		    atf_skip "no user _smtptest: run tools/setup.sh --users"
		DUSER=_smtptest
	else
		DUSER=$(id -un)
	fi
}

h_cleanup()
{
	if command -v smtpd_cleanup >/dev/null 2>&1; then
		smtpd_cleanup
	fi
	return 0
}

# A directory the delivery user can write.
h_userdir()
{
	mkdir -p "$1" || atf_fail "mkdir $1"
	chmod 755 "$1"
	[ "$(id -u)" = 0 ] && chown "$DUSER" "$1"
	return 0
}

# The message sent (CRLF on the wire, dot-stuffed by smtp-client) and
# what a local mailbox must hold after the added headers (LF lines).
h_message()
{
	_mid="$(date +%s).$$.mda@client.test"
	printf '%s\n' \
	    "From: <sender@example.org>" \
	    "To: <$1>" \
	    "Subject: local delivery test" \
	    "Message-ID: <$_mid>" \
	    "" \
	    "first line" \
	    "From the start of a line" \
	    ">From already quoted" \
	    ".leading dot" \
	    "..two dots" \
	    "." \
	    "  indented, trailing space " \
	    "last line" > body.txt
	cp body.txt expected.txt
}

# Wait (30 s max) until the daemon's log matches the extended regex $1.
h_wait_log()
{
	_n=300
	while [ "$_n" -gt 0 ]; do
		grep -Eq "$1" "$SMTPD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 40 "$SMTPD_LOG" >&2
	atf_fail "no log line matching '$1' after 30 s"
}

# Check a delivered file $1: Return-Path, Delivered-To, Received (with
# its continuation lines), then exactly expected.txt.
h_check_delivered()
{
	_f=$1
	_rcpt=$2
	atf_check -o inline:"Return-Path: <sender@example.org>\n" \
	    sed -n 1p "$_f"
	atf_check -o inline:"Delivered-To: $_rcpt\n" sed -n 2p "$_f"
	# The daemon's own trace headers come next; then the message.
	awk 'NR <= 2 { next }
	    !body && /^Received:/ { inrcv = 1; next }
	    !body && inrcv && /^[ \t]/ { next }
	    { body = 1; print }' "$_f" > got.txt
	if ! cmp -s got.txt "$3"; then
		diff -u "$3" got.txt >&2
		atf_fail "delivered message differs from what was sent"
	fi
}

h_conf()
{
	cat <<-EOF
	listen on 127.0.0.1 port @PORT@
	spool "@SPOOL@"
	control socket "@SOCK@"
	queue retry 1s max 2s
	$1
	match from any for domain "example.test" action "local"
	EOF
}

atf_test_case maildir cleanup
maildir_head()
{
	atf_set descr "SMTP to a maildir action: file in new/, owned by the user, byte for byte"
}
maildir_body()
{
	h_init
	smtpd_setup 24101 /dev/null
	h_userdir "$SMTPD_DIR/maildir"
	h_conf "action \"local\" maildir \"@MAILDIR@/%{rcpt.user}\" user $DUSER" |
	    smtpd_setup 24101 -
	smtpd_start
	h_message box@example.test
	SMTP_BODY=body.txt smtp_send 24101 sender@example.org \
	    box@example.test >/dev/null
	h_wait_log "method=maildir result="
	atf_check -o inline:"1\n" sh -c "ls '$SMTPD_DIR/maildir/box/new' | wc -l"
	f=$(ls "$SMTPD_DIR/maildir/box/new/"*)
	atf_check -o inline:"$DUSER\n" stat -c %U "$f"
	atf_check -o inline:"0\n" sh -c "ls -A '$SMTPD_DIR/maildir/box/tmp' | wc -l"
	h_check_delivered "$f" box@example.test expected.txt
	atf_check -o match:"250 2\.0\.0" grep "method=maildir result=Ok" \
	    "$SMTPD_LOG"
	smtpd_stop
}
maildir_cleanup()
{
	h_cleanup
}

atf_test_case mda_command cleanup
mda_command_head()
{
	atf_set descr "SMTP to an mda action: argv without a shell, message on stdin byte for byte"
}
mda_command_body()
{
	h_init
	smtpd_setup 24102 /dev/null
	h_userdir "$SMTPD_DIR/mda"
	# ';', '$(...)', '|' and '>' are plain characters in file names here.
	h_conf "action \"local\" mda \"/usr/bin/tee '@DIR@/mda/out;x' @DIR@/mda/\$(y) @DIR@/mda/a|b>c\" user $DUSER" |
	    smtpd_setup 24102 -
	smtpd_start
	h_message cmd@example.test
	SMTP_BODY=body.txt smtp_send 24102 sender@example.org \
	    cmd@example.test >/dev/null
	h_wait_log "method=mda result="
	atf_check -o not-empty grep "method=mda result=Ok" "$SMTPD_LOG"
	h_check_delivered "$SMTPD_DIR/mda/out;x" cmd@example.test expected.txt
	h_check_delivered "$SMTPD_DIR/mda/\$(y)" cmd@example.test expected.txt
	h_check_delivered "$SMTPD_DIR/mda/a|b>c" cmd@example.test expected.txt
	atf_check -o inline:"$DUSER\n" stat -c %U "$SMTPD_DIR/mda/out;x"
	smtpd_stop
}
mda_command_cleanup()
{
	h_cleanup
}

atf_test_case mda_failure cleanup
mda_failure_head()
{
	atf_set descr "an mda command failing: EX_TEMPFAIL retried, other status permanent with its stderr"
}
mda_failure_body()
{
	h_init
	smtpd_setup 24103 /dev/null
	h_userdir "$SMTPD_DIR/state"
	# First attempt: EX_TEMPFAIL; second: status 67 with a diagnostic.
	cat > "$SMTPD_DIR/mda.sh" <<-'EOF'
	#!/bin/sh
	cat > /dev/null
	if [ ! -f "$1/tried" ]; then
		touch "$1/tried"
		echo "mailbox busy" >&2
		exit 75
	fi
	echo "user unknown here" >&2
	exit 67
	EOF
	chmod 755 "$SMTPD_DIR/mda.sh"
	h_conf "action \"local\" mda \"@DIR@/mda.sh @DIR@/state\" user $DUSER" |
	    smtpd_setup 24103 -
	smtpd_start
	h_message fail@example.test
	SMTP_BODY=body.txt smtp_send 24103 sender@example.org \
	    fail@example.test >/dev/null
	h_wait_log "method=mda result=PermFail"
	atf_check -o match:"4\.3\.0 mda command exited with EX_TEMPFAIL: mailbox busy" \
	    grep "method=mda result=TempFail" "$SMTPD_LOG"
	atf_check -o match:"5\.3\.0 mda command exited with status 67: user unknown here" \
	    grep "method=mda result=PermFail" "$SMTPD_LOG"
	smtpd_stop
}
mda_failure_cleanup()
{
	h_cleanup
}

atf_test_case aliases cleanup
aliases_head()
{
	atf_set descr "aliases to |command and /file deliver there as the user; a sender's <|cmd@domain> is only an address"
}
aliases_body()
{
	h_init
	smtpd_setup 24105 /dev/null
	h_userdir "$SMTPD_DIR/maildir"
	h_userdir "$SMTPD_DIR/alias"
	cat > "$SMTPD_DIR/aliases" <<-EOF
	piped: "|/usr/bin/tee $SMTPD_DIR/alias/piped"
	filed: $SMTPD_DIR/alias/filed
	EOF
	chmod 644 "$SMTPD_DIR/aliases"
	{ echo 'table aliases file:@DIR@/aliases'
	  h_conf "action \"local\" maildir \"@MAILDIR@/%{rcpt.user}\" alias <aliases> user $DUSER"
	} | smtpd_setup 24105 -
	smtpd_start
	h_message piped@example.test
	SMTP_BODY=body.txt smtp_send 24105 sender@example.org \
	    piped@example.test filed@example.test '|/usr/bin/id@example.test' \
	    >/dev/null
	h_wait_log "method=pipe result="
	h_wait_log "method=file result="
	h_wait_log "method=maildir result="
	atf_check -o not-empty grep "method=pipe result=Ok" "$SMTPD_LOG"
	atf_check -o not-empty grep "method=file result=Ok" "$SMTPD_LOG"
	atf_check -o not-empty grep "method=maildir result=Ok" "$SMTPD_LOG"
	atf_check -o inline:"1\n" grep -c "method=pipe" "$SMTPD_LOG"
	h_check_delivered "$SMTPD_DIR/alias/piped" piped@example.test \
	    expected.txt
	atf_check -o inline:"$DUSER\n" stat -c %U "$SMTPD_DIR/alias/piped"
	atf_check -o match:"^From sender@example.org " \
	    sed -n 1p "$SMTPD_DIR/alias/filed"
	atf_check -o inline:"1\n" sh -c "ls '$SMTPD_DIR/maildir' | wc -l"
	smtpd_stop
}
aliases_cleanup()
{
	h_cleanup
}

atf_test_case root_refused cleanup
root_refused_head()
{
	atf_set descr "as root, mail for root is refused (5.2.0) unless an alias maps root to a user"
}
root_refused_body()
{
	h_init
	[ "$(id -u)" = 0 ] || atf_skip "only meaningful when started as root"
	smtpd_setup 24106 /dev/null
	h_userdir "$SMTPD_DIR/maildir"
	echo "postmaster: $DUSER" > "$SMTPD_DIR/aliases"
	chmod 644 "$SMTPD_DIR/aliases"
	{ echo 'table aliases file:@DIR@/aliases'
	  h_conf "action \"local\" maildir \"@MAILDIR@/%{user}\" alias <aliases>"
	} | smtpd_setup 24106 -
	smtpd_start
	h_message root@example.test
	SMTP_BODY=body.txt smtp_send 24106 sender@example.org \
	    root@example.test postmaster@example.test >/dev/null
	h_wait_log "method=maildir result=Ok"
	h_wait_log "result=PermFail"
	atf_check -o match:"5\.2\.0 delivery as root refused: add an alias" \
	    grep "result=PermFail" "$SMTPD_LOG"
	atf_check -o inline:"$DUSER\n" ls "$SMTPD_DIR/maildir"
	atf_check -o inline:"1\n" sh -c "ls '$SMTPD_DIR/maildir/$DUSER/new' | wc -l"
	smtpd_stop
}
root_refused_cleanup()
{
	h_cleanup
}

atf_test_case time_limit cleanup
time_limit_head()
{
	atf_set descr "mda timeout: a command running past it is killed and the delivery is retried"
}
time_limit_body()
{
	h_init
	smtpd_setup 24107 /dev/null
	h_userdir "$SMTPD_DIR/state"
	{ echo 'mda timeout 1s'
	  h_conf "action \"local\" mda \"/bin/sh -c 'echo \$\$ >> @DIR@/state/pid; exec sleep 60'\" user $DUSER"
	} | smtpd_setup 24107 -
	smtpd_start
	h_message slow@example.test
	SMTP_BODY=body.txt smtp_send 24107 sender@example.org \
	    slow@example.test >/dev/null
	h_wait_log "method=mda result=TempFail"
	atf_check -o match:"4\.4\.7 mda command timed out after 1s" \
	    grep "method=mda result=TempFail" "$SMTPD_LOG"
	pid=$(head -n 1 "$SMTPD_DIR/state/pid")
	atf_check -s exit:1 -e ignore kill -0 "$pid"
	smtpd_stop
}
time_limit_cleanup()
{
	h_cleanup
}

atf_test_case mbox cleanup
mbox_head()
{
	atf_set descr "SMTP to an mbox action: appended to /var/mail/USER after its old content, mboxrd escaped"
}
mbox_body()
{
	h_init
	mbox=/var/mail/$DUSER
	if [ "$(id -u)" != 0 ] && [ ! -w /var/mail ]; then
		atf_skip "/var/mail is not writable by $DUSER"
	fi
	if [ -e "$mbox" ]; then
		cp -p "$mbox" mbox.saved || atf_fail "cannot save $mbox"
	fi
	echo "$mbox" > mbox.path
	printf 'From old@example.org Thu Jan  1 00:00:00 2026\nSubject: old\n\nold body\n\n' > old.txt
	cp old.txt "$mbox"
	[ "$(id -u)" = 0 ] && chown "$DUSER" "$mbox"
	chmod 600 "$mbox"

	smtpd_setup 24104 /dev/null
	h_conf "action \"local\" mbox user $DUSER" | smtpd_setup 24104 -
	smtpd_start
	h_message mb@example.test
	SMTP_BODY=body.txt smtp_send 24104 sender@example.org \
	    mb@example.test >/dev/null
	h_wait_log "method=mbox result="
	atf_check -o not-empty grep "method=mbox result=Ok" "$SMTPD_LOG"
	smtpd_stop

	# Old content untouched, then the From_ line, then the message.
	oldlen=$(wc -c < old.txt)
	head -c "$oldlen" "$mbox" > got-old.txt
	atf_check cmp got-old.txt old.txt
	tail -c +"$((oldlen + 1))" "$mbox" > new.txt
	atf_check -o match:"^From sender@example.org [A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]{8} [0-9]{4}$" \
	    sed -n 1p new.txt
	tail -n +2 new.txt > delivered.txt
	# mboxrd: /^>*From / gets one more '>'; a blank line ends it.
	sed -e 's/^\(>*From \)/>\1/' expected.txt > expected-mbox.txt
	echo >> expected-mbox.txt
	h_check_delivered delivered.txt mb@example.test expected-mbox.txt
	atf_check -s exit:1 test -e "$mbox.lock"
}
mbox_cleanup()
{
	h_cleanup
	if [ -f mbox.path ]; then
		mbox=$(cat mbox.path)
		if [ -f mbox.saved ]; then
			cp -p mbox.saved "$mbox"
		else
			rm -f "$mbox"
		fi
	fi
}

atf_init_test_cases()
{
	atf_add_test_case maildir
	atf_add_test_case mbox
	atf_add_test_case mda_command
	atf_add_test_case mda_failure
	atf_add_test_case aliases
	atf_add_test_case root_refused
	atf_add_test_case time_limit
}
