/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral folders (issue 6) and CRL encodings: what a PCS, a PCCS or a
 * folder on disk gives us, normalised so the verifier sees DER.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ppml/buf.h"
#include "ppml/collateral.h"
#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/limits.h"
#include "ppml/quote.h"

const char *const ppml_collateral_files[PPML_COLLATERAL_NFILES] = {
	"tcb_info.json", "tcb_info_issuer_chain.pem", "qe_identity.json",
	"qe_identity_issuer_chain.pem", "pck_crl.der", "pck_crl_issuer_chain.pem",
	"root_ca_crl.der",
};

/* The members in ppml_collateral_files order. */
struct member {
	uint8_t **data;
	size_t *len;
};

static void members(struct ppml_collateral *c, struct member m[PPML_COLLATERAL_NFILES])
{
	m[0] = (struct member){&c->tcb_info, &c->tcb_info_len};
	m[1] = (struct member){&c->tcb_info_issuer_chain, &c->tcb_info_issuer_chain_len};
	m[2] = (struct member){&c->qe_identity, &c->qe_identity_len};
	m[3] = (struct member){&c->qe_identity_issuer_chain, &c->qe_identity_issuer_chain_len};
	m[4] = (struct member){&c->pck_crl, &c->pck_crl_len};
	m[5] = (struct member){&c->pck_crl_issuer_chain, &c->pck_crl_issuer_chain_len};
	m[6] = (struct member){&c->root_ca_crl, &c->root_ca_crl_len};
}

/* "dir/name" as a fresh string, or NULL. */
static char *join(const char *dir, const char *name)
{
	struct ppml_buf b = {0};
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (ppml_buf_append(&b, dir, dl) != PPML_OK || ppml_buf_putc(&b, '/') != PPML_OK ||
	    ppml_buf_puts(&b, name) != PPML_OK) {
		ppml_buf_free(&b);
		return NULL;
	}
	return (char *)ppml_buf_steal(&b, &dl);
}

void ppml_collateral_cleanup(struct ppml_collateral *c)
{
	struct member m[PPML_COLLATERAL_NFILES];
	if (!c)
		return;
	members(c, m);
	for (int i = 0; i < PPML_COLLATERAL_NFILES; i++)
		free(*m[i].data);
	memset(c, 0, sizeof(*c));
}

ppml_status ppml_collateral_load_dir(const char *dir, struct ppml_collateral *c,
				     struct ppml_err *err)
{
	struct member m[PPML_COLLATERAL_NFILES];
	ppml_status rc = PPML_OK;

	memset(c, 0, sizeof(*c));
	members(c, m);
	for (int i = 0; i < PPML_COLLATERAL_NFILES && rc == PPML_OK; i++) {
		char *path = join(dir, ppml_collateral_files[i]);
		if (!path) {
			rc = ppml_err_set(err, PPML_E_NOMEM, "%s: out of memory", dir);
			break;
		}
		rc = ppml_file_read(path, PPML_COLLATERAL_MAX_FILE, m[i].data, m[i].len, err);
		if (rc == PPML_E_NOTFOUND)
			ppml_err_set(err, rc,
				     "%s: collateral file %s is missing (a collateral folder holds %s, "
				     "%s, %s, %s, %s, %s and %s; `ppml collateral fetch` writes one)",
				     dir, ppml_collateral_files[i], ppml_collateral_files[0],
				     ppml_collateral_files[1], ppml_collateral_files[2],
				     ppml_collateral_files[3], ppml_collateral_files[4],
				     ppml_collateral_files[5], ppml_collateral_files[6]);
		free(path);
	}
	if (rc != PPML_OK)
		ppml_collateral_cleanup(c);
	return rc;
}

ppml_status ppml_collateral_save_dir(const char *dir, const struct ppml_collateral *c,
				     struct ppml_err *err)
{
	struct ppml_collateral *cc = (struct ppml_collateral *)c; /* members() only reads here */
	struct member m[PPML_COLLATERAL_NFILES];
	struct ppml_outputs *o = NULL;
	struct stat st;
	int created = 0;
	ppml_status rc;

