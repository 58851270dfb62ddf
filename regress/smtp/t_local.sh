#! /usr/bin/env atf-sh
# Local submissions (IMSG_SMTP_ENQUEUE from control: sendmail -bs) run
# as `from local` sessions: Received names the uid, a missing Date: or
# Message-ID: is added, present ones are kept; and the smtp counters
# reach `smtpctl show stats`.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/inbound.subr"

local_world()
{
	inb_setup "$1"
	mkdir -p "$SMTPD_DIR/bin"
	chmod 755 "$SMTPD_DIR/bin"
	ln -sf "$SMTPCTL_BIN" "$SMTPD_DIR/bin/sendmail"
	SENDMAIL=$SMTPD_DIR/bin/sendmail
}

atf_test_case enqueue_headers cleanup
enqueue_headers_head() { atf_set descr "sendmail -bs: Received (uid N), missing Date and Message-ID added"; atf_set timeout 60; }
enqueue_headers_body()
{
	local_world 22501
	printf 'EHLO localhost\r\nMAIL FROM:<me@localhost>\r\nRCPT TO:<root@localhost>\r\nDATA\r\nSubject: no date\r\n\r\nbody\r\n.\r\nQUIT\r\n' > in.txt
	atf_check -o match:"^250 2.0.0" -o match:"^221" -e ignore \
	    "$SENDMAIL" -C "$SMTPD_CONF" -bs < in.txt
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	[ -n "$msg" ] || atf_fail "nothing queued"
	head -1 "$msg" | grep -q "^Received: from localhost (uid $(id -u))" ||
	    atf_fail "Received: $(head -2 "$msg")"
	grep -q "^Date: " "$msg" || atf_fail "no Date added"
	grep -q "^Message-ID: <.*@mx.test.example>" "$msg" ||
	    atf_fail "no Message-ID added"
	# the added headers are in the header section
	awk '/^\r?$/{exit} /^Date: /{d=1} END{exit !d}' "$msg" ||
	    atf_fail "Date not in the headers"
	inb_envelope_has "^client-addr: local$"
}
enqueue_headers_cleanup() { smtpd_cleanup; }

atf_test_case enqueue_keeps cleanup
enqueue_keeps_head() { atf_set descr "sendmail -bs: present Date and Message-ID are kept, not doubled"; atf_set timeout 60; }
enqueue_keeps_body()
{
	local_world 22502
	printf 'EHLO localhost\r\nMAIL FROM:<me@localhost>\r\nRCPT TO:<root@localhost>\r\nDATA\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <keep@client.test>\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n' > in.txt
	atf_check -o match:"^250 2.0.0" -e ignore \
	    "$SENDMAIL" -C "$SMTPD_CONF" -bs < in.txt
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	[ "$(grep -c '^Date: ' "$msg")" -eq 1 ] || atf_fail "Date doubled"
	[ "$(grep -ci '^Message-ID: ' "$msg")" -eq 1 ] ||
	    atf_fail "Message-ID doubled"
	grep -q "^Message-ID: <keep@client.test>" "$msg" ||
	    atf_fail "Message-ID changed"
}
enqueue_keeps_cleanup() { smtpd_cleanup; }

atf_test_case stats cleanup
stats_head() { atf_set descr "smtp.session, smtp.message and smtp.refused reach show stats"; atf_set timeout 60; }
stats_body()
{
	inb_setup 22503 'table banned { 127.0.0.2 }' 'smtp ban <banned>'
	inb_tx -s DATA -e 354 -m 'Subject: x\n\nbody\n' -e 250 -s QUIT -e 221
	inb_expect -b 127.0.0.2 -e 554 -c
	n=50
	while [ $n -gt 0 ]; do
		"$SMTPCTL_BIN" -s "$SMTPD_SOCK" show stats > stats.txt 2>&1
		grep -q '^smtp.refused=1$' stats.txt && break
		sleep 0.1
		n=$((n - 1))
	done
	grep -q '^smtp.message=1$' stats.txt || atf_fail "$(cat stats.txt)"
	grep -q '^smtp.refused=1$' stats.txt || atf_fail "$(cat stats.txt)"
	grep -q '^smtp.session=' stats.txt || atf_fail "$(cat stats.txt)"
}
stats_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case enqueue_headers
	atf_add_test_case enqueue_keeps
	atf_add_test_case stats
}
