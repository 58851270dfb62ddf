#! /usr/bin/env atf-sh
# Relay routing as lka builds it (obj/tools/route-show runs the lka route
# builder on a configuration): the seed's routes table semantics, the
# action's host list, MX through dnsmasq (preference, equal preferences
# shuffled, no-MX address fallback, NXDOMAIN and null MX bounce, DNS
# failure tempfail), credentials, HELO, loop detection.  Ports 25400-25499.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

# route-show with the world's config; output in ./out
rs()
{
	"$H_TOOLS/route-show" -f "$SMTPD_CONF" "$@" > out 2> err ||
	    atf_fail "route-show failed: $(cat err)"
}

# The line of hop N in ./out
hop()
{
	sed -n "s/^hop $1: //p" out
}

atf_test_case seed_routes cleanup
seed_routes_head()
{
	atf_set descr "seed routes table: per-user, domain, *.dom, ?, *.*"
}
seed_routes_body()
{
	h_world
	cat > "$SMTPD_DIR/routes" <<-'EOT'
	support@mail.com.cn	127.0.0.10:8025;127.0.0.11
	domain1.com		127.0.0.12
	*.domain2.com		127.0.0.13
	mail?.domain3.com	127.0.0.14,NeedTLS=2,OutBind=127.0.0.2
	*.*			127.0.0.15
	EOT
	smtpd_setup 25400 <<-'EOT'
	table routes file:@DIR@/routes
	action "r" relay routes <routes> host "127.0.0.99"
	match from any for any action "r"
	EOT
	# per-user relay: that address only, in order, port 8025
	rs r support@mail.com.cn
	atf_check_equal "127.0.0.10:8025" "$(hop 1 | cut -d' ' -f1)"
	atf_check_equal "127.0.0.11:25" "$(hop 2 | cut -d' ' -f1)"
	# another user of the same domain does not take it
	rs r sales@mail.com.cn
	atf_check_equal "127.0.0.15:25" "$(hop 1 | cut -d' ' -f1)"
	rs r a@domain1.com
	atf_check_equal "127.0.0.12:25" "$(hop 1 | cut -d' ' -f1)"
	rs r a@sub.domain2.com
	atf_check_equal "127.0.0.13:25" "$(hop 1 | cut -d' ' -f1)"
	# *.domain2.com does not match domain2.com: *.* does
	rs r a@domain2.com
	atf_check_equal "127.0.0.15:25" "$(hop 1 | cut -d' ' -f1)"
	rs r a@mail7.domain3.com
	hop 1 | grep -q "tls=require src=127.0.0.2" ||
	    atf_fail "NeedTLS=2,OutBind not applied: $(cat out)"
	rs r a@mail77.domain3.com
	atf_check_equal "127.0.0.15:25" "$(hop 1 | cut -d' ' -f1)"
	# no dot: *.* does not match, the action's host list applies
	rs r a@localhost
	atf_check_equal "127.0.0.99:25" "$(hop 1 | cut -d' ' -f1)"
}
seed_routes_cleanup() { smtpd_cleanup; }

atf_test_case random_spec cleanup
random_spec_head() { atf_set descr "a leading # marks the list random"; }
random_spec_body()
{
	smtpd_setup 25401 <<-'EOT'
	action "r" relay host "#127.0.0.10;127.0.0.11;127.0.0.12"
	action "o" relay host "127.0.0.10;127.0.0.11;127.0.0.12"
	match from any for any action "r"
	EOT
	rs r a@x.test
	grep -q "random order" out || atf_fail "not random: $(cat out)"
	atf_check_equal 3 "$(grep -c '^hop ' out)"
	rs o a@x.test
	grep -q "random order" out && atf_fail "random without #"
	atf_check_equal "127.0.0.11:25" "$(hop 2 | cut -d' ' -f1)"
}
random_spec_cleanup() { smtpd_cleanup; }