	members(cc, m);
	for (int i = 0; i < PPML_COLLATERAL_NFILES; i++)
		if (!*m[i].data || *m[i].len == 0)
			return ppml_err_set(err, PPML_E_INPUT,
					    "%s: refusing to write an incomplete collateral set "
					    "(%s is empty)", dir, ppml_collateral_files[i]);
	if (mkdir(dir, 0755) == 0) {
		created = 1;
	} else if (errno != EEXIST) {
		return ppml_err_set(err, PPML_E_IO, "%s: cannot create the folder: %s", dir,
				    strerror(errno));
	} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		return ppml_err_set(err, PPML_E_IO, "%s: exists and is not a folder", dir);
	}
	o = ppml_outputs_new();
	if (!o) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "%s: out of memory", dir);
		goto out;
	}
	for (int i = 0; i < PPML_COLLATERAL_NFILES; i++) {
		char *path = join(dir, ppml_collateral_files[i]);
		if (!path) {
			rc = ppml_err_set(err, PPML_E_NOMEM, "%s: out of memory", dir);
			goto out;
		}
		rc = ppml_outputs_stage(o, path, *m[i].data, *m[i].len, 0644, err);
		free(path);
		if (rc != PPML_OK)
			goto out;
	}
	rc = ppml_outputs_commit(o, err);
out:
	ppml_outputs_free(o);
	if (rc != PPML_OK && created)
		rmdir(dir); /* only succeeds when empty, i.e. when we left nothing in it */
	return rc;
}

ppml_status ppml_collateral_copy(struct ppml_collateral *dst, const struct ppml_collateral *src,
				 struct ppml_err *err)
{
	struct member d[PPML_COLLATERAL_NFILES], s[PPML_COLLATERAL_NFILES];

	memset(dst, 0, sizeof(*dst));
	members(dst, d);
	members((struct ppml_collateral *)src, s);
	for (int i = 0; i < PPML_COLLATERAL_NFILES; i++) {
		if (!*s[i].data)
			continue;
		/* One extra NUL, as ppml_file_read gives: text members stay C strings. */
		*d[i].data = malloc(*s[i].len + 1);
		if (!*d[i].data) {
			ppml_collateral_cleanup(dst);
			return ppml_err_set(err, PPML_E_NOMEM, "collateral copy: out of memory");
		}
		memcpy(*d[i].data, *s[i].data, *s[i].len);
		(*d[i].data)[*s[i].len] = 0;
		*d[i].len = *s[i].len;
	}
	return PPML_OK;
}

/* ---- CRL encodings ---- */

/* True when p[0..len) is exactly one DER SEQUENCE: tag 0x30, a definite
 * minimal length (X.690 10.1), and the content ending at len. */
static bool der_sequence_exact(const uint8_t *p, size_t len)
{
	size_t hdr, content;
	if (len < 2 || p[0] != 0x30)
		return false;
	if (p[1] < 0x80) {
		hdr = 2;
		content = p[1];
	} else {
		size_t n = p[1] & 0x7f;
		if (n == 0 || n > 4 || len < 2 + n || p[2] == 0)
			return false; /* indefinite, too long for our caps, or not minimal */
		content = 0;
		for (size_t i = 0; i < n; i++)
			content = content << 8 | p[2 + i];
		if (content < 0x80)
			return false; /* the short form was required */
		hdr = 2 + n;
	}
	return content == len - hdr;
}

#define PEM_BEGIN "-----BEGIN X509 CRL-----"
#define PEM_END "-----END X509 CRL-----"
#define PEM_LINE_MAX 76

static bool is_b64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* Strict PEM: BEGIN line, base64 lines of 1..76 characters, END line, at
 * most one final newline; lines end in "\n" (or "\r\n" throughout). */
static ppml_status pem_crl_decode(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
				  struct ppml_err *err)
{
	size_t i = sizeof(PEM_BEGIN) - 1, nb = 0, dl = 0;
	const char *eol;
	size_t eol_len;
	char *b64 = NULL;
	uint8_t *out = NULL;
	ppml_status rc;

