#!/bin/sh
# regress/bench/bench.sh (`make bench`): throughput, CPU and memory of
# smtpd, side by side with a private Postfix, relaying to the smtp-peer
# in sink mode and (smtpd only) delivering to a local maildir.  How to
# read the figures: README.md, section "Performance".
#
# Knobs (environment): BENCH_ROUNDS (2) alternating rounds per scenario;
# BENCH_SCALE (1) multiplies message counts; BENCH_MTAS ("smtpd postfix");
# BENCH_MODES ("relay maildir"); BENCH_SCENARIOS ("1x4k 20x4k 100x4k
# 20x100k"); BENCH_PORT (21500) first of the ports used (+0..+9).
# Everything listens on 127.0.0.1 and is stopped by its recorded pid.

cd "$(dirname "$0")/../.." || exit 1
H_TOP=$(pwd)
export H_TOP
. regress/lib/smtpd.sh
. regress/bench/postfix.sh

ROUNDS=${BENCH_ROUNDS:-2}
SCALE=${BENCH_SCALE:-1}
MTAS=${BENCH_MTAS:-smtpd postfix}
MODES=${BENCH_MODES:-relay maildir}
SCENARIOS=${BENCH_SCENARIOS:-1x4k 20x4k 100x4k 20x100k}
PORT=${BENCH_PORT:-21500}
SMTPD_P=$PORT
PEER_P=$((PORT + 1))
PF_P=$((PORT + 2))
STALL=${BENCH_STALL:-10}	# give up delivery after this many s without progress

BENCH=$(mktemp -d /tmp/smtpd-bench.XXXXXX) || exit 1
chmod 755 "$BENCH"
RESULTS=$BENCH/results
: > "$RESULTS"

# Everything started is stopped by pid, also on ^C.
bench_stop_all()
{
	for _pf in "$BENCH"/*/smtpd.pid "$BENCH"/*/peer-*.pid \
	    "$BENCH"/*/sampler.pid; do
		[ -f "$_pf" ] && h_stop_pidfile "$_pf" bench 2>/dev/null
	done
	for _d in "$BENCH"/*/pf; do
		[ -d "$_d" ] && pf_stop "$_d"
	done
}
trap 'bench_stop_all; exit 1' INT TERM
trap 'bench_stop_all; rm -rf "$BENCH"' EXIT

bench_tree()
{
	h_descendants "$1"
}

now()
{
	date +%s.%N
}

# "20x4k" -> sessions size messages
scenario()
{
	_s=${1%%x*}
	case ${1#*x} in
	4k) _z=4096; _m=1000 ;;
	100k) _z=102400; _m=200 ;;
	*) echo "bench: unknown scenario $1" >&2; return 1 ;;
	esac
	[ "$_s" -eq 1 ] && _m=$((_m / 5))
	echo "$_s $_z $((_m * SCALE))"
}

smtpd_conf()
{
	_user=""
	[ "$(id -u)" = 0 ] && _user="user _smtptest"
	cat <<EOF
hostname bench.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
# every bench session comes from 127.0.0.1: lift the per-address limit
# (default 50), as Postfix's default exempts \$mynetworks from its own
smtp limit sessions-per-address 1000
action "relay" relay host smtp+notls://127.0.0.1:@PEER_PORT@
action "local" maildir "@MAILDIR@/box" $_user
match from local for domain "bench.test" action "local"
match from local for any action "relay"
EOF
}

# delivered count so far
delivered()
{
	if [ "$1" = relay ]; then
		if [ -f "$W/peer-sink/messages.log" ]; then
			wc -l < "$W/peer-sink/messages.log"
		else
			echo 0
		fi
	else
		ls "$W/maildir/box/new" 2>/dev/null | wc -l
	fi
}

