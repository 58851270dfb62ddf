#! /usr/bin/env atf-sh
# Policy decided by lka, against the running daemon: open-relay tricks
# refused by the default rules, unknown local users at RCPT, rule order
# and negation, aliases(5) expansion (users, addresses, |command, /file,
# :include:, error:, loops), virtual tables, the ban table and DNSBL.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/inbound.subr"

atf_test_case open_relay cleanup
open_relay_head() { atf_set descr "the open-relay tricks are refused by the default configuration"; atf_set timeout 90; }
open_relay_body()
{
	# the rules of the shipped etc/smtpd.conf (match from local for
	# local), plus a local domain
	inb_conf > ./inbound.conf.in
	smtpd_setup 22301 ./inbound.conf.in
	smtpd_start
	for t in "user%other.example@localhost:550 5.1.1" \
	    "@localhost:user@other.example:550 5.7.1" \
	    '"user@other.example"@localhost:550 5.1.1' \
	    "other.example!user@localhost:550 5.1.1" \
	    "user@other.example@localhost:553 5.1.3" \
	    "user@localhost.:553 5.1.3" \
	    "user@other.example.:553 5.1.3" \
	    "user@[192.0.2.1]:550 5.7.1" \
	    "user@other.example:550 5.7.1" \
	    "root@other.example:550 5.7.1"; do
		rcpt=${t%:*}
		want=${t##*:}
		inb_expect -e 220 -s "EHLO client.test" -e 250 \
		    -s "MAIL FROM:<a@client.test>" -e 250 \
		    -s "RCPT TO:<$rcpt>" -e "${want% *}" -x "$want" \
		    -s QUIT -e 221
	done
	# but our own address literal is local
	inb_tx -s "RCPT TO:<root@[127.0.0.1]>" -e 250 -s QUIT -e 221
}
open_relay_cleanup() { smtpd_cleanup; }

atf_test_case unknown_user cleanup
unknown_user_head() { atf_set descr "for local: an unknown user gets 550 5.1.1 at RCPT"; atf_set timeout 60; }
unknown_user_body()
{
	inb_setup 22302
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<no-such-user-42@localhost>" -e 550 -x 5.1.1 \
	    -s "RCPT TO:<no-such-user-42@test.example>" -e 550 -x 5.1.1 \
	    -s "RCPT TO:<root@mx.test.example>" -e 250 -s QUIT -e 221
}
unknown_user_cleanup() { smtpd_cleanup; }

atf_test_case rules cleanup
rules_head() { atf_set descr "first match wins, criteria negated with !, from src, tag, mail-from"; atf_set timeout 60; }
rules_body()
{
	PORT2=22304
	smtpd_setup 22303 - <<'EOT'
hostname mx.test.example
spool "@SPOOL@"
control socket "@SOCK@"
table evil { 127.0.0.3 }
listen on 127.0.0.1 port @PORT@
listen on 127.0.0.1 port @PORT2@ tag special
action "local" maildir "@MAILDIR@/%{rcpt.user}"
action "out" relay host "127.0.0.1:1"
match from src <evil> for any reject
match ! from src <evil> for domain "relay.example" action "out"
match tag special for domain "tagged.example" action "out"
match from mail-from "@vip.example" for domain "vip-only.example" action "out"
match from local for local action "local"
EOT
	smtpd_start
	inb_expect -b 127.0.0.3 -e 220 -s "EHLO c" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<x@relay.example>" -e 550 -x 5.7.1 \
	    -s "RCPT TO:<root@localhost>" -e 550 -x 5.7.1 -s QUIT -e 221
	inb_expect -e 220 -s "EHLO c" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<x@relay.example>" -e 250 \
	    -s "RCPT TO:<x@tagged.example>" -e 550 -x 5.7.1 \
	    -s "RCPT TO:<x@vip-only.example>" -e 550 -x 5.7.1 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s QUIT -e 221
	inb_expect -p 22304 -e 220 -s "EHLO c" -e 250 \
	    -s "MAIL FROM:<boss@vip.example>" -e 250 \
	    -s "RCPT TO:<x@tagged.example>" -e 250 \
	    -s "RCPT TO:<x@vip-only.example>" -e 250 -s QUIT -e 221
}
rules_cleanup() { smtpd_cleanup; }

alias_setup()
{
	smtpd_setup "$1" - <<'EOT'
hostname mx.test.example
spool "@SPOOL@"
control socket "@SOCK@"
table aliases file:@DIR@/aliases
table virt { "info@virt.example" = "root", "sales@virt.example" = "info@virt.example, x@far.example" }
listen on 127.0.0.1 port @PORT@
action "local" mbox alias <aliases>
action "vmail" maildir "@MAILDIR@/%{rcpt.user}" virtual <virt>
action "out" relay host "127.0.0.1:1"
match from any for domain "virt.example" action "vmail"
match from local for local action "local"
match from local for any action "out"
EOT
	cat > "$SMTPD_DIR/aliases" <<EOT
postmaster: root
list: root, someone@far.example, "|/usr/bin/true arg", /tmp/inbound-test.mbox
gone: error:550 5.1.6 gone away
bad: error:nonsense
loop1: loop2
loop2: loop1
self: self, root
inc: :include:$SMTPD_DIR/inc.txt
EOT
	printf 'root\nfriend@far.example # a comment\n' > "$SMTPD_DIR/inc.txt"
	chmod 644 "$SMTPD_DIR/aliases" "$SMTPD_DIR/inc.txt"
	smtpd_start -v
}

# rcpt_expands RCPT PATTERN...: RCPT is accepted and lka's expansions
# of it (debug log: "action=A rcpt=R user=U") match every PATTERN
# (grep -E).  Read from the log: local deliveries may already be done.
rcpt_expands()
{
	_r=$1
	shift
	inb_expect -e 220 -s "EHLO c" -e 250 -s "MAIL FROM:<a@client.test>" \
	    -e 250 -s "RCPT TO:<$_r>" -e 250 -s QUIT -e 221 >/dev/null
	inb_log_has "lka event=rcpt to=<$_r> "
	_got=$(grep -F "lka event=rcpt to=<$_r> " "$SMTPD_LOG" |
	    sed 's/.* action=//')
	for _p in "$@"; do
		printf '%s\n' "$_got" | grep -Eq -- "$_p" ||
		    atf_fail "$_r: no expansion /$_p/ in: $_got"
	done
}

atf_test_case aliases cleanup
aliases_head() { atf_set descr "aliases(5): user, address (relayed), |command, /file, :include:, self-reference"; atf_set timeout 90; }
aliases_body()
{
	alias_setup 22305
	rcpt_expands postmaster@localhost "^local rcpt=root@localhost user=root$"
	rcpt_expands list@localhost "^local rcpt=root@localhost user=root$" \
	    "^out rcpt=someone@far.example user=$" "^local rcpt=\|/usr/bin/true arg user=" \
	    "^local rcpt=/tmp/inbound-test.mbox user="
	rcpt_expands inc@localhost "^local rcpt=root@localhost user=root$" \
	    "^out rcpt=friend@far.example user=$"
	rcpt_expands self@localhost "^local rcpt=root@localhost user=root$"
	[ "$(grep -c "event=rcpt to=<self@localhost> " "$SMTPD_LOG")" -eq 1 ] ||
	    atf_fail "self: expected 1 expansion"
}
aliases_cleanup() { smtpd_cleanup; }

atf_test_case alias_errors cleanup
alias_errors_head() { atf_set descr "error: aliases give their reply at RCPT; a loop gives 550 5.4.6"; atf_set timeout 60; }
alias_errors_body()
{
	alias_setup 22306
	inb_expect -e 220 -s "EHLO c" -e 250 -s "MAIL FROM:<a@client.test>" \
	    -e 250 -s "RCPT TO:<gone@localhost>" -e 550 -x "5.1.6 gone away" \
	    -s "RCPT TO:<bad@localhost>" -e 550 -x 5.0.0 \
	    -s "RCPT TO:<loop1@localhost>" -e 550 -x 5.4.6 \
	    -s "RCPT TO:<nobody-xyz@localhost>" -e 550 -x 5.1.1 \
	    -s QUIT -e 221
}
alias_errors_cleanup() { smtpd_cleanup; }

atf_test_case virtual cleanup
virtual_head() { atf_set descr "virtual tables: mapped addresses expand, unknown ones get 550 5.1.1"; atf_set timeout 60; }
virtual_body()
{
	alias_setup 22307
	rcpt_expands info@virt.example "^vmail rcpt=(root|info)@virt.example user=root$"
	rcpt_expands sales@virt.example "^vmail rcpt=(root|info)@virt.example user=root$" \
	    "^out rcpt=x@far.example user=$"
	inb_expect -e 220 -s "EHLO c" -e 250 -s "MAIL FROM:<a@client.test>" \
	    -e 250 -s "RCPT TO:<other@virt.example>" -e 550 -x 5.1.1 \
	    -s QUIT -e 221
}
virtual_cleanup() { smtpd_cleanup; }

atf_test_case ban cleanup
ban_head() { atf_set descr "smtp ban: a listed address or CIDR is refused at connect with the message"; atf_set timeout 60; }
ban_body()
{
	inb_setup 22308 'table banned { 127.0.0.2, 127.0.1.0/24 }' \
	    'smtp ban <banned> message "Go away, spammer"'
	inb_expect -b 127.0.0.2 -e 554 -x "5.7.1 Go away, spammer" -c
	inb_expect -b 127.0.1.9 -e 554 -x 5.7.1 -c
	inb_expect -b 127.0.0.3 -e 220 -s QUIT -e 221
	inb_log_has "event=banned address=127.0.0.2"
}
ban_cleanup() { smtpd_cleanup; }

atf_test_case dnsbl cleanup
dnsbl_head() { atf_set descr "smtp dnsbl: a listed client gets 554 5.7.1 naming the zone; others pass"; atf_set timeout 60; }
dnsbl_body()
{
	command -v dnsmasq >/dev/null || atf_skip "dnsmasq not installed"
	h_world
	dns_start 22310 --host-record=2.0.0.127.bl.test,127.0.0.2 \
	    --host-record=4.0.0.127.other.test,127.0.0.4
	inb_setup 22309 'resolver 127.0.0.1 port 22310' \
	    'smtp dnsbl { "bl.test", "other.test" }'
	inb_expect -b 127.0.0.2 -e 554 -x "5.7.1" -x "bl.test" -c
	inb_expect -b 127.0.0.4 -e 554 -x "other.test" -c
	inb_expect -b 127.0.0.3 -e 220 -s QUIT -e 221
}
dnsbl_cleanup() { smtpd_cleanup; }

atf_test_case dnsbl_failure cleanup
dnsbl_failure_head() { atf_set descr "a DNSBL that does not answer never refuses a client (time-boxed)"; atf_set timeout 60; }
dnsbl_failure_body()
{
	# nothing listens on the resolver port
	inb_setup 22311 'resolver 127.0.0.1 port 22312' 'smtp dnsbl { "bl.test" }'
	start=$(date +%s)
	inb_expect -t 20 -b 127.0.0.2 -e 220 -s QUIT -e 221
	[ $(($(date +%s) - start)) -le 10 ] || atf_fail "greeting too late"
}
dnsbl_failure_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case open_relay
	atf_add_test_case unknown_user
	atf_add_test_case rules
	atf_add_test_case aliases
	atf_add_test_case alias_errors
	atf_add_test_case virtual
	atf_add_test_case ban
	atf_add_test_case dnsbl
	atf_add_test_case dnsbl_failure
}
