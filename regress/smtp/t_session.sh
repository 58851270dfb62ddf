#! /usr/bin/env atf-sh
# The ESMTP session against the running daemon: greeting, EHLO
# keywords, every command's reply code, sequence errors, limits on
# lines and errors, pipelining.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/inbound.subr"

atf_test_case greeting cleanup
greeting_head() { atf_set descr "220 greeting with the hostname, EHLO keywords"; atf_set timeout 60; }
greeting_body()
{
	inb_setup 22001
	inb_expect -e 220 -x "220 mx.test.example ESMTP" \
	    -s "EHLO client.test" -e 250 -x "250-mx.test.example Hello" \
	    -x PIPELINING -x 8BITMIME -x ENHANCEDSTATUSCODES -x "SIZE" \
	    -x SMTPUTF8 -x DSN -x CHUNKING \
	    -s "HELO client.test" -e 250 -s QUIT -e 221 -x "2.0.0" -c
	# no STARTTLS without pki, no AUTH before TLS
	atf_check -s exit:1 -o not-match:"STARTTLS" -o not-match:"AUTH" \
	    -e ignore "$H_CLIENT" -p 22001 -e 220 -s "EHLO x" -e 250 -x STARTTLS
}
greeting_cleanup() { smtpd_cleanup; }

atf_test_case listener_hostname cleanup
listener_hostname_head() { atf_set descr "per-listener hostname in the greeting"; atf_set timeout 60; }
listener_hostname_body()
{
	smtpd_setup 22002 - <<'EOT'
hostname mx.test.example
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@ hostname other.test.example
action "local" maildir "@MAILDIR@/%{rcpt.user}"
match from local for local action "local"
EOT
	smtpd_start
	inb_expect -e 220 -x "220 other.test.example ESMTP" -s QUIT -e 221
}
listener_hostname_cleanup() { smtpd_cleanup; }

atf_test_case sequence cleanup
sequence_head() { atf_set descr "503 5.5.1 for MAIL before EHLO, MAIL twice, RCPT before MAIL, DATA before RCPT"; atf_set timeout 60; }
sequence_body()
{
	inb_setup 22003
	inb_expect -e 220 -s "MAIL FROM:<a@client.test>" -e 503 -x 5.5.1 \
	    -s "EHLO client.test" -e 250 \
	    -s "RCPT TO:<root@localhost>" -e 503 -x 5.5.1 \
	    -s "DATA" -e 503 -x 5.5.1 \
	    -s "MAIL FROM:<a@client.test>" -e 250 -x 2.1.0 \
	    -s "MAIL FROM:<a@client.test>" -e 503 -x 5.5.1 \
	    -s "DATA" -e 503 -x 5.5.1 \
	    -s "BDAT 0 LAST" -e 503 -x 5.5.1 \
	    -s "RSET" -e 250 -x 2.0.0 \
	    -s "RCPT TO:<root@localhost>" -e 503 -x 5.5.1 -s QUIT -e 221
}
sequence_cleanup() { smtpd_cleanup; }

atf_test_case commands cleanup
commands_head() { atf_set descr "NOOP, HELP, VRFY 252, EXPN and ETRN 502, unknown 500, syntax 501"; atf_set timeout 60; }
commands_body()
{
	inb_setup 22004
	inb_expect -e 220 -s "NOOP" -e 250 -x 2.0.0 -s "HELP" -e 214 \
	    -x 2.0.0 -s "VRFY root" -e 252 -x 2.5.0 \
	    -s "EXPN staff" -e 502 -x 5.5.1 -s "ETRN test.example" -e 502 \
	    -x 5.5.1 -s "FOO bar" -e 500 -x 5.5.1 -s "EHLO" -e 501 \
	    -x 5.5.4 -s "DATA now" -e 501 -x 5.5.4 -s "QUIT" -e 221
}
commands_cleanup() { smtpd_cleanup; }

atf_test_case address_syntax cleanup
address_syntax_head() { atf_set descr "bad sender 553 5.1.7 / 501 5.1.7, bad recipient 553 5.1.3 / 501 5.1.3, unknown parameter 555 5.5.4"; atf_set timeout 60; }
address_syntax_body()
{
	inb_setup 22019
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a..b@client.test>" -e 553 -x 5.1.7 \
	    -s "MAIL FROM:a@client.test" -e 501 -x 5.1.7 \
	    -s "MAIL FROM:<a@client.test> FOO=1" -e 555 -x 5.5.4 \
	    -s "MAIL FROM:<a@client.test> SIZE=x" -e 501 -x 5.5.4 \
	    -s "MAIL FROM:<>" -e 250 -x 2.1.0 \
	    -s "RCPT TO:<>" -e 553 -x 5.1.3 \
	    -s "RCPT TO:<root@local host>" -e 553 -x 5.1.3 \
	    -s "RCPT TO:root@localhost" -e 501 -x 5.1.3 \
	    -s "$(printf 'RCPT TO:<r\303\266ot@localhost>')" -e 553 -x 5.6.7 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s QUIT -e 221
}
address_syntax_cleanup() { smtpd_cleanup; }