# Stop the run's MTA and peer (inside run_one's subshell).
run_stop()
{
	if [ "$_mta" = smtpd ]; then
		smtpd_stop 2>>"$W/stop.err" ||
		    echo "bench: smtpd left processes behind" >&2
	else
		pf_stop "$W/pf"
	fi
	peer_stop sink
}

# run_one MTA MODE SCENARIO ROUND: one measured run, one line in $RESULTS
run_one()
{
	_mta=$1 _mode=$2 _sc=$3 _round=$4
	set -- $(scenario "$_sc") || return 1
	_sess=$1 _size=$2 _msgs=$3
	W=$BENCH/$_mta-$_mode-$_sc-$_round
	# A server that took no message once is not probed again (10 s each).
	if [ -f "$BENCH/dead-$_mta-$_mode" ]; then
		echo "$_mta $_mode $_sc $_round skip $(cat "$BENCH/dead-$_mta-$_mode")" |
		    tee -a "$RESULTS" | sed 's/^/bench: /'
		return 0
	fi
	mkdir -p "$W" && chmod 755 "$W"
	(
	cd "$W" || exit 1
	SMTPD_DIR=$W
	echo "SMTPD_DIR=$W" > smtpd-test.env
	PEER_PORT=$PEER_P
	peer_start sink "$PEER_P" --count-only -q --lifetime 1800 || {
		echo "$_mta $_mode $_sc $_round skip reason=no-peer"
		exit 0; }
	if [ "$_mta" = smtpd ]; then
		mkdir -p "$W/maildir" && chmod 1777 "$W/maildir"
		smtpd_conf | smtpd_setup "$SMTPD_P" || exit 1
		smtpd_start 2>"$W/start.err" || {
			echo "$_mta $_mode $_sc $_round skip reason=no-start"
			echo "reason=no-start" > "$BENCH/dead-$_mta-$_mode"
			run_stop; exit 0; }
		_pid=$(cat "$W/smtpd.pid")
		_port=$SMTPD_P
	else
		pf_setup "$W/pf" "$PF_P" "$PEER_P" && pf_start "$W/pf" || {
			echo "$_mta $_mode $_sc $_round skip reason=no-start"
			run_stop; exit 0; }
		_pid=$(cat "$W/pf/master.pid")
		_port=$PF_P
	fi
	_dom=example.test
	[ "$_mode" = maildir ] && _dom=bench.test
	# Does it take a message at all?  (Bounded: 10 s.)
	if ! "$H_CLIENT" -q -t 10 -p "$_port" -e 220 -s 'EHLO bench.test' \
	    -e 250 -s 'MAIL FROM:<probe@bench.test>' -e 250 \
	    -s "RCPT TO:<probe@$_dom>" -e 250 -s DATA -e 354 \
	    -m 'Subject: probe\n\nprobe\n' -e 250 -s QUIT -e 221 \
	    > "$W/probe.log" 2>&1; then
		echo "$_mta $_mode $_sc $_round skip reason=no-accept"
		echo "reason=no-accept" > "$BENCH/dead-$_mta-$_mode"
		run_stop
		exit 0
	fi
	_base=1
	"$H_TOOLS/proctree" -i 250 -n 20000 "$_pid" > "$W/sampler.out" &
	echo $! > "$W/sampler.pid"
	_cpu0=$("$H_TOOLS/proctree" "$_pid" | sed 's/.*cpu_s=\([0-9.]*\).*/\1/')
	_t0=$(now)
	"$H_TOOLS/loadgen" -p "$_port" -c "$_sess" -n "$_msgs" -s "$_size" \
	    -P -t 30 --to "user%ld@$_dom" > "$W/loadgen.out" 2>&1
	_acc=$(sed -n 's/.* accepted=\([0-9]*\).*/\1/p' "$W/loadgen.out" | head -1)
	_rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' "$W/loadgen.out" | head -1)
	_p50=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' "$W/loadgen.out" | head -1)
	_p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' "$W/loadgen.out" | head -1)
	_errs=$(sed -n 's/^loadgen error code=\([0-9]*\) count=\([0-9]*\)/\1x\2/p' \
	    "$W/loadgen.out" | tr '\n' ',' | sed 's/,$//')
	_want=$(( ${_acc:-0} + _base ))
	# Wait for delivery: until all are there or STALL s without progress.
	_last=-1 _since=$(now) _t1=""
	while :; do
		_d=$(delivered "$_mode")
		if [ "$_d" -ge "$_want" ]; then
			_t1=$(now)
			break
		fi
		if [ "$_d" != "$_last" ]; then
			_last=$_d
			_since=$(now)
		fi
		awk -v a="$(now)" -v b="$_since" -v s="$STALL" \
		    'BEGIN { exit !(a - b > s) }' && break
		sleep 0.1
	done
	_dlv=$(( $(delivered "$_mode") - _base ))
	[ "$_dlv" -lt 0 ] && _dlv=0
	_cpu1=$("$H_TOOLS/proctree" "$_pid" | sed 's/.*cpu_s=\([0-9.]*\).*/\1/')
	h_stop_pidfile "$W/sampler.pid" sampler
	_pss=$(sed -n 's/.*pss_peak_kb=\([0-9]*\).*/\1/p' "$W/sampler.out")
	awk -v mta="$_mta" -v mode="$_mode" -v sc="$_sc" -v r="$_round" \
	    -v acc="${_acc:-0}" -v rate="${_rate:-0}" -v t0="$_t0" \
	    -v t1="$_t1" -v dlv="$_dlv" -v c0="${_cpu0:-0}" -v c1="${_cpu1:-0}" \
	    -v pss="${_pss:-0}" -v p50="${_p50:-0}" -v p99="${_p99:-0}" \
	    -v errs="${_errs:-}" 'BEGIN {
		drate = (t1 != "" && t1 > t0) ? dlv / (t1 - t0) : -1;
		cpu = acc > 0 ? (c1 - c0) * 1000 / acc : -1;
		printf "%s %s %s %s ok acc=%d rate=%.1f dlv=%d drate=%.1f cpu_ms=%.3f pss_mb=%.1f p50=%.1f p99=%.1f errs=%s\n",
		    mta, mode, sc, r, acc, rate, dlv, drate, cpu, pss / 1024,
		    p50, p99, errs == "" ? "-" : errs }'
	run_stop
	) >> "$RESULTS"
	tail -n 1 "$RESULTS" | sed 's/^/bench: /'
	rm -rf "$W/maildir" "$W/spool" "$W/pf/queue" 2>/dev/null
}

