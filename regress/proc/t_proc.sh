#! /usr/bin/env atf-sh
#
# The process tree: six processes with their titles, privileges dropped
# for real when started as root, clean stop on SIGTERM, a dead child takes
# the daemon down with a log line naming it; the flags -d -v -f -D.
# Ports: 20100-20139 (foundation range).

SMTPD=""
CHILDREN="smtp lka queue mta control"

setup_common() {
	SMTPD="$(atf_get_srcdir)/../../obj/smtpd"
	[ -x "$SMTPD" ] || atf_fail "no $SMTPD: run make"
}

# mkconf PORT [listen-port-text]: a world-traversable dir with a config.
mkconf() {
	D=$(mktemp -d /tmp/t_proc.XXXXXX) || atf_fail "mktemp"
	chmod 755 "$D"
	echo "$D" >> tmpdirs
	cat > "$D/smtpd.conf" <<EOF
listen on 127.0.0.1 port ${2:-$1}
spool "$D/spool"
control socket "$D/smtpd.sock"
action "local" maildir "$D/mail/%{rcpt.user}"
match from local for local action "local"
EOF
	# Without the grammar (stub config_parse) nothing can start.
	"$SMTPD" -n -f "$D/smtpd.conf" -D "port=$1" >/dev/null 2>&1 ||
	    atf_skip "config_parse does not accept the minimal config yet"
}

