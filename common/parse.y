/*
 * smtpd.conf grammar (GRAMMAR.md): lexer with macros and `\` line
 * continuation, and the yacc grammar that fills a struct smtpd_config.
 * Errors never stop the parse: each is printed as FILE:LINE: message.
 */
%{
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "parse.h"
#include "relay.h"
#include "table.h"

#define WORD_MAX	8192
#define PUSHBACK_MAX	(WORD_MAX + 16)

struct kv {
	char	*key;
	char	*val;
	int	 line;
};

typedef struct {
	union {
		long long		 number;
		char			*string;
		struct kv		 kv;
		struct table		*table;
		enum relay_tls		 tls;
	} v;
	int lineno;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1

static struct smtpd_config	*conf;
static const char		*pfile;
static FILE			*pfp;
static int			 plineno;
static int			 perrors;
static int			 prevtok;
static int			 pbrace;
static char			 pushback[PUSHBACK_MAX];
static size_t			 npushback;
static int			 anon_count;
static char			 confdir[PATH_MAX];

/* Options collected while a statement is read. */
static struct listener		 lopt;
static struct action		*cur_action;
static unsigned			 cur_action_relay_opts;
static unsigned			 cur_action_local_opts;
static struct rule		*cur_rule;
static char			*ban_message;
static struct pki		*pki_scratch;
static int			 lopt_port_set;
static int			 lexerr_line = -1;

int	yylex(void);
int	yyparse(void);
void	yyerror(const char *);

static void	 perr(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 lerr(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static char	*xstrdup(const char *);
static struct table *anon_table(int);
static struct table *table_ref(const char *, int);
static const char *path_resolve(const char *);
static void	 anon_drop(struct table *);
static void	 lungetc(int);
static struct action *action_get(void);
static struct rule *rule_get(void);
static void	 statement_reset(void);
static void	 action_hosts(struct action *, struct table *, int);
static void	 action_host(struct action *, const char *, int);
static void	 rule_actions(struct rule *, struct table *, int);
static void	 resolver_add(const char *, uint16_t, int);
static void	 resolver_add_spec(const char *, int);
static void	 set_duration(time_t *, const char *, int);
static void	 set_size(uint64_t *, const char *, int);
static void	 set_unsigned(unsigned *, long long, int, const char *);
static int	 tls_listener_check(int, int);

#define RELAY_OPT(bit)	(cur_action_relay_opts |= (bit))
#define LOCAL_OPT(bit)	(cur_action_local_opts |= (bit))
%}

%token	ACTION ALIAS ANY AUTH AUTH_FAILURES AUTH_OPTIONAL BAN BOUNCE CA CERT
%token	CONTROL DATA DNSBL DOMAIN ERRORS ETRN FOR FROM HELO HOST HOSTNAME KEY
%token	LIMIT LISTEN LMTP LOCAL MAIL_FROM MAILDIR MATCH MAX MAX_HOPS
%token	MAX_MESSAGE_SIZE MAX_RCPT MBOX MDA MESSAGE MIN_FREE_SPACE NO NO_VERIFY
%token	MTA
%token	ON OPPORTUNISTIC PKI PORT POSTMASTER QUEUE RANDOM RCPT_TO
%token	RECEIVED_AUTH REJECT RELAY REQUIRE RESOLVER RETRY ROUTES SESSIONS
%token	SESSIONS_PER_ADDRESS SMTP SMTPS SOCKET SPOOL SRC TABLE TAG TIMEOUT
%token	TLS TLS_REQUIRE TTL USER VIRTUAL VRFY WARN_INTERVAL YES
%token	ERROR
%token	<v.string>	STRING TABLEREF
%token	<v.number>	NUMBER
%type	<v.string>	string
%type	<v.number>	yesno negation port
%type	<v.kv>		tkv
%type	<v.table>	tentries tlist tableref
%destructor	{ free($$); } <v.string>
%destructor	{ free($$.key); free($$.val); } <v.kv>
%%

grammar		: /* empty */
		| grammar '\n'
		| grammar main '\n'
		| grammar error '\n'	{ statement_reset(); yyerrok; }
		;

main		: macro
		| global
		| tabledef
		| pkidef
		| listen
		| actiondef
		| match
		;

string		: STRING		{ $$ = $1; }
		| NUMBER		{
			if (asprintf(&$$, "%lld", $1) == -1)
				abort();
		}
		;

yesno		: YES			{ $$ = 1; }
		| NO			{ $$ = 0; }
		;

port		: PORT NUMBER		{
			if ($2 < 1 || $2 > 65535) {
				perr($<lineno>2, "invalid port %lld", $2);
				$$ = 0;
			} else
				$$ = $2;
		}
		| PORT STRING		{
			perr($<lineno>2, "invalid port \"%s\"", $2);
			free($2);
			$$ = 0;
		}
		;

macro		: STRING '=' string	{
			const char *s;

			for (s = $1; *s; s++)
				if (!isalnum((unsigned char)*s) && *s != '_')
					break;
			if (*s != '\0' || *$1 == '\0' ||
			    isdigit((unsigned char)*$1))
				perr($<lineno>1, "invalid macro name \"%s\"", $1);
			else
				macro_set($1, $3, 0);
			free($1);
			free($3);
		}
		;

global		: HOSTNAME STRING	{
			if (strlcpy(conf->hostname, $2,
			    sizeof(conf->hostname)) >= sizeof(conf->hostname))
				perr($<lineno>2, "hostname too long");
			free($2);
		}
		| HELO STRING		{
			if (strlcpy(conf->helo, $2, sizeof(conf->helo)) >=
			    sizeof(conf->helo))
				perr($<lineno>2, "helo name too long");
			free($2);
		}
		| POSTMASTER STRING	{
			if (strchr($2, '@') == NULL)
				perr($<lineno>2, "postmaster: \"%s\" is not "
				    "an address", $2);
			else if (strlcpy(conf->postmaster, $2,
			    sizeof(conf->postmaster)) >=
			    sizeof(conf->postmaster))
				perr($<lineno>2, "postmaster too long");
			free($2);
		}
		| RESOLVER STRING	{
			resolver_add_spec($2, $<lineno>2);
			free($2);
		}
		| RESOLVER STRING port	{
			if ($3 != 0)
				resolver_add($2, (uint16_t)$3, $<lineno>2);
			free($2);
		}
		| RESOLVER tlist	{
			size_t i;

			for (i = 0; i < $2->nentries; i++)
				resolver_add_spec($2->entries[i].key,
				    $2->entries[i].line);
			anon_drop($2);
		}
		| SPOOL STRING		{
			if (*$2 != '/')
				perr($<lineno>2, "spool must be an absolute "
				    "path");
			free(conf->spool);
			conf->spool = $2;
		}
		| CONTROL SOCKET STRING	{
			if (*$3 != '/')
				perr($<lineno>3, "control socket must be an "
				    "absolute path");
			free(conf->control_socket);
			conf->control_socket = $3;
		}
		| QUEUE TTL string	{
			set_duration(&conf->queue_ttl, $3, $<lineno>3);
			free($3);
		}
		| QUEUE RETRY string	{
			set_duration(&conf->queue_retry, $3, $<lineno>3);
			free($3);
		}
		| QUEUE RETRY string MAX string {
			set_duration(&conf->queue_retry, $3, $<lineno>3);
			set_duration(&conf->queue_retry_max, $5, $<lineno>5);
			if (conf->queue_retry_max < conf->queue_retry)
				perr($<lineno>5, "queue retry max is below "
				    "the first retry delay");
			free($3);
			free($5);
		}
		| BOUNCE WARN_INTERVAL string {
			set_duration(&conf->bounce_warn_interval, $3,
			    $<lineno>3);
			free($3);
		}
		| SMTP smtpopt
		| MTA mtaopt
		| MDA STRING string	{
			/* After `mda` the lexer reads a name: the option. */
			if (strcmp($2, "timeout") != 0)
				perr($<lineno>2, "unknown mda option \"%s\"",
				    $2);
			else {
				set_duration(&conf->mda_timeout, $3,
				    $<lineno>3);
				if (conf->mda_timeout == 0)
					perr($<lineno>3, "mda timeout must not "
					    "be 0");
			}
			free($2);
			free($3);
		}
		;

smtpopt		: MAX_MESSAGE_SIZE string {
			set_size(&conf->max_message_size, $2, $<lineno>2);
			if (conf->max_message_size == 0)
				perr($<lineno>2, "max-message-size must not "
				    "be 0");
			free($2);
		}
		| MAX_RCPT NUMBER	{
			set_unsigned(&conf->max_rcpt, $2, $<lineno>2,
			    "max-rcpt");
		}
		| MAX_HOPS NUMBER	{
			set_unsigned(&conf->max_hops, $2, $<lineno>2,
			    "max-hops");
		}
		| VRFY yesno		{ conf->vrfy = (int)$2; }
		| ETRN yesno		{ conf->etrn = (int)$2; }
		| MIN_FREE_SPACE string	{
			set_size(&conf->min_free_space, $2, $<lineno>2);
			free($2);
		}
		| DNSBL tableref	{
			size_t i;

			if ($2 != NULL) {
				for (i = 0; i < $2->nentries; i++) {
					char **n;

					n = reallocarray(conf->dnsbl,
					    conf->ndnsbl + 1, sizeof(*n));
					if (n == NULL)
						abort();
					conf->dnsbl = n;
					n[conf->ndnsbl++] =
					    xstrdup($2->entries[i].key);
				}
			}
		}
		| BAN tableref banmsg	{
			if ($2 != NULL) {
				size_t i;

				for (i = 0; i < $2->nentries; i++)
					if (!table_valid_cidr(
					    $2->entries[i].key))
						perr($2->entries[i].line ?
						    $2->entries[i].line :
						    $<lineno>1, "smtp ban: "
						    "\"%s\" is not an address "
						    "or CIDR",
						    $2->entries[i].key);
				conf->ban = $2;
			}
			if (ban_message != NULL) {
				free(conf->ban_message);
				conf->ban_message = ban_message;
				ban_message = NULL;
			}
		}
		| LIMIT SESSIONS NUMBER	{
			set_unsigned(&conf->max_sessions, $3, $<lineno>3,
			    "limit sessions");
		}
		| LIMIT SESSIONS_PER_ADDRESS NUMBER {
			set_unsigned(&conf->max_sessions_per_ip, $3,
			    $<lineno>3, "limit sessions-per-address");
		}
		| LIMIT ERRORS NUMBER	{
			set_unsigned(&conf->max_errors, $3, $<lineno>3,
			    "limit errors");
		}
		| LIMIT AUTH_FAILURES NUMBER {
			set_unsigned(&conf->max_auth_failures, $3, $<lineno>3,
			    "limit auth-failures");
		}
		| TIMEOUT string	{
			set_duration(&conf->timeout, $2, $<lineno>2);
			free($2);
		}
		| TIMEOUT DATA string	{
			set_duration(&conf->timeout_data, $3, $<lineno>3);
			free($3);
		}
		;

/* The option words are no keywords: `mta` must not take names away. */
mtaopt		: LIMIT STRING NUMBER	{
			if (strcmp($2, "connections-per-hop") == 0)
				set_unsigned(&conf->mta_conn_per_hop, $3,
				    $<lineno>3, "mta limit connections-per-hop");
			else if (strcmp($2, "connections-per-domain") == 0)
				set_unsigned(&conf->mta_conn_per_domain, $3,
				    $<lineno>3,
				    "mta limit connections-per-domain");
			else if (strcmp($2, "messages-per-connection") == 0)
				set_unsigned(&conf->mta_msg_per_conn, $3,
				    $<lineno>3,
				    "mta limit messages-per-connection");
			else
				perr($<lineno>2, "unknown mta limit \"%s\"",
				    $2);
			free($2);
		}
		| TIMEOUT STRING string	{
			time_t	*t = NULL;

			if (strcmp($2, "connect") == 0)
				t = &conf->mta_timeout_connect;
			else if (strcmp($2, "reply") == 0)
				t = &conf->mta_timeout_reply;
			else if (strcmp($2, "idle") == 0)
				t = &conf->mta_timeout_idle;
			else
				perr($<lineno>2, "unknown mta timeout \"%s\"",
				    $2);
			if (t != NULL) {
				set_duration(t, $3, $<lineno>3);
				if (*t == 0)
					perr($<lineno>3, "mta timeout %s must "
					    "not be 0", $2);
			}
			free($2);
			free($3);
		}
		;

banmsg		: /* empty */
		| MESSAGE STRING	{
			if (strchr($2, '\r') || strchr($2, '\n'))
				perr($<lineno>2, "ban message must be one "
				    "line");
			free(ban_message);
			ban_message = $2;
		}
		;

tkv		: string		{
			$$.key = $1;
			$$.val = NULL;
			$$.line = $<lineno>1;
		}
		| string '=' string	{
			$$.key = $1;
			$$.val = $3;
			$$.line = $<lineno>1;
		}
		;

tentries	: tkv			{
			$$ = anon_table($1.line);
			table_add($$, $1.key, $1.val, NULL, $1.line);
			free($1.key);
			free($1.val);
		}
		| tentries optcomma tkv	{
			$$ = $1;
			if (($1->entries[0].value == NULL) != ($3.val == NULL))
				perr($3.line, "list and key = value pairs "
				    "mixed in one table");
			else if (table_lookup($1, $3.key) != NULL)
				perr($3.line, "duplicate key \"%s\"", $3.key);
			else
				table_add($$, $3.key, $3.val, NULL, $3.line);
			free($3.key);
			free($3.val);
		}
		;

optcomma	: /* empty */
		| ','
		;

tlist		: '{' tentries optcomma '}'	{ $$ = $2; }
		| '{' '}'		{
			perr($<lineno>1, "empty list");
			$$ = anon_table($<lineno>1);
		}
		;

/* <name>, a quoted literal, or an inline list: NULL if unknown. */
tableref	: TABLEREF		{
			$$ = table_ref($1, $<lineno>1);
			free($1);
		}
		| string		{
			$$ = anon_table($<lineno>1);
			table_add($$, $1, NULL, NULL, $<lineno>1);
			free($1);
		}
		| tlist			{ $$ = $1; }
		;

tabledef	: TABLE STRING string	{
			struct table	*t = NULL;
			char		 err[1024];

			if (config_table(conf, $2) != NULL)
				perr($<lineno>2, "duplicate table \"%s\"", $2);
			else if (strlen($2) >= sizeof(t->name) || *$2 == '\0')
				perr($<lineno>2, "invalid table name");
			else if (strncmp($3, "file:", 5) == 0 && $3[5])
				t = table_new($2, TABLE_FILE,
				    path_resolve($3 + 5));
			else if (*$3 == '/')
				t = table_new($2, TABLE_FILE, $3);
			else if (strncmp($3, "xmail:", 6) == 0 && $3[6])
				t = table_new($2, TABLE_XMAIL,
				    path_resolve($3 + 6));
			else if (strcmp($3, "file:") == 0 ||
			    strcmp($3, "xmail:") == 0)
				perr($<lineno>3, "table \"%s\": missing path",
				    $2);
			else
				perr($<lineno>3, "table \"%s\": unknown "
				    "backend \"%s\" (file: or xmail:)", $2, $3);
			if (t != NULL) {
				FILE *fp;

				t->conf_file = conf->conf_path;
				t->conf_line = $<lineno>1;
				if ((fp = fopen(t->path, "r")) == NULL)
					perr($<lineno>3, "table \"%s\": cannot "
					    "open \"%s\": %s", $2, t->path,
					    strerror(errno));
				else if (fclose(fp) != 0 ||
				    table_load(t, err, sizeof(err)) == -1) {
					fprintf(stderr, "%s\n", err);
					perrors++;
				}
				TAILQ_INSERT_TAIL(&conf->tables, t, entry);
			}
			free($2);
			free($3);
		}
		| TABLE STRING tlist	{
			if (config_table(conf, $2) != NULL) {
				perr($<lineno>2, "duplicate table \"%s\"", $2);
			} else if (strlen($2) >= sizeof($3->name) ||
			    *$2 == '\0') {
				perr($<lineno>2, "invalid table name");
			} else {
				/* Rename the anonymous table. */
				snprintf($3->name, sizeof($3->name), "%s", $2);
				$3->conf_line = $<lineno>1;
			}
			free($2);
		}
		;

pkidef		: PKI STRING pkiopts	{
			struct pki	*p;
			char		 err[1024];

			p = calloc(1, sizeof(*p));
			if (p == NULL)
				abort();
			if (config_pki(conf, $2) != NULL)
				perr($<lineno>2, "duplicate pki \"%s\"", $2);
			else if (strlcpy(p->name, $2, sizeof(p->name)) >=
			    sizeof(p->name))
				perr($<lineno>2, "pki name too long");
			else if (pki_scratch == NULL ||
			    pki_scratch->cert_file == NULL)
				perr($<lineno>1, "pki \"%s\": missing cert", $2);
			else if (pki_scratch->key_file == NULL)
				perr($<lineno>1, "pki \"%s\": missing key", $2);
			else {
				p->cert_file = pki_scratch->cert_file;
				p->key_file = pki_scratch->key_file;
				pki_scratch->cert_file = NULL;
				pki_scratch->key_file = NULL;
				if (config_pki_load(p, err, sizeof(err)) == -1)
					perr($<lineno>1, "pki \"%s\": %s", $2,
					    err);
				TAILQ_INSERT_TAIL(&conf->pkis, p, entry);
				p = NULL;
			}
			free(p);
			free($2);
			statement_reset();
		}
		;

pkiopts		: /* empty */
		| pkiopts pkiopt
		;

pkiopt		: CERT STRING		{
			if (pki_scratch == NULL &&
			    (pki_scratch = calloc(1, sizeof(*pki_scratch))) ==
			    NULL)
				abort();
			if (pki_scratch->cert_file != NULL)
				perr($<lineno>1, "cert given twice");
			free(pki_scratch->cert_file);
			pki_scratch->cert_file = xstrdup(path_resolve($2));
			free($2);
		}
		| KEY STRING		{
			if (pki_scratch == NULL &&
			    (pki_scratch = calloc(1, sizeof(*pki_scratch))) ==
			    NULL)
				abort();
			if (pki_scratch->key_file != NULL)
				perr($<lineno>1, "key given twice");
			free(pki_scratch->key_file);
			pki_scratch->key_file = xstrdup(path_resolve($2));
			free($2);
		}
		;

listen		: LISTEN ON string lopts	{
			char err[512];

			lopt.line = $<lineno>1;
			if (tls_listener_check(lopt.flags, $<lineno>1) == 0 &&
			    config_listen(conf, &lopt, $3, err,
			    sizeof(err)) == -1)
				perr($<lineno>3, "listen on %s: %s", $3, err);
			free($3);
			statement_reset();
		}
		;

lopts		: /* empty */
		| lopts lopt
		;

lopt		: port			{
			if (lopt_port_set)
				perr($<lineno>1, "port given twice");
			lopt_port_set = 1;
			lopt.port = (uint16_t)$1;
		}
		| TLS			{ lopt.flags |= LISTEN_TLS; }
		| TLS_REQUIRE		{
			lopt.flags |= LISTEN_TLS | LISTEN_TLS_REQUIRE;
		}
		| SMTPS			{ lopt.flags |= LISTEN_SMTPS; }
		| PKI STRING		{
			struct pki *p;

			if ((p = config_pki(conf, $2)) == NULL)
				perr($<lineno>2, "unknown pki \"%s\"", $2);
			lopt.pki = p;
			free($2);
		}
		| AUTH tableref		{
			lopt.flags |= LISTEN_AUTH;
			lopt.flags &= ~LISTEN_AUTH_OPTIONAL;
			lopt.auth_table = $2;
		}
		| AUTH_OPTIONAL tableref {
			lopt.flags |= LISTEN_AUTH_OPTIONAL;
			lopt.flags &= ~LISTEN_AUTH;
			lopt.auth_table = $2;
		}
		| RECEIVED_AUTH		{ lopt.flags |= LISTEN_RECEIVED_AUTH; }
		| HOSTNAME STRING	{
			if (strlcpy(lopt.hostname, $2, sizeof(lopt.hostname)) >=
			    sizeof(lopt.hostname))
				perr($<lineno>2, "hostname too long");
			free($2);
		}
		| TAG STRING		{
			if (strlen($2) >= sizeof(lopt.tag) || *$2 == '\0')
				perr($<lineno>2, "invalid tag");
			else
				memcpy(lopt.tag, $2, strlen($2) + 1);
			free($2);
		}
		;

actiondef	: ACTION STRING method aopts {
			struct action *a = action_get();

			a->line = $<lineno>1;
			if (config_action(conf, $2) != NULL)
				perr($<lineno>2, "duplicate action \"%s\"", $2);
			else if (strlcpy(a->name, $2, sizeof(a->name)) >=
			    sizeof(a->name) || *$2 == '\0')
				perr($<lineno>2, "invalid action name");
			else if (a->method != A_RELAY && cur_action_relay_opts)
				perr($<lineno>1, "action \"%s\": relay options "
				    "given to a local delivery", $2);
			else if (a->method == A_RELAY && cur_action_local_opts)
				perr($<lineno>1, "action \"%s\": alias, virtual "
				    "and user apply to local delivery only", $2);
			else {
				a->random = a->random || a->hosts.random;
				a->hosts.random = a->random;
				TAILQ_INSERT_TAIL(&conf->actions, a, entry);
				cur_action = NULL;
			}
			free($2);
			statement_reset();
		}
		;

method		: MAILDIR		{
			action_get()->method = A_MAILDIR;
			action_get()->path = xstrdup("~/Maildir");
		}
		| MAILDIR STRING	{
			action_get()->method = A_MAILDIR;
			action_get()->path = $2;
		}
		| MBOX			{ action_get()->method = A_MBOX; }
		| MDA STRING		{
			action_get()->method = A_MDA;
			action_get()->path = $2;
		}
		| LMTP STRING		{
			action_get()->method = A_LMTP;
			action_get()->path = $2;
		}
		| RELAY			{ action_get()->method = A_RELAY; }
		;

aopts		: /* empty */
		| aopts aopt
		;

aopt		: ALIAS tableref	{
			LOCAL_OPT(1);
			action_get()->alias = $2;
		}
		| VIRTUAL tableref	{
			LOCAL_OPT(2);
			action_get()->virtual = $2;
		}
		| USER STRING		{
			LOCAL_OPT(4);
			free(action_get()->user);
			action_get()->user = $2;
		}
		| HOST string		{
			RELAY_OPT(1);
			action_host(action_get(), $2, $<lineno>2);
			free($2);
		}
		| HOST tlist		{
			RELAY_OPT(1);
			action_hosts(action_get(), $2, $<lineno>1);
			anon_drop($2);
		}
		| RANDOM		{
			RELAY_OPT(2);
			action_get()->random = 1;
		}
		| ROUTES tableref	{
			RELAY_OPT(4);
			action_get()->routes = $2;
		}
		| TLS NO		{
			RELAY_OPT(8);
			action_get()->tls = RELAY_TLS_NO;
		}
		| TLS OPPORTUNISTIC	{
			RELAY_OPT(8);
			action_get()->tls = RELAY_TLS_OPPORTUNISTIC;
		}
		| TLS REQUIRE		{
			RELAY_OPT(8);
			action_get()->tls = RELAY_TLS_REQUIRE;
		}
		| TLS REQUIRE NO_VERIFY	{
			RELAY_OPT(8);
			action_get()->tls = RELAY_TLS_REQUIRE;
			action_get()->no_verify = 1;
		}
		| SRC string		{
			RELAY_OPT(16);
			if (!relay_is_address($2))
				perr($<lineno>2, "src \"%s\" is not an "
				    "address", $2);
			else
				snprintf(action_get()->src,
				    sizeof(action_get()->src), "%s", $2);
			free($2);
		}
		| AUTH tableref		{
			RELAY_OPT(32);
			action_get()->auth = $2;
		}
		| HELO STRING		{
			RELAY_OPT(64);
			free(action_get()->helo);
			action_get()->helo = $2;
		}
		| port			{
			RELAY_OPT(128);
			action_get()->port = (uint16_t)$1;
		}
		| CA STRING		{
			FILE *fp;

			RELAY_OPT(256);
			free(action_get()->ca_file);
			action_get()->ca_file = xstrdup(path_resolve($2));
			if ((fp = fopen(action_get()->ca_file, "r")) == NULL)
				perr($<lineno>2, "ca \"%s\": %s", $2,
				    strerror(errno));
			else
				fclose(fp);
			free($2);
		}
		;

match		: MATCH mopts mend	{
			struct rule *r = rule_get();

			r->line = $<lineno>1;
			/* 2 marked "given" to catch repeats; config.h says 1. */
			r->from_set = r->from_set ? 1 : 0;
			r->for_set = r->for_set ? 1 : 0;
			if (!r->from_set) {
				r->from_set = 1;
				r->from = FROM_LOCAL;
			}
			if (!r->for_set) {
				r->for_set = 1;
				r->rfor = FOR_LOCAL;
			}
			TAILQ_INSERT_TAIL(&conf->rules, r, entry);
			cur_rule = NULL;
			statement_reset();
		}
		;

mopts		: /* empty */
		| mopts mopt
		;

negation	: /* empty */		{ $$ = 0; }
		| '!'			{ $$ = 1; }
		;

mopt		: negation FROM fromspec {
			struct rule *r = rule_get();

			if (r->from_set == 2)
				perr($<lineno>2, "from given twice");
			r->from_set = 2;
			r->from_neg = (int)$1;
		}
		| negation FOR forspec	{
			struct rule *r = rule_get();

			if (r->for_set == 2)
				perr($<lineno>2, "for given twice");
			r->for_set = 2;
			r->for_neg = (int)$1;
		}
		| negation TAG STRING	{
			struct rule *r = rule_get();

			if (r->tag_set)
				perr($<lineno>2, "tag given twice");
			if (strlcpy(r->tag, $3, sizeof(r->tag)) >=
			    sizeof(r->tag))
				perr($<lineno>3, "tag too long");
			r->tag_set = 1;
			r->tag_neg = (int)$1;
			free($3);
		}
		;

fromspec	: LOCAL			{ rule_get()->from = FROM_LOCAL; }
		| ANY			{ rule_get()->from = FROM_ANY; }
		| AUTH			{ rule_get()->from = FROM_AUTH; }
		| AUTH tableref		{
			rule_get()->from = FROM_AUTH;
			rule_get()->from_table = $2;
		}
		| SRC tableref		{
			size_t i;

			rule_get()->from = FROM_SRC;
			rule_get()->from_table = $2;
			for (i = 0; $2 && i < $2->nentries; i++)
				if (!table_valid_cidr($2->entries[i].key) &&
				    $2->backend == TABLE_INLINE)
					perr($2->entries[i].line, "from src: "
					    "\"%s\" is "
					    "not an address or CIDR",
					    $2->entries[i].key);
		}
		| MAIL_FROM tableref	{
			rule_get()->from = FROM_MAIL_FROM;
			rule_get()->from_table = $2;
		}
		;

forspec		: LOCAL			{ rule_get()->rfor = FOR_LOCAL; }
		| ANY			{ rule_get()->rfor = FOR_ANY; }
		| DOMAIN tableref	{
			rule_get()->rfor = FOR_DOMAIN;
			rule_get()->for_table = $2;
		}
		| RCPT_TO tableref	{
			rule_get()->rfor = FOR_RCPT_TO;
			rule_get()->for_table = $2;
		}
		;

mend		: ACTION STRING		{
			struct table *t = anon_table($<lineno>2);

			table_add(t, $2, NULL, NULL, $<lineno>2);
			rule_actions(rule_get(), t, $<lineno>2);
			free($2);
		}
		| ACTION tlist		{
			rule_actions(rule_get(), $2, $<lineno>1);
		}
		| REJECT		{ rule_get()->reject = 1; }
		;

%%

struct keywords {
	const char	*k_name;
	int		 k_val;
};

static const struct keywords keywords[] = {
	/* sorted for bsearch */
	{ "action",		ACTION },
	{ "alias",		ALIAS },
	{ "any",		ANY },
	{ "auth",		AUTH },
	{ "auth-failures",	AUTH_FAILURES },
	{ "auth-optional",	AUTH_OPTIONAL },
	{ "ban",		BAN },
	{ "bounce",		BOUNCE },
	{ "ca",			CA },
	{ "cert",		CERT },
	{ "control",		CONTROL },
	{ "data",		DATA },
	{ "dnsbl",		DNSBL },
	{ "domain",		DOMAIN },
	{ "errors",		ERRORS },
	{ "etrn",		ETRN },
	{ "for",		FOR },
	{ "from",		FROM },
	{ "helo",		HELO },
	{ "host",		HOST },
	{ "hostname",		HOSTNAME },
	{ "key",		KEY },
	{ "limit",		LIMIT },
	{ "listen",		LISTEN },
	{ "lmtp",		LMTP },
	{ "local",		LOCAL },
	{ "mail-from",		MAIL_FROM },
	{ "maildir",		MAILDIR },
	{ "match",		MATCH },
	{ "max",		MAX },
	{ "max-hops",		MAX_HOPS },
	{ "max-message-size",	MAX_MESSAGE_SIZE },
	{ "max-rcpt",		MAX_RCPT },
	{ "mbox",		MBOX },
	{ "mda",		MDA },
	{ "message",		MESSAGE },
	{ "min-free-space",	MIN_FREE_SPACE },
	{ "mta",		MTA },
	{ "no",			NO },
	{ "no-verify",		NO_VERIFY },
	{ "on",			ON },
	{ "opportunistic",	OPPORTUNISTIC },
	{ "pki",		PKI },
	{ "port",		PORT },
	{ "postmaster",		POSTMASTER },
	{ "queue",		QUEUE },
	{ "random",		RANDOM },
	{ "rcpt-to",		RCPT_TO },
	{ "received-auth",	RECEIVED_AUTH },
	{ "reject",		REJECT },
	{ "relay",		RELAY },
	{ "require",		REQUIRE },
	{ "resolver",		RESOLVER },
	{ "retry",		RETRY },
	{ "routes",		ROUTES },
	{ "sessions",		SESSIONS },
	{ "sessions-per-address", SESSIONS_PER_ADDRESS },
	{ "smtp",		SMTP },
	{ "smtps",		SMTPS },
	{ "socket",		SOCKET },
	{ "spool",		SPOOL },
	{ "src",		SRC },
	{ "table",		TABLE },
	{ "tag",		TAG },
	{ "timeout",		TIMEOUT },
	{ "tls",		TLS },
	{ "tls-require",	TLS_REQUIRE },
	{ "ttl",		TTL },
	{ "user",		USER },
	{ "virtual",		VIRTUAL },
	{ "vrfy",		VRFY },
	{ "warn-interval",	WARN_INTERVAL },
	{ "yes",		YES },
};

static int
kw_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keywords *)e)->k_name);
}