atf_test_case vrfy_yes cleanup
vrfy_yes_head() { atf_set descr "smtp vrfy yes: 250 for a local user, 550 5.1.1 for an unknown one"; atf_set timeout 60; }
vrfy_yes_body()
{
	inb_setup 22005 "smtp vrfy yes"
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "VRFY root" -e 250 -x 2.1.5 \
	    -s "VRFY <nosuchuser-xyz@localhost>" -e 550 -x 5.1.1 -s QUIT -e 221
}
vrfy_yes_cleanup() { smtpd_cleanup; }

atf_test_case etrn_yes cleanup
etrn_yes_head() { atf_set descr "smtp etrn yes: ETRN gets 250 and reaches the queue"; atf_set timeout 60; }
etrn_yes_body()
{
	inb_setup 22006 "smtp etrn yes"
	inb_expect -e 220 -s "EHLO client.test" -e 250 -x ETRN \
	    -s "ETRN test.example" -e 250 -x 2.0.0 -s QUIT -e 221
	inb_log_has "queue event=etrn domain=test.example"
}
etrn_yes_cleanup() { smtpd_cleanup; }

atf_test_case long_line cleanup
long_line_head() { atf_set descr "a command line over 512 octets gets 500 5.5.2 and the session goes on"; atf_set timeout 60; }
long_line_body()
{
	inb_setup 22007
	long=$(printf 'NOOP %0600d' 0)
	ok=$(printf 'NOOP %0505d' 0)	# 510 octets + CRLF = 512
	inb_expect -e 220 -s "$long" -e 500 -x 5.5.2 -s "$ok" -e 250 \
	    -s "NOOP" -e 250 -s QUIT -e 221
}
long_line_cleanup() { smtpd_cleanup; }

atf_test_case nul_command cleanup
nul_command_head() { atf_set descr "a NUL octet in a command gets 500 5.5.2"; atf_set timeout 60; }
nul_command_body()
{
	inb_setup 22008
	inb_expect -e 220 -r 'NOOP a\0b\r\n' -e 500 -x 5.5.2 \
	    -s NOOP -e 250 -s QUIT -e 221
}
nul_command_cleanup() { smtpd_cleanup; }

atf_test_case max_errors cleanup
max_errors_head() { atf_set descr "after 'smtp limit errors' errors the session gets 421 and is closed"; atf_set timeout 60; }
max_errors_body()
{
	inb_setup 22009 "smtp limit errors 3"
	inb_expect -e 220 -s "FOO" -e 500 -s "FOO" -e 500 -s "FOO" -e 500 \
	    -e 421 -x 4.7.0 -c
}
max_errors_cleanup() { smtpd_cleanup; }

atf_test_case pipelining cleanup
pipelining_head() { atf_set descr "a pipelined batch sent in one write gets every reply, in order"; atf_set timeout 60; }
pipelining_body()
{
	inb_setup 22010
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -r 'MAIL FROM:<a@client.test>\r\nRCPT TO:<root@localhost>\r\nRCPT TO:<nosuchuser-xyz@localhost>\r\nRCPT TO:<root@localhost>\r\nNOOP\r\nRSET\r\n' \
	    -e 250 -x 2.1.0 -e 250 -x 2.1.5 -e 550 -x 5.1.1 -e 250 \
	    -x 2.1.5 -e 250 -e 250 -x "Reset" -s QUIT -e 221
}
pipelining_cleanup() { smtpd_cleanup; }

atf_test_case timeout_slow_line cleanup
timeout_slow_line_head() { atf_set descr "a command sent one byte at a time is cut at the command timeout"; atf_set timeout 60; }
timeout_slow_line_body()
{
	inb_setup 22012 "smtp timeout 2s"
	# 12 bytes, 400 ms apart: 4.8 s for one line, each gap < 2 s
	atf_check -s ignore -o ignore -e ignore "$H_CLIENT" \
	    -p 22012 -e 220 -r N -w 400 -r O -w 400 -r O -w 400 -r P -w 400 \
	    -r ' ' -w 400 -r a -w 400 -r b -w 400 -r c -w 400 -r d -w 400 \
	    -r e -w 400 -r f -w 400 -r '\r\n' -e 250
	inb_log_has "event=timeout address=127.0.0.1"
	# a line that completes in time is served
	inb_expect -e 220 -r N -w 400 -r O -w 400 -r O -w 400 -r 'P\r\n' \
	    -e 250 -s QUIT -e 221
}
timeout_slow_line_cleanup() { smtpd_cleanup; }

atf_test_case idle_timeouts cleanup
idle_timeouts_head() { atf_set descr "idle timeout (421 4.4.2) between commands and, longer, within DATA"; atf_set timeout 60; }
idle_timeouts_body()
{
	inb_setup 22017 "smtp timeout 2s" "smtp timeout data 4s"
	start=$(date +%s)
	inb_expect -e 220 -s "EHLO client.test" -e 250 -w 3000 \
	    -e 421 -x 4.4.2 -c
	# within DATA 3 s of silence is fine, 5 s is not
	inb_tx -s DATA -e 354 -r 'Subject: x\r\n' -w 3000 \
	    -r '\r\nbody\r\n.\r\n' -e 250 -w 5000 -e 421 -x 4.4.2 -c
	inb_tx -s DATA -e 354 -r 'Subject: x\r\n' -w 5000 -e 421 -x 4.4.2 -c
}
idle_timeouts_cleanup() { smtpd_cleanup; }

