#! /usr/bin/env atf-sh
# The load generator against the peer: counts, unique Message-IDs,
# STARTTLS, errors by reply code.  Ports 21220-21229.

. "$(atf_get_srcdir)/../lib/smtpd.sh"

atf_test_case count_and_ids cleanup
count_and_ids_head() { atf_set descr "4 sessions x 40 messages, pipelined: all accepted, 40 distinct Message-IDs"; }
count_and_ids_body()
{
	peer_start p 21220
	atf_check -o match:'accepted=40 failed=0' -o match:'pipelining=1' \
	    "$H_TOOLS/loadgen" -p 21220 -c 4 -n 40 -s 2000 -P -k 7
	peer_wait p 40 10
	n=$(cat "$(peer_spool p)"/*.eml | grep -c '^Message-ID: ')
	atf_check_equal 40 "$n"
	n=$(cat "$(peer_spool p)"/*.eml | grep '^Message-ID: ' | sort -u | wc -l)
	atf_check_equal 40 "$n"
	# -k 7: a new connection every 7 messages per session
	[ "$(peer_conns p)" -ge 6 ] || atf_fail "only $(peer_conns p) connections"
	# size: about the requested bytes
	s=$(peer_meta p 1 size)
	[ "$s" -ge 1800 ] && [ "$s" -le 2200 ] || atf_fail "size $s"
}
count_and_ids_cleanup() { smtpd_cleanup; }

atf_test_case starttls cleanup
starttls_body()
{
	h_world
	pki_make "$SMTPD_DIR/pki"
	k=$SMTPD_DIR/pki
	peer_start p 21221 --starttls --require-tls --cert "$k/server.crt" \
	    --key "$k/server.key"
	atf_check -o match:'accepted=10 failed=0' "$H_TOOLS/loadgen" \
	    -h localhost -p 21221 -c 2 -n 10 -T --ca "$k/ca.crt"
	peer_wait p 10 10
	peer_meta p 1 tls | grep -q '^TLSv1' || atf_fail "not over TLS"
}
starttls_cleanup() { smtpd_cleanup; }

atf_test_case errors cleanup
errors_head() { atf_set descr "refusals are counted by reply code; exit 1 when not all accepted"; }
errors_body()
{
	peer_start p 21222 --reply rcpt=450 --reply-conns 1
	atf_check -s exit:1 -o match:'loadgen error code=450 count=5' \
	    -o match:'accepted=5 failed=5' \
	    "$H_TOOLS/loadgen" -p 21222 -c 1 -n 10 -k 5
	peer_start q 21223 --reply dot=554
	atf_check -s exit:1 -o match:'loadgen error code=554 count=3' \
	    "$H_TOOLS/loadgen" -p 21223 -c 1 -n 3 -P
	# nobody listening: connect errors, bounded
	atf_check -s exit:1 -o match:'accepted=0' -o match:'connect_errors=3' \
	    "$H_TOOLS/loadgen" -p 21229 -c 1 -n 3
}
errors_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case count_and_ids
	atf_add_test_case starttls
	atf_add_test_case errors
}
