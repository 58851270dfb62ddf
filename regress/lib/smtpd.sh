# regress/lib/smtpd.sh: shell helpers for the atf-sh integration tests:
# a test world in /tmp (config, spool, control socket, logs), the daemon,
# SMTP peers (obj/tools/smtp-peer), dnsmasq, a throw-away PKI and a
# scripted SMTP client.  POSIX sh (atf-sh runs /bin/sh).
#
# Source it from a test:    . "$(atf_get_srcdir)/../lib/smtpd.sh"
# Every test that starts anything declares a cleanup:
#     atf_test_case foo cleanup
#     foo_cleanup() { smtpd_cleanup; }
# All servers are started with their pid recorded under $SMTPD_DIR and
# stopped by that pid; every wait loop is bounded.  Use ports of your own
# range only.
#
# Variables set (after smtpd_setup / h_world):
#   SMTPD_DIR    the world: mktemp -d /tmp/smtpd-test.XXXXXX, mode 755
#   SMTPD_CONF   $SMTPD_DIR/smtpd.conf     SMTPD_LOG  $SMTPD_DIR/smtpd.log
#   SMTPD_SPOOL  $SMTPD_DIR/spool (not created: the daemon makes it)
#   SMTPD_SOCK   $SMTPD_DIR/smtpd.sock     SMTPD_PORT the listener port
#   SMTPD_BIN, SMTPCTL_BIN, H_TOOLS (obj/tools), H_TOP (source tree),
#   H_CLIENT (obj/tools/smtp-client), H_PEER (obj/tools/smtp-peer):
#   these are set when the file is sourced (atf_check needs programs,
#   not shell functions: atf_check -o match:250 "$H_CLIENT" -p ...)
#
# Functions (return 0 on success; on failure they call atf_fail when run
# inside a test, else print to stderr and return 1):
#
#   smtpd_setup PORT [TEMPLATE]
#       Make the world and write $SMTPD_CONF from TEMPLATE (a file, or
#       stdin when absent or "-", e.g. a heredoc).  In the template
#       @DIR@ @PORT@ @SPOOL@ @SOCK@ @PKI@ (=$SMTPD_DIR/pki) @MAILDIR@
#       (=$SMTPD_DIR/maildir) @TOP@ are replaced, and so is any other
#       @NAME@ whose shell variable NAME is set (e.g. @PEER_PORT@,
#       @DNS_PORT@).  An @NAME@ left unknown is an error.
#   smtpd_start [ARGS...]
#       Run "$SMTPD_BIN -d -f $SMTPD_CONF ARGS" in its own session, output
#       to $SMTPD_LOG, pid in $SMTPD_DIR/smtpd.pid; wait (10 s max) until
#       127.0.0.1:$SMTPD_PORT listens.  Fails (with the log) if it dies.
#   smtpd_stop
#       SIGTERM by pid, wait (10 s max) for the daemon and every process
#       it had forked; fails (and SIGKILLs them) if any is left.
#   smtpd_cleanup
#       For *_cleanup: stop everything recorded in the world (daemon,
#       peers, dnsmasq) by pid and remove the world.  Safe to call twice.
#   peer_start NAME PORT [SMTP-PEER ARGS...]
#       Start obj/tools/smtp-peer -l 127.0.0.1 -p PORT -s $SMTPD_DIR/peer-NAME
#       with ARGS (a later -l wins), pidfile $SMTPD_DIR/peer-NAME.pid,
#       output $SMTPD_DIR/peer-NAME.log; wait until it listens.
#   peer_stop NAME           SIGTERM by pid, wait, fail if still running.
#   peer_spool NAME          print the peer's spool dir.
#   peer_count NAME          print how many messages the peer recorded.
#   peer_wait NAME N [SEC]   wait (default 20 s) until >= N messages.
#   peer_conns NAME [ADDR]   print how many connections it accepted (from ADDR).
#   peer_meta NAME SEQ KEY   print the values of KEY in record SEQ (1-based).
#   peer_body NAME SEQ       print the path of record SEQ's .eml file.
#   dns_start PORT [DNSMASQ OPTIONS...]
#       dnsmasq on 127.0.0.1:PORT (UDP and TCP), no upstream, no hosts
#       file, NXDOMAIN for every name not given, e.g.
#         dns_start 21053 --mx-host=example.test,mx1.example.test,10 \
#             --host-record=mx1.example.test,127.0.0.2 \
#             --host-record=v6.example.test,::1
#       pid in $SMTPD_DIR/dns.pid, log $SMTPD_DIR/dns.log.
#   dns_stop                 stop it by pid.
#   pki_make DIR
#       openssl throw-away PKI in DIR: ca.crt ca.key; server.crt
#       server.key (CN localhost, SAN DNS:localhost, DNS:peer.test,
#       DNS:*.example.test, IP:127.0.0.1, IP:::1, signed by ca);
#       client.crt client.key (CN client.test, signed by ca);
#       rogue-ca.crt, rogue.crt rogue.key (same names as server, signed
#       by an unknown CA).  EC P-256 keys, 2 days validity.
#   smtp_client ARGS...      run obj/tools/smtp-client ARGS, return its status.
#   smtp_expect PORT STEPS...
#       smtp-client -p PORT STEPS; fail the test (with the transcript) if
#       any expectation fails.  E.g.
#         smtp_expect 21025 -e 220 -s 'EHLO x' -e 250 -s QUIT -e 221
#   smtp_send PORT FROM RCPT [RCPT...]
#       Send one message (EHLO $SMTP_HELO, default "client.test") and
#       assert 220 250 250.. 354 250 221.  Body: $SMTP_BODY if set
#       (a file), else a small text message with a unique Message-ID.
#       $SMTP_CLIENT_ARGS are added before the steps (e.g. -b 127.0.0.2).
#   h_wait_port PORT [SEC]   wait until something listens on TCP PORT.
#   h_wait_grep FILE ERE [SEC]
#       wait (default 10 s) until FILE has a line matching the extended
#       regular expression ERE (e.g. a log line); fails otherwise.
#   maildir_count DIR        print the number of messages in DIR/new + DIR/cur.
#   maildir_wait DIR N [SEC] wait (default 20 s) until DIR holds >= N messages.
#   smtpctl_run ARGS...      run $SMTPCTL_BIN -s $SMTPD_SOCK ARGS.
#   h_world                  create (once) or reload the world and the
#                            SMTPD_* variables.  The world's name and port
#                            are kept in ./smtpd-test.env (the test's work
#                            directory), so a function run in a subshell
#                            (`cat tpl | smtpd_setup 21025`) or the cleanup
#                            shell finds them: call h_world afterwards.
#   h_alive PID              true if PID runs (a zombie does not count).
#   h_descendants PID        print every descendant pid.
#   h_stop_pidfile FILE WHAT SIGTERM the pid in FILE, wait 10 s for it and
#                            its descendants (H_STOP_WAIT: in tenths of a
#                            second), SIGKILL and fail if any is left.
#
# Ports: smtpd_start, peer_start and dns_start take the ports you give;
# nothing here picks ports, so stay in your own range.