atf_test_case xmail_table cleanup
xmail_table_head() { atf_set descr "xmail: smtpfwd.tab with line options"; }
xmail_table_body()
{
	h_world
	printf '"domain1.com"\t"127.0.0.20;127.0.0.21,NeedTLS=0"\t"NeedTLS=2,OutBind=127.0.0.3"\n# a comment\n"*.domain2.com"\t"127.0.0.22:8025"\n' \
	    > "$SMTPD_DIR/smtpfwd.tab"
	smtpd_setup 25402 <<-'EOT'
	table fwd xmail:@DIR@/smtpfwd.tab
	action "x" relay routes <fwd>
	match from any for any action "x"
	EOT
	rs x a@domain1.com
	hop 1 | grep -q "^127.0.0.20:25 .*tls=require src=127.0.0.3" ||
	    atf_fail "line options: $(cat out)"
	# the hop's own NeedTLS wins over the line's
	hop 2 | grep -q "^127.0.0.21:25 .*tls=no src=127.0.0.3" ||
	    atf_fail "hop option: $(cat out)"
	rs x b@c.domain2.com
	atf_check_equal "127.0.0.22:8025" "$(hop 1 | cut -d' ' -f1)"
}
xmail_table_cleanup() { smtpd_cleanup; }

atf_test_case mx_preference cleanup
mx_preference_head() { atf_set descr "MX by preference, then A of each"; }
mx_preference_body()
{
	h_world
	dns_start 25410 --mx-host=mx.test,mx2.mx.test,20 \
	    --mx-host=mx.test,mx1.mx.test,10 \
	    --host-record=mx1.mx.test,127.0.0.3 \
	    --host-record=mx2.mx.test,127.0.0.4
	DNS_PORT=25410 smtpd_setup 25411 <<-'EOT'
	resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay
	match from any for any action "out"
	EOT
	rs out a@mx.test
	hop 1 | grep -q "^127.0.0.3:25 host=mx1.mx.test" ||
	    atf_fail "first MX: $(cat out)"
	hop 2 | grep -q "^127.0.0.4:25 host=mx2.mx.test" ||
	    atf_fail "second MX: $(cat out)"
}
mx_preference_cleanup() { smtpd_cleanup; }

atf_test_case mx_equal cleanup
mx_equal_head() { atf_set descr "equal MX preferences are shuffled"; }
mx_equal_body()
{
	h_world
	dns_start 25412 --mx-host=eq.test,a.eq.test,10 \
	    --mx-host=eq.test,b.eq.test,10 \
	    --host-record=a.eq.test,127.0.0.5 \
	    --host-record=b.eq.test,127.0.0.6
	DNS_PORT=25412 smtpd_setup 25413 <<-'EOT'
	resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay
	match from any for any action "out"
	EOT
	rs out $(seq -f "u%g@eq.test" 1 30)
	a=$(grep -c '^hop 1: 127.0.0.5' out)
	b=$(grep -c '^hop 1: 127.0.0.6' out)
	atf_check_equal 30 $((a + b))
	[ "$a" -gt 0 ] && [ "$b" -gt 0 ] ||
	    atf_fail "equal MX not shuffled: a=$a b=$b"
}
mx_equal_cleanup() { smtpd_cleanup; }

atf_test_case no_mx cleanup
no_mx_head() { atf_set descr "no MX: the domain's own address"; }
no_mx_body()
{
	h_world
	dns_start 25414 --host-record=nomx.test,127.0.0.7
	DNS_PORT=25414 smtpd_setup 25415 <<-'EOT'
	resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay
	match from any for any action "out"
	EOT
	rs out a@nomx.test
	hop 1 | grep -q "^127.0.0.7:25 host=nomx.test" ||
	    atf_fail "no A fallback: $(cat out)"
}
no_mx_cleanup() { smtpd_cleanup; }

atf_test_case nxdomain cleanup
nxdomain_head() { atf_set descr "NXDOMAIN and null MX bounce with 5.1.2"; }
nxdomain_body()
{
	h_world
	dns_start 25416 --mx-host=null.test,.,0 \
	    --host-record=nomail.test,127.0.0.8
	DNS_PORT=25416 smtpd_setup 25417 <<-'EOT'
	resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay
	match from any for any action "out"
	EOT
	rs out a@nx.test
	grep -q "^status: permfail: 550 5.1.2 " out ||
	    atf_fail "NXDOMAIN: $(cat out)"
	rs out a@null.test
	grep -q "^status: permfail: 550 5.1.2 .*null MX" out ||
	    atf_fail "null MX: $(cat out)"
}
nxdomain_cleanup() { smtpd_cleanup; }

