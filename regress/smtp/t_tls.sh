#! /usr/bin/env atf-sh
# STARTTLS, smtps, tls-require and AUTH against the running daemon, with
# the harness's throw-away CA: handshake and Received details, commands
# injected before TLS discarded, state reset after TLS, AUTH PLAIN and
# LOGIN success, failure, malformed base64, refusal before TLS, and the
# AUTH failure limit.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/inbound.subr"

# tls_setup PORT: three listeners: PORT (tls, auth-optional), PORT+1
# (tls-require, auth, received-auth), PORT+2 (smtps, auth).
tls_setup()
{
	PORT2=$(($1 + 1))
	PORT3=$(($1 + 2))
	smtpd_setup "$1" - <<'EOT'
hostname mx.test.example
spool "@SPOOL@"
control socket "@SOCK@"
smtp limit auth-failures 2
pki mx.test.example cert "@PKI@/server.crt" key "@PKI@/server.key"
table passwd file:@DIR@/passwd
listen on 127.0.0.1 port @PORT@ tls pki mx.test.example auth-optional <passwd>
listen on 127.0.0.1 port @PORT2@ tls-require pki mx.test.example auth <passwd> received-auth
listen on 127.0.0.1 port @PORT3@ smtps pki mx.test.example auth <passwd>
action "local" maildir "@DIR@/notadir/%{rcpt.user}"
action "out" relay host "127.0.0.1:1"
match from auth for any action "out"
match from local for local action "local"
EOT
	: > "$SMTPD_DIR/notadir"	# local deliveries stay queued
	pki_make "$SMTPD_DIR/pki"
	# "alice" / "secret" ; "bob" / "pass word"
	printf 'alice %s\nbob %s\n' "$(openssl passwd -6 -salt s4lt secret)" \
	    "$(openssl passwd -6 -salt s4lt 'pass word')" > "$SMTPD_DIR/passwd"
	chmod 644 "$SMTPD_DIR/passwd"
	smtpd_start
	inb_hold
	CA="--ca $SMTPD_DIR/pki/ca.crt"
}

b64() { printf '%b' "$1" | openssl base64 -A; }

atf_test_case starttls cleanup
starttls_head() { atf_set descr "STARTTLS with the listener's pki verifies against the CA; EHLO again is required; Received names TLS"; atf_set timeout 60; }
starttls_body()
{
	tls_setup 22201
	inb_expect $CA -e 220 -s "EHLO client.test" -e 250 -x STARTTLS \
	    -s STARTTLS -e 220 -x 2.0.0 -T \
	    -s "MAIL FROM:<a@client.test>" -e 503 -x 5.5.1 \
	    -s "EHLO client.test" -e 250 -x "AUTH PLAIN LOGIN" \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<root@localhost>" -e 250 -s DATA -e 354 \
	    -m 'Subject: x\n\nbody\n' -e 250 -s QUIT -e 221
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	grep -q "with ESMTPS id" "$msg" || atf_fail "Received lacks ESMTPS"
	grep -q "(version=TLSv1\.[23] cipher=" "$msg" ||
	    atf_fail "Received lacks TLS version and cipher"
	# no second STARTTLS
	atf_check -s exit:1 -o match:"STARTTLS" -e ignore "$H_CLIENT" \
	    -p 22201 $CA -e 220 -s "EHLO x" -e 250 -s STARTTLS -e 220 -T \
	    -s "EHLO x" -e 250 -x STARTTLS
}
starttls_cleanup() { smtpd_cleanup; }

atf_test_case starttls_injection cleanup
starttls_injection_head() { atf_set descr "commands pipelined after STARTTLS in the same packet are discarded (CVE-2011-0411)"; atf_set timeout 60; }
starttls_injection_body()
{
	tls_setup 22204
	# had the injected commands run inside TLS, the NOOP would answer
	# 250 first and MAIL would be accepted without EHLO
	inb_expect $CA -e 220 -s "EHLO client.test" -e 250 \
	    -r 'STARTTLS\r\nNOOP\r\nEHLO evil\r\nMAIL FROM:<evil@client.test>\r\n' \
	    -e 220 -T -s "MAIL FROM:<a@client.test>" -e 503 -x 5.5.1 \
	    -s QUIT -e 221
	inb_log_has "event=starttls-injection"
}
starttls_injection_cleanup() { smtpd_cleanup; }

atf_test_case tls_require cleanup
tls_require_head() { atf_set descr "tls-require: MAIL before STARTTLS gets 530 5.7.0, AUTH before TLS 538 5.7.11"; atf_set timeout 60; }
tls_require_body()
{
	tls_setup 22207
	inb_expect -p 22208 -e 220 -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 530 -x 5.7.0 \
	    -s "AUTH PLAIN $(b64 '\0alice\0secret')" -e 538 -x 5.7.11 \
	    -s QUIT -e 221
}
tls_require_cleanup() { smtpd_cleanup; }

