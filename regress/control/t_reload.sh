#! /usr/bin/env atf-sh
# smtpctl reload and SIGHUP against a running daemon: listeners added and
# removed, limits, new and removed relay actions, an invalid file, and
# sessions in progress that survive.  Ports 30000-30999.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/ctl_lib.sh"

# Start a daemon on port $1 whose file is the head plus lines $2...
r_start()
{
	_port=$1
	shift
	c_world
	{ c_conf_head; printf '%s\n' "$@"; } > "$SMTPD_DIR/tmpl"
	smtpd_setup "$_port" "$SMTPD_DIR/tmpl"
	smtpd_start
	cp "$SMTPD_CONF" base.conf
}

# The running file becomes base.conf plus lines $1...
r_conf()
{
	{ cat base.conf; printf '%s\n' "$@"; } > "$SMTPD_CONF"
}

r_reload()
{
	atf_check -o match:'configuration reloaded' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" reload
}

# Exit status of a bare connection to port $1 (0 accepted, 2 refused).
r_connect()
{
	"$H_TOOLS/smtp-client" -p "$1" -t 3 -e 220 -s QUIT -e 221 \
	    >/dev/null 2>&1
	echo $?
}

# A session on port $1 that waits 3 s between RCPT and DATA, in the
# background (pid in R_CPID, transcript in client.out).
r_slow_session()
{
	"$H_TOOLS/smtp-client" -p "$1" -t 20 -e 220 -s "EHLO c.test" -e 250 \
	    -s "MAIL FROM:<alice@localhost>" -e 250 \
	    -s "RCPT TO:<bob@localhost>" -e 250 -w 3000 -s DATA -e 354 \
	    -m "Subject: $2\n\nbody\n" -e 250 -s QUIT -e 221 \
	    > client.out 2>&1 &
	R_CPID=$!
	# smtp accepted it (the first session of the test), and it is on
	# its way through the transaction
	c_wait_log 'event=connected'
	sleep 0.5
}

atf_test_case listener_add cleanup
listener_add_head()
{
	atf_set descr "reload: a listener on a new port accepts mail"
}
listener_add_body()
{
	r_start 30001 'match from local for any action "local"'
	[ "$(r_connect 30002)" = 2 ] || atf_fail "port 30002 open before"
	r_conf 'listen on 127.0.0.1 port 30002'
	r_reload
	smtp_send 30002 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 1
	grep -q 'smtp event=listener-added listener=127.0.0.1 port=30002' \
	    "$SMTPD_LOG" || atf_fail "no listener-added log line"
	# the old one still serves
	smtp_send 30001 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 2
	smtpd_stop
}
listener_add_cleanup() { smtpd_cleanup; }

atf_test_case listener_remove cleanup
listener_remove_head()
{
	atf_set descr "reload: a removed listener refuses connections, its session in progress completes"
}
listener_remove_body()
{
	r_start 30011 'listen on 127.0.0.1 port 30012' \
	    'match from local for any action "local"'
	sed '/port 30012/d' base.conf > small.conf
	r_slow_session 30012 inflight
	cp small.conf "$SMTPD_CONF"
	r_reload
	[ "$(r_connect 30012)" = 2 ] || atf_fail "port 30012 still accepts"
	wait "$R_CPID" || atf_fail "session in progress failed: $(cat client.out)"
	c_wait_maildir 1
	grep -q 'Subject: inflight' "$(c_maildir_file 1)" ||
	    atf_fail "delivered message is not the in-flight one"
	smtp_send 30011 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 2
	smtpd_stop
}
listener_remove_cleanup() { smtpd_cleanup; }

