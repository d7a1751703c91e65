/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY (replaced by the pccs branch's version at merge). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "ppml/collateral.h"
#include "ppml/file.h"
#include "ppml/limits.h"

const char *const ppml_collateral_files[PPML_COLLATERAL_NFILES] = {
	"tcb_info.json", "tcb_info_issuer_chain.pem", "qe_identity.json",
	"qe_identity_issuer_chain.pem", "pck_crl.der", "pck_crl_issuer_chain.pem",
	"root_ca_crl.der"};

ppml_status ppml_collateral_load_dir(const char *dir, struct ppml_collateral *c,
				     struct ppml_err *err)
{
	uint8_t **bufs[] = {&c->tcb_info, &c->tcb_info_issuer_chain, &c->qe_identity,
			    &c->qe_identity_issuer_chain, &c->pck_crl, &c->pck_crl_issuer_chain,
			    &c->root_ca_crl};
	size_t *lens[] = {&c->tcb_info_len, &c->tcb_info_issuer_chain_len, &c->qe_identity_len,
			  &c->qe_identity_issuer_chain_len, &c->pck_crl_len,
			  &c->pck_crl_issuer_chain_len, &c->root_ca_crl_len};
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < PPML_COLLATERAL_NFILES; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, ppml_collateral_files[i]);
		ppml_status rc = ppml_file_read(path, PPML_COLLATERAL_MAX_FILE, bufs[i], lens[i], err);
		if (rc != PPML_OK) {
			ppml_collateral_cleanup(c);
			return rc;
		}
	}
	return PPML_OK;
}

void ppml_collateral_cleanup(struct ppml_collateral *c)
{
	if (!c)
		return;
	free(c->tcb_info);
	free(c->tcb_info_issuer_chain);
	free(c->qe_identity);
	free(c->qe_identity_issuer_chain);
	free(c->pck_crl);
	free(c->pck_crl_issuer_chain);
	free(c->root_ca_crl);
	memset(c, 0, sizeof(*c));
}

ppml_status ppml_crl_to_der(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
			    struct ppml_err *err)
{
	*der = malloc(len ? len : 1);
	if (!*der)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	memcpy(*der, in, len);
	*der_len = len;
	return PPML_OK;
}