static int
lookup(const char *s)
{
	const struct keywords	*p;

	p = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);
	return p ? p->k_val : STRING;
}

/* After these tokens the next word is a name, never a keyword. */
static int
takes_name(int tok)
{
	switch (tok) {
	case TABLE: case PKI: case ACTION: case TAG: case USER: case HELO:
	case HOSTNAME: case POSTMASTER: case CERT: case KEY: case SPOOL:
	case SOCKET: case MESSAGE: case CA: case MDA: case LMTP:
		return 1;
	}
	return 0;
}

static int
lgetc(void)
{
	int	c;

	if (npushback > 0)
		return (unsigned char)pushback[--npushback];
	c = getc(pfp);
	if (c == '\\') {
		int next = getc(pfp);

		if (next == '\r') {		/* CRLF file */
			int after = getc(pfp);

			if (after == '\n') {
				plineno++;
				return ' ';
			}
			lungetc(after);
			lungetc(next);
			return c;
		}
		if (next == '\n') {
			plineno++;
			return ' ';
		}
		if (next != EOF)
			ungetc(next, pfp);
	}
	return c;
}

static void
lungetc(int c)
{
	if (c == EOF)
		return;
	if (npushback < sizeof(pushback))
		pushback[npushback++] = (char)c;
}

/* Push a whole string back, to be read again (macro with a list). */
static int
lpushstr(const char *s)
{
	size_t	n = strlen(s);

	if (npushback + n + 1 > sizeof(pushback))
		return -1;
	lungetc(' ');
	while (n > 0)
		lungetc((unsigned char)s[--n]);
	return 0;
}