h_fail()
{
	if command -v atf_fail >/dev/null 2>&1; then
		atf_fail "$*"
	fi
	echo "smtpd.sh: $*" >&2
	return 1
}

h_paths()
{
	if [ -z "${H_TOP:-}" ]; then
		if command -v atf_get_srcdir >/dev/null 2>&1; then
			H_TOP=$(cd "$(atf_get_srcdir)/../.." && pwd)
		else
			H_TOP=$(pwd)
		fi
	fi
	SMTPD_BIN=${SMTPD_BIN:-$H_TOP/obj/smtpd}
	SMTPCTL_BIN=${SMTPCTL_BIN:-$H_TOP/obj/smtpctl}
	H_TOOLS=${H_TOOLS:-$H_TOP/obj/tools}
	H_CLIENT=$H_TOOLS/smtp-client
	H_PEER=$H_TOOLS/smtp-peer
}

# The world directory; created once per test, remembered in the test's
# work directory so that the cleanup routine (another shell) finds it.
h_world()
{
	h_paths
	# The file wins: smtpd_setup may have run in a subshell (a pipe).
	if [ -f ./smtpd-test.env ]; then
		. ./smtpd-test.env
	fi
	if [ -z "${SMTPD_DIR:-}" ] || [ ! -d "$SMTPD_DIR" ]; then
		SMTPD_DIR=$(mktemp -d /tmp/smtpd-test.XXXXXX) ||
		    { h_fail "mktemp failed"; return 1; }
		chmod 755 "$SMTPD_DIR"
		h_save
	fi
	SMTPD_CONF=$SMTPD_DIR/smtpd.conf
	SMTPD_LOG=$SMTPD_DIR/smtpd.log
	SMTPD_SPOOL=$SMTPD_DIR/spool
	SMTPD_SOCK=$SMTPD_DIR/smtpd.sock
	export SMTPD_DIR
}