echo "bench: rounds=$ROUNDS scale=$SCALE scenarios=\"$SCENARIOS\" dir=$BENCH"
if echo "$MTAS" | grep -qw postfix && ! pf_install; then
	MTAS=$(echo "$MTAS" | sed 's/postfix//')
fi
if echo "$MTAS" | grep -qw smtpd && [ ! -x "$SMTPD_BIN" ]; then
	echo "bench: no $SMTPD_BIN: run make" >&2
	MTAS=$(echo "$MTAS" | sed 's/smtpd//')
fi
for sc in $SCENARIOS; do
	for mode in $MODES; do
		r=1
		while [ "$r" -le "$ROUNDS" ]; do
			# alternate who goes first
			if [ $((r % 2)) = 1 ]; then order=$MTAS; else
				order=$(echo "$MTAS" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')
			fi
			for mta in $order; do
				# Postfix is compared on relaying only
				[ "$mta" = postfix ] && [ "$mode" != relay ] && continue
				run_one "$mta" "$mode" "$sc" "$r"
			done
			r=$((r + 1))
		done
	done
done

# The table: the median of the rounds for each figure, then the ratio.
# Raw lines and table are kept in obj/ for later reading.
echo
mkdir -p obj
cp "$RESULTS" obj/bench.results
awk -f regress/bench/report.awk "$RESULTS" | tee obj/bench.txt