	if (i < len && in[i] == '\r') {
		eol = "\r\n";
		eol_len = 2;
	} else {
		eol = "\n";
		eol_len = 1;
	}
	if (len - i < eol_len || memcmp(in + i, eol, eol_len) != 0)
		return ppml_err_set(err, PPML_E_INPUT, "PEM CRL: expected a line break after %s",
				    PEM_BEGIN);
	i += eol_len;
	b64 = malloc(len);
	if (!b64)
		return ppml_err_set(err, PPML_E_NOMEM, "PEM CRL: out of memory");
	for (;;) {
		size_t start = i;
		if (len - i >= sizeof(PEM_END) - 1 && memcmp(in + i, PEM_END, sizeof(PEM_END) - 1) == 0)
			break;
		while (i < len && is_b64(in[i]))
			i++;
		if (i == start || i - start > PEM_LINE_MAX || len - i < eol_len ||
		    memcmp(in + i, eol, eol_len) != 0) {
			rc = ppml_err_set(err, PPML_E_INPUT,
					  "PEM CRL: byte %zu: expected a base64 line of 1..%d "
					  "characters or %s", i, PEM_LINE_MAX, PEM_END);
			goto out;
		}
		memcpy(b64 + nb, in + start, i - start);
		nb += i - start;
		i += eol_len;
	}
	i += sizeof(PEM_END) - 1;
	if (i < len && !(len - i == eol_len && memcmp(in + i, eol, eol_len) == 0)) {
		rc = ppml_err_set(err, PPML_E_INPUT, "PEM CRL: %zu unexpected bytes after %s",
				  len - i, PEM_END);
		goto out;
	}
	if (nb == 0 || nb % 4 != 0) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "PEM CRL: %zu base64 characters is not a multiple of 4", nb);
		goto out;
	}
	out = malloc(nb / 4 * 3);
	if (!out) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "PEM CRL: out of memory");
		goto out;
	}
	if (!ppml_base64_decode_strict(b64, nb, out, &dl)) {
		rc = ppml_err_set(err, PPML_E_INPUT,
				  "PEM CRL: the base64 is not canonical (misplaced '=' or "
				  "non-zero padding bits)");
		goto out;
	}
	*der = out;
	*der_len = dl;
	out = NULL;
	rc = PPML_OK;
out:
	free(out);
	free(b64);
	return rc;
}

ppml_status ppml_crl_to_der(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
			    struct ppml_err *err)
{
	uint8_t *out = NULL;
	size_t n = 0;
	ppml_status rc;

	*der = NULL;
	*der_len = 0;
	if (len > PPML_COLLATERAL_MAX_FILE)
		return ppml_err_set(err, PPML_E_LIMIT, "CRL: %zu bytes is over the limit of %u bytes",
				    len, PPML_COLLATERAL_MAX_FILE);
	if (len == 0)
		return ppml_err_set(err, PPML_E_INPUT, "CRL: empty");
	if (in[0] == 0x30) {
		if (!der_sequence_exact(in, len))
			return ppml_err_set(err, PPML_E_INPUT,
					    "CRL: DER: not one SEQUENCE whose length is exactly the "
					    "%zu bytes given (truncated, or trailing bytes)", len);
		out = malloc(len);
		if (!out)
			return ppml_err_set(err, PPML_E_NOMEM, "CRL: out of memory");
		memcpy(out, in, len);
		n = len;
	} else if (len >= sizeof(PEM_BEGIN) - 1 &&
		   memcmp(in, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) == 0) {
		rc = pem_crl_decode(in, len, &out, &n, err);
		if (rc != PPML_OK)
			return rc;
	} else if (ppml_hex_digit(in[0]) >= 0) {
		size_t digits = len;
		if (in[digits - 1] == '\n') /* a file saved by hand may end in one newline */
			digits--;
		if (digits == 0 || digits % 2 != 0)
			return ppml_err_set(err, PPML_E_INPUT,
					    "CRL: hex: %zu digits is not an even number", digits);
		out = malloc(digits / 2);
		if (!out)
			return ppml_err_set(err, PPML_E_NOMEM, "CRL: out of memory");
		for (size_t i = 0; i < digits / 2; i++) {
			int hi = ppml_hex_digit(in[2 * i]), lo = ppml_hex_digit(in[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				free(out);
				return ppml_err_set(err, PPML_E_INPUT,
						    "CRL: hex: character %zu is not a hex digit",
						    hi < 0 ? 2 * i + 1 : 2 * i + 2);
			}
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		n = digits / 2;
	} else {
		return ppml_err_set(err, PPML_E_INPUT,
				    "CRL: neither DER (0x30), PEM (%s) nor hex of the DER; "
				    "check that the file or response really is a CRL", PEM_BEGIN);
	}
	if (in[0] != 0x30 && !der_sequence_exact(out, n)) {
		free(out);
		return ppml_err_set(err, PPML_E_INPUT,
				    "CRL: the decoded %zu bytes are not one DER SEQUENCE of exactly "
				    "that length", n);
	}
	*der = out;
	*der_len = n;
	return PPML_OK;
}
