/*
 * TLS client contexts for outbound sessions.  CA bundles (the system
 * store and every action's `ca`) are read into memory before mta drops
 * privileges and chroots; a tls_config is built once per (CA, verify)
 * and shared by every session that needs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>

#include "config.h"
#include "log.h"
#include "mta.h"
#include "proc.h"
#include "proto.h"

#define MTA_TLS_CA_MAX	16

struct ca_mem {
	char		*path;		/* "" : system store */
	uint8_t		*mem;
	size_t		 len;
	struct tls_config *verify;	/* lazily built */
};

static struct ca_mem	 cas[MTA_TLS_CA_MAX];
static size_t		 ncas;
static struct tls_config *insecure;

static void
ca_load(const char *path)
{
	const char	*file;
	size_t		 i;

	for (i = 0; i < ncas; i++)
		if (strcmp(cas[i].path, path) == 0)
			return;
	if (ncas == MTA_TLS_CA_MAX) {
		log_warnx("mta: too many CA files, %s ignored", path);
		return;
	}
	file = path[0] ? path : tls_default_ca_cert_file();
	if ((cas[ncas].path = strdup(path)) == NULL)
		fatal("ca_load");
	cas[ncas].mem = tls_load_file(file, &cas[ncas].len, NULL);
	if (cas[ncas].mem == NULL)
		log_warnx("mta: cannot load CA file %s: verification against "
		    "it will fail", file);
	ncas++;
}

void
mta_tls_init(void)
{
	struct action	*a;

	if (tls_init() == -1)
		fatalx("mta: tls_init");
	ca_load("");
	if (env == NULL)
		return;
	TAILQ_FOREACH(a, &env->actions, entry)
		if (a->method == A_RELAY && a->ca_file != NULL)
			ca_load(a->ca_file);
}

static struct tls_config *
config_new(void)
{
	struct tls_config *c;

	if ((c = tls_config_new()) == NULL)
		fatalx("mta: tls_config_new");
	/* TLS 1.2 and 1.3, the library's default ciphers */
	if (tls_config_set_protocols(c, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3) == -1)
		fatalx("mta: tls protocols: %s", tls_config_error(c));
	return c;
}

/*
 * A reload sent a CA file the parent read (IMSG_RELOAD_MTA): new ones
 * are added, changed ones replaced.  A tls_config already built from
 * the old contents is left to the sessions using it.
 */
static void
ca_set(const char *path, const void *mem, size_t len)
{
	size_t	 i;
	uint8_t	*copy;

	if ((copy = malloc(len ? len : 1)) == NULL)
		fatal("mta reload");
	memcpy(copy, mem, len);
	for (i = 0; i < ncas; i++)
		if (strcmp(cas[i].path, path) == 0)
			break;
	if (i == ncas) {
		if (ncas == MTA_TLS_CA_MAX) {
			log_warnx("mta: too many CA files, %s ignored", path);
			free(copy);
			return;
		}
		if ((cas[i].path = strdup(path)) == NULL)
			fatal("mta reload");
		ncas++;
	} else if (cas[i].mem != NULL && cas[i].len == len &&
	    memcmp(cas[i].mem, mem, len) == 0) {
		free(copy);
		return;
	} else
		free(cas[i].mem);
	cas[i].mem = len ? copy : NULL;
	cas[i].len = len;
	cas[i].verify = NULL;
	if (len == 0) {
		free(copy);
		log_warnx("mta: cannot load CA file %s: verification against "
		    "it will fail", path);
	}
}

void
mta_tls_reload(struct imsg *imsg)
{
	struct mreader	 r;
	const char	*path;
	const void	*mem;
	size_t		 len;
	uint32_t	 more;

	m_msg(&r, imsg);
	if (m_get_u32(&r, &more) == -1 || m_get_str(&r, &path) == -1 ||
	    m_get_data(&r, &mem, &len) == -1 || m_end(&r) == -1)
		fatalx("mta: bad IMSG_RELOAD_MTA");
	if (*path)
		ca_set(path, mem, len);
	if (more)
		return;
	log_info("mta event=reloaded");
	proc_compose(PROC_PARENT, IMSG_RELOAD_DONE, 0, -1);
}

struct tls *
mta_tls_client(const struct route_hop *hop, int verify, char *err,
    size_t errlen)
{
	struct tls_config	*cfg;
	struct tls		*ctx;
	struct ca_mem		*ca = NULL;
	size_t			 i;

	if (!verify) {
		if (insecure == NULL) {
			insecure = config_new();
			tls_config_insecure_noverifycert(insecure);
			tls_config_insecure_noverifyname(insecure);
			tls_config_insecure_noverifytime(insecure);
		}
		cfg = insecure;
	} else {
		for (i = 0; i < ncas && ca == NULL; i++)
			if (strcmp(cas[i].path, hop->ca_file) == 0)
				ca = &cas[i];
		if (ca == NULL) {
			/* not named by an action at start: works only
			 * when not chrooted */
			ca_load(hop->ca_file);
			for (i = 0; i < ncas && ca == NULL; i++)
				if (strcmp(cas[i].path, hop->ca_file) == 0)
					ca = &cas[i];
		}
		if (ca == NULL || ca->mem == NULL) {
			snprintf(err, errlen, "CA file %s not loaded",
			    hop->ca_file[0] ? hop->ca_file : "(system)");
			return NULL;
		}
		if (ca->verify == NULL) {
			ca->verify = config_new();
			if (tls_config_set_ca_mem(ca->verify, ca->mem,
			    ca->len) == -1) {
				snprintf(err, errlen, "CA file %s: %s",
				    ca->path, tls_config_error(ca->verify));
				tls_config_free(ca->verify);
				ca->verify = NULL;
				return NULL;
			}
		}
		cfg = ca->verify;
	}
	if ((ctx = tls_client()) == NULL)
		fatalx("mta: tls_client");
	if (tls_configure(ctx, cfg) == -1) {
		snprintf(err, errlen, "tls_configure: %s", tls_error(ctx));
		tls_free(ctx);
		return NULL;
	}
	return ctx;
}