/* At a statement's start, is the word just read followed by '='? */
static int
macro_def_ahead(void)
{
	char	blanks[64];
	size_t	n = 0;
	int	c, eq;

	if (prevtok != '\n')
		return 0;
	while ((c = lgetc()) == ' ' || c == '\t') {
		if (n == sizeof(blanks))
			break;
		blanks[n++] = (char)c;
	}
	eq = c == '=';
	lungetc(c);
	while (n > 0)
		lungetc((unsigned char)blanks[--n]);
	return eq;
}

static int
is_word_char(int c)
{
	if (c == EOF || isspace(c) || iscntrl(c))
		return 0;
	return strchr("{}<>,=\"'", c) == NULL;
}

int
yylex(void)
{
	char		 buf[WORD_MAX + 1];
	size_t		 n;
	int		 c, q, tok, expanded = 0;
	const char	*errstr;

top:
	do {
		c = lgetc();
	} while (c == ' ' || c == '\t' || c == '\r' ||
	    (c == '\n' && pbrace > 0 && ++plineno));
	yylval.lineno = plineno;
	if (c == '#') {
		while ((c = lgetc()) != '\n' && c != EOF)
			;
		if (c == '\n' && pbrace > 0) {
			plineno++;
			goto top;
		}
	}
	if (c == EOF) {
		/* A last line without its newline still ends a statement. */
		if (prevtok != '\n') {
			prevtok = '\n';
			return '\n';
		}
		return 0;
	}
	if (c == '\n') {
		plineno++;
		prevtok = '\n';
		return '\n';
	}
	if (c == '"' || c == '\'') {
		q = c;
		n = 0;
		for (;;) {
			c = lgetc();
			if (c == EOF || c == '\n') {
				lerr(yylval.lineno, "unterminated quoted string");
				if (c == '\n')
					lungetc(c);
				return ERROR;
			}
			if (c == q)
				break;
			if (c == '\\') {
				int next = lgetc();

				if (next == q || next == '\\')
					c = next;
				else
					lungetc(next);
			}
			if (n >= WORD_MAX) {
				lerr(yylval.lineno, "string too long");
				return ERROR;
			}
			buf[n++] = (char)c;
		}
		buf[n] = '\0';
		if (memchr(buf, '\0', n) != NULL) {
			lerr(yylval.lineno, "NUL in string");
			return ERROR;
		}
		yylval.v.string = xstrdup(buf);
		prevtok = STRING;
		return STRING;
	}
	if (c == '<') {
		n = 0;
		while ((c = lgetc()) != '>') {
			if (c == EOF || c == '\n' || n >= 63 ||
			    !(isalnum(c) || c == '_' || c == '-' || c == '.')) {
				lerr(yylval.lineno, "invalid table reference");
				lungetc(c);
				return ERROR;
			}
			buf[n++] = (char)c;
		}
		buf[n] = '\0';
		if (n == 0) {
			lerr(yylval.lineno, "empty table reference");
			return ERROR;
		}
		yylval.v.string = xstrdup(buf);
		prevtok = TABLEREF;
		return TABLEREF;
	}
	if (c == '\0' || (iscntrl(c) && c != '\n')) {
		lerr(yylval.lineno, "invalid control character 0x%02x", c);
		return ERROR;
	}
	if (c == '{')
		pbrace++;
	if (c == '}' && pbrace > 0)
		pbrace--;
	if (c == '!' || !is_word_char(c)) {
		prevtok = c;
		return c;
	}

	/* A word; $name is replaced by the macro's value. */
	n = 0;
	do {
		if (c == '$') {
			char	name[128];
			size_t	m = 0;
			const char *val;

			while ((c = lgetc()) != EOF &&
			    (isalnum(c) || c == '_') && m < sizeof(name) - 1)
				name[m++] = (char)c;
			name[m] = '\0';
			lungetc(c);
			if (m == 0) {
				lerr(yylval.lineno, "'$' without a macro name");
				return ERROR;
			}
			if ((val = macro_get(name)) == NULL) {
				lerr(yylval.lineno, "macro \"%s\" not defined",
				    name);
				return ERROR;
			}
			/* A macro holding a list is read again as text. */
			if (n == 0 && *val == '{') {
				c = lgetc();
				lungetc(c);
				if (!is_word_char(c) &&
				    lpushstr(val) == 0)
					goto top;
			}
			if (n + strlen(val) > WORD_MAX) {
				lerr(yylval.lineno, "string too long");
				return ERROR;
			}
			memcpy(buf + n, val, strlen(val));
			n += strlen(val);
			expanded = 1;
			continue;
		}
		if (n >= WORD_MAX) {
			lerr(yylval.lineno, "string too long");
			return ERROR;
		}
		buf[n++] = (char)c;
	} while (is_word_char(c = lgetc()));
	lungetc(c);
	buf[n] = '\0';

	tok = STRING;
	if (!expanded && !takes_name(prevtok) && !macro_def_ahead())
		tok = lookup(buf);
	if (tok == STRING && n > 0 && strspn(buf, "0123456789") == n &&
	    !takes_name(prevtok)) {
		long long num = strtonum(buf, 0, LLONG_MAX, &errstr);

		if (errstr == NULL) {
			yylval.v.number = num;
			prevtok = NUMBER;
			return NUMBER;
		}
	}
	if (tok == STRING)
		yylval.v.string = xstrdup(buf);
	prevtok = tok;
	return tok;
}

