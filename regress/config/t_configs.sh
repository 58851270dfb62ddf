#! /usr/bin/env atf-sh
#
# `smtpd -n -f FILE` on every shipped configuration (configuration OK,
# exit 0) and on every bad configuration in bad/ (exit 1, and each line
# of bad/NAME.err, "FILE:LINE: message", printed on stderr).  @DIR@ in an
# .err file stands for the absolute path of bad/.  The binary can be
# overridden with `kyua test -v smtpd=PATH` (atf config variable).

smtpd_bin()
{
	atf_config_get smtpd "$(atf_get_srcdir)/../../obj/smtpd"
}

confdump_bin()
{
	echo "$(atf_get_srcdir)/../../obj/tools/confdump"
}

top()
{
	(cd "$(atf_get_srcdir)/../.." && pwd -P)
}

# check_ok FILE: smtpd -n accepts FILE.
check_ok()
{
	atf_check -s exit:0 -o inline:"configuration OK\n" -e empty \
	    "$(smtpd_bin)" -n -f "$1"
}

atf_test_case examples
examples_head()
{
	atf_set "descr" "every etc/examples/*.conf passes smtpd -n"
}
examples_body()
{
	n=0
	for f in "$(top)"/etc/examples/*.conf; do
		check_ok "$f"
		n=$((n + 1))
	done
	[ "$n" -ge 8 ] || atf_fail "only $n example configs"
}

atf_test_case default_conf
default_conf_head()
{
	atf_set "descr" "etc/smtpd.conf with @TOP@ replaced passes smtpd -n"
}
default_conf_body()
{
	sed "s|@TOP@|$(pwd)|g" "$(top)/etc/smtpd.conf" > smtpd.conf
	check_ok smtpd.conf
	atf_check -s exit:0 -o match:"^listener .* addr=127.0.0.1 port=2525 " \
	    -o match:"^spool=$(pwd)/run/spool\$" \
	    -o match:"^control_socket=$(pwd)/run/smtpd.sock\$" \
	    -o match:"^rule .* action=local\$" \
	    "$(confdump_bin)" smtpd.conf
	# The placeholder itself is not a valid path.
	atf_check -s exit:1 -o not-match:"configuration OK" \
	    -e match:"smtpd.conf:[0-9]*: spool must be an absolute path" \
	    "$(smtpd_bin)" -n -f "$(top)/etc/smtpd.conf"
}

atf_test_case define_macro
define_macro_head()
{
	atf_set "descr" "smtpd -n -D name=value defines a macro the file uses"
}
define_macro_body()
{
	printf 'listen on $addr port 27025\n' > d.conf
	atf_check -s exit:1 -o not-match:"configuration OK" \
	    -e inline:'d.conf:1: macro "addr" not defined\n' \
	    "$(smtpd_bin)" -n -f d.conf
	atf_check -s exit:0 -o inline:"configuration OK\n" \
	    "$(smtpd_bin)" -n -D addr=127.0.0.1 -f d.conf
	# -D wins over the file's own definition.
	printf 'addr = 192.0.2.1\nlisten on $addr port 27025\n' > e.conf
	atf_check -s exit:0 -o match:"addr=127.0.0.1 port=27025" \
	    "$(confdump_bin)" -D addr=127.0.0.1 e.conf
}

atf_test_case example_contents
example_contents_head()
{
	atf_set "descr" "the examples parse into what they say"
}
example_contents_body()
{
	ex="$(top)/etc/examples"
	atf_check -s exit:0 \
	    -o match:"^rule .* action=local action=relay\$" \
	    -o match:"entry key=\"support@mail.com.cn\" value=\"192.168.1.100:8025;192.168.1.101\"" \
	    "$(confdump_bin)" "$ex/per-user-relay.conf"
	atf_check -s exit:0 \
	    -o match:"entry key=\"\*.domain2.com\" value=\"192.168.1.100\" options=\"NeedTLS=1\" line=5" \
	    -o match:"action name=fwd method=relay .*routes=fwd .*src=192.168.10.1" \
	    "$(confdump_bin)" "$ex/xmail-routes.conf"
	atf_check -s exit:0 \
	    -o match:"hop label= host=192.168.1.100 port=0 tls=require src=192.168.10.1" \
	    -o match:"hop label= host=10.0.0.25 port=2525 tls=no src=" \
	    -o match:"action name=internal .*random=1 .*tls=require no_verify=1" \
	    "$(confdump_bin)" "$ex/needtls.conf"
	atf_check -s exit:0 \
	    -o match:"action name=spread .*random=1 .*src=192.168.10.1" \
	    -o match:"listener index=1 name=localhost addr=127.0.0.1 port=25" \
	    "$(confdump_bin)" "$ex/random.conf"
	atf_check -s exit:0 \
	    -o match:"listener index=1 .*port=587 flags=0xb pki=mail.example.com auth=passwd .*tag=submission" \
	    -o match:"listener index=2 .*port=465 flags=0xc " \
	    -o match:"^pki name=mail.example.com cert_len=[1-9]" \
	    -o match:"^max_message_size=52428800\$" \
	    -o match:"^ban=banned message=\"Access denied\"\$" \
	    "$(confdump_bin)" "$ex/submission.conf"
	atf_check -s exit:0 \
	    -o match:"hop label=isp host=smtp.isp.example port=587 tls=require" \
	    -o match:"^resolver=::1 port=5353\$" \
	    "$(confdump_bin)" "$ex/auth-relay.conf"
}

# One test case per bad/NAME.conf.
bad_case()
{
	name=$1
	dir=$(cd "$(atf_get_srcdir)/bad" && pwd -P)
	[ -f "$dir/$name.err" ] || atf_fail "no $name.err"
	cd "$dir" || atf_fail "cd $dir"
	"$(smtpd_bin)" -n -f "$name.conf" > "$OLDPWD/out" 2> "$OLDPWD/err"
	rc=$?
	cd "$OLDPWD" || atf_fail "cd back"
	[ "$rc" -eq 1 ] || atf_fail "exit $rc, expected 1"
	if grep -q "configuration OK" out; then
		atf_fail "said configuration OK"
	fi
	sed "s|@DIR@|$dir|g" "$dir/$name.err" > want
	[ -s want ] || atf_fail "empty $name.err"
	while IFS= read -r line; do
		grep -Fxq -- "$line" err ||
		    atf_fail "missing \"$line\"; got: $(tr '\n' '|' < err)"
	done < want
}

atf_test_case bad_count
bad_count_head()
{
	atf_set "descr" "at least 25 bad configurations, each with its .err"
}
bad_count_body()
{
	n=0
	for f in "$(atf_get_srcdir)"/bad/*.conf; do
		[ -f "${f%.conf}.err" ] || atf_fail "no .err for $f"
		n=$((n + 1))
	done
	[ "$n" -ge 25 ] || atf_fail "only $n bad configs"
}

atf_test_case manual
manual_head()
{
	atf_set "descr" "smtpd.conf.5 passes mandoc -Tlint -Wwarning"
	atf_set "require.progs" "mandoc"
}
manual_body()
{
	atf_check -s exit:0 -o empty -e empty \
	    mandoc -Tlint -Wwarning "$(top)/smtpd.conf.5"
}

atf_init_test_cases()
{
	atf_add_test_case manual
	atf_add_test_case examples
	atf_add_test_case default_conf
	atf_add_test_case define_macro
	atf_add_test_case example_contents
	atf_add_test_case bad_count
	for f in "$(atf_get_srcdir)"/bad/*.conf; do
		n=$(basename "$f" .conf)
		c=bad_$(echo "$n" | tr -c 'a-zA-Z0-9\n' '_')
		# atf_test_case defines default head/body: override after.
		atf_test_case "$c"
		eval "${c}_head() { atf_set descr \"smtpd -n refuses bad/$n.conf\"; }"
		eval "${c}_body() { bad_case $n; }"
		atf_add_test_case "$c"
	done
}