# wait_children PID: until PID has its 5 children (bounded, 10 s).
wait_children() {
	i=0
	while [ $i -lt 100 ]; do
		[ "$(pgrep -P "$1" | wc -l)" -eq 5 ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start [flags]: smtpd -d in the background; pid in $PID and ./pid.
start() {
	"$SMTPD" -d -f "$D/smtpd.conf" "$@" > log 2>&1 &
	PID=$!
	echo "$PID" > pid
	if ! wait_children "$PID"; then
		cat log
		atf_fail "the daemon did not start its five children"
	fi
	pgrep -P "$PID" > children
}

title() {
	tr '\0' '\n' < "/proc/$1/cmdline" 2>/dev/null | head -n 1 |
	    sed 's/ *$//'
}

# child_pid NAME: the child of $PID whose title is "smtpd: NAME".
child_pid() {
	for c in $(cat children); do
		[ "$(title "$c")" = "smtpd: $1" ] && { echo "$c"; return 0; }
	done
	return 1
}

# wait_gone PID...: until none of them exists (bounded, 10 s).
wait_gone() {
	i=0
	while [ $i -lt 100 ]; do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

cleanup_common() {
	for f in pid children daemonpid; do
		[ -f "$f" ] || continue
		for p in $(cat "$f"); do
			kill -TERM "$p" 2>/dev/null
		done
	done
	sleep 0.2
	for f in pid children daemonpid; do
		[ -f "$f" ] || continue
		for p in $(cat "$f"); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	if [ -f tmpdirs ]; then
		for d in $(cat tmpdirs); do
			case "$d" in /tmp/t_proc.*) rm -rf "$d" ;; esac
		done
	fi
}

atf_test_case titles cleanup
titles_head() {
	atf_set "descr" "six processes carry their titles"
}
titles_body() {
	setup_common
	mkconf 20100
	start
	atf_check_equal "$(title "$PID")" "smtpd: parent"
	for n in $CHILDREN; do
		c=$(child_pid "$n") || atf_fail "no child titled smtpd: $n"
		# its parent is the daemon
		atf_check_equal "$(awk '/^PPid:/ { print $2 }' \
		    "/proc/$c/status")" "$PID"
	done
	atf_check_equal "$(wc -l < children | tr -d ' ')" 5
}
titles_cleanup() {
	cleanup_common
}

# check_ids PID USER ROOTDIR
check_ids() {
	uid=$(id -u "$2")
	gid=$(id -g "$2")
	atf_check_equal "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' \
	    "/proc/$1/status")" "$uid $uid $uid $uid"
	atf_check_equal "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' \
	    "/proc/$1/status")" "$gid $gid $gid $gid"
	[ "$2" = root ] ||
	    atf_check_equal "$(awk '/^Groups:/ { print $2 $3 }' \
	    "/proc/$1/status")" "$gid"
	atf_check_equal "$(readlink "/proc/$1/root")" "$3"
}

atf_test_case privileges cleanup
privileges_head() {
	atf_set "descr" "as root, each child has the uid, gid and root" \
	    "directory of ARCHITECTURE.md"
}
privileges_body() {
	[ "$(id -u)" -eq 0 ] || atf_skip "needs root"
	setup_common
	id _smtpd >/dev/null 2>&1 && id _smtpq >/dev/null 2>&1 ||
	    atf_fail "users _smtpd/_smtpq missing: run tools/setup.sh --users"
	mkconf 20101
	start
	check_ids "$(child_pid smtp)" _smtpd /var/empty
	check_ids "$(child_pid mta)" _smtpd /var/empty
	check_ids "$(child_pid control)" _smtpd /var/empty
	check_ids "$(child_pid lka)" _smtpd /
	check_ids "$(child_pid queue)" _smtpq "$D/spool"
	check_ids "$PID" root /
	# The spool is the queue user's, 0711; /var/empty is root's.
	atf_check_equal "$(stat -c '%U %a' "$D/spool")" "_smtpq 711"
	atf_check_equal "$(stat -c '%U %a' /var/empty)" "root 755"
	atf_check_equal "$(stat -c '%a' "$D/smtpd.sock")" "666"
	if grep -q "privilege separation is off" log; then
		atf_fail "started as root but says privilege separation is off"
	fi
}
privileges_cleanup() {
	cleanup_common
}

atf_test_case unprivileged cleanup
unprivileged_head() {
	atf_set "descr" "started as a normal user: one log line, every" \
	    "process runs as that user without chroot"
}
unprivileged_body() {
	setup_common
	mkconf 20102
	if [ "$(id -u)" -eq 0 ]; then
		user=nobody
		chown nobody "$D"
		# The tree may sit where nobody cannot reach: run a copy.
		cp "$SMTPD" "$D/smtpd"
		chmod 755 "$D/smtpd"
		SMTPD="$D/smtpd"
		run="setpriv --reuid=nobody --regid=$(id -g nobody)"
		run="$run --clear-groups"
	else
		user=$(id -un)
		run=""
	fi
	$run "$SMTPD" -d -f "$D/smtpd.conf" > log 2>&1 &
	PID=$!
	echo "$PID" > pid
	wait_children "$PID" || { cat log; atf_fail "did not start"; }
	pgrep -P "$PID" > children
	atf_check_equal "$(grep -c 'privilege separation is off' log)" 1
	for n in $CHILDREN; do
		c=$(child_pid "$n") || atf_fail "no child $n"
		atf_check_equal "$(awk '/^Uid:/ { print $3 }' \
		    "/proc/$c/status")" "$(id -u $user)"
		atf_check_equal "$(readlink "/proc/$c/root")" "/"
	done
}
unprivileged_cleanup() {
	cleanup_common
}

atf_test_case sigterm cleanup
sigterm_head() {
	atf_set "descr" "SIGTERM stops every process, exit 0, socket removed"
}
sigterm_body() {
	setup_common
	mkconf 20103
	start
	atf_check -s exit:0 test -S "$D/smtpd.sock"
	kill -TERM "$PID"
	wait_gone "$PID" $(cat children) || atf_fail "processes left"
	wait "$PID"
	atf_check_equal "$?" 0
	atf_check -s exit:1 test -e "$D/smtpd.sock"
	# no process of this daemon holds the port any more
	atf_check -o empty ss -Hltn "sport = :20103"
}
sigterm_cleanup() {
	cleanup_common
}

atf_test_case sigint cleanup
sigint_head() {
	atf_set "descr" "SIGINT (^C) stops every process cleanly too"
}
sigint_body() {
	setup_common
	mkconf 20104
	start
	kill -INT "$PID"
	wait_gone "$PID" $(cat children) || atf_fail "processes left"
	wait "$PID"
	atf_check_equal "$?" 0
	if grep -q "child-exited" log; then
		cat log
		atf_fail "a clean stop was reported as a crash"
	fi
}
sigint_cleanup() {
	cleanup_common
}

atf_test_case sighup cleanup
sighup_head() {
	atf_set "descr" "SIGHUP is a reload request, not a crash"
}
sighup_body() {
	setup_common
	mkconf 20105
	start
	kill -HUP "$PID"
	sleep 0.5
	kill -0 "$PID" || atf_fail "the daemon died on SIGHUP"
	for c in $(cat children); do
		kill -0 "$c" || atf_fail "child $c died on SIGHUP"
	done
	atf_check -o match:"reload" cat log
}
sighup_cleanup() {
	cleanup_common
}

atf_test_case child_dies cleanup
child_dies_head() {
	atf_set "descr" "killing any child stops the daemon with one log" \
	    "line naming it"
}
child_dies_body() {
	setup_common
	port=20110
	for n in $CHILDREN; do
		mkconf $port
		start
		c=$(child_pid "$n") || atf_fail "no child $n"
		kill -KILL "$c"
		wait_gone "$PID" $(cat children) ||
		    atf_fail "processes left after $n died"
		wait "$PID"
		atf_check_equal "$?" 1
		atf_check_equal "$(grep -c 'event=child-exited' log)" 1
		grep "event=child-exited process=$n .*status=signal:9" log ||
		    { cat log; atf_fail "log does not name $n"; }
		port=$((port + 1))
	done
}
child_dies_cleanup() {
	cleanup_common
}

atf_test_case parent_killed cleanup
parent_killed_head() {
	atf_set "descr" "SIGKILL to the parent leaves no orphan child"
}
parent_killed_body() {
	setup_common
	mkconf 20106
	start
	kill -KILL "$PID"
	wait_gone $(cat children) || atf_fail "orphan children left"
}
parent_killed_cleanup() {
	cleanup_common
}

atf_test_case verbose cleanup
verbose_head() {
	atf_set "descr" "-v adds debug lines on stderr with -d; without" \
	    "it there are none"
}
verbose_body() {
	setup_common
	mkconf 20120
	start
	kill -TERM "$PID"
	wait "$PID"
	if grep -q "event=forked" log; then
		atf_fail "debug line without -v"
	fi
	atf_check -o match:"event=started" cat log
	start -v
	atf_check -o match:"parent event=forked process=lka pid=" cat log
	kill -TERM "$PID"
	wait "$PID"
}
verbose_cleanup() {
	cleanup_common
}

atf_test_case config_file cleanup
config_file_head() {
	atf_set "descr" "-f names the file; a missing one is an error, exit 1"
}
config_file_body() {
	setup_common
	mkconf 20124
	atf_check -s exit:1 -o empty -e not-empty timeout 10 "$SMTPD" -d \
	    -f /nonexistent/smtpd.conf
	atf_check -s exit:1 -e match:"usage" "$SMTPD" -x
	atf_check -s exit:1 -e match:"usage" "$SMTPD" -d extra
}
config_file_cleanup() {
	cleanup_common
}

atf_test_case define_macro cleanup
define_macro_head() {
	atf_set "descr" "-D name=value defines a macro used by the config"
}
define_macro_body() {
	setup_common
	mkconf 20121 '$port'
	start -D port=20121
	atf_check -o match:"127.0.0.1:20121" ss -Hltn "sport = :20121"
}
define_macro_cleanup() {
	cleanup_common
}

atf_test_case second_instance cleanup
second_instance_head() {
	atf_set "descr" "a second daemon on the same sockets refuses to" \
	    "start and leaves the first alone"
}
second_instance_body() {
	setup_common
	mkconf 20122
	start
	atf_check -s exit:1 -e not-empty timeout 10 "$SMTPD" -d \
	    -f "$D/smtpd.conf"
	kill -0 "$PID" || atf_fail "the first daemon died"
	atf_check -s exit:0 test -S "$D/smtpd.sock"
	atf_check_equal "$(pgrep -P "$PID" | wc -l)" 5
}
second_instance_cleanup() {
	cleanup_common
}

atf_test_case daemonize cleanup
daemonize_head() {
	atf_set "descr" "without -d the daemon detaches and keeps running"
}
daemonize_body() {
	setup_common
	mkconf 20123
	atf_check -s exit:0 -o empty -e empty timeout 10 "$SMTPD" \
	    -f "$D/smtpd.conf"
	# find the parent by the listening socket it holds
	i=0
	dpid=""
	while [ $i -lt 50 ] && [ -z "$dpid" ]; do
		for p in $(ss -Hltnp "sport = :20123" |
		    grep -o 'pid=[0-9]*' | cut -d= -f2); do
			[ "$(title "$p")" = "smtpd: parent" ] && dpid=$p
		done
		[ -n "$dpid" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$dpid" ] || atf_fail "no detached parent found"
	echo "$dpid" > daemonpid
	wait_children "$dpid" || atf_fail "children missing"
	pgrep -P "$dpid" > children
	# detached: a new session, no controlling terminal
	atf_check_equal "$(ps -o sid= -p "$dpid" | tr -d ' ')" "$dpid"
	kill -TERM "$dpid"
	wait_gone "$dpid" $(cat children) || atf_fail "processes left"
}
daemonize_cleanup() {
	cleanup_common
}

atf_init_test_cases() {
	atf_add_test_case titles
	atf_add_test_case privileges
	atf_add_test_case unprivileged
	atf_add_test_case sigterm
	atf_add_test_case sigint
	atf_add_test_case sighup
	atf_add_test_case child_dies
	atf_add_test_case parent_killed
	atf_add_test_case verbose
	atf_add_test_case config_file
	atf_add_test_case define_macro
	atf_add_test_case second_instance
	atf_add_test_case daemonize
}
