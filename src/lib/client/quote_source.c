/* SPDX-License-Identifier: Apache-2.0 */
/* Where an enclave's quotes come from (include/ppml/client.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ppml/client.h"
#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/simpki.h"

const char *ppml_quote_source_name(enum ppml_quote_source s)
{
	return s == PPML_QUOTE_SOURCE_GRAMINE ? "gramine-dcap" : "simulated";
}

/* Gramine's pseudo-files: one write of the whole report data, then a read
 * of the quote (Gramine docs, "Attestation and secret provisioning"). */
static ppml_status gramine_quote(const char *root, const uint8_t rd[64], uint8_t **quote,
				 size_t *len, struct ppml_err *err)
{
	char p[4096];
	int fd;
	ppml_status rc;

	snprintf(p, sizeof(p), "%s/user_report_data", root);
	if ((fd = open(p, O_WRONLY | O_CLOEXEC)) < 0)
		return ppml_err_set(err, PPML_E_IO, "%s: %s", p, strerror(errno));
	ssize_t w = write(fd, rd, 64);
	int e = errno;
	close(fd);
	if (w != 64)
		return ppml_err_set(err, PPML_E_IO, "%s: write of the 64-byte report data: %s", p,
				    w < 0 ? strerror(e) : "short write");
	snprintf(p, sizeof(p), "%s/quote", root);
	if ((rc = ppml_file_read(p, PPML_QUOTE_MAX_SIZE, quote, len, err)) != PPML_OK)
		return rc;
	if (*len == 0) {
		free(*quote);
		*quote = NULL;
		return ppml_err_set(err, PPML_E_IO, "%s: empty quote", p);
	}
	return PPML_OK;
}

ppml_status ppml_client_get_quote(const char *dev_root, const uint8_t report_data[64],
				  uint8_t **quote, size_t *quote_len, enum ppml_quote_source *src,
				  struct ppml_err *err)
{
	const char *root = dev_root ? dev_root : PPML_GRAMINE_ATTESTATION_DIR;
	char p[4096];
	struct stat st;

	*quote = NULL;
	if (strlen(root) > sizeof(p) - 32)
		return ppml_err_set(err, PPML_E_INPUT, "%s: path too long", root);
	if (stat(root, &st) == 0) {
		uint8_t *type = NULL;
		size_t tl = 0;
		snprintf(p, sizeof(p), "%s/attestation_type", root);
		ppml_status rc = ppml_file_read(p, 64, &type, &tl, err);
		if (rc != PPML_OK)
			return rc;
		while (tl && (type[tl - 1] == '\n' || type[tl - 1] == 0))
			type[--tl] = 0;
		bool dcap = strcmp((char *)type, "dcap") == 0;
		if (!dcap) {
			rc = ppml_err_set(err, PPML_E_REFUSED,
					  "%s reads \"%.32s\", not \"dcap\": this enclave cannot make "
					  "DCAP quotes (set sgx.remote_attestation = \"dcap\" in the "
					  "manifest and sign again)",
					  p, (char *)type);
			free(type);
			return rc;
		}
		free(type);
		*src = PPML_QUOTE_SOURCE_GRAMINE;
		return gramine_quote(root, report_data, quote, quote_len, err);
	}
	const char *e = getenv(PPML_SIMATT_ENV);
	if (e && *e) {
		if (strncmp(e, "unix:", 5) != 0 || !e[5])
			return ppml_err_set(err, PPML_E_INPUT, "%s=%s: expected unix:PATH",
					    PPML_SIMATT_ENV, e);
		*src = PPML_QUOTE_SOURCE_SIMULATED;
		return ppml_simatt_request(e + 5, report_data, quote, quote_len, err);
	}
	return ppml_err_set(err, PPML_E_NOTFOUND,
			    "no quote source: %s does not exist (not a Gramine SGX enclave) and %s "
			    "is not set (not under `ppml run --sim`)",
			    root, PPML_SIMATT_ENV);
}
