#! /usr/bin/env atf-sh
# DATA and BDAT against the running daemon: a message reaches the queue
# with its envelope and a Received header; end of data is CRLF.CRLF
# only (every smuggling variant refused); NUL, long lines, size and hop
# limits; DSN and SMTPUTF8 kept in the envelope.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/inbound.subr"

atf_test_case accepted cleanup
accepted_head() { atf_set descr "a message is queued with its envelope and a Received header first"; atf_set timeout 60; }
accepted_body()
{
	inb_setup 22101
	inb_tx -s "RCPT TO:<root@test.example>" -e 250 -s DATA -e 354 \
	    -m 'Subject: hello\n\n.dot-stuffed\nbody\n' -e 250 -x 2.0.0 \
	    -s QUIT -e 221
	[ "$(inb_queue_count)" -eq 2 ] || atf_fail "expected 2 envelopes"
	inb_envelope_has "^sender: a@client.test$"
	inb_envelope_has "^rcpt: root@test.example$"
	inb_envelope_has "^action: local$"
	inb_envelope_has "^helo: client.test$"
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	head -1 "$msg" | grep -q "^Received: from client.test (\[127.0.0.1\])" ||
	    atf_fail "no Received header first"
	grep -q "by mx.test.example (smtpd) with ESMTP id" "$msg" ||
	    atf_fail "Received lacks by/with/id"
	grep -q "^\.dot-stuffed" "$msg" || atf_fail "dot not unstuffed"
	grep -q "^\.\.dot" "$msg" && atf_fail "dot left stuffed"
	grep -q "$(printf 'body\r$')" "$msg" || atf_fail "no CRLF line ends"
}
accepted_cleanup() { smtpd_cleanup; }

atf_test_case smuggling cleanup
smuggling_head() { atf_set descr "bare LF/CR end-of-data variants never end the message and refuse it with 550 5.6.0"; atf_set timeout 120; }
smuggling_body()
{
	inb_setup 22102
	for v in '\n.\n' '\r.\r' '\n.\r\n' '\r\n.\n' '\r\n.\r' '\r.\r\n' \
	    '\n.\r' 'x\n'; do
		inb_tx -s DATA -e 354 \
		    -r "Subject: x\r\n\r\nbody$v" \
		    -r 'MAIL FROM:<evil@client.test>\r\nRCPT TO:<root@localhost>\r\nDATA\r\nsmuggled\r\n.\r\n' \
		    -e 550 -x 5.6.0 -s NOOP -e 250 -s QUIT -e 221
	done
	[ "$(inb_queue_count)" -eq 0 ] || atf_fail "a message was queued"
}
smuggling_cleanup() { smtpd_cleanup; }

atf_test_case dot_not_end cleanup
dot_not_end_head() { atf_set descr "'.' followed by anything but CRLF is not the end of data"; atf_set timeout 60; }
dot_not_end_body()
{
	inb_setup 22103
	inb_tx -s DATA -e 354 -r 'Subject: x\r\n\r\n.x\r\n. \r\n..\r\n' \
	    -w 300 -s NOOP -r '.\r\n' -e 250 -x 2.0.0 -s QUIT -e 221
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	grep -q '^NOOP' "$msg" || atf_fail "NOOP line not in the body"
	grep -q '^x' "$msg" || atf_fail ".x not unstuffed to x"
}
dot_not_end_cleanup() { smtpd_cleanup; }

atf_test_case nul_data cleanup
nul_data_head() { atf_set descr "a NUL octet in DATA refuses the message with 550 5.6.0"; atf_set timeout 60; }
nul_data_body()
{
	inb_setup 22104
	inb_tx -s DATA -e 354 -r 'Subject: x\r\n\r\na\0b\r\n.\r\n' \
	    -e 550 -x 5.6.0 -s NOOP -e 250 -s QUIT -e 221
	[ "$(inb_queue_count)" -eq 0 ] || atf_fail "a message was queued"
}
nul_data_cleanup() { smtpd_cleanup; }