void
yyerror(const char *msg)
{
	if (yylval.lineno == lexerr_line)
		return;		/* the lexer said why */
	if (strcmp(msg, "syntax error") == 0)
		perr(yylval.lineno, "syntax error");
	else
		perr(yylval.lineno, "%s", msg);
}

/* A lexer error: the syntax error that follows on the line is noise. */
static void
lerr(int line, const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perr(line, "%s", msg);
	lexerr_line = line;
}

static void
perr(int line, const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_error(pfile, line, "%s", msg);
	perrors++;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		abort();
	return p;
}

/*
 * A relative file name is relative to the directory of smtpd.conf.
 * Returns a static buffer (copied by the caller).
 */
static const char *
path_resolve(const char *p)
{
	static char	buf[PATH_MAX * 2];

	if (*p == '/' || confdir[0] == '\0')
		return p;
	snprintf(buf, sizeof(buf), "%s/%s", confdir, p);
	return buf;
}

/* An unnamed table for a literal or an inline list. */
static struct table *
anon_table(int line)
{
	struct table	*t;
	char		 name[64];

	snprintf(name, sizeof(name), "<anonymous:%d>", ++anon_count);
	t = table_new(name, TABLE_INLINE, NULL);
	t->conf_file = conf->conf_path;
	t->conf_line = line;
	TAILQ_INSERT_TAIL(&conf->tables, t, entry);
	return t;
}

