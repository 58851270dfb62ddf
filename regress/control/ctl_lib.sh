# Helpers shared by the control tests (sourced after regress/lib/smtpd.sh).
# Ports 26000-26999 belong to these tests.

# The world, with a maildir the local action delivers to (as _smtptest
# when root, as ourselves otherwise).
c_world()
{
	h_world
	LOCALUSER=""
	C_USER=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		id _smtptest >/dev/null 2>&1 ||
		    atf_fail "user _smtptest missing: run tools/setup.sh --users"
		LOCALUSER="user _smtptest"
		C_USER=_smtptest
	fi
	mkdir -p "$SMTPD_DIR/maildir/new" "$SMTPD_DIR/maildir/cur" \
	    "$SMTPD_DIR/maildir/tmp"
	[ "$(id -u)" = 0 ] && chown -R _smtptest "$SMTPD_DIR/maildir"
	SENDMAIL=$SMTPD_DIR/bin/sendmail
	MAILQ=$SMTPD_DIR/bin/mailq
	NEWALIASES=$SMTPD_DIR/bin/newaliases
	mkdir -p "$SMTPD_DIR/bin"
	chmod 755 "$SMTPD_DIR/bin"
	for _l in sendmail mailq newaliases; do
		ln -sf "$SMTPCTL_BIN" "$SMTPD_DIR/bin/$_l"
	done
	return 0
}

# The head of a config: a local action whose alias table (ALIASES, by
# default an inline one) makes bob, carol, dave and alice real local
# recipients (C_USER) whether root or not.  The caller adds the rules.
c_conf_head()
{
	if [ -z "${1:-}" ]; then
		echo 'table c_aliases { "bob" = "@C_USER@", "carol" = "@C_USER@", "dave" = "@C_USER@", "alice" = "@C_USER@" }'
	fi
	cat <<EOF
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
action "local" maildir "@MAILDIR@" @LOCALUSER@ alias <${1:-c_aliases}>
EOF
}

ctl()
{
	"$SMTPCTL_BIN" -s "$SMTPD_SOCK" "$@"
}

# Maildir message count.
c_count()
{
	ls "$SMTPD_DIR/maildir/new" "$SMTPD_DIR/maildir/cur" 2>/dev/null |
	    grep -vc -e '^$' -e ':$'
}

c_wait_maildir()
{
	_want=$1
	_n=$(( ${2:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		[ "$(c_count)" -ge "$_want" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 30 "$SMTPD_LOG" >&2
	atf_fail "maildir holds $(c_count) messages, expected $_want"
}

c_maildir_file()
{
	ls "$SMTPD_DIR"/maildir/new/* "$SMTPD_DIR"/maildir/cur/* 2>/dev/null |
	    sed -n "${1:-1}p"
}

c_wait_log()
{
	_n=$(( ${2:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -q -- "$1" "$SMTPD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	tail -n 30 "$SMTPD_LOG" >&2
	atf_fail "no log line matching '$1'"
}

# The JSON document in file $1 parses (jq, else python3; else skipped).
c_json_ok()
{
	if command -v jq >/dev/null 2>&1; then
		jq . "$1" >/dev/null 2>&1 ||
		    atf_fail "not JSON: $(head -c 400 "$1")"
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
		    "$1" 2>/dev/null || atf_fail "not JSON: $(head -c 400 "$1")"
	fi
	return 0
}

# jq expression on a JSON file; prints "skip" without jq.
c_jq()
{
	if command -v jq >/dev/null 2>&1; then
		jq -r "$1" "$2"
	else
		echo skip
	fi
}

# Run a command as the unprivileged test user (root only).
c_as_user()
{
	runuser -u _smtptest -- "$@"
}
