/* SPDX-License-Identifier: Apache-2.0 */
/* The SGX extension of PCK certificates (shared/spec/dcap-quote-verification.md
 * section 3), parsed with a small strict DER reader: definite minimal
 * lengths, exact types, nothing trailing. */
#include <stdio.h>
#include <string.h>

#include "ppml/quote.h"

enum {
	T_BOOLEAN = 0x01,
	T_INTEGER = 0x02,
	T_OCTET_STRING = 0x04,
	T_OID = 0x06,
	T_ENUMERATED = 0x0a,
	T_SEQUENCE = 0x30,
};

/* 1.2.840.113741.1.13.1 content bytes. */
static const uint8_t SGX_OID[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

struct der {
	const uint8_t *base; /* start of the whole input, for offsets */
	const uint8_t *p;
	size_t len;
};

struct tlv {
	uint8_t tag;
	const uint8_t *v;
	size_t len;
	size_t off; /* offset of the tag */
};

/* Reads one TLV from d (advancing it). */
static bool der_next(struct der *d, struct tlv *t, const char **why)
{
	size_t n, hdr = 2;

	if (d->len < 2) {
		*why = "truncated TLV header";
		return false;
	}
	t->off = (size_t)(d->p - d->base);
	t->tag = d->p[0];
	if ((t->tag & 0x1f) == 0x1f) {
		*why = "multi-byte tags are not used here";
		return false;
	}
	n = d->p[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;
		if (k == 0 || k > 4) {
			*why = "indefinite or oversized length";
			return false;
		}
		if (d->len < 2 + k) {
			*why = "truncated length";
			return false;
		}
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = n << 8 | d->p[2 + i];
		/* DER: the shortest form, no leading zero octet. */
		if (n < 0x80 || d->p[2] == 0) {
			*why = "non-minimal length encoding";
			return false;
		}
		hdr += k;
	}
	if (n > d->len - hdr) {
		*why = "length exceeds the enclosing element";
		return false;
	}
	t->v = d->p + hdr;
	t->len = n;
	d->p += hdr + n;
	d->len -= hdr + n;
	return true;
}

static struct der der_inner(const struct der *outer, const struct tlv *t)
{
	struct der d = {outer->base, t->v, t->len};
	return d;
}

/* Non-negative minimal INTEGER (or ENUMERATED) up to max. */
static bool der_uint(const struct tlv *t, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (t->len == 0 || t->len > 5)
		return false;
	if (t->v[0] & 0x80)
		return false; /* negative */
	if (t->len > 1 && t->v[0] == 0 && !(t->v[1] & 0x80))
		return false; /* non-minimal */
	for (size_t i = 0; i < t->len; i++)
		v = v << 8 | t->v[i];
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Is t the OID SGX_OID.arc1[.arc2]?  Returns the arcs through *a1 / *a2
 * (a2 = 0 when the OID has one arc below the SGX OID). */
static bool sgx_oid(const struct tlv *t, size_t depth, uint8_t *a1, uint8_t *a2)
{
	if (t->tag != T_OID || t->len != sizeof(SGX_OID) + depth ||
	    memcmp(t->v, SGX_OID, sizeof(SGX_OID)) != 0)
		return false;
	*a1 = t->v[sizeof(SGX_OID)];
	*a2 = depth == 2 ? t->v[sizeof(SGX_OID) + 1] : 0;
	/* Single-byte arcs only: a byte >= 0x80 would continue the arc. */
	return *a1 < 0x80 && *a2 < 0x80;
}

#define FAIL(off, ...)                                                                   \
	do {                                                                             \
		char m_[512];                                                            \
		snprintf(m_, sizeof(m_), __VA_ARGS__);                                   \
		return ppml_err_set(err, PPML_E_INPUT, "SGX extension: offset %zu: %s", \
				    (size_t)(off), m_);                                  \
	} while (0)


/* One (OID, value) pair: SEQUENCE { OID, value }. */
static ppml_status der_pair(struct der *d, size_t depth, uint8_t *a1, uint8_t *a2,
			    struct tlv *val, struct der *vd, struct ppml_err *err)
{
	struct tlv seq, oid;
	const char *why = "";
	size_t off = (size_t)(d->p - d->base);

	if (!der_next(d, &seq, &why))
		FAIL(off, "%s", why);
	if (seq.tag != T_SEQUENCE)
		FAIL(seq.off, "expected a SEQUENCE (OID, value), found tag 0x%02x", seq.tag);
	struct der in = der_inner(d, &seq);
	if (!der_next(&in, &oid, &why))
		FAIL(seq.off, "%s", why);
	if (!sgx_oid(&oid, depth, a1, a2))
		FAIL(oid.off, "expected an OID under %s%s", PPML_SGX_EXT_OID,
		     depth == 2 ? " (two levels below)" : "");
	if (!der_next(&in, val, &why))
		FAIL(oid.off, "%s", why);
	if (in.len != 0)
		FAIL((size_t)(in.p - in.base), "extra element in an (OID, value) pair");
	*vd = der_inner(d, val);
	return PPML_OK;
}

static ppml_status octets(const struct tlv *v, size_t n, uint8_t *out, const char *name,
			  struct ppml_err *err)
{
	if (v->tag != T_OCTET_STRING || v->len != n)
		FAIL(v->off, "%s: expected an OCTET STRING of %zu bytes", name, n);
	memcpy(out, v->v, n);
	return PPML_OK;
}

static ppml_status parse_tcb(struct der d, struct ppml_pck_ext *e, struct ppml_err *err)
{
	uint32_t seen = 0;
	size_t count = 0;
	ppml_status rc;

	while (d.len) {
		uint8_t a1, a2;
		struct tlv v;
		struct der vd;
		uint32_t x;
		if ((rc = der_pair(&d, 2, &a1, &a2, &v, &vd, err)) != PPML_OK)
			return rc;
		if (a1 != 2 || a2 < 1 || a2 > 18)
			FAIL(v.off, "TCB entry %u.%u: expected 2.1 .. 2.18", a1, a2);
		if (seen & (1u << a2))
			FAIL(v.off, "TCB entry 2.%u appears twice", a2);
		seen |= 1u << a2;
		count++;
		if (a2 <= 16) {
			if (v.tag != T_INTEGER || !der_uint(&v, 255, &x))
				FAIL(v.off, "TCB component %u SVN: expected an INTEGER 0..255", a2);
			e->comp_svn[a2 - 1] = (uint8_t)x;
		} else if (a2 == 17) {
			if (v.tag != T_INTEGER || !der_uint(&v, 65535, &x))
				FAIL(v.off, "PCESVN: expected an INTEGER 0..65535");
			e->pcesvn = (uint16_t)x;
		} else {
			if ((rc = octets(&v, 16, e->cpusvn, "CPUSVN", err)) != PPML_OK)
				return rc;
		}
	}
	if (count != 18)
		FAIL((size_t)(d.p - d.base), "TCB has %zu entries, expected 18", count);
	return PPML_OK;
}

static ppml_status parse_config(struct der d, struct ppml_pck_ext *e, struct ppml_err *err)
{
	uint32_t seen = 0;
	ppml_status rc;

	while (d.len) {
		uint8_t a1, a2;
		struct tlv v;
		struct der vd;
		if ((rc = der_pair(&d, 2, &a1, &a2, &v, &vd, err)) != PPML_OK)
			return rc;
		if (a1 != 7 || a2 < 1 || a2 > 3)
			FAIL(v.off, "Configuration entry %u.%u: expected 7.1 .. 7.3", a1, a2);
		if (seen & (1u << a2))
			FAIL(v.off, "Configuration entry 7.%u appears twice", a2);
		seen |= 1u << a2;
		/* DER BOOLEAN: one octet, 0x00 or 0xff. */
		if (v.tag != T_BOOLEAN || v.len != 1 || (v.v[0] != 0 && v.v[0] != 0xff))
			FAIL(v.off, "Configuration entry 7.%u: expected a DER BOOLEAN", a2);
		bool b = v.v[0] != 0;
		if (a2 == 1) {
			e->dynamic_platform = b;
			e->has_dynamic_platform = true;
		} else if (a2 == 2) {
			e->cached_keys = b;
			e->has_cached_keys = true;
		} else {
			e->smt_enabled = b;
			e->has_smt_enabled = true;
		}
	}
	return PPML_OK;
}

ppml_status ppml_pck_ext_parse(const uint8_t *der, size_t len, struct ppml_pck_ext *e,
			       struct ppml_err *err)
{
	struct der d = {der, der, len};
	struct tlv top;
	const char *why = "";
	uint32_t seen = 0;
	size_t count = 0;
	ppml_status rc;

	memset(e, 0, sizeof(*e));
	if (!der_next(&d, &top, &why))
		FAIL(0, "%s", why);
	if (top.tag != T_SEQUENCE)
		FAIL(0, "expected a SEQUENCE, found tag 0x%02x", top.tag);
	if (d.len != 0)
		FAIL((size_t)(d.p - d.base), "%zu trailing bytes", d.len);
	struct der in = der_inner(&d, &top);
	while (in.len) {
		uint8_t a1, a2;
		struct tlv v;
		struct der vd;
		uint32_t x;
		if ((rc = der_pair(&in, 1, &a1, &a2, &v, &vd, err)) != PPML_OK)
			return rc;
		if (a1 < 1 || a1 > 7)
			FAIL(v.off, "unknown entry %s.%u", PPML_SGX_EXT_OID, a1);
		if (seen & (1u << a1))
			FAIL(v.off, "entry %s.%u appears twice", PPML_SGX_EXT_OID, a1);
		seen |= 1u << a1;
		count++;
		switch (a1) {
		case 1:
			rc = octets(&v, 16, e->ppid, "PPID", err);
			break;
		case 2:
			if (v.tag != T_SEQUENCE)
				FAIL(v.off, "TCB: expected a SEQUENCE");
			rc = parse_tcb(vd, e, err);
			break;
		case 3:
			rc = octets(&v, 2, e->pceid, "PCE-ID", err);
			break;
		case 4:
			rc = octets(&v, 6, e->fmspc, "FMSPC", err);
			break;
		case 5:
			if (v.tag != T_ENUMERATED || !der_uint(&v, 0xffffffffu, &x))
				FAIL(v.off, "SGX Type: expected an ENUMERATED");
			e->sgx_type = x;
			break;
		case 6:
			rc = octets(&v, 16, e->platform_instance_id, "Platform Instance ID", err);
			break;
		case 7:
			if (v.tag != T_SEQUENCE)
				FAIL(v.off, "Configuration: expected a SEQUENCE");
			rc = parse_config(vd, e, err);
			break;
		}
		if (rc != PPML_OK)
			return rc;
	}
	/* Section 3: 5 entries (processor PCK) or 7 (platform PCK). */
	if (count == 5 && seen == 0x3e) {
		e->platform = false;
	} else if (count == 7 && seen == 0xfe) {
		e->platform = true;
	} else {
		FAIL(0, "%zu entries (mask 0x%02x): expected PPID, TCB, PCE-ID, FMSPC and SGX Type, "
			"plus Platform Instance ID and Configuration for a platform PCK",
		     count, seen);
	}
	return PPML_OK;
}
