/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"
#include "ppml/simpal.h"
#include "ppml/file.h"
#include "ppml/httpc.h"
#include <openssl/crypto.h>
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

const char *cli_sim_dir_default(char *buf, size_t n)
{
	const char *e = getenv("PPML_SIM_DIR"), *x = getenv("XDG_DATA_HOME"),
		   *home = getenv("HOME");
	if (e && *e)
		return e;
	if (x && *x)
		snprintf(buf, n, "%s/ppml/sim", x);
	else if (home && *home)
		snprintf(buf, n, "%s/.local/share/ppml/sim", home);
	else
		return NULL;
	return buf;
}

ppml_status cli_sim_pal_path(const char *sim_dir, char *buf, size_t n, struct ppml_err *err)
{
	if ((size_t)snprintf(buf, n, "%s/" PPML_SIMPAL_NAME, sim_dir) >= n)
		return ppml_err_set(err, PPML_E_INPUT, "%s: path too long", sim_dir);
	if (ppml_simpal_is(buf))
		return PPML_OK;
	/* mkdir -p the simulation folder (0700, as the PKI's). */
	char d[4096];
	snprintf(d, sizeof(d), "%s", sim_dir);
	for (char *s = d + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(d, 0700);
			*s = '/';
		}
	mkdir(d, 0700);
	return ppml_simpal_write(buf, err);
}

bool cli_service_opt(struct cli_service *s, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		return false;
	const char **slot = !strcmp(argv[*i], "--service")	   ? &s->url
			    : !strcmp(argv[*i], "--credential-file") ? &s->credential_file
			    : !strcmp(argv[*i], "--cacert")	   ? &s->cacert
								   : NULL;
	if (!slot)
		return false;
	*slot = argv[++*i];
	return true;
}

int cli_service_call(const char *cmd, const struct cli_service *s, bool need_credential,
		     const char *method, const char *path, const char *content_type,
		     const void *body, size_t body_len, json_t **out, long *status)
{
	struct ppml_err err = {0};
	struct ppml_httpc_resp r = {0};
	struct ppml_httpc_opts o = {.cacert = s->cacert};
	char *cred = NULL, url[4096];
	size_t cl = 0;
	int rc = CLI_EXIT_OK;

	*out = NULL;
	if (!s->url)
		return cli_usage_error(cmd, "--service URL is required (e.g. https://127.0.0.1:8443)");
	if (need_credential) {
		if (!s->credential_file)
			return cli_usage_error(cmd, "--credential-file FILE is required (the admin "
						    "credential printed by `ppml serve --init`)");
		if (ppml_file_read_secret(s->credential_file, 1024, "credential", &cred, &cl, &err) !=
		    PPML_OK)
			return cli_fail(cmd, &err);
		while (cl && (cred[cl - 1] == '\n' || cred[cl - 1] == '\r'))
			cred[--cl] = 0;
		o.bearer = cred;
	}
	size_t ul = strlen(s->url);
	while (ul && s->url[ul - 1] == '/')
		ul--;
	snprintf(url, sizeof(url), "%.*s%s", (int)ul, s->url, path);
	if (ppml_httpc_request(method, url, content_type, body, body_len, &o, &r, &err) != PPML_OK) {
		rc = cli_fail(cmd, &err);
		goto out;
	}
	if (status)
		*status = r.status;
	json_t *j = r.len ? json_loadb((const char *)r.body, r.len, 0, NULL) : NULL;
	if (r.status < 200 || r.status > 299) {
		const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
		fprintf(stderr, "ppml %s: %s %s: HTTP %ld: %s\n", cmd, method, path, r.status,
			m ? m : "(no message)");
		/* 403 on /v1/attest is a verdict, not a failure: the caller decides. */
		rc = r.status == 403 || r.status == 401 ? CLI_EXIT_REFUSED : CLI_EXIT_FAILURE;
		if (r.status == 403 && j) {
			*out = j;
			j = NULL;
		}
		json_decref(j);
		goto out;
	}
	if (r.len && !j) {
		fprintf(stderr, "ppml %s: %s %s: the answer is not JSON\n", cmd, method, path);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	*out = j;
out:
	ppml_httpc_resp_free(&r);
	if (cred) {
		OPENSSL_cleanse(cred, cl);
		free(cred);
	}
	return rc;
}
