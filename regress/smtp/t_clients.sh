#! /usr/bin/env atf-sh
# Real clients: mail from swaks and from Python's smtplib reaches the
# queue with its envelope (sender, recipients, DSN parameters, action)
# intact.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/inbound.subr"

atf_test_case swaks cleanup
swaks_head() { atf_set descr "swaks with pipelining: queued with its envelope"; atf_set timeout 60; }
swaks_body()
{
	command -v swaks >/dev/null || atf_skip "swaks not installed"
	inb_setup 22401 "smtp max-message-size 1M"
	atf_check -o match:"250 2.0.0" -e ignore swaks --server 127.0.0.1 \
	    --port 22401 --ehlo client.test --from sender@client.test \
	    --to root@localhost,root@test.example --pipeline \
	    --header "Subject: swaks test" --body "hello from swaks"
	[ "$(inb_queue_count)" -eq 2 ] || atf_fail "expected 2 envelopes"
	inb_envelope_has "^sender: sender@client.test$"
	inb_envelope_has "^rcpt: root@localhost$"
	inb_envelope_has "^rcpt: root@test.example$"
	inb_envelope_has "^action: local$"
	grep -rq "hello from swaks" "$SMTPD_SPOOL/queue" ||
	    atf_fail "body not queued"
}
swaks_cleanup() { smtpd_cleanup; }

atf_test_case smtplib cleanup
smtplib_head() { atf_set descr "Python smtplib with DSN and SMTPUTF8: queued with its envelope"; atf_set timeout 60; }
smtplib_body()
{
	command -v python3 >/dev/null || atf_skip "python3 not installed"
	inb_setup 22402
	cat > send.py <<'EOT'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="py.test")
s.ehlo()
assert s.has_extn("dsn") and s.has_extn("smtputf8") and s.has_extn("pipelining")
msg = "Subject: py\r\nFrom: p@client.test\r\n\r\nhello from smtplib\r\n"
r = s.sendmail("p\u00e9@client.test", ["root@localhost"], msg.encode(),
    mail_options=["SMTPUTF8", "RET=HDRS", "ENVID=py+2Benv"],
    rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;root@localhost"])
assert r == {}, r
try:
    s.sendmail("p@client.test", ["nobody-xyz@localhost"], msg)
    sys.exit("unknown user accepted")
except smtplib.SMTPRecipientsRefused as e:
    code = e.recipients["nobody-xyz@localhost"][0]
    assert code == 550, code
s.quit()
print("ok")
EOT
	atf_check -o inline:"ok\n" python3 send.py 22402
	inb_envelope_has "$(printf '^sender: p\303\251@client.test$')"
	inb_envelope_has "^rcpt: root@localhost$"
	inb_envelope_has "^helo: py.test$"
	inb_envelope_has "^dsn-ret: hdrs$"
	inb_envelope_has "^dsn-envid: py\+env$"
	inb_envelope_has "^dsn-orcpt: rfc822;root@localhost$"
	inb_envelope_has "^flags: .*"
	[ "$(inb_queue_count)" -eq 1 ] || atf_fail "expected 1 envelope"
}
smtplib_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case swaks
	atf_add_test_case smtplib
}
