/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/hex.h"

int cli_buf_make_escape(struct ppml_buf *b, const char *path)
{
	for (const char *p = path; *p; p++) {
		if (*p == '$') {
			if (ppml_buf_puts(b, "$$"))
				return -1;
			continue;
		}
		if ((*p == ' ' || *p == '#' || *p == ':' || *p == '\\') && ppml_buf_putc(b, '\\'))
			return -1;
		if (ppml_buf_putc(b, *p))
			return -1;
	}
	return 0;
}

ppml_status cli_resolve_date(const char *arg, char out[16], struct ppml_err *err)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	struct tm tm;
	time_t t;

	if (arg && strcmp(arg, "today") != 0) {
		if (strlen(arg) != 10)
			return ppml_err_set(err, PPML_E_INPUT,
					    "--date '%s': expected YYYY-MM-DD or 'today'", arg);
		memcpy(out, arg, 11);
		return PPML_OK;
	}
	if (!arg && sde && *sde) {
		char *end;
		unsigned long long v;
		for (const char *p = sde; *p; p++)
			if (!isdigit((unsigned char)*p))
				return ppml_err_set(err, PPML_E_INPUT,
						    "SOURCE_DATE_EPOCH '%s': expected seconds since "
						    "1970 (digits only)", sde);
		v = strtoull(sde, &end, 10);
		t = (time_t)v;
		if (!gmtime_r(&t, &tm))
			return ppml_err_set(err, PPML_E_INPUT, "SOURCE_DATE_EPOCH '%s': out of range",
					    sde);
	} else {
		t = time(NULL);
		if (!localtime_r(&t, &tm))
			return ppml_err_set(err, PPML_E_INTERNAL, "cannot read the local date");
	}
	if (strftime(out, 16, "%Y-%m-%d", &tm) != 10)
		return ppml_err_set(err, PPML_E_INPUT, "date out of range");
	return PPML_OK;
}

int cli_print_json(FILE *out, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int rc = -1;

	json_decref(o);
	if (s) {
		rc = fprintf(out, "%s\n", s) < 0 ? -1 : 0;
		free(s);
	}
	return rc;
}

int cli_gramine_version(const char *cmd, const char *arg, enum ppml_gramine_version *out)
{
	struct ppml_err err = {0};
	if (ppml_gramine_version_parse(arg, out, &err) != PPML_OK)
		return cli_usage_error(cmd, "--gramine-version: %s", err.msg);
	return CLI_EXIT_OK;
}

void cli_print_layout(FILE *out, const struct ppml_enclave_identity *id,
		      const struct ppml_sgx_layout *layout)
{
	struct ppml_buf b = {0};
	const char *ra = id->attrs.remote_attestation;

	if (id->attrs.version == PPML_GRAMINE_1_3)
		fprintf(out,
			"Attributes:\n"
			"    size:        0x%llx\n"
			"    thread_num:  %llu\n"
			"    isv_prod_id: %u\n"
			"    isv_svn:     %u\n"
			"    attr.flags:  0x%llx\n"
			"    attr.xfrm:   0x%llx\n"
			"    misc_select: 0x%x\n",
			(unsigned long long)id->attrs.enclave_size,
			(unsigned long long)id->attrs.max_threads, id->params.isv_prod_id,
			id->params.isv_svn, (unsigned long long)id->params.attributes_flags,
			(unsigned long long)id->params.attributes_xfrm, id->params.misc_select);
	else
		fprintf(out,
			"Attributes (required for enclave measurement):\n"
			"    size:        0x%llx\n"
			"    edmm:        %s\n"
			"    max_threads: %llu\n",
			(unsigned long long)id->attrs.enclave_size,
			id->attrs.edmm_enable ? "True" : "False",
			(unsigned long long)id->attrs.max_threads);
	fprintf(out, "SGX remote attestation:\n    %s\nMemory:\n",
		(!*ra || strcmp(ra, "none") == 0) ? "None" : strcmp(ra, "dcap") == 0 ? "DCAP" : ra);
	if (ppml_measure_layout_format(layout, &b) == PPML_OK && b.data)
		fputs((const char *)b.data, out);
	ppml_buf_free(&b);
}

int cli_print_identity(FILE *out, const struct ppml_enclave_identity *id,
		       const uint8_t mrsigner[32], const char *date, const char *manifest_sgx,
		       const char *sigfile, int json)
{
	char mre[65], mrs[65];
	int debug = id->attrs.debug;

	ppml_hex_encode(id->params.mrenclave, 32, mre);
	if (mrsigner)
		ppml_hex_encode(mrsigner, 32, mrs);
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "version", json_integer(1));
		json_object_set_new(o, "mrenclave", json_string(mre));
		if (mrsigner)
			json_object_set_new(o, "mrsigner", json_string(mrs));
		json_object_set_new(o, "isvprodid", json_integer(id->params.isv_prod_id));
		json_object_set_new(o, "isvsvn", json_integer(id->params.isv_svn));
		json_object_set_new(o, "debug", json_boolean(debug));
		/* the rules MRENCLAVE was computed with */
		json_object_set_new(o, "gramine_version",
				    json_string(ppml_gramine_version_name(id->attrs.version)));
		if (date)
			json_object_set_new(o, "date", json_string(date));
		if (manifest_sgx)
			json_object_set_new(o, "manifest_sgx", json_string(manifest_sgx));
		if (sigfile)
			json_object_set_new(o, "sigfile", json_string(sigfile));
		return cli_print_json(out, o);
	}
	fprintf(out, "Measurement:\n    %s\n", mre);
	fprintf(out, "MRENCLAVE: %s\n", mre);
	if (mrsigner)
		fprintf(out, "MRSIGNER:  %s\n", mrs);
	fprintf(out, "ISVPRODID: %u\nISVSVN:    %u\nDEBUG:     %s\n", id->params.isv_prod_id,
		id->params.isv_svn, debug ? "true (debuggable: not for production)" : "false");
	return ferror(out);
}
