# regress/bench/postfix.sh: a private Postfix instance for the bench
# (sourced by bench.sh): its own config dir, queue and log under DIR,
# SMTP on 127.0.0.1:PORT, relaying everything to [127.0.0.1]:RELAYPORT,
# queue and fsync as shipped.  Stopped by the master's pid.
#
#   pf_install                    install Debian's postfix if missing (root)
#   pf_setup DIR PORT RELAYPORT   write DIR/etc/main.cf and master.cf
#   pf_start DIR                  start; pid in DIR/master.pid; waits for PORT
#   pf_stop DIR                   SIGTERM by pid, bounded wait, SIGKILL leftovers

pf_install()
{
	command -v postconf >/dev/null 2>&1 &&
	    [ -x /usr/lib/postfix/sbin/master ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "bench: postfix missing and not root: skipping Postfix" >&2
		return 1
	fi
	echo "bench: installing postfix (Debian, no configuration)" >&2
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections 2>/dev/null
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
	    postfix > /dev/null 2>&1 ||
	    { echo "bench: apt-get install postfix failed" >&2; return 1; }
}

pf_setup()
{
	_d=$1
	mkdir -p "$_d/etc" "$_d/queue" "$_d/data" || return 1
	chmod 755 "$_d" "$_d/etc"
	chown postfix "$_d/data"
	cat > "$_d/etc/main.cf" <<PFEOF
compatibility_level = 3.6
queue_directory = $_d/queue
data_directory = $_d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$3
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = $_d/maillog
maillog_file_prefixes = $_d
biff = no
smtputf8_enable = no
PFEOF
	# Debian's services with chroot off (this queue directory is not set
	# up for it), the SMTP listener on our port.
	cat > "$_d/etc/master.cf" <<PFEOF
127.0.0.1:$2 inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
PFEOF
	echo "$2" > "$_d/port"
}

pf_start()
{
	_d=$1
	postfix -c "$_d/etc" check > "$_d/start.log" 2>&1
	postfix -c "$_d/etc" start >> "$_d/start.log" 2>&1 ||
	    { cat "$_d/start.log" >&2; return 1; }
	_n=100
	while [ "$_n" -gt 0 ]; do
		if [ -s "$_d/queue/pid/master.pid" ] &&
		    [ -n "$(ss -Hltn "sport = :$(cat "$_d/port")")" ]; then
			tr -d ' ' < "$_d/queue/pid/master.pid" > "$_d/master.pid"
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	cat "$_d/start.log" >&2
	return 1
}

pf_stop()
{
	_d=$1
	[ -s "$_d/master.pid" ] || return 0
	_pid=$(cat "$_d/master.pid")
	_all="$_pid $(bench_tree "$_pid")"
	kill -TERM "$_pid" 2>/dev/null
	_n=100
	while [ "$_n" -gt 0 ]; do
		_left=""
		for _q in $_all; do
			kill -0 "$_q" 2>/dev/null && _left="$_left $_q"
		done
		[ -z "$_left" ] && break
		sleep 0.1
		_n=$((_n - 1))
	done
	[ -n "$_left" ] && kill -KILL $_left 2>/dev/null
	rm -f "$_d/master.pid"
	return 0
}
