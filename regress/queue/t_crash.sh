#! /usr/bin/env atf-sh
# Crash test: while loadgen pushes CRASH_N messages (default 2000) to local
# maildir delivery, the whole daemon is SIGKILLed five times at random
# moments and restarted.  Every message that got its 250 must be in the
# maildir afterwards (counted by Message-ID); duplicates are reported.
# Ports 23100-23199.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

PORT=23100

c_maildir_ids()
{
	cat "$SMTPD_DIR"/maildir/new/* "$SMTPD_DIR"/maildir/cur/* 2>/dev/null |
	    sed -n 's/^Message-ID: <\(loadgen\.[0-9]*\.[0-9]*@loadgen\.test\)>\r*$/\1/p'
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
	C_TOKEN=crash$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	c_n=${CRASH_N:-2000}
	c_p=4
	LOCALUSER="user $(id -un)"
	if [ "$(id -u)" = 0 ]; then
		LOCALUSER="user _smtptest"
	fi
	mkdir -p "$SMTPD_DIR/maildir/new" "$SMTPD_DIR/maildir/cur" \
	    "$SMTPD_DIR/maildir/tmp"
	[ "$(id -u)" = 0 ] && chown -R _smtptest "$SMTPD_DIR/maildir"
	smtpd_setup $PORT <<EOF
hostname $C_TOKEN.test
spool "@SPOOL@"
control socket "@SOCK@"
queue retry 1s max 2s
listen on 127.0.0.1 port @PORT@
action "local" maildir "@MAILDIR@" @LOCALUSER@
match from local for local action "local"
EOF
	smtpd_start
	# c_p sessions of one message each (connect, EHLO, one message,
	# QUIT), retrying connections while the daemon restarts; loadgen
	# logs the Message-ID of every message that got its final 250 from
	# our daemon (the greeting names our token).
	"$H_TOOLS/loadgen" -p $PORT -c $c_p -n $c_n -s 300 -k 1 -t 20 \
	    --from a@localhost --to u@localhost --banner "$C_TOKEN.test" \
	    --retry-for 60 --accepted-log "$SMTPD_DIR/acked.raw" \
	    > "$SMTPD_DIR/loadgen.out" 2>&1 &
	echo $! > "$SMTPD_DIR/sender.pid"
	# Five kills at random moments (0.2-1.4 s apart, so that they fall
	# while loadgen still sends: it takes a few seconds for 2000).
	c_kills=0
	while [ $c_kills -lt 5 ]; do
		sleep "$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" \
		    'BEGIN { printf "%.1f", 0.2 + (s % 13) / 10 }')"
		c_pid=$(cat "$SMTPD_DIR/smtpd.pid")
		kill -KILL -- "-$c_pid" 2>/dev/null
		wait "$c_pid" 2>/dev/null
		# the dying children may hold the listener a moment longer
		c_w=50
		while [ -n "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ] &&
		    [ $c_w -gt 0 ]; do
			sleep 0.1
			c_w=$((c_w - 1))
		done
		c_kills=$((c_kills + 1))
		echo "kill $c_kills at $(date +%s.%N)," \
		    "$(wc -l < "$SMTPD_DIR/acked.raw" 2>/dev/null) accepted so far"
		smtpd_start
	done
	# Let the load generator finish (bounded by its --retry-for and -t).
	wait "$(cat "$SMTPD_DIR/sender.pid")" 2>/dev/null
	rm -f "$SMTPD_DIR/sender.pid"
	cat "$SMTPD_DIR/loadgen.out"
	touch "$SMTPD_DIR/acked.raw"
	sed 's/$/ ok/' "$SMTPD_DIR/acked.raw" > "$SMTPD_DIR/sent"
	c_acc=$(grep -c ' ok$' "$SMTPD_DIR/sent")
	echo "accepted $c_acc of $c_n"
	[ "$c_acc" -gt 0 ] || atf_fail "nothing accepted"
	# Wait (bounded) until every accepted message is delivered.
	c_w=1800
	while [ $c_w -gt 0 ]; do
		c_del=$(c_maildir_ids | sort -u | wc -l)
		[ "$c_del" -ge "$c_acc" ] &&
		    [ -z "$(ls "$SMTPD_SPOOL/queue" 2>/dev/null)" ] && break
		sleep 0.1
		c_w=$((c_w - 1))
	done
	c_maildir_ids | sort > "$SMTPD_DIR/delivered"
	sed -n 's/ ok$//p' "$SMTPD_DIR/sent" | sort > "$SMTPD_DIR/acked"
	sort -u "$SMTPD_DIR/delivered" > "$SMTPD_DIR/delivered.u"
	c_lost=$(comm -23 "$SMTPD_DIR/acked" "$SMTPD_DIR/delivered.u" | wc -l)
	c_dups=$(uniq -d "$SMTPD_DIR/delivered" | wc -l)
	c_extra=$(( $(wc -l < "$SMTPD_DIR/delivered.u") - c_acc ))
	echo "delivered $(wc -l < "$SMTPD_DIR/delivered") files," \
	    "$(wc -l < "$SMTPD_DIR/delivered.u") distinct; lost $c_lost;" \
	    "duplicates $c_dups; delivered without a 250: $c_extra"
	# what each restart found, and deliveries the log shows twice
	grep 'queue event=started' "$SMTPD_LOG" | sed 's/.*envelopes=/restart: envelopes=/'
	echo "temporary failures logged: $(grep -c 'event=tempfail' "$SMTPD_LOG")"
	grep -m 3 'event=tempfail' "$SMTPD_LOG"
	echo "envelopes delivered twice by the daemon's own account:" \
	    "$(grep -o 'envelope=[0-9a-f]* event=delivered' "$SMTPD_LOG" |
	    sort | uniq -d | wc -l)"
	if [ "$c_lost" -ne 0 ]; then
		comm -23 "$SMTPD_DIR/acked" "$SMTPD_DIR/delivered.u" | head >&2
		atf_fail "$c_lost accepted messages lost"
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