atf_test_case long_data_line cleanup
long_data_line_head() { atf_set descr "a text line over 1000 octets refuses the message with 550 5.6.0 after the dot"; atf_set timeout 60; }
long_data_line_body()
{
	inb_setup 22105
	ok=$(printf '%0998d' 0)
	long=$(printf '%0999d' 0)
	inb_tx -s DATA -e 354 -r "Subject: x\r\n\r\n$ok\r\n.\r\n" \
	    -e 250 -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s DATA -e 354 \
	    -r "Subject: x\r\n\r\n$long\r\n.\r\n" -e 550 -x 5.6.0 \
	    -s NOOP -e 250 -s QUIT -e 221
	[ "$(inb_queue_count)" -eq 1 ] || atf_fail "expected 1 envelope"
}
long_data_line_cleanup() { smtpd_cleanup; }

atf_test_case max_size cleanup
max_size_head() { atf_set descr "SIZE= over max-message-size gets 552 5.3.4 at MAIL; a bigger body 552 5.3.4 after the dot"; atf_set timeout 60; }
max_size_body()
{
	inb_setup 22106 "smtp max-message-size 2K"
	body=$(printf '%0900d\\r\\n%0900d\\r\\n%0900d\\r\\n' 0 0 0)
	inb_expect -e 220 -s "EHLO client.test" -e 250 -x "SIZE 2048" \
	    -s "MAIL FROM:<a@client.test> SIZE=4096" -e 552 -x 5.3.4 \
	    -s "MAIL FROM:<a@client.test> SIZE=1000" -e 250 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s DATA -e 354 \
	    -r "Subject: x\r\n\r\n$body.\r\n" -e 552 -x 5.3.4 \
	    -s NOOP -e 250 -s QUIT -e 221
	[ "$(inb_queue_count)" -eq 0 ] || atf_fail "a message was queued"
}
max_size_cleanup() { smtpd_cleanup; }

atf_test_case max_hops cleanup
max_hops_head() { atf_set descr "more Received headers than max-hops: 554 5.4.6"; atf_set timeout 60; }
max_hops_body()
{
	inb_setup 22107 "smtp max-hops 3"
	r='Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n'
	inb_tx -s DATA -e 354 -r "$r$r${r}Subject: x\r\n\r\nbody\r\n.\r\n" \
	    -e 250 -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s DATA -e 354 \
	    -r "$r$r$r${r}Subject: x\r\n\r\nbody\r\n.\r\n" -e 554 -x 5.4.6 \
	    -s QUIT -e 221
	[ "$(inb_queue_count)" -eq 1 ] || atf_fail "expected 1 envelope"
}
max_hops_cleanup() { smtpd_cleanup; }

atf_test_case max_rcpt cleanup
max_rcpt_head() { atf_set descr "recipients beyond max-rcpt get 452 4.5.3"; atf_set timeout 60; }
max_rcpt_body()
{
	inb_setup 22108 "smtp max-rcpt 2"
	inb_tx -s "RCPT TO:<root@test.example>" -e 250 \
	    -s "RCPT TO:<root@[127.0.0.1]>" -e 452 -x 4.5.3 -s QUIT -e 221
}
max_rcpt_cleanup() { smtpd_cleanup; }

atf_test_case bdat cleanup
bdat_head() { atf_set descr "BDAT chunks are queued verbatim; LAST gets the queue's 250"; atf_set timeout 60; }
bdat_body()
{
	inb_setup 22109
	# a refused chunk is still consumed: its bytes never run as commands
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -r 'BDAT 6\r\nRSET\r\n' -e 503 -x 5.5.1 \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -r 'BDAT 6\r\nRSET\r\n' -e 503 -x 5.5.1 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s QUIT -e 221
	inb_tx -r 'BDAT 14\r\nSubject: x\r\n\r\nBDAT 8 LAST\r\n.body.\r\n' \
	    -e 250 -x "14 octets" -e 250 -x 2.0.0 -s QUIT -e 221
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	grep -q '^\.body\.' "$msg" || atf_fail "BDAT data altered"
	grep -q '^Received: ' "$msg" || atf_fail "no Received header"
}
bdat_cleanup() { smtpd_cleanup; }

