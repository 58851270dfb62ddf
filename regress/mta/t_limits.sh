#! /usr/bin/env atf-sh
# The configurable outbound limits and timeouts of mta (`mta limit
# connections-per-hop|connections-per-domain|messages-per-connection`,
# `mta timeout reply|idle`) seen from a slow smtp-peer: how many
# connections it was given for a burst of messages.  Ports 31100-31199.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# $1: extra global lines.  Everything is relayed to the peer.
l_conf()
{
	cat <<EOF
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
queue retry 1s max 2s
$1
action "out" relay host "smtp+notls://127.0.0.1:@PEER_PORT@"
match from local for any action "out"
EOF
}

# l_burst PORT N RCPT...: N messages in one client session, one after
# the other (each its own queue message), recipients cycling over RCPT.
l_burst()
{
	_port=$1
	_n=$2
	shift 2
	_steps="-e 220 -s 'EHLO client.test' -e 250"
	_i=1
	while [ "$_i" -le "$_n" ]; do
		_r=$(eval echo "\${$(( (_i - 1) % $# + 1 ))}")
		_steps="$_steps -s 'MAIL FROM:<a@client.test>' -e 250"
		_steps="$_steps -s 'RCPT TO:<$_r>' -e 250 -s DATA -e 354"
		_steps="$_steps -m 'Subject: burst $_i\nMessage-ID: <b$_i.$$@test>\n\nbody $_i\n' -e 250"
		_i=$((_i + 1))
	done
	eval smtp_expect "$_port" $_steps -s QUIT -e 221 >/dev/null
}

l_wait_log()
{
	_n=$(( ${2:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -Eq -- "$1" "$SMTPD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 40 "$SMTPD_LOG" >&2
	atf_fail "no log line matching '$1'"
}

atf_test_case per_domain cleanup
per_domain_head()
{
	atf_set descr "connections-per-domain 1: a burst to one domain takes one connection"
	atf_set timeout 90
}
per_domain_body()
{
	h_world
	PEER_PORT=31101
	peer_start p $PEER_PORT --slow 200
	l_conf "mta limit connections-per-domain 1" | smtpd_setup 31100
	smtpd_start
	l_burst 31100 4 bob@d.test
	peer_wait p 4 40
	atf_check_equal 1 "$(peer_conns p)"
}
per_domain_cleanup() { smtpd_cleanup; }

atf_test_case per_domain_two cleanup
per_domain_two_head()
{
	atf_set descr "connections-per-domain 1 with two domains on one hop: two connections"
	atf_set timeout 90
}
per_domain_two_body()
{
	h_world
	PEER_PORT=31103
	peer_start p $PEER_PORT --slow 200
	l_conf "mta limit connections-per-domain 1" | smtpd_setup 31102
	smtpd_start
	l_burst 31102 6 bob@d.test carol@e.test
	peer_wait p 6 40
	_c=$(peer_conns p)
	[ "$_c" -eq 2 ] || atf_fail "$_c connections, expected 2"
}
per_domain_two_cleanup() { smtpd_cleanup; }

atf_test_case per_hop cleanup
per_hop_head()
{
	atf_set descr "connections-per-hop 2: a burst to many domains takes two connections"
	atf_set timeout 90
}
per_hop_body()
{
	h_world
	PEER_PORT=31105
	peer_start p $PEER_PORT --slow 200
	l_conf "mta limit connections-per-hop 2" | smtpd_setup 31104
	smtpd_start
	l_burst 31104 6 a@d1.test b@d2.test c@d3.test d@d4.test e@d5.test \
	    f@d6.test
	peer_wait p 6 40
	_c=$(peer_conns p)
	[ "$_c" -eq 2 ] || atf_fail "$_c connections, expected 2"
}
per_hop_cleanup() { smtpd_cleanup; }

atf_test_case per_connection cleanup
per_connection_head()
{
	atf_set descr "messages-per-connection 2: four messages, two connections"
	atf_set timeout 90
}
per_connection_body()
{
	h_world
	PEER_PORT=31107
	peer_start p $PEER_PORT --slow 100
	l_conf "mta limit connections-per-domain 1
mta limit messages-per-connection 2" | smtpd_setup 31106
	smtpd_start
	l_burst 31106 4 bob@d.test
	peer_wait p 4 40
	atf_check_equal 2 "$(peer_conns p)"
	h_wait_grep "$(peer_spool p)/connections.log" '^close conn=2 .*msgs=2' 10
	grep -q '^close conn=1 .*msgs=2 reason=quit' \
	    "$(peer_spool p)/connections.log" ||
	    atf_fail "$(cat "$(peer_spool p)/connections.log")"
}
per_connection_cleanup() { smtpd_cleanup; }

atf_test_case timeout_reply cleanup
timeout_reply_head()
{
	atf_set descr "mta timeout reply 1s: a greeting late by 4s fails the hop"
	atf_set timeout 60
}
timeout_reply_body()
{
	h_world
	PEER_PORT=31109
	peer_start p $PEER_PORT --slow 4000:greeting
	l_conf "mta timeout reply 1s" | smtpd_setup 31108
	smtpd_start
	l_burst 31108 1 bob@d.test
	l_wait_log 'result=TempFail reason="timeout in state BANNER"' 3
}
timeout_reply_cleanup() { smtpd_cleanup; }

atf_test_case timeout_idle cleanup
timeout_idle_head()
{
	atf_set descr "mta timeout idle 1s: an idle connection is closed after a second"
	atf_set timeout 60
}
timeout_idle_body()
{
	h_world
	PEER_PORT=31111
	peer_start p $PEER_PORT
	l_conf "mta timeout idle 1s" | smtpd_setup 31110
	smtpd_start
	l_burst 31110 1 bob@d.test
	peer_wait p 1 20
	# the default (5s) would keep it open longer than this
	h_wait_grep "$(peer_spool p)/connections.log" \
	    '^close conn=1 .*reason=quit' 3
}
timeout_idle_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case per_domain
	atf_add_test_case per_domain_two
	atf_add_test_case per_hop
	atf_add_test_case per_connection
	atf_add_test_case timeout_reply
	atf_add_test_case timeout_idle
}
