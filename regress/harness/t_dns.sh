#! /usr/bin/env atf-sh
# dnsmasq started by dns_start answers the given MX, A and AAAA records
# and NXDOMAIN for the rest; checked with obj/tools/dnsq (c-ares, as the
# daemon resolves).  Ports 21200-21209.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

atf_test_case records cleanup
records_head() { atf_set descr "MX, A, AAAA answers and NXDOMAIN from dns_start"; }
records_body()
{
	dns_start 21200 --mx-host=example.test,mx1.example.test,10 \
	    --mx-host=example.test,mx2.example.test,20 \
	    --host-record=mx1.example.test,127.0.0.2 \
	    --host-record=mx2.example.test,127.0.0.3,::1
	atf_check -o match:'^MX 10 mx1\.example\.test$' \
	    -o match:'^MX 20 mx2\.example\.test$' \
	    "$H_TOOLS/dnsq" -p 21200 -t MX example.test
	atf_check -o inline:"A 127.0.0.2\n" "$H_TOOLS/dnsq" -p 21200 -t A mx1.example.test
	atf_check -o inline:"AAAA ::1\n" "$H_TOOLS/dnsq" -p 21200 -t AAAA mx2.example.test
	atf_check -s exit:1 -o inline:"NXDOMAIN\n" "$H_TOOLS/dnsq" -p 21200 -t MX nothere.test
	atf_check -s exit:1 -o inline:"NXDOMAIN\n" "$H_TOOLS/dnsq" -p 21200 -t A www.google.com
	# a name with records but none of the asked type
	atf_check -s exit:1 -o inline:"NODATA\n" "$H_TOOLS/dnsq" -p 21200 -t MX mx1.example.test
}
records_cleanup() { smtpd_cleanup; }

atf_test_case stop cleanup
stop_head() { atf_set descr "dns_stop ends dnsmasq by its pid"; }
stop_body()
{
	dns_start 21201 --host-record=a.test,127.0.0.9
	pid=$(cat "$SMTPD_DIR/dns.pid")
	kill -0 "$pid" || atf_fail "dnsmasq not running"
	dns_stop
	h_alive "$pid" && atf_fail "dnsmasq still running"
	atf_check -s exit:2 -o match:'^ERROR' "$H_TOOLS/dnsq" -T 3 -p 21201 -t A a.test
}
stop_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case records
	atf_add_test_case stop
}
