#! /usr/bin/env atf-sh
# Mail held because a reload removed its action still expires at the
# queue ttl and bounces to its sender.  Ports 33020-33029.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/ctl_lib.sh"

atf_test_case held_expires cleanup
held_expires_head()
{
	atf_set descr "mail held for a removed action expires at queue ttl and bounces"
}
held_expires_body()
{
	c_world
	{ c_conf_head; cat <<'EOF2'
queue ttl 8s
queue retry 1s max 1s
action "out" relay host "127.0.0.1:33022"
match from local for domain "remote.test" action "out"
match from local for any action "local"
EOF2
	} > "$SMTPD_DIR/tmpl"
	smtpd_setup 33021 "$SMTPD_DIR/tmpl"
	smtpd_start
	cp "$SMTPD_CONF" base.conf
	# the relay is down: the mail stays queued
	smtp_send 33021 alice@localhost far@remote.test >/dev/null
	c_wait_log 'event=tempfail'
	sed -e '/"out"/d' base.conf > "$SMTPD_CONF"
	atf_check -o match:'configuration reloaded' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" reload
	ctl schedule all >/dev/null || atf_fail "schedule all"
	c_wait_log 'action out no longer configured'
	[ "$(c_count)" = 0 ] || atf_fail "bounced before the hold"
	# past the ttl the held envelope bounces to alice (bob's maildir)
	c_wait_maildir 1 25
	c_wait_log 'event=expired.*no longer configured'
	_f=$(c_maildir_file 1)
	grep -q 'far@remote.test' "$_f" || atf_fail "bounce: $(head -c 600 "$_f")"
	grep -qi '^Content-Type: multipart/report' "$_f" ||
	    atf_fail "not a report: $(head -c 600 "$_f")"
	[ "$(ctl show queue | grep -c far@remote.test)" = 0 ] ||
	    atf_fail "still queued: $(ctl show queue)"
	smtpd_stop
}
held_expires_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case held_expires
}