static struct table *
table_ref(const char *name, int line)
{
	struct table	*t;

	if ((t = config_table(conf, name)) == NULL)
		perr(line, "unknown table \"%s\"", name);
	return t;
}

static struct action *
action_get(void)
{
	if (cur_action == NULL) {
		if ((cur_action = calloc(1, sizeof(*cur_action))) == NULL)
			abort();
		cur_action->tls = RELAY_TLS_DEFAULT;
	}
	return cur_action;
}

static struct rule *
rule_get(void)
{
	if (cur_rule == NULL &&
	    (cur_rule = calloc(1, sizeof(*cur_rule))) == NULL)
		abort();
	return cur_rule;
}

/* Forget what a statement collected (after it is used or on error). */
static void
statement_reset(void)
{
	if (cur_action != NULL) {
		relay_list_free(&cur_action->hosts);
		free(cur_action->path);
		free(cur_action->user);
		free(cur_action->helo);
		free(cur_action->ca_file);
		free(cur_action);
		cur_action = NULL;
	}
	cur_action_relay_opts = cur_action_local_opts = 0;
	if (cur_rule != NULL) {
		free(cur_rule->actions);
		free(cur_rule);
		cur_rule = NULL;
	}
	if (pki_scratch != NULL) {
		free(pki_scratch->cert_file);
		free(pki_scratch->key_file);
		free(pki_scratch);
		pki_scratch = NULL;
	}
	memset(&lopt, 0, sizeof(lopt));
	lopt.fd = -1;
	lopt_port_set = 0;
	free(ban_message);
	ban_message = NULL;
	pbrace = 0;
}

