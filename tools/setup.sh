#!/bin/sh
# Install the Debian packages smtpd needs, only when something is missing,
# and create the _smtpd and _smtpq users.  `--users` does only the latter.
PKGS="libtls-dev libevent-dev libbsd-dev libc-ares-dev byacc kyua atf-sh
libatf-dev dnsmasq openssl pkg-config mandoc make gcc"

users() {
	[ "$(id -u)" = 0 ] || return 0
	for u in _smtpd _smtpq; do
		id "$u" >/dev/null 2>&1 && continue
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin --user-group "$u" ||
		    { echo "setup: cannot create user $u" >&2; exit 1; }
	done
	# A plain unprivileged account that local-delivery tests deliver to.
	id _smtptest >/dev/null 2>&1 ||
	    useradd --system --create-home --home-dir /var/lib/smtptest \
	    --shell /usr/sbin/nologin --user-group _smtptest ||
	    { echo "setup: cannot create user _smtptest" >&2; exit 1; }
}

if [ "$1" = "--users" ]; then users; exit 0; fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing Debian packages:$missing" >&2
		echo "setup: run as root: apt-get install$missing" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing ||
	    { echo "setup: apt-get failed" >&2; exit 1; }
fi
users
exit 0
