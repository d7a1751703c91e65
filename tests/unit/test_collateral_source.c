/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral sources for the service (ppml_collateral_source_*): folders of
 * sets indexed by (FMSPC, CA), replaced sets picked up on rescan, last good
 * copy kept when a folder breaks, NOTFOUND naming the platform.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "harness.h"
#include "ppml/dcap.h"
#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/pccs.h"
#include "ppml/simpki.h"

static char tmp[256];

static bool write_set(struct ppml_simpki *k, const char *dir, enum ppml_tcb_status st)
{
	struct ppml_simpki_collateral_params cp = {0};
	struct ppml_simpki_tcb_level lv = {0};
	const struct ppml_simpki_params *pp = ppml_simpki_get_params(k);
	struct ppml_collateral c = {0};
	memcpy(lv.comp_svn, pp->comp_svn, 16);
	lv.pcesvn = pp->pcesvn;
	lv.status = st;
	lv.tcb_date = 1700000000;
	cp.levels = &lv;
	cp.n_levels = 1;
	bool ok = ppml_simpki_collateral(k, &cp, &c, NULL) == PPML_OK &&
		  ppml_collateral_save_dir(dir, &c, NULL) == PPML_OK;
	ppml_collateral_cleanup(&c);
	return ok;
}

static enum ppml_tcb_status status_of(struct ppml_collateral_source *src, struct ppml_simpki *k)
{
	const struct ppml_simpki_params *pp = ppml_simpki_get_params(k);
	struct ppml_collateral c = {0};
	struct ppml_tcb_info ti;
	enum ppml_tcb_status st = (enum ppml_tcb_status)-1;
	if (ppml_collateral_source_get(src, pp->fmspc,
				       pp->platform_ca ? PPML_PCK_CA_PLATFORM : PPML_PCK_CA_PROCESSOR,
				       0, &c, NULL) == PPML_OK &&
	    ppml_tcb_info_parse(c.tcb_info, c.tcb_info_len, &ti, NULL) == PPML_OK) {
		st = ti.levels[0].status;
		ppml_tcb_info_cleanup(&ti);
	}
	ppml_collateral_cleanup(&c);
	return st;
}