atf_test_case max_message_size cleanup
max_message_size_head()
{
	atf_set descr "reload: a new max-message-size applies to the next session"
}
max_message_size_body()
{
	r_start 30021 'match from local for any action "local"'
	awk 'BEGIN { for (i = 0; i < 40; i++) print "0123456789012345678901234567890123456789012345678" }' > big.txt
	smtp_expect 30021 -e 220 -s "EHLO c.test" -e 250 \
	    -x "SIZE 36700160" -s QUIT -e 221 >/dev/null
	r_conf 'smtp max-message-size 1K'
	r_reload
	smtp_expect 30021 -e 220 -s "EHLO c.test" -e 250 -x "SIZE 1024" \
	    -s "MAIL FROM:<alice@localhost> SIZE=2000" -e 552 \
	    -s "MAIL FROM:<alice@localhost>" -e 250 \
	    -s "RCPT TO:<bob@localhost>" -e 250 -s DATA -e 354 \
	    -D big.txt -e 552 -s QUIT -e 221 >/dev/null
	[ "$(c_count)" = 0 ] || atf_fail "a message over the limit was delivered"
	# back to the default: the same message passes
	cp base.conf "$SMTPD_CONF"
	r_reload
	SMTP_BODY=big.txt smtp_send 30021 alice@localhost bob@localhost \
	    >/dev/null
	c_wait_maildir 1
	smtpd_stop
}
max_message_size_cleanup() { smtpd_cleanup; }

atf_test_case relay_action cleanup
relay_action_head()
{
	atf_set descr "reload: a new relay action and its rule route mail"
}
relay_action_body()
{
	r_start 30031 'match from local for rcpt-to "bob@localhost" action "local"'
	peer_start p 30032
	atf_check -s exit:1 -o ignore -e ignore "$H_TOOLS/smtp-client" \
	    -p 30031 -e 220 -s "EHLO c.test" -e 250 \
	    -s "MAIL FROM:<alice@localhost>" -e 250 \
	    -s "RCPT TO:<far@remote.test>" -e 250
	r_conf 'action "out" relay host "127.0.0.1:30032"' \
	    'match from local for domain "remote.test" action "out"'
	r_reload
	smtp_send 30031 alice@localhost far@remote.test >/dev/null
	peer_wait p 1 || atf_fail "the new relay action did not deliver"
	# the local action still works
	smtp_send 30031 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 1
	peer_stop p
	smtpd_stop
}
relay_action_cleanup() { smtpd_cleanup; }

atf_test_case action_removed cleanup
action_removed_head()
{
	atf_set descr "reload: mail queued for a removed action stays queued and says why; it leaves once the action is back"
}
action_removed_body()
{
	r_start 30041 'action "out" relay host "127.0.0.1:30042"' \
	    'match from local for domain "remote.test" action "out"'
	# the relay is down: the mail stays queued
	smtp_send 30041 alice@localhost far@remote.test >/dev/null
	c_wait_log 'event=tempfail'
	sed -e '/"out"/d' base.conf > "$SMTPD_CONF"
	r_reload
	ctl schedule all >/dev/null || atf_fail "schedule all"
	c_wait_log 'action out no longer configured'
	ctl show queue > q.txt
	grep -q 'action out no longer configured' q.txt ||
	    atf_fail "show queue: $(cat q.txt)"
	grep -q 'far@remote.test' q.txt || atf_fail "envelope lost"
	# the action comes back, its relay now alive
	peer_start p 30042
	cp base.conf "$SMTPD_CONF"
	r_reload
	_n=300
	while [ "$_n" -gt 0 ] && [ "$(peer_count p)" -lt 1 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ "$_n" -gt 0 ] || atf_fail "held mail not delivered after reload: $(tail -n 4 "$SMTPD_LOG" | tr '\n' ' ')"
	peer_stop p
	smtpd_stop
}
action_removed_cleanup() { smtpd_cleanup; }

