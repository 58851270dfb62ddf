#! /usr/bin/env atf-sh
# `smtpctl show route` agrees with where mail really goes: for each kind
# of route (per-user, per-domain, glob, default gateway, MX) the hop list
# it prints is checked, then a mail is sent and the peer at its first hop
# (and no other) receives it, the mta log naming the same hop.
# Ports 31200-31299.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# The Nth hop ("ADDR:PORT") of the show route text in ./out.
sr_hop()
{
	sed -n "s/^  hop $1: \([^ ]*\) .*/\1/p" out
}

sr_route()
{
	"$SMTPCTL_BIN" -s "$SMTPD_SOCK" show route "$@" > out 2> err ||
	    atf_fail "show route $*: $(tr '\n' ' ' < err)"
}

sr_wait_log()
{
	_n=$(( ${2:-20} * 10 ))
	while [ "$_n" -gt 0 ]; do
		grep -Eq -- "$1" "$SMTPD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	atf_fail "no log line matching '$1': $(tail -n 20 "$SMTPD_LOG")"
}

# sr_check RCPT SOURCE-WORDS HOP1 PEER: show route for RCPT says
# "source: SOURCE-WORDS..." and first hop HOP1; a mail to RCPT arrives at
# PEER (one more record, for RCPT) and mta logs delivery at HOP1.
sr_check()
{
	sr_route "$1"
	grep -q "^  source: $2" out ||
	    atf_fail "$1: source: $(tr '\n' ' ' < out)"
	atf_check_equal "$3" "$(sr_hop 1)"
	_before=$(peer_count "$4")
	smtp_send "$SMTPD_PORT" a@client.test "$1" > /dev/null
	peer_wait "$4" $((_before + 1)) 20
	atf_check_equal "<$1>" "$(peer_meta "$4" $((_before + 1)) rcpt)"
	_esc=$(echo "$3" | sed 's/\./\\./g')
	sr_wait_log "mta envelope=[0-9a-f]+ hop=$_esc .*result=Ok" 10
}

# Every peer but the ones named got nothing.
sr_only()
{
	for _p in $SR_PEERS; do
		case " $* " in *" $_p "*) continue ;; esac
		[ "$(peer_count "$_p")" = 0 ] ||
		    atf_fail "peer $_p got mail: $(cat "$(peer_spool "$_p")/messages.log")"
	done
}

sr_conf()
{
	cat <<EOF
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
queue retry 1s max 2s
$1
match from local for any action "r"
EOF
}

# routes table: per-user, per-domain and glob entries; the action's host
# list as the default gateway.
sr_routes_world()
{
	h_world
	cat > "$SMTPD_DIR/routes" <<-'EOT'
	support@mail.test	127.0.0.1:31201;127.0.0.1:31209
	mail.test		127.0.0.1:31202
	*.glob.test		127.0.0.1:31203
	mx?.wild.test		127.0.0.1:31203
	EOT
	chmod 644 "$SMTPD_DIR/routes"
	SR_PEERS="user dom glob gw"
	peer_start user 31201
	peer_start dom 31202
	peer_start glob 31203
	peer_start gw 31204
	sr_conf 'table routes file:@DIR@/routes
action "r" relay routes <routes> host "127.0.0.1:31204"' |
	    smtpd_setup 31200
	smtpd_start
}

atf_test_case per_user cleanup
per_user_head() { atf_set descr "per-user route: shown and taken"; }
per_user_body()
{
	sr_routes_world
	sr_check support@mail.test 'table routes address "support@mail.test"' \
	    127.0.0.1:31201 user
	atf_check_equal 127.0.0.1:31209 "$(sr_hop 2)"
	sr_only user
}
per_user_cleanup() { smtpd_cleanup; }

atf_test_case per_domain cleanup
per_domain_head() { atf_set descr "per-domain route (another user of the per-user domain): shown and taken"; }
per_domain_body()
{
	sr_routes_world
	sr_check sales@mail.test 'table routes domain "mail.test"' \
	    127.0.0.1:31202 dom
	sr_only dom
}
per_domain_cleanup() { smtpd_cleanup; }

atf_test_case glob cleanup
glob_head() { atf_set descr "glob routes (*.dom, ?): shown and taken"; }
glob_body()
{
	sr_routes_world
	sr_check a@x.glob.test 'table routes pattern "\*.glob.test"' \
	    127.0.0.1:31203 glob
	sr_check b@mx7.wild.test 'table routes pattern "mx?.wild.test"' \
	    127.0.0.1:31203 glob
	sr_only glob
}
glob_cleanup() { smtpd_cleanup; }

atf_test_case default_gateway cleanup
default_gateway_head() { atf_set descr "no table entry: the action's host list, shown and taken"; }
default_gateway_body()
{
	sr_routes_world
	# *.glob.test does not match glob.test; mx?.wild.test not mx77
	sr_check a@glob.test 'action "r" host' 127.0.0.1:31204 gw
	sr_check a@mx77.wild.test 'action "r" host' 127.0.0.1:31204 gw
	sr_only gw
}
default_gateway_cleanup() { smtpd_cleanup; }

atf_test_case mx cleanup
mx_head() { atf_set descr "MX route: hops by preference shown, mail to the first, next when it fails"; }
mx_body()
{
	h_world
	dns_start 31250 --mx-host=mx.test,mx2.mx.test,20 \
	    --mx-host=mx.test,mx1.mx.test,10 \
	    --host-record=mx1.mx.test,127.0.0.3 \
	    --host-record=mx2.mx.test,127.0.0.4 \
	    --mx-host=down.test,mx1.down.test,10 \
	    --mx-host=down.test,mx2.mx.test,20 \
	    --host-record=mx1.down.test,127.0.0.5
	SR_PEERS="mx1 mx2 down"
	peer_start mx1 31251 -l 127.0.0.3
	peer_start mx2 31251 -l 127.0.0.4
	peer_start down 31251 -l 127.0.0.5 --reply greeting=421:down
	DNS_PORT=31250
	sr_conf 'resolver 127.0.0.1 port @DNS_PORT@
action "r" relay port 31251' | smtpd_setup 31252
	smtpd_start
	sr_check a@mx.test 'MX' 127.0.0.3:31251 mx1
	atf_check_equal 127.0.0.4:31251 "$(sr_hop 2)"
	grep -q '^  hop 1: 127.0.0.3:31251 host=mx1.mx.test ' out ||
	    atf_fail "MX name: $(tr '\n' ' ' < out)"
	sr_only mx1
	# the first MX refuses: shown first, tried first, mail at the second
	sr_route b@down.test
	atf_check_equal 127.0.0.5:31251 "$(sr_hop 1)"
	atf_check_equal 127.0.0.4:31251 "$(sr_hop 2)"
	smtp_send "$SMTPD_PORT" a@client.test b@down.test > /dev/null
	peer_wait mx2 1 20
	atf_check_equal "<b@down.test>" "$(peer_meta mx2 1 rcpt)"
	sr_wait_log 'hop=127\.0\.0\.5:31251 host=mx1\.down\.test .*next=127\.0\.0\.4:31251' 10
	atf_check_equal 0 "$(peer_count down)"
}
mx_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case per_user
	atf_add_test_case per_domain
	atf_add_test_case glob
	atf_add_test_case default_gateway
	atf_add_test_case mx
}
