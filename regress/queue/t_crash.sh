#! /usr/bin/env atf-sh
# Crash test: while senders push CRASH_N messages (default 2000) to local
# maildir delivery, the whole daemon is SIGKILLed five times at random
# moments and restarted.  Every message that got its 250 must be in the
# maildir afterwards (counted by Message-ID); duplicates are reported.
# Ports 23100-23199.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

PORT=23100

# One sender: messages FIRST..LAST, one session each; "ID ok|fail".
c_sender()
{
	_i=$1
	while [ "$_i" -le "$2" ]; do
		_id="crash-$_i@test"
		_out=$("$H_TOOLS/smtp-client" -p $PORT -t 20 -e 220 \
		    -s "EHLO client.test" -e 250 -s "MAIL FROM:<a@localhost>" \
		    -e 250 -s "RCPT TO:<u@localhost>" -e 250 -s DATA -e 354 \
		    -m "From: <a@localhost>\nTo: <u@localhost>\nSubject: crash $_i\nMessage-ID: <$_id>\n\nmessage $_i\n" \
		    -e 250 -s QUIT -e 221 2>&1)
		# 250 after the data: the fourth final 250 line
		if [ "$(printf '%s\n' "$_out" | grep -c '^S: 250 ')" -ge 4 ]; then
			echo "$_id ok"
		else
			echo "$_id fail"
		fi
		_i=$((_i + 1))
	done
}

c_maildir_ids()
{
	cat "$SMTPD_DIR"/maildir/new/* "$SMTPD_DIR"/maildir/cur/* 2>/dev/null |
	    sed -n 's/^Message-ID: <\(.*\)>\r*$/\1/p'
}

atf_test_case crash cleanup
crash_head()
{
	atf_set descr "SIGKILL x5 under load loses no accepted message"
	atf_set timeout 900
}
crash_body()
{
	h_world
	_n=${CRASH_N:-2000}
	_p=4
	LOCALUSER=""
	if [ "$(id -u)" = 0 ]; then
		LOCALUSER="user _smtptest"
	fi
	mkdir -p "$SMTPD_DIR/maildir/new" "$SMTPD_DIR/maildir/cur" \
	    "$SMTPD_DIR/maildir/tmp"
	[ "$(id -u)" = 0 ] && chown -R _smtptest "$SMTPD_DIR/maildir"
	smtpd_setup $PORT <<EOF
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
queue retry 1s max 2s
listen on 127.0.0.1 port @PORT@
action "local" maildir "@MAILDIR@" @LOCALUSER@
match from local for local action "local"
EOF
	smtpd_start
	_per=$(( (_n + _p - 1) / _p ))
	_k=0
	while [ $_k -lt $_p ]; do
		_first=$((_k * _per + 1))
		_last=$(( (_k + 1) * _per ))
		[ $_last -gt $_n ] && _last=$_n
		c_sender $_first $_last > "$SMTPD_DIR/sender.$_k" &
		echo $! > "$SMTPD_DIR/sender$_k.pid"
		_k=$((_k + 1))
	done
	# Five kills at random moments while the senders run.
	_kills=0
	while [ $_kills -lt 5 ]; do
		sleep "$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" \
		    'BEGIN { printf "%.1f", 0.5 + (s % 25) / 10 }')"
		_pid=$(cat "$SMTPD_DIR/smtpd.pid")
		kill -KILL -- "-$_pid" 2>/dev/null
		wait "$_pid" 2>/dev/null
		_kills=$((_kills + 1))
		echo "kill $_kills at $(date +%s.%N)"
		smtpd_start
	done
	# Let the senders finish (bounded by the test timeout).
	_k=0
	while [ $_k -lt $_p ]; do
		wait "$(cat "$SMTPD_DIR/sender$_k.pid")" 2>/dev/null
		rm -f "$SMTPD_DIR/sender$_k.pid"
		_k=$((_k + 1))
	done
	cat "$SMTPD_DIR"/sender.* > "$SMTPD_DIR/sent"
	_acc=$(grep -c ' ok$' "$SMTPD_DIR/sent")
	echo "accepted $_acc of $_n"
	[ "$_acc" -gt 0 ] || atf_fail "nothing accepted"
	# Wait (bounded) until every accepted message is delivered.
	_w=1800
	while [ $_w -gt 0 ]; do
		_del=$(c_maildir_ids | sort -u | wc -l)
		[ "$_del" -ge "$_acc" ] &&
		    [ -z "$(ls "$SMTPD_SPOOL/queue" 2>/dev/null)" ] && break
		sleep 0.1
		_w=$((_w - 1))
	done
	c_maildir_ids | sort > "$SMTPD_DIR/delivered"
	sed -n 's/ ok$//p' "$SMTPD_DIR/sent" | sort > "$SMTPD_DIR/acked"
	sort -u "$SMTPD_DIR/delivered" > "$SMTPD_DIR/delivered.u"
	_lost=$(comm -23 "$SMTPD_DIR/acked" "$SMTPD_DIR/delivered.u" | wc -l)
	_dups=$(uniq -d "$SMTPD_DIR/delivered" | wc -l)
	_extra=$(( $(wc -l < "$SMTPD_DIR/delivered.u") - _acc ))
	echo "delivered $(wc -l < "$SMTPD_DIR/delivered") files," \
	    "$(wc -l < "$SMTPD_DIR/delivered.u") distinct; lost $_lost;" \
	    "duplicates $_dups; delivered without a 250: $_extra"
	if [ "$_lost" -ne 0 ]; then
		comm -23 "$SMTPD_DIR/acked" "$SMTPD_DIR/delivered.u" | head >&2
		atf_fail "$_lost accepted messages lost"
	fi
	smtpd_stop
}
crash_cleanup()
{
	h_world
	for _pf in "$SMTPD_DIR"/sender*.pid; do
		[ -f "$_pf" ] && kill "$(cat "$_pf")" 2>/dev/null
	done
	smtpd_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case crash
}
