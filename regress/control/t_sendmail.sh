#! /usr/bin/env atf-sh
# sendmail, mailq, newaliases: the command lines real callers use, each
# delivering one message to a maildir through the daemon's own SMTP
# logic; headers added and Bcc removed; sysexits codes; -bs; the
# offline spool picked up at start.  Ports 26200-26399.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/ctl_lib.sh"

s_start()
{
	c_world
	{ c_conf_head; echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup "$1" "$SMTPD_DIR/tmpl"
	smtpd_start
}

# The message of a caller on stdin, a plain text one by default.
s_msg()
{
	printf 'Subject: %s\n\nhello from %s\n' "$1" "$1" > "$1.msg"
}

# sendmail with the config of the world.
sm()
{
	"$SENDMAIL" -C "$SMTPD_CONF" "$@"
}

atf_test_case cron cleanup
cron_head()
{
	atf_set descr "cron: -FCronDaemon -i -B8BITMIME -oem addr"
}
cron_body()
{
	s_start 26201
	s_msg cron
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" -FCronDaemon -i -B8BITMIME -oem bob@localhost < cron.msg
	c_wait_maildir 1
	f=$(c_maildir_file 1)
	grep -q '^From: "CronDaemon" <' "$f" || atf_fail "From: $(tr '\n' ' ' < "$f")"
	grep -q '^Date: ' "$f" || atf_fail "no Date"
	grep -q '^Message-ID: <.*@.*>' "$f" || atf_fail "no Message-ID"
	grep -q '^hello from cron' "$f" || atf_fail "body"
	grep -q "^Delivered-To: $C_USER@" "$f" || atf_fail "rcpt: $(tr '\n' ' ' < "$f")"
	smtpd_stop
}
cron_cleanup() { smtpd_cleanup; }

atf_test_case mailx cleanup
mailx_head()
{
	atf_set descr "mailx: -i -t -f addr, recipients from the headers"
}
mailx_body()
{
	s_start 26202
	printf 'To: Bob <bob@localhost>\nSubject: mailx\n\nbody\n' > m
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" -i -t -f alice@localhost < m
	c_wait_maildir 1
	f=$(c_maildir_file 1)
	grep -q '^Return-Path: <alice@localhost>' "$f" ||
	    atf_fail "sender: $(head -3 "$f")"
	grep -q '^From: .*<alice@localhost>' "$f" || atf_fail "From"
	grep -q '^To: Bob <bob@localhost>' "$f" || atf_fail "To"
	smtpd_stop
}
mailx_cleanup() { smtpd_cleanup; }

atf_test_case mutt cleanup
mutt_head()
{
	atf_set descr "mutt: -oem -oi -- addr; a lone dot stays in the body"
}
mutt_body()
{
	s_start 26203
	printf 'From: a@localhost\nSubject: mutt\n\nline 1\n.\n..two\nlast\n' > m
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" -oem -oi -- bob@localhost < m
	c_wait_maildir 1
	f=$(c_maildir_file 1)
	# the body comes through as written (dot-stuffing is transparent)
	sed -n '/^$/,$p' "$f" | tail -n 4 > body
	printf 'line 1\n.\n..two\nlast\n' > want
	diff -u want body || atf_fail "body changed"
	[ "$(grep -c '^From: ' "$f")" = 1 ] || atf_fail "From added twice"
	smtpd_stop
}
mutt_cleanup() { smtpd_cleanup; }

atf_test_case git_send_email cleanup
git_send_email_head()
{
	atf_set descr "git send-email: -i addr, existing headers kept, none doubled"
}
git_send_email_body()
{
	s_start 26204
	cat > m <<'EOF'
From: Dev <dev@localhost>
To: bob@localhost
Subject: [PATCH] fix
Date: Thu, 1 Jan 2026 10:00:00 +0000
Message-Id: <20260101.1@localhost>

diff --git a/x b/x
EOF
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" -i bob@localhost < m
	c_wait_maildir 1
	f=$(c_maildir_file 1)
	[ "$(grep -ci '^Message-ID: ' "$f")" = 1 ] || atf_fail "Message-ID"
	[ "$(grep -c '^Date: ' "$f")" = 1 ] || atf_fail "Date"
	grep -q '^Message-Id: <20260101.1@localhost>' "$f" || atf_fail "kept"
	grep -q '^diff --git a/x b/x' "$f" || atf_fail "body"
	smtpd_stop
}
git_send_email_cleanup() { smtpd_cleanup; }

atf_test_case php cleanup
php_head()
{
	atf_set descr "PHP mail(): -t -i; Bcc gets a copy and is removed"
}
php_body()
{
	s_start 26205
	printf 'To: bob@localhost\nBcc: carol@localhost\nSubject: php\n\nx\n' > m
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" -t -i < m
	c_wait_maildir 2
	for f in $(c_maildir_file 1) $(c_maildir_file 2); do
		grep -qi '^Bcc:' "$f" && atf_fail "Bcc kept in $f"
	done
	grep -q '^To: bob@localhost' "$(c_maildir_file 1)" || atf_fail "To"
	smtpd_stop
}
php_cleanup() { smtpd_cleanup; }

atf_test_case dot_ends cleanup
dot_ends_head()
{
	atf_set descr "without -i a lone dot ends the message"
}
dot_ends_body()
{
	s_start 26206
	printf 'Subject: dot\n\nbefore\n.\nafter\n' | sm bob@localhost ||
	    atf_fail "sendmail failed"
	c_wait_maildir 1
	f=$(c_maildir_file 1)
	grep -q '^before' "$f" || atf_fail "before"
	grep -q '^after' "$f" && atf_fail "read past the dot"
	smtpd_stop
}
dot_ends_cleanup() { smtpd_cleanup; }

atf_test_case exit_codes cleanup
exit_codes_head()
{
	atf_set descr "sysexits: usage 64, data 65, no user 67, unavailable 69"
}
exit_codes_body()
{
	c_world
	{ c_conf_head
	  echo 'match from local for rcpt-to "bob@localhost" action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26207 "$SMTPD_DIR/tmpl"
	smtpd_start
	s_msg codes
	atf_check -s exit:64 -e match:'no recipients' "$SENDMAIL" -C "$SMTPD_CONF" < codes.msg
	atf_check -s exit:64 -e ignore "$SENDMAIL" -C "$SMTPD_CONF" -Z bob@localhost < codes.msg
	atf_check -s exit:64 -e match:'not supported' "$SENDMAIL" -C "$SMTPD_CONF" -bd < codes.msg
	atf_check -s exit:65 -e match:'invalid sender' \
	    "$SENDMAIL" -C "$SMTPD_CONF" -f 'a b@c' bob@localhost < codes.msg
	atf_check -s exit:67 -e match:'550' "$SENDMAIL" -C "$SMTPD_CONF" carol@localhost < codes.msg
	# one good, one refused: the good one gets it, exit 0
	atf_check -s exit:0 -e match:'carol@localhost: 550' \
	    "$SENDMAIL" -C "$SMTPD_CONF" bob@localhost carol@localhost < codes.msg
	c_wait_maildir 1
	atf_check -s exit:69 -e match:'cannot connect' \
	    "$SENDMAIL" -C /nonexistent.conf -bp
	# no daemon and no usable offline spool: temporary failure
	printf 'spool "/nonexistent/spool"\ncontrol socket "/nonexistent/s"\n' \
	    > broken.conf
	atf_check -s exit:75 -e match:'offline spool failed' \
	    "$SENDMAIL" -C broken.conf bob@localhost < codes.msg
	smtpd_stop
}
exit_codes_cleanup() { smtpd_cleanup; }

atf_test_case bs cleanup
bs_head()
{
	atf_set descr "-bs: SMTP on stdin/stdout as a local session"
}
bs_body()
{
	s_start 26208
	printf 'EHLO me\r\nMAIL FROM:<a@localhost>\r\nRCPT TO:<bob@localhost>\r\nDATA\r\nSubject: bs\r\n\r\nvia -bs\r\n.\r\nQUIT\r\n' |
	    "$SENDMAIL" -C "$SMTPD_CONF" -bs > out || atf_fail "sendmail -bs failed"
	grep -q '^220 ' out || atf_fail "no greeting: $(tr '\n' ' ' < out)"
	grep -q '^354 ' out || atf_fail "no 354: $(tr '\n' ' ' < out)"
	grep -q '^250 2.0.0 ' out || atf_fail "not queued: $(tr '\n' ' ' < out)"
	c_wait_maildir 1
	grep -q 'via -bs' "$(c_maildir_file 1)" || atf_fail "body"
	smtpd_stop
}
bs_cleanup() { smtpd_cleanup; }

atf_test_case newaliases_q cleanup
newaliases_q_head()
{
	atf_set descr "newaliases re-reads alias tables; -q schedules the queue"
}
newaliases_q_body()
{
	c_world
	printf 'sales: bob\nbob: %s\ncarol: %s\n' "$C_USER" "$C_USER" \
	    > "$SMTPD_DIR/aliases"
	chmod 644 "$SMTPD_DIR/aliases"
	{ echo "table aliases file:$SMTPD_DIR/aliases"
	  c_conf_head aliases
	  echo 'match from local for any action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup 26209 "$SMTPD_DIR/tmpl"
	smtpd_start
	ctl pause mda >/dev/null
	s_msg na
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" sales@localhost < na.msg
	atf_check -o match:'1 envelope' "$MAILQ" -C "$SMTPD_CONF"
	printf 'sales: carol\nbob: %s\ncarol: %s\n' "$C_USER" "$C_USER" \
	    > "$SMTPD_DIR/aliases"
	atf_check -o match:'1 alias table updated' "$NEWALIASES" -C "$SMTPD_CONF"
	atf_check -o match:'1 alias table updated' "$SENDMAIL" -C "$SMTPD_CONF" -bi
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" sales@localhost < na.msg
	atf_check -o match:'2 envelopes' "$MAILQ" -C "$SMTPD_CONF"
	# a table that does not parse is refused, the old one stays
	printf 'sales: carol\nsales: bob\n' > "$SMTPD_DIR/aliases"
	atf_check -s exit:69 -e match:"$SMTPD_DIR/aliases:2: " \
	    -o ignore "$NEWALIASES" -C "$SMTPD_CONF"
	ctl resume mda >/dev/null
	atf_check -o match:'scheduled' "$SENDMAIL" -C "$SMTPD_CONF" -q
	c_wait_maildir 2
	smtpd_stop
}
newaliases_q_cleanup() { smtpd_cleanup; }

atf_test_case offline cleanup
offline_head()
{
	atf_set descr "daemon down: queued offline (exit 0), delivered at start"
}
offline_body()
{
	s_start 26210
	smtpd_stop
	s_msg offline
	atf_check -s exit:0 -e match:'queued offline' \
	    "$SENDMAIL" -C "$SMTPD_CONF" -f alice@localhost bob@localhost < offline.msg
	_f=$(ls "$SMTPD_SPOOL/offline")
	[ -n "$_f" ] || atf_fail "nothing in the offline spool"
	_m=$(stat -c %a "$SMTPD_SPOOL/offline/$_f")
	[ "$_m" = 600 ] || atf_fail "offline file mode $_m"
	# a symlink planted there is not followed, a hard link not taken
	ln -s /etc/passwd "$SMTPD_SPOOL/offline/evil"
	smtpd_start
	c_wait_maildir 1
	f=$(c_maildir_file 1)
	grep -q '^Return-Path: <alice@localhost>' "$f" || atf_fail "sender"
	grep -q '^hello from offline' "$f" || atf_fail "body"
	_n=50
	while [ -e "$SMTPD_SPOOL/offline/$_f" ] && [ "$_n" -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ -e "$SMTPD_SPOOL/offline/$_f" ] && atf_fail "offline file left"
	c_wait_log 'offline file=evil result=ignored'
	sleep 1
	[ "$(c_count)" = 1 ] || atf_fail "the symlink was enqueued"
	smtpd_stop
}
offline_cleanup() { smtpd_cleanup; }

atf_test_case dsn_options cleanup
dsn_options_head()
{
	atf_set descr "-N -R -V -B reach the envelope (NOTIFY, RET, ENVID, BODY)"
}
dsn_options_body()
{
	s_start 26211
	ctl pause mda >/dev/null
	s_msg dsn
	atf_check "$SENDMAIL" -C "$SMTPD_CONF" -N success,failure -R hdrs \
	    -V 'env id+1' -B 8BITMIME -f alice@localhost bob@localhost < dsn.msg
	_n=50
	while [ "$_n" -gt 0 ] && ! ctl show queue | grep -q recipient=; do
		sleep 0.1
		_n=$((_n - 1))
	done
	id=$(ctl show queue | sed -n 's/^id=\([0-9a-f]*\) .*/\1/p' | head -1)
	ctl show envelope "$id" > env || atf_fail "show envelope"
	# NOTIFY=SUCCESS,FAILURE is 0x01|0x02
	grep -q '^dsn-notify: 3$' env || atf_fail "notify: $(tr '\n' ' ' < env)"
	grep -q '^dsn-ret: hdrs' env || atf_fail "ret: $(tr '\n' ' ' < env)"
	grep -q '^dsn-envid: env id+1$' env ||
	    atf_fail "envid: $(tr '\n' ' ' < env)"
	# BODY=8BITMIME is flag 0x01
	grep -q '^flags: [0-9]*[13579]$' env ||
	    atf_fail "body: $(tr '\n' ' ' < env)"
	atf_check -s exit:64 -e match:'bad -B or -R' "$SENDMAIL" -C \
	    "$SMTPD_CONF" -R nonsense bob@localhost < dsn.msg
	smtpd_stop
}
dsn_options_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case cron
	atf_add_test_case mailx
	atf_add_test_case mutt
	atf_add_test_case git_send_email
	atf_add_test_case php
	atf_add_test_case dot_ends
	atf_add_test_case exit_codes
	atf_add_test_case bs
	atf_add_test_case newaliases_q
	atf_add_test_case offline
	atf_add_test_case dsn_options
}