TEST(folder_of_sets_indexed_and_rescanned)
{
	struct ppml_simpki_params a = {.set_fmspc = true, .fmspc = {0xff, 1}},
				  b = {.set_fmspc = true, .fmspc = {0xff, 1}, .platform_ca = true},
				  c = {.set_fmspc = true, .fmspc = {0xff, 2}};
	struct ppml_simpki *ka = NULL, *kb = NULL, *kc = NULL;
	struct ppml_collateral_source *src = NULL;
	struct ppml_collateral out = {0};
	struct ppml_err err = {0};
	char d[400];
	REQUIRE(ppml_simpki_new(&a, &ka, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_new(&b, &kb, NULL) == PPML_OK);
	REQUIRE(ppml_simpki_new(&c, &kc, NULL) == PPML_OK);
	snprintf(d, sizeof(d), "%s/sets", tmp);
	mkdir(d, 0755);
	snprintf(d, sizeof(d), "%s/sets/a", tmp);
	REQUIRE(write_set(ka, d, PPML_TCB_UP_TO_DATE));
	snprintf(d, sizeof(d), "%s/sets/b", tmp);
	REQUIRE(write_set(kb, d, PPML_TCB_OUT_OF_DATE));
	snprintf(d, sizeof(d), "%s/single", tmp);
	REQUIRE(write_set(kc, d, PPML_TCB_SW_HARDENING_NEEDED));
	char sets[400], single[400];
	snprintf(sets, sizeof(sets), "%s/sets", tmp);
	snprintf(single, sizeof(single), "%s/single", tmp);
	const char *dirs[] = {sets, single};
	REQUIRE(ppml_collateral_source_new(dirs, 2, NULL, &src, &err) == PPML_OK);
	CHECK(ppml_collateral_source_count(src) == 3);
	/* Same FMSPC, two CAs: told apart by the PCK CRL issuer. */
	CHECK(status_of(src, ka) == PPML_TCB_UP_TO_DATE);
	CHECK(status_of(src, kb) == PPML_TCB_OUT_OF_DATE);
	CHECK(status_of(src, kc) == PPML_TCB_SW_HARDENING_NEEDED);
	const uint8_t unknown[6] = {0xff, 9};
	CHECK(ppml_collateral_source_get(src, unknown, PPML_PCK_CA_PROCESSOR, 0, &out, &err) ==
	      PPML_E_NOTFOUND);
	CHECK(strstr(err.msg, "ff0900000000") && strstr(err.msg, "processor"));
	/* Replaced on disk: seen after a rescan. */
	snprintf(d, sizeof(d), "%s/sets/a", tmp);
	REQUIRE(write_set(ka, d, PPML_TCB_CONFIGURATION_NEEDED));
	CHECK(status_of(src, ka) == PPML_TCB_UP_TO_DATE); /* within the rescan interval */
	CHECK(ppml_collateral_source_rescan(src, &err) == PPML_OK);
	CHECK(status_of(src, ka) == PPML_TCB_CONFIGURATION_NEEDED);
	/* A broken folder: the rescan fails, the last good sets stay. */
	snprintf(d, sizeof(d), "%s/single/tcb_info.json", tmp);
	FILE *f = fopen(d, "w");
	REQUIRE(f);
	fputs("{", f);
	fclose(f);
	CHECK(ppml_collateral_source_rescan(src, &err) == PPML_E_INPUT &&
	      strstr(err.msg, "single/tcb_info.json"));
	CHECK(status_of(src, kc) == PPML_TCB_SW_HARDENING_NEEDED);
	ppml_collateral_source_free(src);
	/* ...and a new source refuses it. */
	CHECK(ppml_collateral_source_new(dirs, 2, NULL, &src, &err) == PPML_E_INPUT);
	const char *none[] = {"/nonexistent/ppml"};
	CHECK(ppml_collateral_source_new(none, 1, NULL, &src, &err) == PPML_E_NOTFOUND);
	CHECK(ppml_collateral_source_new(NULL, 0, NULL, &src, &err) == PPML_E_INPUT);
	ppml_simpki_free(ka);
	ppml_simpki_free(kb);
	ppml_simpki_free(kc);
}

TEST(real_sets_folder)
{
	REQUIRE_SHARED(shared);
	char q[1100];
	struct ppml_collateral_source *src = NULL;
	struct ppml_err err = {0};
	snprintf(q, sizeof(q), "%s/quotes", shared);
	const char *dirs[] = {q};
	REQUIRE(ppml_collateral_source_new(dirs, 1, NULL, &src, &err) == PPML_OK);
	/* Every real quote finds a set for its own platform (three quotes share
	 * FMSPC 00606a000000: one set serves them, the last folder read wins). */
	DIR *dh = opendir(q);
	struct dirent *de;
	size_t quotes = 0, found = 0;
	REQUIRE(dh);
	while ((de = readdir(dh))) {
		char p[1400];
		uint8_t *data = NULL;
		size_t len = 0;
		struct ppml_quote pq;
		struct ppml_pck_ext ext;
		bool plat = false;
		struct ppml_collateral c = {0};
		struct ppml_tcb_info ti;
		snprintf(p, sizeof(p), "%s/%s/quote.bin", q, de->d_name);
		if (de->d_name[0] == '.' || ppml_file_read(p, PPML_QUOTE_MAX_SIZE, &data, &len, NULL) !=
						    PPML_OK)
			continue;
		quotes++;
		if (ppml_quote_parse(data, len, &pq, NULL) == PPML_OK &&
		    ppml_quote_pck_info(&pq, &ext, &plat, NULL) == PPML_OK &&
		    ppml_collateral_source_get(src, ext.fmspc,
					       plat ? PPML_PCK_CA_PLATFORM : PPML_PCK_CA_PROCESSOR,
					       0, &c, NULL) == PPML_OK &&
		    ppml_tcb_info_parse(c.tcb_info, c.tcb_info_len, &ti, NULL) == PPML_OK) {
			found += memcmp(ti.fmspc, ext.fmspc, 6) == 0;
			ppml_tcb_info_cleanup(&ti);
		}
		ppml_collateral_cleanup(&c);
		free(data);
	}
	closedir(dh);
	CHECKF(quotes >= 5 && found == quotes, "%zu of %zu quotes found their set", found, quotes);
	CHECK(ppml_collateral_source_count(src) == 3);
	ppml_collateral_source_free(src);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/ppml-test-source-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	RUN(folder_of_sets_indexed_and_rescanned);
	RUN(real_sets_folder);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 1;
	HARNESS_EXIT();
}
