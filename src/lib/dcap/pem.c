/* SPDX-License-Identifier: Apache-2.0 */
/* Strict base64 and the strict PEM certificate chain grammar of issue 6. */
#include <stdlib.h>
#include <string.h>

#include "ppml/quote.h"

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool ppml_base64_decode_strict(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
	size_t o = 0;

	if (len == 0 || len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;
		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)in[i + j];
			if (c == '=') {
				/* '=' only in the last quantum, only at its end. */
				if (i + 4 != len || j < 2)
					return false;
				pad++;
				v[j] = 0;
				continue;
			}
			if (pad)
				return false;
			v[j] = b64val(c);
			if (v[j] < 0)
				return false;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		/* Canonical: the bits the padding drops must be zero. */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return false;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	*out_len = o;
	return true;
}

void ppml_pem_chain_free(struct ppml_pem_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count && i < PPML_PEM_CHAIN_MAX; i++)
		free(c->der[i]);
	memset(c, 0, sizeof(*c));
}

static const char BEGIN[] = "-----BEGIN CERTIFICATE-----\n";
static const char END[] = "-----END CERTIFICATE-----";
#define PEM_MAX_LINE 76

ppml_status ppml_pem_chain_parse(const uint8_t *pem, size_t len, size_t expected,
				 struct ppml_pem_chain *out, struct ppml_err *err)
{
	const char *s = (const char *)pem;
	size_t off = 0;
	ppml_status rc = PPML_E_INPUT;
	char *b64 = NULL;

	memset(out, 0, sizeof(*out));
	if (expected > PPML_PEM_CHAIN_MAX)
		return ppml_err_set(err, PPML_E_INTERNAL, "PEM chain: expected count too large");
	/* The base64 of one certificate is at most the whole input. */
	b64 = malloc(len + 1);
	if (!b64)
		return ppml_err_set(err, PPML_E_NOMEM, "PEM chain: out of memory");
	for (;;) {
		size_t nb = 0;
		if (out->count == PPML_PEM_CHAIN_MAX) {
			ppml_err_set(err, PPML_E_INPUT, "PEM chain: more than %d certificates",
				     PPML_PEM_CHAIN_MAX);
			goto out;
		}
		if (len - off < sizeof(BEGIN) - 1 || memcmp(s + off, BEGIN, sizeof(BEGIN) - 1) != 0) {
			ppml_err_set(err, PPML_E_INPUT,
				     "PEM chain: offset %zu: expected \"-----BEGIN CERTIFICATE-----\" "
				     "and a newline (certificate %zu)",
				     off, out->count + 1);
			goto out;
		}
		off += sizeof(BEGIN) - 1;
		/* base64 lines until the END line. */
		for (;;) {
			if (len - off >= sizeof(END) - 1 && memcmp(s + off, END, sizeof(END) - 1) == 0)
				break;
			size_t ls = off;
			while (off < len && s[off] != '\n' && off - ls <= PEM_MAX_LINE)
				off++;
			size_t ll = off - ls;
			if (off >= len || s[off] != '\n' || ll == 0 || ll > PEM_MAX_LINE || ll % 4) {
				ppml_err_set(err, PPML_E_INPUT,
					     "PEM chain: offset %zu: expected a base64 line of 4..%d "
					     "characters (a multiple of 4) ending in a newline, or "
					     "\"-----END CERTIFICATE-----\"",
					     ls, PEM_MAX_LINE);
				goto out;
			}
			/* Padding inside the joined text is refused by the decoder. */
			memcpy(b64 + nb, s + ls, ll);
			nb += ll;
			off++;
		}
		off += sizeof(END) - 1;
		if (nb == 0) {
			ppml_err_set(err, PPML_E_INPUT, "PEM chain: certificate %zu is empty",
				     out->count + 1);
			goto out;
		}
		uint8_t *der = malloc(nb / 4 * 3);
		size_t dl;
		if (!der) {
			rc = ppml_err_set(err, PPML_E_NOMEM, "PEM chain: out of memory");
			goto out;
		}
		if (!ppml_base64_decode_strict(b64, nb, der, &dl)) {
			free(der);
			ppml_err_set(err, PPML_E_INPUT,
				     "PEM chain: certificate %zu: base64 is not canonical "
				     "(bad character, padding or non-zero padding bits)",
				     out->count + 1);
			goto out;
		}
		out->der[out->count] = der;
		out->der_len[out->count] = dl;
		out->count++;
		/* After END: "\n-----BEGIN" continues; else an optional "\n", an
		 * optional NUL, and the end. */
		size_t rest = len - off;
		if (rest >= 1 + sizeof(BEGIN) - 1 && s[off] == '\n' &&
		    memcmp(s + off + 1, BEGIN, sizeof(BEGIN) - 1) == 0) {
			off++;
			continue;
		}
		size_t t = off;
		if (t < len && s[t] == '\n')
			t++;
		if (t < len && s[t] == '\0')
			t++;
		if (t != len) {
			ppml_err_set(err, PPML_E_INPUT,
				     "PEM chain: offset %zu: unexpected bytes after certificate %zu "
				     "(only a newline and one NUL may follow the last certificate)",
				     off, out->count);
			goto out;
		}
		break;
	}
	if (expected && out->count != expected) {
		ppml_err_set(err, PPML_E_INPUT, "PEM chain: %zu certificates, expected exactly %zu",
			     out->count, expected);
		goto out;
	}
	rc = PPML_OK;
out:
	free(b64);
	if (rc != PPML_OK)
		ppml_pem_chain_free(out);
	return rc;
}