atf_test_case invalid cleanup
invalid_head()
{
	atf_set descr "reload: an invalid file changes nothing and says FILE:LINE"
}
invalid_body()
{
	r_start 30051 'match from local for any action "local"'
	r_conf 'listen on 127.0.0.1 port 30052' 'smtp max-message-size 1K' \
	    'match from local for any action "nowhere"'
	atf_check -s exit:1 -e match:"^$SMTPD_CONF:[0-9]+: " \
	    -e match:'nothing changed' "$SMTPCTL_BIN" -s "$SMTPD_SOCK" reload
	[ "$(r_connect 30052)" = 2 ] || atf_fail "listener of a bad file opened"
	smtp_expect 30051 -e 220 -s "EHLO c.test" -e 250 \
	    -x "SIZE 36700160" -s QUIT -e 221 >/dev/null
	smtp_send 30051 alice@localhost bob@localhost >/dev/null
	c_wait_maildir 1
	# a listener the parent cannot open: the whole file is refused
	peer_start p 30053
	r_conf 'listen on 127.0.0.1 port 30053' 'smtp max-message-size 1K'
	atf_check -s exit:1 -e match:"^$SMTPD_CONF:[0-9]+: cannot listen" \
	    -e match:'nothing changed' "$SMTPCTL_BIN" -s "$SMTPD_SOCK" reload
	smtp_expect 30051 -e 220 -s "EHLO c.test" -e 250 \
	    -x "SIZE 36700160" -s QUIT -e 221 >/dev/null
	peer_stop p
	smtpd_stop
}
invalid_cleanup() { smtpd_cleanup; }

atf_test_case sighup cleanup
sighup_head()
{
	atf_set descr "SIGHUP reloads like smtpctl reload"
}
sighup_body()
{
	r_start 30061 'match from local for any action "local"'
	# the parent handles SIGHUP once it logged its start
	c_wait_log 'parent event=started'
	r_conf 'listen on 127.0.0.1 port 30062' 'smtp max-message-size 1K'
	kill -HUP "$(cat "$SMTPD_DIR/smtpd.pid")"
	c_wait_log 'lka event=reload result=ok'
	smtp_expect 30062 -e 220 -s "EHLO c.test" -e 250 -x "SIZE 1024" \
	    -s QUIT -e 221 >/dev/null
	smtpd_stop
}
sighup_cleanup() { smtpd_cleanup; }

atf_test_case inflight cleanup
inflight_head()
{
	atf_set descr "reload: a session in progress on a kept listener survives two reloads and delivers"
}
inflight_body()
{
	r_start 30071 'match from local for any action "local"'
	r_slow_session 30071 survivor
	r_conf 'hostname other.test' 'listen on 127.0.0.1 port 30072'
	r_reload
	kill -HUP "$(cat "$SMTPD_DIR/smtpd.pid")"
	c_wait_log 'parent event=reload result=ok'
	wait "$R_CPID" || atf_fail "session in progress failed: $(cat client.out)"
	c_wait_maildir 1
	grep -q 'Subject: survivor' "$(c_maildir_file 1)" ||
	    atf_fail "not the in-flight message"
	smtp_expect 30071 -e 220 -x other.test -s QUIT -e 221 >/dev/null
	smtpd_stop
}
inflight_cleanup() { smtpd_cleanup; }

atf_test_case tls_listener cleanup
tls_listener_head()
{
	atf_set descr "reload: a new smtps listener serves TLS with its pki; a key that does not match is refused"
}
tls_listener_body()
{
	r_start 30081 'match from local for any action "local"'
	pki_make "$SMTPD_DIR/pki"
	_p=$SMTPD_DIR/pki
	r_conf "pki localhost cert \"$_p/server.crt\" key \"$_p/rogue.key\"" \
	    'listen on 127.0.0.1 port 30082 smtps pki localhost'
	atf_check -s exit:1 -e match:"^$SMTPD_CONF:[0-9]+: pki localhost" \
	    -e match:'nothing changed' "$SMTPCTL_BIN" -s "$SMTPD_SOCK" reload
	[ "$(r_connect 30082)" = 2 ] || atf_fail "listener of a bad file opened"
	r_conf "pki localhost cert \"$_p/server.crt\" key \"$_p/server.key\"" \
	    'listen on 127.0.0.1 port 30082 smtps pki localhost'
	r_reload
	smtp_expect 30082 --smtps --ca "$_p/ca.crt" -e 220 \
	    -s "EHLO c.test" -e 250 -s QUIT -e 221 >/dev/null
	smtpd_stop
}
tls_listener_cleanup() { smtpd_cleanup; }