/* host RELAY or host "GATEWAY-SPEC". */
static void
action_host(struct action *a, const char *s, int line)
{
	struct relay_list	 list;
	struct relay_hop	 hop;
	char			 err[256];
	size_t			 i;

	if (relay_is_spec(s)) {
		if (relay_parse_gateway(s, &list, err, sizeof(err)) == -1) {
			perr(line, "host \"%s\": %s", s, err);
			return;
		}
		for (i = 0; i < list.nhops; i++)
			relay_list_add(&a->hosts, &list.hops[i]);
		if (list.random)
			a->random = 1;
		relay_list_free(&list);
		return;
	}
	if (relay_parse_url(s, &hop, err, sizeof(err)) == -1) {
		perr(line, "host \"%s\": %s", s, err);
		return;
	}
	relay_list_add(&a->hosts, &hop);
}

static void
action_hosts(struct action *a, struct table *t, int line)
{
	size_t	i;

	for (i = 0; i < t->nentries; i++) {
		if (t->entries[i].value != NULL) {
			perr(line, "host list: unexpected '='");
			continue;
		}
		action_host(a, t->entries[i].key, t->entries[i].line ?
		    t->entries[i].line : line);
	}
}

static void
rule_actions(struct rule *r, struct table *t, int line)
{
	struct action	*a;
	size_t		 i;

	free(r->actions);
	if ((r->actions = calloc(t->nentries + 1, sizeof(*r->actions))) ==
	    NULL)
		abort();
	r->nactions = 0;
	for (i = 0; i < t->nentries; i++) {
		if (t->entries[i].value != NULL) {
			perr(line, "action list: unexpected '='");
			continue;
		}
		if ((a = config_action(conf, t->entries[i].key)) == NULL) {
			perr(t->entries[i].line ? t->entries[i].line : line,
			    "unknown action \"%s\"", t->entries[i].key);
			continue;
		}
		r->actions[r->nactions++] = a;
	}
	anon_drop(t);
}

