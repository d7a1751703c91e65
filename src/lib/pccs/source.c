/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral for a service: folders indexed by (FMSPC, CA), then a PCCS
 * cache (include/ppml/pccs.h). */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/x509.h>

#include "ppml/pccs.h"

struct set {
	uint8_t fmspc[6];
	enum ppml_pck_ca ca;
	struct ppml_collateral c;
};

struct ppml_collateral_source {
	pthread_mutex_t lock;
	char **dirs;
	size_t n_dirs;
	struct ppml_pccs_cache *cache;
	struct set *sets;
	size_t n_sets;
	time_t scanned;
};

/* FMSPC from the TCB info, CA from the PCK CRL issuer's CN. */
static ppml_status identify(const struct ppml_collateral *c, const char *dir, uint8_t fmspc[6],
			    enum ppml_pck_ca *ca, struct ppml_err *err)
{
	struct ppml_tcb_info ti;
	uint8_t *der = NULL;
	size_t dl = 0;
	ppml_status rc;

	if ((rc = ppml_tcb_info_parse(c->tcb_info, c->tcb_info_len, &ti, err)) != PPML_OK) {
		ppml_err_prefix(err, "%s/tcb_info.json: ", dir);
		return rc;
	}
	memcpy(fmspc, ti.fmspc, 6);
	ppml_tcb_info_cleanup(&ti);
	if ((rc = ppml_crl_to_der(c->pck_crl, c->pck_crl_len, &der, &dl, err)) != PPML_OK) {
		ppml_err_prefix(err, "%s/pck_crl.der: ", dir);
		return rc;
	}
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)dl);
	char cn[256] = "";
	if (crl)
		X509_NAME_get_text_by_NID(X509_CRL_get_issuer(crl), NID_commonName, cn,
					  sizeof(cn));
	X509_CRL_free(crl);
	free(der);
	bool plat = strstr(cn, "Platform") != NULL, proc = strstr(cn, "Processor") != NULL;
	if (plat == proc)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s/pck_crl.der: the issuer CN \"%s\" names neither a Platform "
				    "nor a Processor CA",
				    dir, cn);
	*ca = plat ? PPML_PCK_CA_PLATFORM : PPML_PCK_CA_PROCESSOR;
	return PPML_OK;
}