atf_test_case auth_required cleanup
auth_required_head() { atf_set descr "listener 'auth': MAIL without AUTH gets 530 5.7.0; after AUTH the mail is relayed and Received names the user"; atf_set timeout 60; }
auth_required_body()
{
	tls_setup 22210
	inb_expect -p 22211 $CA -e 220 -s "EHLO client.test" -e 250 \
	    -s STARTTLS -e 220 -T -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 530 -x 5.7.0 \
	    -s "AUTH PLAIN $(b64 '\0alice\0secret')" -e 235 -x 2.7.0 \
	    -s "MAIL FROM:<alice@client.test>" -e 250 \
	    -s "RCPT TO:<someone@elsewhere.example>" -e 250 -s DATA -e 354 \
	    -m 'Subject: x\n\nbody\n' -e 250 -s QUIT -e 221
	inb_envelope_has "^auth-user: alice$"
	inb_envelope_has "^action: out$"
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	grep -q "with ESMTPSA id" "$msg" || atf_fail "Received lacks ESMTPSA"
	grep -q "authenticated user alice" "$msg" ||
	    atf_fail "Received lacks the user"
}
auth_required_cleanup() { smtpd_cleanup; }

atf_test_case auth_login cleanup
auth_login_head() { atf_set descr "AUTH LOGIN succeeds; the user is not named in Received without received-auth"; atf_set timeout 60; }
auth_login_body()
{
	tls_setup 22213
	inb_expect $CA -e 220 -s "EHLO client.test" -e 250 -s STARTTLS \
	    -e 220 -T -s "EHLO client.test" -e 250 -s "AUTH LOGIN" -e 334 \
	    -x VXNlcm5hbWU6 -s "$(b64 bob)" -e 334 -x UGFzc3dvcmQ6 \
	    -s "$(b64 'pass word')" -e 235 -x 2.7.0 \
	    -s "AUTH PLAIN $(b64 '\0bob\0pass word')" -e 503 \
	    -s "MAIL FROM:<bob@client.test>" -e 250 \
	    -s "RCPT TO:<x@elsewhere.example>" -e 250 -s DATA -e 354 \
	    -m 'Subject: x\n\nbody\n' -e 250 -s QUIT -e 221
	msg=$(find "$SMTPD_SPOOL/queue" -name message | head -1)
	grep -q "authenticated user" "$msg" && atf_fail "user named"
	return 0
}
auth_login_cleanup() { smtpd_cleanup; }

atf_test_case auth_failure cleanup
auth_failure_head() { atf_set descr "a wrong password gets 535 5.7.8; malformed base64 501 5.5.2; after the limit 421 and close"; atf_set timeout 60; }
auth_failure_body()
{
	tls_setup 22216
	inb_expect $CA -e 220 -s "EHLO client.test" -e 250 -s STARTTLS \
	    -e 220 -T -s "EHLO client.test" -e 250 \
	    -s "AUTH PLAIN not*base64" -e 501 -x 5.5.2 \
	    -s "AUTH PLAIN $(b64 '\0alice\0wrong')" -e 535 -x 5.7.8 \
	    -s "AUTH PLAIN" -e 334 -s "*" -e 501 \
	    -s "AUTH PLAIN $(b64 '\0nobody\0secret')" -e 535 -x 5.7.8 \
	    -e 421 -c
	# relaying is refused without AUTH
	inb_expect $CA -e 220 -s "EHLO client.test" -e 250 -s STARTTLS \
	    -e 220 -T -s "EHLO client.test" -e 250 \
	    -s "MAIL FROM:<a@client.test>" -e 250 \
	    -s "RCPT TO:<x@elsewhere.example>" -e 550 -x 5.7.1 -s QUIT -e 221
}
auth_failure_cleanup() { smtpd_cleanup; }

atf_test_case auth_before_tls cleanup
auth_before_tls_head() { atf_set descr "AUTH in the clear gets 538 5.7.11 and AUTH is not advertised"; atf_set timeout 60; }
auth_before_tls_body()
{
	tls_setup 22219
	inb_expect -e 220 -s "EHLO client.test" -e 250 \
	    -s "AUTH PLAIN $(b64 '\0alice\0secret')" -e 538 -x 5.7.11 \
	    -s QUIT -e 221
	atf_check -s exit:1 -o ignore -e ignore "$H_CLIENT" -p 22219 -e 220 \
	    -s "EHLO x" -e 250 -x "AUTH"
}
auth_before_tls_cleanup() { smtpd_cleanup; }

atf_test_case smtps cleanup
smtps_head() { atf_set descr "smtps: TLS from the first byte, then the greeting; a plain client gets nothing"; atf_set timeout 60; }
smtps_body()
{
	tls_setup 22222
	inb_expect -p 22224 --smtps $CA -e 220 -x "mx.test.example ESMTP" \
	    -s "EHLO client.test" -e 250 -x "AUTH PLAIN" \
	    -s "AUTH PLAIN $(b64 '\0alice\0secret')" -e 235 -s QUIT -e 221
	atf_check -s not-exit:0 -o ignore -e ignore "$H_CLIENT" -p 22224 \
	    -t 3 -e 220
}
smtps_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case starttls
	atf_add_test_case starttls_injection
	atf_add_test_case tls_require
	atf_add_test_case auth_required
	atf_add_test_case auth_login
	atf_add_test_case auth_failure
	atf_add_test_case auth_before_tls
	atf_add_test_case smtps
}