atf_test_case session_limit cleanup
session_limit_head() { atf_set descr "beyond 'smtp limit sessions-per-address' a client gets 421 4.7.0"; atf_set timeout 60; }
session_limit_body()
{
	inb_setup 22013 "smtp limit sessions-per-address 2"
	"$H_CLIENT" -p 22013 -q -e 220 -w 3000 -s QUIT -e 221 &
	p1=$!
	"$H_CLIENT" -p 22013 -q -e 220 -w 3000 -s QUIT -e 221 &
	p2=$!
	sleep 1
	inb_expect -e 421 -x 4.7.0 -c
	wait "$p1" "$p2"
}
session_limit_cleanup() { smtpd_cleanup; }

atf_test_case half_close cleanup
half_close_head() { atf_set descr "a client that sends its commands and shuts down its side still gets every reply"; atf_set timeout 60; }
half_close_body()
{
	command -v python3 >/dev/null || atf_skip "python3 not installed"
	inb_setup 22014
	cat > hc.py <<'EOT'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"EHLO client.test\r\nNOOP\r\nQUIT\r\n")
s.shutdown(socket.SHUT_WR)
d = b""
while True:
    x = s.recv(4096)
    if not x:
        break
    d += x
sys.stdout.write(d.decode())
EOT
	atf_check -o match:"^250 2.0.0 Ok" -o match:"^221 2.0.0" python3 hc.py 22014
}
half_close_cleanup() { smtpd_cleanup; }

atf_test_case huge_batch cleanup
huge_batch_head() { atf_set descr "a pipelined batch far larger than the buffers gets all its replies (no stall, bounded memory)"; atf_set timeout 60; }
huge_batch_body()
{
	command -v python3 >/dev/null || atf_skip "python3 not installed"
	inb_setup 22018
	cat > hb.py <<'EOT'
import socket, sys, threading, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
n = 50000
t = threading.Thread(target=s.sendall, args=(b"NOOP\r\n" * n + b"QUIT\r\n",))
t.daemon = True
t.start()
time.sleep(0.5)		# let the server fill its side first
d = b""
while True:
    x = s.recv(65536)
    if not x:
        break
    d += x
print(d.count(b"250 2.0.0 Ok"), d.endswith(b"221 2.0.0 Bye\r\n"))
EOT
	atf_check -o inline:"50000 True\n" python3 hb.py 22018
}
huge_batch_cleanup() { smtpd_cleanup; }

atf_test_case total_limit cleanup
total_limit_head() { atf_set descr "beyond 'smtp limit sessions' a client gets 421 4.7.0"; atf_set timeout 60; }
total_limit_body()
{
	inb_setup 22015 "smtp limit sessions 1"
	"$H_CLIENT" -p 22015 -q -e 220 -w 3000 -s QUIT -e 221 &
	p1=$!
	sleep 1
	inb_expect -e 421 -x 4.7.0 -c
	wait "$p1" || atf_fail "the first session was disturbed"
	inb_expect -e 220 -s QUIT -e 221
}
total_limit_cleanup() { smtpd_cleanup; }

atf_test_case ipv6 cleanup
ipv6_head() { atf_set descr "an IPv6 loopback listener: from local, our IPv6 literal is local"; atf_set timeout 60; }
ipv6_body()
{
	[ -n "$(ip -6 addr show lo 2>/dev/null)" ] || atf_skip "no IPv6 loopback"
	smtpd_setup 22016 - <<'EOT'
hostname mx.test.example
spool "@SPOOL@"
control socket "@SOCK@"
listen on ::1 port @PORT@
listen on 127.0.0.1 port @PORT@
action "local" maildir "@DIR@/notadir/%{rcpt.user}"
match from local for local action "local"
EOT
	smtpd_start
	inb_expect -h ::1 -e 220 -s "EHLO client.test" -e 250 -x "[::1]" \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<root@[IPv6:::1]>" -e 250 \
	    -s "RCPT TO:<root@[IPv6:2001:db8::1]>" -e 550 -x 5.7.1 \
	    -s QUIT -e 221
}
ipv6_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case greeting
	atf_add_test_case listener_hostname
	atf_add_test_case sequence
	atf_add_test_case commands
	atf_add_test_case address_syntax
	atf_add_test_case vrfy_yes
	atf_add_test_case etrn_yes
	atf_add_test_case long_line
	atf_add_test_case nul_command
	atf_add_test_case max_errors
	atf_add_test_case pipelining
	atf_add_test_case timeout_slow_line
	atf_add_test_case idle_timeouts
	atf_add_test_case session_limit
	atf_add_test_case half_close
	atf_add_test_case huge_batch
	atf_add_test_case total_limit
	atf_add_test_case ipv6
}
