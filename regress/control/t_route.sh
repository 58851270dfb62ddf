#! /usr/bin/env atf-sh
# smtpctl show route against the live daemon (per-user, per-domain, glob,
# default gateway and MX routes; refusals; credentials never shown), that
# it agrees with where mail really goes, and the queue levers on mail
# held for a dead relay (show queue/relays, pause mta, schedule, remove).
# Ports 26400-26599.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/ctl_lib.sh"

# The first hop ("ADDR:PORT") of the show route text in ./out.
r_hop()
{
	sed -n "s/^  hop $1: \([^ ]*\) .*/\1/p" out
}

r_route()
{
	"$SMTPCTL_BIN" -s "$SMTPD_SOCK" show route "$@" > out 2> err ||
	    atf_fail "show route $*: $(tr '\n' ' ' < err)"
}

atf_test_case seed_routes cleanup
seed_routes_head()
{
	atf_set descr "per-user, domain, glob and default-gateway routes; mail goes there"
}
seed_routes_body()
{
	c_world
	cat > "$SMTPD_DIR/routes" <<-'EOT'
	support@mail.test	127.0.0.1:26411;127.0.0.1:26419
	domain1.test		127.0.0.1:26412
	*.domain2.test		127.0.0.1:26413,NeedTLS=1
	EOT
	chmod 644 "$SMTPD_DIR/routes"
	smtpd_setup 26410 <<-'EOT'
	spool "@SPOOL@"
	control socket "@SOCK@"
	listen on 127.0.0.1 port @PORT@
	table routes file:@DIR@/routes
	action "r" relay routes <routes> host "127.0.0.1:26414" helo out.test
	match from local for any action "r"
	EOT
	smtpd_start
	r_route support@mail.test
	grep -q '^rule: line 6$' out || atf_fail "rule: $(tr '\n' ' ' < out)"
	grep -q '^result: accept$' out || atf_fail "result: $(tr '\n' ' ' < out)"
	grep -q '^  source: table routes address "support@mail.test"' out ||
	    atf_fail "source: $(tr '\n' ' ' < out)"
	atf_check_equal 127.0.0.1:26411 "$(r_hop 1)"
	atf_check_equal 127.0.0.1:26419 "$(r_hop 2)"
	grep -q '^  hop 1: .* helo=out.test$' out || atf_fail "helo: $(tr '\n' ' ' < out)"
	r_route other@mail.test
	atf_check_equal 127.0.0.1:26414 "$(r_hop 1)"
	r_route a@domain1.test
	atf_check_equal 127.0.0.1:26412 "$(r_hop 1)"
	r_route a@x.domain2.test
	atf_check_equal 127.0.0.1:26413 "$(r_hop 1)"
	grep -q '^  hop 1: .* tls=opportunistic' out || atf_fail "tls: $(tr '\n' ' ' < out)"
	# *.domain2.test does not match domain2.test: the default gateway
	r_route a@domain2.test
	atf_check_equal 127.0.0.1:26414 "$(r_hop 1)"
	# JSON
	r_route a@domain1.test --json
	c_json_ok out
	grep -q '"result":"accept"' out || atf_fail "json: $(tr '\n' ' ' < out)"
	grep -q '"rule":{"line":6,' out || atf_fail "json: $(tr '\n' ' ' < out)"
	grep -q '"hops":\[{"address":"127.0.0.1","host":"127.0.0.1","port":26412,' out ||
	    atf_fail "json: $(tr '\n' ' ' < out)"

	# The mail goes where show route said.
	for p in 26411 26412 26413 26414; do
		peer_start "p$p" "$p"
	done
	smtp_send 26410 a@localhost support@mail.test >/dev/null
	smtp_send 26410 a@localhost a@domain1.test >/dev/null
	smtp_send 26410 a@localhost a@x.domain2.test >/dev/null
	smtp_send 26410 a@localhost a@domain2.test >/dev/null
	peer_wait p26411 1
	peer_wait p26412 1
	peer_wait p26413 1
	peer_wait p26414 1
	atf_check_equal "<support@mail.test>" "$(peer_meta p26411 1 rcpt)"
	atf_check_equal "<a@domain1.test>" "$(peer_meta p26412 1 rcpt)"
	atf_check_equal "<a@x.domain2.test>" "$(peer_meta p26413 1 rcpt)"
	atf_check_equal "<a@domain2.test>" "$(peer_meta p26414 1 rcpt)"
	smtpd_stop
}
seed_routes_cleanup() { smtpd_cleanup; }

atf_test_case mx_route cleanup
mx_route_head()
{
	atf_set descr "MX routes: answers by preference, with their names"
}
mx_route_body()
{
	c_world
	dns_start 26420 --mx-host=mx.test,mx2.mx.test,20 \
	    --mx-host=mx.test,mx1.mx.test,10 \
	    --host-record=mx1.mx.test,127.0.0.3 \
	    --host-record=mx2.mx.test,127.0.0.4
	DNS_PORT=26420 smtpd_setup 26421 <<-'EOT'
	spool "@SPOOL@"
	control socket "@SOCK@"
	listen on 127.0.0.1 port @PORT@
	resolver 127.0.0.1 port @DNS_PORT@
	action "out" relay
	match from local for any action "out"
	EOT
	smtpd_start
	r_route a@mx.test
	grep -q '^  source: MX' out || atf_fail "source: $(tr '\n' ' ' < out)"
	grep -q '^  hop 1: 127.0.0.3:25 host=mx1.mx.test ' out ||
	    atf_fail "first MX: $(tr '\n' ' ' < out)"
	grep -q '^  hop 2: 127.0.0.4:25 host=mx2.mx.test ' out ||
	    atf_fail "second MX: $(tr '\n' ' ' < out)"
	r_route a@nxdomain.test
	grep -q '^  status: ' out && ! grep -q '^  status: ok' out ||
	    atf_fail "nxdomain: $(tr '\n' ' ' < out)"
	smtpd_stop
}
mx_route_cleanup() { smtpd_cleanup; }