/* Drop an anonymous table that was only a syntactic list. */
static void
anon_drop(struct table *t)
{
	TAILQ_REMOVE(&conf->tables, t, entry);
	table_free(t);
}

static void
resolver_add(const char *addr, uint16_t port, int line)
{
	struct resolver	*n;

	if (!relay_is_address(addr)) {
		perr(line, "resolver \"%s\" is not an address", addr);
		return;
	}
	n = reallocarray(conf->resolvers, conf->nresolvers + 1, sizeof(*n));
	if (n == NULL)
		abort();
	conf->resolvers = n;
	n = &n[conf->nresolvers++];
	memset(n, 0, sizeof(*n));
	snprintf(n->addr, sizeof(n->addr), "%s", addr);
	n->port = port;
}

/* "ADDR", "v4:PORT" or "[v6]:PORT". */
static void
resolver_add_spec(const char *s, int line)
{
	struct relay_hop	hop;
	char			err[256];

	if (relay_is_address(s)) {
		resolver_add(s, 0, line);
		return;
	}
	if (relay_parse_url(s, &hop, err, sizeof(err)) == -1 ||
	    hop.label[0] != '\0' || hop.tls != RELAY_TLS_DEFAULT) {
		perr(line, "resolver \"%s\" is not an address", s);
		return;
	}
	resolver_add(hop.host, hop.port, line);
}