static bool is_set_dir(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;
	int n = snprintf(p, sizeof(p), "%s/tcb_info.json", dir);
	return n > 0 && (size_t)n < sizeof(p) && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static ppml_status add_set(struct set **sets, size_t *n, const char *dir, struct ppml_err *err)
{
	struct set s = {0};
	ppml_status rc = ppml_collateral_load_dir(dir, &s.c, err);
	if (rc == PPML_OK)
		rc = identify(&s.c, dir, s.fmspc, &s.ca, err);
	if (rc != PPML_OK) {
		ppml_collateral_cleanup(&s.c);
		return rc;
	}
	/* A later folder for the same platform replaces an earlier one. */
	for (size_t i = 0; i < *n; i++) {
		if (memcmp((*sets)[i].fmspc, s.fmspc, 6) == 0 && (*sets)[i].ca == s.ca) {
			ppml_collateral_cleanup(&(*sets)[i].c);
			(*sets)[i] = s;
			return PPML_OK;
		}
	}
	struct set *ns = realloc(*sets, (*n + 1) * sizeof(*ns));
	if (!ns) {
		ppml_collateral_cleanup(&s.c);
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	ns[(*n)++] = s;
	*sets = ns;
	return PPML_OK;
}

static void free_sets(struct set *sets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ppml_collateral_cleanup(&sets[i].c);
	free(sets);
}

/* Reads every folder; all-or-nothing per scan. */
static ppml_status scan(struct ppml_collateral_source *s, struct ppml_err *err)
{
	struct set *sets = NULL;
	size_t n = 0;
	ppml_status rc = PPML_OK;

	for (size_t i = 0; i < s->n_dirs && rc == PPML_OK; i++) {
		const char *d = s->dirs[i];
		if (is_set_dir(d)) {
			rc = add_set(&sets, &n, d, err);
			continue;
		}
		DIR *dh = opendir(d);
		if (!dh) {
			rc = ppml_err_set(err, PPML_E_NOTFOUND,
					  "%s: not a collateral folder (no tcb_info.json) and not "
					  "readable as a folder of them",
					  d);
			break;
		}
		size_t found = 0;
		struct dirent *de;
		while (rc == PPML_OK && (de = readdir(dh))) {
			char sub[PATH_MAX];
			if (de->d_name[0] == '.')
				continue;
			int sl = snprintf(sub, sizeof(sub), "%s/%s", d, de->d_name);
			if (sl < 0 || (size_t)sl >= sizeof(sub) || !is_set_dir(sub))
				continue;
			rc = add_set(&sets, &n, sub, err);
			found++;
		}
		closedir(dh);
		if (rc == PPML_OK && !found)
			rc = ppml_err_set(err, PPML_E_NOTFOUND,
					  "%s: no collateral set (a folder with tcb_info.json and "
					  "the six other files; see `ppml collateral fetch`)",
					  d);
	}
	if (rc != PPML_OK) {
		free_sets(sets, n);
		return rc;
	}
	free_sets(s->sets, s->n_sets);
	s->sets = sets;
	s->n_sets = n;
	s->scanned = time(NULL);
	return PPML_OK;
}

void ppml_collateral_source_free(struct ppml_collateral_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_dirs; i++)
		free(s->dirs[i]);
	free(s->dirs);
	free_sets(s->sets, s->n_sets);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

ppml_status ppml_collateral_source_new(const char *const *dirs, size_t n_dirs,
				       struct ppml_pccs_cache *cache,
				       struct ppml_collateral_source **out, struct ppml_err *err)
{
	struct ppml_collateral_source *s = calloc(1, sizeof(*s));
	ppml_status rc;

	*out = NULL;
	if (!s)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->cache = cache;
	if (n_dirs && !(s->dirs = calloc(n_dirs, sizeof(char *)))) {
		ppml_collateral_source_free(s);
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n_dirs; i++) {
		if (!(s->dirs[i] = strdup(dirs[i]))) {
			ppml_collateral_source_free(s);
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		}
		s->n_dirs = i + 1;
	}
	if (!n_dirs && !cache) {
		ppml_collateral_source_free(s);
		return ppml_err_set(err, PPML_E_INPUT,
				    "no collateral source: give a PCCS (--pccs-url) and/or "
				    "collateral folders (--collateral-dir)");
	}
	if (n_dirs && (rc = scan(s, err)) != PPML_OK) {
		ppml_collateral_source_free(s);
		return rc;
	}
	*out = s;
	return PPML_OK;
}

ppml_status ppml_collateral_source_rescan(struct ppml_collateral_source *s, struct ppml_err *err)
{
	pthread_mutex_lock(&s->lock);
	ppml_status rc = s->n_dirs ? scan(s, err) : PPML_OK;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t ppml_collateral_source_count(struct ppml_collateral_source *s)
{
	pthread_mutex_lock(&s->lock);
	size_t n = s->n_sets;
	pthread_mutex_unlock(&s->lock);
	return n;
}

ppml_status ppml_collateral_source_get(struct ppml_collateral_source *s, const uint8_t fmspc[6],
				       enum ppml_pck_ca ca, int64_t at, struct ppml_collateral *out,
				       struct ppml_err *err)
{
	ppml_status rc = PPML_E_NOTFOUND;
	char hex[13];

	pthread_mutex_lock(&s->lock);
	if (s->n_dirs && time(NULL) - s->scanned >= PPML_COLLATERAL_RESCAN_S)
		(void)scan(s, NULL); /* a failed rescan keeps the last good sets */
	for (size_t i = 0; i < s->n_sets; i++) {
		if (memcmp(s->sets[i].fmspc, fmspc, 6) == 0 && s->sets[i].ca == ca) {
			rc = ppml_collateral_copy(out, &s->sets[i].c, err);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc != PPML_E_NOTFOUND)
		return rc;
	if (s->cache) {
		bool hit;
		return ppml_pccs_cache_get(s->cache, fmspc, ca, at, out, &hit, err);
	}
	snprintf(hex, sizeof(hex), "%02x%02x%02x%02x%02x%02x", fmspc[0], fmspc[1], fmspc[2],
		 fmspc[3], fmspc[4], fmspc[5]);
	return ppml_err_set(err, PPML_E_NOTFOUND,
			    "no collateral for FMSPC %s (%s CA): add its folder to the collateral "
			    "folders or configure a PCCS",
			    hex, ppml_pck_ca_name(ca));
}