atf_test_case dns_failure cleanup
dns_failure_head() { atf_set descr "an unreachable resolver is a tempfail"; }
dns_failure_body()
{
	# nothing listens on 25418
	smtpd_setup 25419 <<-'EOT'
	resolver 127.0.0.1 port 25418
	action "out" relay
	match from any for any action "out"
	EOT
	rs out a@example.test
	grep -q "^status: tempfail: 451 4.4.3 " out ||
	    atf_fail "DNS failure: $(cat out)"
}
dns_failure_cleanup() { smtpd_cleanup; }

atf_test_case relay_names cleanup
relay_names_head()
{
	atf_set descr "relay host names resolve to every address; auth by name"
}
relay_names_body()
{
	h_world
	dns_start 25420 --host-record=relay.example.test,127.0.0.8 \
	    --host-record=relay.example.test,127.0.0.9
	DNS_PORT=25420 smtpd_setup 25421 <<-'EOT'
	resolver 127.0.0.1 port @DNS_PORT@
	table secrets { "example.test" = "bob:pw", "lab" = "ann:pw2" }
	action "gw" relay host { relay.example.test, smtp+tls://lab@127.0.0.1:2526 } auth <secrets> helo out.test
	match from any for any action "gw"
	EOT
	rs gw a@b.test
	atf_check_equal 3 "$(grep -c '^hop ' out)"
	grep -q "^hop .*127.0.0.8:25 host=relay.example.test.* auth=bob helo=out.test" out ||
	    atf_fail "first address: $(cat out)"
	grep -q "^hop .*127.0.0.9:25 host=relay.example.test.* auth=bob" out ||
	    atf_fail "second address: $(cat out)"
	# by label
	hop 3 | grep -q "^127.0.0.1:2526 .*tls=require label=lab auth=ann" ||
	    atf_fail "label: $(cat out)"
}
relay_names_cleanup() { smtpd_cleanup; }

atf_test_case helo_default cleanup
helo_default_head() { atf_set descr "HELO: action, then helo, then hostname"; }
helo_default_body()
{
	smtpd_setup 25422 <<-'EOT'
	hostname host.example.test
	action "a" relay host 127.0.0.9 helo act.example.test
	action "b" relay host 127.0.0.9
	match from any for any action "a"
	EOT
	rs a x@y.test
	hop 1 | grep -q "helo=act.example.test" || atf_fail "$(cat out)"
	rs b x@y.test
	hop 1 | grep -q "helo=host.example.test" || atf_fail "$(cat out)"
}
helo_default_cleanup() { smtpd_cleanup; }

atf_test_case loop cleanup
loop_head() { atf_set descr "a hop that is one of our listeners: 5.4.6"; }
loop_body()
{
	smtpd_setup 25423 <<-'EOT'
	listen on 127.0.0.1 port @PORT@
	action "self" relay host "127.0.0.1:@PORT@"
	action "other" relay host "127.0.0.1:25424"
	match from any for any action "self"
	EOT
	rs self a@b.test
	grep -q "^status: loop: 550 5.4.6 mail loops back to myself" out ||
	    atf_fail "no loop: $(cat out)"
	rs other a@b.test
	grep -q "^status: ok" out || atf_fail "$(cat out)"
}
loop_cleanup() { smtpd_cleanup; }

atf_test_case json cleanup
json_head() { atf_set descr "the JSON form of a route"; }
json_body()
{
	smtpd_setup 25425 <<-'EOT'
	action "a" relay host "127.0.0.9:2525,NeedTLS=2" tls require no-verify
	match from any for any action "a"
	EOT
	"$H_TOOLS/route-show" -j -f "$SMTPD_CONF" a x@y.test > out ||
	    atf_fail "route-show failed"
	grep -q '"hops":\[{"address":"127.0.0.9","host":"127.0.0.9","port":2525,"tls":"require","verify":false' out ||
	    atf_fail "$(cat out)"
}
json_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case seed_routes
	atf_add_test_case random_spec
	atf_add_test_case xmail_table
	atf_add_test_case mx_preference
	atf_add_test_case mx_equal
	atf_add_test_case no_mx
	atf_add_test_case nxdomain
	atf_add_test_case dns_failure
	atf_add_test_case relay_names
	atf_add_test_case helo_default
	atf_add_test_case loop
	atf_add_test_case json
}