atf_test_case dsn_kept cleanup
dsn_kept_head() { atf_set descr "RET, ENVID, NOTIFY, ORCPT are kept in the envelope"; atf_set timeout 60; }
dsn_kept_body()
{
	inb_setup 22110
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test> RET=HDRS ENVID=QQ+2B314" -e 250 \
	    -s "RCPT TO:<root@localhost> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;root+40localhost" \
	    -e 250 -s DATA -e 354 -m 'Subject: x\n\nbody\n' -e 250 \
	    -s QUIT -e 221
	inb_envelope_has "^dsn-ret: hdrs"
	inb_envelope_has "^dsn-envid: QQ\+314$"
	inb_envelope_has "^dsn-orcpt: rfc822;root@localhost$"
	inb_envelope_has "^dsn-notify: (success,delay|5)$"
}
dsn_kept_cleanup() { smtpd_cleanup; }

atf_test_case xtext_ctl cleanup
xtext_ctl_head() { atf_set descr "xtext ORCPT/ENVID/AUTH decoding to CR, LF or NUL gets 501 5.5.4"; atf_set timeout 60; }
xtext_ctl_body()
{
	inb_setup 22111
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test> ENVID=a+0Db" -e 501 -x 5.5.4 \
	    -s "MAIL FROM:<a@client.test> AUTH=a+0Ab" -e 501 -x 5.5.4 \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<root@localhost> ORCPT=rfc822;a+00b" -e 501 -x 5.5.4 \
	    -s "RCPT TO:<root@localhost> FOO=bar" -e 555 -x 5.5.4 \
	    -s QUIT -e 221
}
xtext_ctl_cleanup() { smtpd_cleanup; }

atf_test_case utf8 cleanup
utf8_head() { atf_set descr "a UTF-8 address needs SMTPUTF8 (553 5.6.7), with it it is kept"; atf_set timeout 60; }
utf8_body()
{
	inb_setup 22112
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "$(printf 'MAIL FROM:<j\303\266rg@client.test>')" -e 553 -x 5.6.7 \
	    -s "$(printf 'MAIL FROM:<j\303\266rg@client.test> SMTPUTF8')" -e 250 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s DATA -e 354 \
	    -m 'Subject: x\n\nbody\n' -e 250 -s QUIT -e 221
	inb_envelope_has "$(printf '^sender: j\303\266rg@client.test$')"
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	grep -q "with UTF8SMTP id" "$msg" || atf_fail "Received lacks UTF8SMTP"
}
utf8_cleanup() { smtpd_cleanup; }

atf_test_case min_free_space cleanup
min_free_space_head() { atf_set descr "below min-free-space MAIL gets 452 4.3.1"; atf_set timeout 60; }
min_free_space_body()
{
	inb_setup 22113 "smtp min-free-space 100000000M"
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 452 -x 4.3.1 \
	    -s "RCPT TO:<root@localhost>" -e 503 -s QUIT -e 221
}
min_free_space_cleanup() { smtpd_cleanup; }

atf_test_case free_space_ok cleanup
free_space_ok_head() { atf_set descr "above min-free-space MAIL is accepted"; atf_set timeout 60; }
free_space_ok_body()
{
	inb_setup 22114 "smtp min-free-space 1K"
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 250 -s QUIT -e 221
}
free_space_ok_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case accepted
	atf_add_test_case smuggling
	atf_add_test_case dot_not_end
	atf_add_test_case nul_data
	atf_add_test_case long_data_line
	atf_add_test_case max_size
	atf_add_test_case max_hops
	atf_add_test_case max_rcpt
	atf_add_test_case bdat
	atf_add_test_case dsn_kept
	atf_add_test_case xtext_ctl
	atf_add_test_case utf8
	atf_add_test_case min_free_space
	atf_add_test_case free_space_ok
}
