/* SPDX-License-Identifier: Apache-2.0 */
/* The SGX ECDSA quote parser (shared/spec/dcap-quote-verification.md 1.1-1.4). */
#include "ppml/quote.h"

#include <string.h>

#include "ppml/limits.h"

/* A bounded reader: every take checks the remaining length first. */
struct rd {
	const uint8_t *p;
	size_t off, end;
};

static bool take(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > r->end - r->off)
		return false;
	*out = r->p + r->off;
	r->off += n;
	return true;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define TRUNC(rd_, field, off_, need)                                                         \
	ppml_err_set(err, PPML_E_INPUT,                                                       \
		     "quote: truncated at offset %zu: %s needs %zu bytes, %zu remain", (off_), \
		     (field), (size_t)(need), (rd_).end - (off_))

/* QE report, its signature, QE auth data and the certification data that
 * follows (section 1.3 from the QE report on; the v4 type-6 payload has the
 * same shape).  The reader must end exactly at r->end. */
static ppml_status parse_qe_part(struct ppml_quote *q, struct rd r, bool inner, struct ppml_err *err)
{
	const uint8_t *p;
	size_t o;

	o = r.off;
	if (!take(&r, PPML_SGX_REPORT_BODY_SIZE, &p))
		return TRUNC(r, "QE report", o, PPML_SGX_REPORT_BODY_SIZE);
	q->qe_report_raw = p;
	memcpy(&q->qe_report, p, PPML_SGX_REPORT_BODY_SIZE);
	o = r.off;
	if (!take(&r, 64, &p))
		return TRUNC(r, "QE report signature", o, 64);
	memcpy(q->qe_report_signature, p, 64);
	o = r.off;
	if (!take(&r, 2, &p))
		return TRUNC(r, "QE authentication data size", o, 2);
	size_t n = le16(p);
	o = r.off;
	if (!take(&r, n, &q->qe_auth))
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: QE authentication data at offset %zu declares %zu bytes, "
				    "only %zu remain in the signature data",
				    o, n, r.end - o);
	q->qe_auth_len = n;
	o = r.off;
	if (!take(&r, 6, &p))
		return TRUNC(r, "certification data header", o, 6);
	q->cert_type = le16(p);
	size_t m = le32(p + 2);
	if (q->cert_type < 1 || q->cert_type > 5)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: %scertification data type %u at offset %zu: expected 1..5 "
				    "(5 = PCK certificate chain)",
				    inner ? "inner " : "", q->cert_type, o);
	if (m != r.end - r.off)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: certification data at offset %zu declares %zu bytes, but "
				    "%zu bytes remain in the %s",
				    r.off, m, r.end - r.off,
				    inner ? "type-6 payload" : "signature data");
	q->cert_offset = r.off;
	(void)take(&r, m, &q->cert_data);
	q->cert_len = m;
	return PPML_OK;
}

ppml_status ppml_quote_parse(const uint8_t *data, size_t len, struct ppml_quote *q,
			     struct ppml_err *err)
{
	struct rd r = {data, 0, len};
	const uint8_t *p;
	size_t o;

	memset(q, 0, sizeof(*q));
	if (len > PPML_QUOTE_MAX_SIZE)
		return ppml_err_set(err, PPML_E_LIMIT, "quote: %zu bytes, above the %u-byte limit",
				    len, PPML_QUOTE_MAX_SIZE);
	q->data = data;
	q->len = len;
	if (!take(&r, PPML_QUOTE_HEADER_SIZE, &p))
		return TRUNC(r, "header", (size_t)0, PPML_QUOTE_HEADER_SIZE);
	memcpy(&q->header, p, PPML_QUOTE_HEADER_SIZE);
	uint16_t v = q->header.version;
	if (v != 3 && v != 4)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: version %u at offset 0: expected 3 or 4 (SGX ECDSA quotes)",
				    v);
	if (q->header.att_key_type != PPML_QUOTE_ATT_KEY_ECDSA_P256)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: attestation key type %u at offset 2: expected 2 "
				    "(ECDSA P-256)",
				    q->header.att_key_type);
	if (q->header.tee_type != PPML_QUOTE_TEE_SGX)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: TEE type 0x%08x at offset 4: expected 0 (SGX)%s",
				    q->header.tee_type,
				    q->header.tee_type == PPML_QUOTE_TEE_TDX
					    ? "; TDX quotes are not supported"
					    : "");
	if (memcmp(q->header.qe_vendor_id, PPML_QUOTE_INTEL_QE_VENDOR_ID, 16) != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: QE vendor ID at offset 12 is not Intel's "
				    "939a7233f79c4ca9940a0db3957f0607");
	if (!take(&r, PPML_SGX_REPORT_BODY_SIZE, &p))
		return TRUNC(r, "report body", (size_t)PPML_QUOTE_HEADER_SIZE, PPML_SGX_REPORT_BODY_SIZE);
	memcpy(&q->body, p, PPML_SGX_REPORT_BODY_SIZE);
	q->signed_len = PPML_QUOTE_SIGNED_SIZE;

	o = r.off;
	if (!take(&r, 4, &p))
		return TRUNC(r, "signature data size", o, 4);
	size_t sl = le32(p);
	if (sl > r.end - r.off)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: signature data size %zu at offset %zu exceeds the %zu "
				    "bytes that follow",
				    sl, o, r.end - r.off);
	if (sl < r.end - r.off)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: %zu trailing bytes at offset %zu after the signature data",
				    r.end - r.off - sl, r.off + sl);
	struct rd s = {data, r.off, r.off + sl};

	o = s.off;
	if (!take(&s, 64, &p))
		return TRUNC(s, "quote signature", o, 64);
	memcpy(q->signature, p, 64);
	o = s.off;
	if (!take(&s, 64, &p))
		return TRUNC(s, "attestation key", o, 64);
	memcpy(q->attest_key, p, 64);

	if (v == 3)
		return parse_qe_part(q, s, false, err);

	/* v4: type 6 wrapping QE report, signature, auth data, inner type 5. */
	o = s.off;
	if (!take(&s, 6, &p))
		return TRUNC(s, "certification data header", o, 6);
	if (le16(p) != PPML_QUOTE_CERT_QE_REPORT)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: v4 certification data type %u at offset %zu: expected 6 "
				    "(QE report certification data)",
				    le16(p), o);
	size_t m = le32(p + 2);
	if (m != s.end - s.off)
		return ppml_err_set(err, PPML_E_INPUT,
				    "quote: type-6 certification data at offset %zu declares %zu "
				    "bytes, but %zu remain in the signature data",
				    s.off, m, s.end - s.off);
	return parse_qe_part(q, s, true, err);
}