h_save()
{
	printf 'SMTPD_DIR=%s\nSMTPD_PORT=%s\n' "$SMTPD_DIR" \
	    "${SMTPD_PORT:-}" > ./smtpd-test.env 2>/dev/null
}

h_wait_port()
{
	_p=$1
	_n=$(( ${2:-10} * 10 ))
	while [ "$_n" -gt 0 ]; do
		if [ -n "$(ss -Hltn "sport = :$_p" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

h_wait_grep()
{
	_n=$(( ${3:-10} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	h_fail "no line matching '$2' in $1 after ${3:-10} s"
	return 1
}

maildir_count()
{
	_c=0
	for _sub in new cur; do
		[ -d "$1/$_sub" ] || continue
		_c=$((_c + $(ls "$1/$_sub" | wc -l)))
	done
	echo "$_c"
}

maildir_wait()
{
	_n=$(( ${3:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		[ "$(maildir_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	h_fail "maildir $1: $(maildir_count "$1") messages, expected $2"
	return 1
}

smtpctl_run()
{
	h_world || return 1
	"$SMTPCTL_BIN" -s "$SMTPD_SOCK" "$@"
}

# Is the process with this pid alive (and not a zombie)?
h_alive()
{
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	_st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ "$_st" != "Z" ]
}

# Every descendant of a pid, one per line.
h_descendants()
{
	for _c in $(pgrep -P "$1" 2>/dev/null); do
		echo "$_c"
		h_descendants "$_c"
	done
}

# Stop by pid file: SIGTERM, wait up to SEC (10) for the process and
# the processes it had forked, SIGKILL what is left and fail.
h_stop_pidfile()
{
	_pf=$1
	_what=$2
	[ -f "$_pf" ] || return 0
	_pid=$(cat "$_pf")
	rm -f "$_pf"
	h_alive "$_pid" || return 0
	_all="$_pid $(h_descendants "$_pid")"
	kill -TERM "$_pid" 2>/dev/null
	# H_STOP_WAIT: tenths of a second the processes get to end (10 s)
	_n=${H_STOP_WAIT:-100}
	while [ "$_n" -gt 0 ]; do
		_left=""
		for _q in $_all; do
			h_alive "$_q" && _left="$_left $_q"
		done
		[ -z "$_left" ] && break
		sleep 0.1
		_n=$((_n - 1))
	done
	# reap it if it was our child
	wait "$_pid" 2>/dev/null
	if [ -n "$_left" ]; then
		kill -KILL $_left 2>/dev/null
		h_fail "$_what: processes left after SIGTERM:$_left"
		return 1
	fi
	return 0
}

smtpd_setup()
{
	[ -n "${1:-}" ] || { h_fail "smtpd_setup: PORT missing"; return 1; }
	h_world || return 1
	SMTPD_PORT=$1
	h_save
	DIR=$SMTPD_DIR PORT=$SMTPD_PORT SPOOL=$SMTPD_SPOOL SOCK=$SMTPD_SOCK \
	    PKI=$SMTPD_DIR/pki MAILDIR=$SMTPD_DIR/maildir TOP=$H_TOP
	if [ -z "${2:-}" ] || [ "$2" = "-" ]; then
		cat > "$SMTPD_DIR/smtpd.conf.in"
	else
		cp "$2" "$SMTPD_DIR/smtpd.conf.in" ||
		    { h_fail "smtpd_setup: cannot read $2"; return 1; }
	fi
	cp "$SMTPD_DIR/smtpd.conf.in" "$SMTPD_CONF"
	for _name in $(grep -o '@[A-Za-z_][A-Za-z0-9_]*@' "$SMTPD_CONF" |
	    sort -u | tr -d @); do
		eval "_set=\${$_name+x}"
		if [ -z "$_set" ]; then
			h_fail "smtpd_setup: template uses @$_name@ but \$$_name is not set"
			return 1
		fi
		eval "_val=\$$_name"
		_val=$(printf '%s' "$_val" | sed 's/[\\|&]/\\&/g')
		sed -i "s|@$_name@|$_val|g" "$SMTPD_CONF"
	done
	return 0
}

smtpd_start()
{
	h_world || return 1
	[ -x "$SMTPD_BIN" ] || { h_fail "no daemon at $SMTPD_BIN"; return 1; }
	[ -n "${SMTPD_PORT:-}" ] || { h_fail "smtpd_start: no smtpd_setup"; return 1; }
	setsid "$SMTPD_BIN" -d -f "$SMTPD_CONF" "$@" >> "$SMTPD_LOG" 2>&1 &
	echo $! > "$SMTPD_DIR/smtpd.pid"
	_pid=$!
	_n=100
	while [ "$_n" -gt 0 ]; do
		if ! h_alive "$_pid"; then
			wait "$_pid" 2>/dev/null
			_rc=$?
			rm -f "$SMTPD_DIR/smtpd.pid"
			tail -n 30 "$SMTPD_LOG" >&2
			h_fail "smtpd exited (status $_rc) before listening; log: $SMTPD_LOG"
			return 1
		fi
		if [ -n "$(ss -Hltn "sport = :$SMTPD_PORT" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 30 "$SMTPD_LOG" >&2
	h_fail "smtpd not listening on port $SMTPD_PORT after 10 s"
	return 1
}

smtpd_stop()
{
	h_world || return 1
	h_stop_pidfile "$SMTPD_DIR/smtpd.pid" smtpd || return 1
	# Nothing else may still run from this world.
	_left=$(pgrep -f "$SMTPD_DIR/smtpd.conf" 2>/dev/null)
	if [ -n "$_left" ]; then
		kill -KILL $_left 2>/dev/null
		h_fail "smtpd: processes still running: $_left"
		return 1
	fi
	return 0
}

smtpd_cleanup()
{
	h_world || return 0
	for _pf in "$SMTPD_DIR"/*.pid; do
		[ -f "$_pf" ] || continue
		h_stop_pidfile "$_pf" "$(basename "$_pf" .pid)" 2>/dev/null
	done
	case "$SMTPD_DIR" in
	/tmp/smtpd-test.*) rm -rf "$SMTPD_DIR" ;;
	esac
	rm -f ./smtpd-test.env
	unset SMTPD_DIR
	return 0
}

peer_spool()
{
	h_world >/dev/null || return 1
	echo "$SMTPD_DIR/peer-$1"
}

peer_start()
{
	_name=$1
	_port=$2
	[ -n "$_name" ] && [ -n "$_port" ] ||
	    { h_fail "peer_start NAME PORT [ARGS]"; return 1; }
	shift 2
	h_world || return 1
	_pf=$SMTPD_DIR/peer-$_name.pid
	rm -f "$_pf"
	"$H_TOOLS/smtp-peer" -l 127.0.0.1 -p "$_port" \
	    -s "$SMTPD_DIR/peer-$_name" --pidfile "$_pf" --lifetime 900 "$@" \
	    >> "$SMTPD_DIR/peer-$_name.log" 2>&1 &
	_pid=$!
	_n=100
	while [ "$_n" -gt 0 ]; do
		[ -s "$_pf" ] && return 0
		if ! h_alive "$_pid"; then
			cat "$SMTPD_DIR/peer-$_name.log" >&2
			h_fail "peer $_name did not start"
			return 1
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	kill "$_pid" 2>/dev/null
	h_fail "peer $_name: no pidfile after 10 s"
	return 1
}

peer_stop()
{
	h_world || return 1
	h_stop_pidfile "$SMTPD_DIR/peer-$1.pid" "peer $1"
}

peer_count()
{
	_d=$(peer_spool "$1")
	ls "$_d" 2>/dev/null | grep -c '\.meta$'
}

peer_wait()
{
	_n=$(( ${3:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		[ "$(peer_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	h_fail "peer $1: $(peer_count "$1") messages, expected $2"
	return 1
}

peer_conns()
{
	_f=$(peer_spool "$1")/connections.log
	[ -f "$_f" ] || { echo 0; return 0; }
	if [ -n "${2:-}" ]; then
		grep -c "^connect .* addr=$2 " "$_f"
	else
		grep -c '^connect ' "$_f"
	fi
}

peer_meta()
{
	_f=$(peer_spool "$1")/$(printf '%06d' "$2").meta
	[ -f "$_f" ] || { h_fail "peer $1: no record $2"; return 1; }
	sed -n "s/^$3=//p" "$_f"
}

peer_body()
{
	echo "$(peer_spool "$1")/$(printf '%06d' "$2").eml"
}

dns_start()
{
	_port=$1
	[ -n "$_port" ] || { h_fail "dns_start PORT [OPTIONS]"; return 1; }
	shift
	h_world || return 1
	_u=""
	[ "$(id -u)" = 0 ] && _u="--user=root"
	rm -f "$SMTPD_DIR/dns.pid"
	# --local=/#/: answer from the given records only; NXDOMAIN else.
	# -k: stays our child, so that its pid is the one recorded.
	dnsmasq -k -p "$_port" --listen-address=127.0.0.1 --bind-interfaces \
	    --no-resolv --no-hosts --no-poll --local=/#/ $_u \
	    --log-queries --log-facility="$SMTPD_DIR/dns.log" "$@" \
	    >> "$SMTPD_DIR/dns.log" 2>&1 &
	_pid=$!
	echo "$_pid" > "$SMTPD_DIR/dns.pid"
	_n=50
	while [ "$_n" -gt 0 ]; do
		if ! h_alive "$_pid"; then
			cat "$SMTPD_DIR/dns.log" >&2
			rm -f "$SMTPD_DIR/dns.pid"
			h_fail "dnsmasq failed"
			return 1
		fi
		if [ -n "$(ss -Hlun "sport = :$_port" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	h_fail "dnsmasq not listening on port $_port"
	return 1
}

dns_stop()
{
	h_world || return 1
	h_stop_pidfile "$SMTPD_DIR/dns.pid" dnsmasq
}

pki_make()
{
	_d=$1
	[ -n "$_d" ] || { h_fail "pki_make DIR"; return 1; }
	mkdir -p "$_d" && chmod 755 "$_d" || return 1
	(
	cd "$_d" || exit 1
	_ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	cat > san.cnf <<-EOF
	[srv]
	subjectAltName=DNS:localhost,DNS:peer.test,DNS:*.example.test,IP:127.0.0.1,IP:::1
	basicConstraints=CA:FALSE
	extendedKeyUsage=serverAuth
	[cli]
	subjectAltName=DNS:client.test
	basicConstraints=CA:FALSE
	extendedKeyUsage=clientAuth
	EOF
	for _ca in ca rogue-ca; do
		openssl req -x509 $_ec -keyout $_ca.key -out $_ca.crt \
		    -days 2 -subj "/CN=smtpd test $_ca" -config /dev/null -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" \
		    2>/dev/null || exit 1
	done
	for _c in server:srv:ca:localhost client:cli:ca:client.test \
	    rogue:srv:rogue-ca:localhost; do
		IFS=: read -r _n _ext _ca _cn <<-EOF
		$_c
		EOF
		openssl req -new $_ec -keyout $_n.key -out $_n.csr \
		    -subj "/CN=$_cn" 2>/dev/null || exit 1
		openssl x509 -req -in $_n.csr -CA $_ca.crt -CAkey $_ca.key \
		    -CAcreateserial -out $_n.crt -days 2 -extfile san.cnf \
		    -extensions $_ext 2>/dev/null || exit 1
		rm -f $_n.csr
	done
	chmod 644 ./*.key ./*.crt
	) || { h_fail "pki_make: openssl failed in $_d"; return 1; }
	return 0
}

smtp_client()
{
	h_paths
	"$H_TOOLS/smtp-client" "$@"
}

smtp_expect()
{
	_port=$1
	shift
	h_paths
	if ! _out=$("$H_TOOLS/smtp-client" -p "$_port" "$@" 2>&1); then
		printf '%s\n' "$_out" >&2
		h_fail "SMTP conversation failed: $(printf '%s\n' "$_out" | tail -n 1)"
		return 1
	fi
	printf '%s\n' "$_out"
	return 0
}

smtp_send()
{
	_port=$1
	_from=$2
	[ $# -ge 3 ] || { h_fail "smtp_send PORT FROM RCPT..."; return 1; }
	shift 2
	h_paths
	_first=$1
	_n=$#
	for _r in "$@"; do
		set -- "$@" -s "RCPT TO:<$_r>" -e 250
	done
	shift "$_n"
	set -- -p "$_port" -e 220 -s "EHLO ${SMTP_HELO:-client.test}" -e 250 \
	    -s "MAIL FROM:<$_from>" -e 250 "$@" -s DATA -e 354
	if [ -n "${SMTP_BODY:-}" ]; then
		set -- "$@" -D "$SMTP_BODY"
	else
		_mid="$(date +%s).$$.$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')@client.test"
		set -- "$@" -m "From: <$_from>\nTo: <$_first>\nSubject: test\nMessage-ID: <$_mid>\n\nhello from smtp_send\n"
	fi
	set -- "$@" -e 250 -s QUIT -e 221
	# shellcheck disable=SC2086
	set -- ${SMTP_CLIENT_ARGS:-} "$@"
	if ! _out=$("$H_TOOLS/smtp-client" "$@" 2>&1); then
		printf '%s\n' "$_out" >&2
		h_fail "smtp_send failed: $(printf '%s\n' "$_out" | tail -n 1)"
		return 1
	fi
	printf '%s\n' "$_out"
	return 0
}

h_paths
