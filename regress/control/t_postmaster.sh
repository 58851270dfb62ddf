#! /usr/bin/env atf-sh
# RFC 5321 4.5.1: postmaster at a local domain is accepted without an
# alias for it, through the `postmaster` setting or root's alias; refused
# only when neither names anyone.  Ports 33001-33009.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/ctl_lib.sh"

# Start on port $1 with alias table entries $2 and extra global lines $3.
p_start()
{
	c_world
	# no `user`: it would take every local part, postmaster included
	LOCALUSER=""
	{ echo "table p_aliases { $2 }"; echo "$3"; c_conf_head p_aliases
	  echo 'match from any for local action "local"'; } > "$SMTPD_DIR/tmpl"
	smtpd_setup "$1" "$SMTPD_DIR/tmpl"
	smtpd_start
}

# RCPT TO:<postmaster> and <Postmaster@localhost> on port $1 get code $2.
p_rcpt()
{
	h_paths
	"$H_TOOLS/smtp-client" -p "$1" -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<alice@example.org>" -e 250 \
	    -s "RCPT TO:<postmaster>" -e "$2" \
	    -s "RCPT TO:<Postmaster@localhost>" -e "$2" -s QUIT -e 221
}

atf_test_case setting cleanup
setting_head()
{
	atf_set descr "postmaster without an alias goes to the postmaster setting"
}
setting_body()
{
	p_start 33001 '"bob" = "@C_USER@"' 'postmaster "bob@localhost"'
	p_rcpt 33001 250 || atf_fail "postmaster refused"
	smtp_send 33001 alice@example.org postmaster@localhost >/dev/null ||
	    atf_fail "send to postmaster"
	c_wait_maildir 1
	smtpd_stop
}
setting_cleanup() { smtpd_cleanup; }

atf_test_case root_alias cleanup
root_alias_head()
{
	atf_set descr "no postmaster setting: postmaster goes to root's alias"
}
root_alias_body()
{
	p_start 33002 '"root" = "@C_USER@"' ''
	p_rcpt 33002 250 || atf_fail "postmaster refused"
	smtp_send 33002 alice@example.org POSTMASTER@localhost >/dev/null ||
	    atf_fail "send to postmaster"
	c_wait_maildir 1
	smtpd_stop
}
root_alias_cleanup() { smtpd_cleanup; }

atf_test_case nobody cleanup
nobody_head()
{
	atf_set descr "no alias, setting or root alias: postmaster is refused"
}
nobody_body()
{
	p_start 33003 '"bob" = "@C_USER@"' ''
	p_rcpt 33003 550 || atf_fail "postmaster not refused"
	smtpd_stop
}
nobody_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case setting
	atf_add_test_case root_alias
	atf_add_test_case nobody
}