atf_test_case refusals_credentials cleanup
refusals_credentials_head()
{
	atf_set descr "a refused address, local actions, credentials label without password"
}
refusals_credentials_body()
{
	c_world
	smtpd_setup 26430 <<-'EOT'
	table secrets { "gw" = "joe:sekret-pw" }
	table c_aliases { "bob" = "@C_USER@" }
	spool "@SPOOL@"
	control socket "@SOCK@"
	listen on 127.0.0.1 port @PORT@
	action "local" maildir "@MAILDIR@" @LOCALUSER@ alias <c_aliases>
	action "r" relay host "smtp://gw@127.0.0.1:26431" auth <secrets>
	match from local for domain "localhost" action "local"
	match from src "192.0.2.0/24" for any reject
	match from local for any action { "local", "r" }
	EOT
	smtpd_start
	r_route bob@remote.test
	grep -q '^action "local" (maildir) ' out || atf_fail "local: $(tr '\n' ' ' < out)"
	grep -q '^  hop 1: 127.0.0.1:26431 .* label=gw auth=joe ' out ||
	    atf_fail "credentials: $(tr '\n' ' ' < out)"
	grep -q 'sekret' out && atf_fail "the password is shown"
	r_route bob@remote.test --json
	c_json_ok out
	grep -q 'sekret' out && atf_fail "the password is shown (json)"
	r_route bob@localhost
	grep -q "^action \"local\" (maildir) recipient=$C_USER@localhost" out ||
	    atf_fail "alias: $(tr '\n' ' ' < out)"
	# from another network: the reject rule
	r_route a@remote.test source 192.0.2.7
	grep -q '^rule: line 9 (reject)' out || atf_fail "reject: $(tr '\n' ' ' < out)"
	grep -q '^result: reject "5' out || atf_fail "reject: $(tr '\n' ' ' < out)"
	r_route a@remote.test source 198.51.100.1 --json
	grep -q '"result":"reject"' out && grep -q '"rule":null' out ||
	    atf_fail "no rule: $(tr '\n' ' ' < out)"
	smtpd_stop
}
refusals_credentials_cleanup() { smtpd_cleanup; }

atf_test_case dead_relay cleanup
dead_relay_head()
{
	atf_set descr "mail for a dead relay: show queue/relays, pause mta, schedule, remove"
}
dead_relay_body()
{
	c_world
	smtpd_setup 26440 <<-'EOT'
	spool "@SPOOL@"
	control socket "@SOCK@"
	listen on 127.0.0.1 port @PORT@
	action "r" relay host "127.0.0.1:26441"
	match from local for any action "r"
	EOT
	smtpd_start
	smtp_send 26440 a@localhost keep@remote.test >/dev/null
	smtp_send 26440 a@localhost drop@remote.test >/dev/null
	# both attempted once and failed
	_n=100
	while [ "$_n" -gt 0 ]; do
		[ "$(ctl show queue | grep -c 'attempts=1 ')" = 2 ] && break
		sleep 0.1
		_n=$((_n - 1))
	done
	ctl show queue > q
	[ "$(grep -c 'state=pending attempts=1 ' q)" = 2 ] ||
	    atf_fail "queue: $(tr '\n' ' ' < q)"
	grep 'recipient=<keep@remote.test>' q | grep -q 'last_error="[^"]' ||
	    atf_fail "no last error: $(tr '\n' ' ' < q)"
	ctl show queue --json > q.json
	c_json_ok q.json
	grep -q '"attempts":1' q.json || atf_fail "json: $(tr '\n' ' ' < q.json)"
	ctl show relays > rel
	grep -q '^127.0.0.1:26441 .*state=cooldown\|^127.0.0.1:26441 .*failures=[1-9]' rel ||
	    atf_fail "relays: $(tr '\n' ' ' < rel)"
	ctl show relays --json > rel.json
	c_json_ok rel.json
	grep -q '"port":26441' rel.json || atf_fail "relays json: $(tr '\n' ' ' < rel.json)"
	drop=$(grep 'recipient=<drop@remote.test>' q | sed 's/^id=\([0-9a-f]*\) .*/\1/')
	atf_check -o match:'1 envelope removed' "$SMTPCTL_BIN" -s \
	    "$SMTPD_SOCK" remove "$drop"
	# revive the relay, but hold the mta
	peer_start p 26441
	atf_check -o inline:"mta paused\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    pause mta
	ctl schedule all >/dev/null
	sleep 2
	atf_check_equal 0 "$(peer_count p)"
	atf_check -o inline:"mta resumed\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    resume mta
	ctl schedule all >/dev/null
	peer_wait p 1
	atf_check_equal "<keep@remote.test>" "$(peer_meta p 1 rcpt)"
	sleep 1
	atf_check_equal 1 "$(peer_count p)"
	atf_check -o inline:"0 envelopes\n" "$SMTPCTL_BIN" -s "$SMTPD_SOCK" \
	    show queue
	smtpd_stop
}
dead_relay_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case seed_routes
	atf_add_test_case mx_route
	atf_add_test_case refusals_credentials
	atf_add_test_case dead_relay
}