atf_test_case relay_to_local cleanup
relay_to_local_head()
{
	atf_set descr "reload: mail queued for a relay action that becomes local is delivered locally"
}
relay_to_local_body()
{
	r_start 30091 'action "out" relay host "127.0.0.1:30092"' \
	    'match from local for rcpt-to "bob@localhost" action "out"'
	smtp_send 30091 alice@localhost bob@localhost >/dev/null
	c_wait_log 'event=tempfail'
	sed -e '/"out"/d' base.conf > "$SMTPD_CONF"
	echo "action \"out\" maildir \"$SMTPD_DIR/maildir\" $LOCALUSER" \
	    >> "$SMTPD_CONF"
	echo 'match from local for rcpt-to "bob@localhost" action "out"' \
	    >> "$SMTPD_CONF"
	r_reload
	ctl schedule all >/dev/null || atf_fail "schedule all"
	c_wait_maildir 1
	smtpd_stop
}
relay_to_local_cleanup() { smtpd_cleanup; }

atf_test_case resolvers cleanup
resolvers_head()
{
	atf_set descr "reload: new resolver servers answer the next lookups"
}
resolvers_body()
{
	c_world
	dns_start 30102 --mx-host=mx.test,mx1.mx.test,10 \
	    --host-record=mx1.mx.test,127.0.0.3
	mv "$SMTPD_DIR/dns.pid" "$SMTPD_DIR/dnsa.pid"
	dns_start 30103 --mx-host=mx.test,mx9.mx.test,10 \
	    --host-record=mx9.mx.test,127.0.0.9
	r_start 30101 'resolver 127.0.0.1 port 30102' 'action "out" relay' \
	    'match from local for domain "mx.test" action "out"'
	ctl show route a@mx.test > out 2>&1
	grep -q 'hop 1: 127.0.0.3:25 host=mx1.mx.test' out ||
	    atf_fail "before: $(tr '\n' ' ' < out)"
	sed 's/port 30102/port 30103/' base.conf > "$SMTPD_CONF"
	r_reload
	ctl show route a@mx.test > out 2>&1
	grep -q 'hop 1: 127.0.0.9:25 host=mx9.mx.test' out ||
	    atf_fail "after: $(tr '\n' ' ' < out)"
	smtpd_stop
}
resolvers_cleanup() { smtpd_cleanup; }

atf_test_case relay_ca cleanup
relay_ca_head()
{
	atf_set descr "reload: a CA file given to a relay action is what mta verifies against next"
}
relay_ca_body()
{
	c_world
	pki_make "$SMTPD_DIR/pki"
	_p=$SMTPD_DIR/pki
	peer_start p 30112 --starttls --cert "$_p/server.crt" \
	    --key "$_p/server.key"
	r_start 30111 'action "out" relay host "smtp+tls://localhost:30112"' \
	    'match from local for domain "remote.test" action "out"'
	smtp_send 30111 alice@localhost far@remote.test >/dev/null
	c_wait_log 'event=tempfail'
	[ "$(peer_count p)" = 0 ] || atf_fail "sent without verification"
	sed "s|smtp+tls://localhost:30112\"|&  ca \"$_p/ca.crt\"|" base.conf \
	    > "$SMTPD_CONF"
	grep -q 'ca "' "$SMTPD_CONF" || atf_fail "test file not edited"
	r_reload
	ctl schedule all >/dev/null || atf_fail "schedule all"
	_n=200
	while [ "$_n" -gt 0 ] && [ "$(peer_count p)" -lt 1 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ "$_n" -gt 0 ] || atf_fail "not relayed with the new CA: $(tail -n 4 "$SMTPD_LOG" | tr '\n' ' ')"
	peer_stop p
	smtpd_stop
}
relay_ca_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case relay_ca
	atf_add_test_case resolvers
	atf_add_test_case tls_listener
	atf_add_test_case relay_to_local
	atf_add_test_case listener_add
	atf_add_test_case listener_remove
	atf_add_test_case max_message_size
	atf_add_test_case relay_action
	atf_add_test_case action_removed
	atf_add_test_case invalid
	atf_add_test_case sighup
	atf_add_test_case inflight
}
