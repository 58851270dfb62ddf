#! /usr/bin/env atf-sh
# Defects found by review, each reproduced against a running daemon:
# table updates, hostile addresses end to end, relay tricks.
# Ports 29000-29099.

. "$(atf_get_srcdir)/../lib/smtpd.sh"
. "$(atf_get_srcdir)/../control/ctl_lib.sh"

atf_test_case update_table_same_size cleanup
update_table_same_size_head()
{
	atf_set descr "update table: a file with as many entries as the" \
	    "old one is looked up by its new keys (hash index swapped too)"
}
update_table_same_size_body()
{
	c_world
	printf 'bob: %s\n' "$C_USER" > "$SMTPD_DIR/aliases"
	chmod 644 "$SMTPD_DIR/aliases"
	# No "user" on the action: the alias table alone decides.
	cat > "$SMTPD_DIR/tmpl" <<EOF2
hostname mx.test
spool "@SPOOL@"
control socket "@SOCK@"
listen on 127.0.0.1 port @PORT@
table a file:$SMTPD_DIR/aliases
action "local" maildir "@MAILDIR@" alias <a>
match from local for any action "local"
EOF2
	smtpd_setup 29001 "$SMTPD_DIR/tmpl"
	smtpd_start
	smtp_expect 29001 -e 220 -s "EHLO x" -e 250 \
	    -s "MAIL FROM:<a@localhost>" -e 250 \
	    -s "RCPT TO:<bob@localhost>" -e 250 \
	    -s "RCPT TO:<carol@localhost>" -e 550 -s QUIT -e 221
	printf 'carol: %s\n' "$C_USER" > "$SMTPD_DIR/aliases"
	atf_check -o match:'table a updated \(1 entries\)' \
	    "$SMTPCTL_BIN" -s "$SMTPD_SOCK" update table a
	smtp_expect 29001 -e 220 -s "EHLO x" -e 250 \
	    -s "MAIL FROM:<a@localhost>" -e 250 \
	    -s "RCPT TO:<carol@localhost>" -e 250 \
	    -s "RCPT TO:<bob@localhost>" -e 550 -s QUIT -e 221
	smtpd_stop
}
update_table_same_size_cleanup() { smtpd_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case update_table_same_size
}