static void
set_duration(time_t *t, const char *s, int line)
{
	if (parse_duration(s, t) == -1)
		perr(line, "invalid duration \"%s\"", s);
}

static void
set_size(uint64_t *sz, const char *s, int line)
{
	if (parse_size(s, sz) == -1)
		perr(line, "invalid size \"%s\"", s);
}

static void
set_unsigned(unsigned *u, long long n, int line, const char *what)
{
	if (n < 1 || n > INT_MAX)
		perr(line, "%s: %lld is out of range", what, n);
	else
		*u = (unsigned)n;
}

static int
tls_listener_check(int flags, int line)
{
	if ((flags & LISTEN_SMTPS) && (flags & LISTEN_TLS)) {
		perr(line, "smtps and tls are exclusive");
		return -1;
	}
	return 0;
}

int
parse_config(struct smtpd_config *cfg, const char *path)
{
	conf = cfg;
	pfile = path;
	perrors = 0;
	plineno = 1;
	prevtok = '\n';
	npushback = 0;
	anon_count = 0;
	lexerr_line = -1;
	statement_reset();
	{
		char	*copy, *slash;

		if ((copy = strdup(path)) == NULL)
			abort();
		if ((slash = strrchr(copy, '/')) != NULL)
			*(slash == copy ? slash + 1 : slash) = '\0';
		if (realpath(slash ? copy : ".", confdir) == NULL)
			confdir[0] = '\0';
		free(copy);
	}
	if ((pfp = fopen(path, "r")) == NULL) {
		config_error(path, 0, "cannot open: %s", strerror(errno));
		return 1;
	}
	yyparse();
	fclose(pfp);
	pfp = NULL;
	statement_reset();
	parse_clear_macros();
	conf = NULL;
	return perrors;
}
