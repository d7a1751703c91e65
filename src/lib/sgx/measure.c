/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enclave layout and MRENCLAVE, Gramine v1.9 (spec sections 5-7).
 *
 * Speed: the record stream is built in a 1 MiB buffer and handed to SHA-256
 * one buffer at a time.  The free area (up to GiBs of EADD records) reuses a
 * buffer pre-filled with EADD templates, so only the 8-byte offsets change.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ppml/limits.h"
#include "ppml/measure.h"
#include "ppml/sgx.h"

#define PAGE PPML_SGX_PAGE_SIZE
#define CHUNK_SIZE (1u << 20)
_Static_assert(CHUNK_SIZE % PPML_SGX_RECORD_SIZE == 0, "chunks hold whole records");

static uint64_t rounddown(uint64_t x)
{
	return x & ~(PAGE - 1);
}

static uint64_t roundup(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

/* ---------------------------------------------------------------- layout */

void ppml_measure_layout_cleanup(struct ppml_sgx_layout *layout)
{
	if (!layout)
		return;
	free(layout->areas);
	ppml_elf_cleanup(&layout->elf);
	memset(layout, 0, sizeof(*layout));
}

static struct ppml_sgx_area *add_area(struct ppml_sgx_layout *l, enum ppml_sgx_area_kind kind,
				      const char *name, uint64_t addr, uint64_t size, uint64_t flags,
				      unsigned index)
{
	struct ppml_sgx_area *a = &l->areas[l->n_areas++];
	a->kind = kind;
	a->name = name;
	a->addr = addr;
	a->size = size;
	a->flags = flags;
	a->measured = kind != PPML_SGX_AREA_FREE;
	a->index = index;
	return a;
}

ppml_status ppml_measure_layout(const struct ppml_measure_input *in, struct ppml_sgx_layout *out,
				struct ppml_err *err)
{
	const uint64_t E = in->enclave_size, N = in->max_threads;
	const uint64_t RW_REG = PPML_SGX_SECINFO_R | PPML_SGX_SECINFO_W | PPML_SGX_SECINFO_REG;
	const uint64_t per_thread = PPML_SGX_SSA_PER_THREAD + PPML_SGX_TCS_SIZE + PPML_SGX_TLS_SIZE +
				    PPML_SGX_STACK_SIZE + PPML_SGX_SIG_STACK_SIZE;
	const char *pal_name = in->pal_name ? in->pal_name : "libpal.so";
	struct ppml_sgx_layout l = {0};
	ppml_status st;
	uint64_t lo = UINT64_MAX, hi = 0, manifest_area, top, heap_min_off;

	memset(out, 0, sizeof(*out));
	if (in->manifest_len > PPML_SGX_MAX_MANIFEST_SIZE)
		return ppml_err_set(err, PPML_E_LIMIT, "manifest: %zu bytes exceeds the cap of %u bytes",
				    in->manifest_len, PPML_SGX_MAX_MANIFEST_SIZE);
	if (N == 0)
		return ppml_err_set(err, PPML_E_INPUT, "sgx.max_threads must be at least 1");
	if (N > PPML_SGX_MAX_THREADS)
		return ppml_err_set(err, PPML_E_LIMIT, "sgx.max_threads %llu exceeds the cap of %u",
				    (unsigned long long)N, PPML_SGX_MAX_THREADS);
	if (E > PPML_SGX_MAX_ENCLAVE_SIZE)
		return ppml_err_set(err, PPML_E_LIMIT,
				    "sgx.enclave_size 0x%llx exceeds the cap of 0x%llx bytes",
				    (unsigned long long)E, (unsigned long long)PPML_SGX_MAX_ENCLAVE_SIZE);
	if (E % PAGE != 0)
		return ppml_err_set(err, PPML_E_INPUT,
				    "sgx.enclave_size 0x%llx is not a multiple of the page size 0x1000",
				    (unsigned long long)E);
	if (in->base != 0 && in->base != E)
		return ppml_err_set(err, PPML_E_INPUT,
				    "enclave base 0x%llx: expected 0 or the enclave size 0x%llx",
				    (unsigned long long)in->base, (unsigned long long)E);
	st = ppml_elf_parse(in->pal, in->pal_len, pal_name, &l.elf, err);
	if (st != PPML_OK)
		return st;
	for (size_t i = 0; i < l.elf.n_loads; i++) {
		const struct ppml_elf_load *s = &l.elf.loads[i];
		if (rounddown(s->vaddr) < lo)
			lo = rounddown(s->vaddr);
		if (roundup(s->vaddr + s->memsz) > hi)
			hi = roundup(s->vaddr + s->memsz);
	}
	if (lo != 0) {
		st = ppml_err_set(err, PPML_E_INPUT,
				  "%s: lowest PT_LOAD starts at 0x%llx; only a position-independent PAL (lowest vaddr 0) is supported",
				  pal_name, (unsigned long long)lo);
		goto fail;
	}

	l.enclave_size = E;
	l.base = in->base;
	l.heap_min = in->base ? in->base : PPML_SGX_HEAP_MIN;
	heap_min_off = l.heap_min - l.base;
	l.max_threads = (uint32_t)N;
	l.edmm = in->edmm_enable != 0;
	l.manifest_size = (uint64_t)in->manifest_len + 1;
	l.pal_size = hi - lo;
	l.entry = l.elf.entry;
	manifest_area = roundup(l.manifest_size);
	/* Section 5: every area placed top-down; all must stay at or above heap_min
	 * (0x10000, or the base itself for v1.3 PIE).  Each term is bounded by the
	 * caps, so the sum cannot overflow. */
	if (E < heap_min_off || E - heap_min_off < manifest_area + N * per_thread + l.pal_size) {
		st = ppml_err_set(err, PPML_E_INPUT, "Enclave size is not large enough");
		goto fail;
	}
	l.areas = calloc(6 + 2 * N + l.elf.n_loads, sizeof(*l.areas));
	if (!l.areas) {
		st = ppml_err_set(err, PPML_E_NOMEM, "out of memory for the enclave layout");
		goto fail;
	}
	top = E - manifest_area;
	add_area(&l, PPML_SGX_AREA_MANIFEST, "manifest", top, manifest_area,
		 PPML_SGX_SECINFO_R | PPML_SGX_SECINFO_REG, 0);
	l.ssa_base = top - N * PPML_SGX_SSA_PER_THREAD;
	add_area(&l, PPML_SGX_AREA_SSA, "ssa", l.ssa_base, N * PPML_SGX_SSA_PER_THREAD, RW_REG, 0);
	l.tcs_base = l.ssa_base - N * PPML_SGX_TCS_SIZE;
	add_area(&l, PPML_SGX_AREA_TCS, "tcs", l.tcs_base, N * PPML_SGX_TCS_SIZE, PPML_SGX_SECINFO_TCS, 0);
	l.tls_base = l.tcs_base - N * PPML_SGX_TLS_SIZE;
	add_area(&l, PPML_SGX_AREA_TLS, "tls", l.tls_base, N * PPML_SGX_TLS_SIZE, RW_REG, 0);
	for (unsigned t = 0; t < N; t++)
		add_area(&l, PPML_SGX_AREA_STACK, "stack", l.tls_base - (t + 1) * PPML_SGX_STACK_SIZE,
			 PPML_SGX_STACK_SIZE, RW_REG, t);
	l.stack_low = l.tls_base - N * PPML_SGX_STACK_SIZE;
	for (unsigned t = 0; t < N; t++)
		add_area(&l, PPML_SGX_AREA_SIG_STACK, "sig_stack",
			 l.stack_low - (t + 1) * PPML_SGX_SIG_STACK_SIZE, PPML_SGX_SIG_STACK_SIZE, RW_REG, t);
	l.pal_base = l.stack_low - N * PPML_SGX_SIG_STACK_SIZE - l.pal_size;
	for (size_t i = 0; i < l.elf.n_loads; i++) {
		const struct ppml_elf_load *s = &l.elf.loads[i];
		uint64_t start = rounddown(l.pal_base - lo + s->vaddr);
		uint64_t end = roundup(l.pal_base - lo + s->vaddr + s->memsz);
		uint64_t flags = PPML_SGX_SECINFO_REG;
		if (s->flags & PPML_ELF_PF_R)
			flags |= PPML_SGX_SECINFO_R;
		if (s->flags & PPML_ELF_PF_W)
			flags |= PPML_SGX_SECINFO_W;
		if (s->flags & PPML_ELF_PF_X)
			flags |= PPML_SGX_SECINFO_X;
		add_area(&l, PPML_SGX_AREA_PAL, (s->flags & PPML_ELF_PF_X) ? "code" : "data", start,
			 end - start, flags, (unsigned)i);
	}
	if (!l.edmm && l.pal_base > heap_min_off)
		add_area(&l, PPML_SGX_AREA_FREE, "free", heap_min_off, l.pal_base - heap_min_off,
			 PPML_SGX_SECINFO_R | PPML_SGX_SECINFO_W | PPML_SGX_SECINFO_X |
				 PPML_SGX_SECINFO_REG,
			 0);
	*out = l;
	return PPML_OK;
fail:
	ppml_measure_layout_cleanup(&l);
	return st;
}

ppml_status ppml_measure_layout_format(const struct ppml_sgx_layout *layout, struct ppml_buf *out)
{
	for (size_t i = 0; i < layout->n_areas; i++) {
		const struct ppml_sgx_area *a = &layout->areas[i];
		ppml_status st = ppml_buf_printf(
			out, "    %016llx-%016llx [%s:%c%c%c] (%s)%s\n",
			(unsigned long long)(layout->base + a->addr),
			(unsigned long long)(layout->base + a->addr + a->size),
			(a->flags & PPML_SGX_SECINFO_TCS) ? "TCS" : "REG",
			(a->flags & PPML_SGX_SECINFO_R) ? 'R' : '-', (a->flags & PPML_SGX_SECINFO_W) ? 'W' : '-',
			(a->flags & PPML_SGX_SECINFO_X) ? 'X' : '-', a->name, a->measured ? " measured" : "");
		if (st != PPML_OK)
			return st;
	}
	return PPML_OK;
}

/* ---------------------------------------------------------------- hashing */

struct hasher {
	EVP_MD_CTX *ctx;
	uint8_t *buf;
	size_t len;
	int failed;
};

static void h_flush(struct hasher *h)
{
	if (h->len && !h->failed && EVP_DigestUpdate(h->ctx, h->buf, h->len) != 1)
		h->failed = 1;
	h->len = 0;
}

/* Returns room for n (<= CHUNK_SIZE) contiguous bytes of stream. */
static uint8_t *h_reserve(struct hasher *h, size_t n)
{
	uint8_t *p;
	if (CHUNK_SIZE - h->len < n)
		h_flush(h);
	p = h->buf + h->len;
	h->len += n;
	return p;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8); /* little-endian host, asserted in sgx.h */
}

/* EADD + 16 x (EEXTEND + 256 bytes) for one page whose content is given. */
static void emit_page(struct hasher *h, uint64_t addr, uint64_t flags, const uint8_t *content)
{
	uint8_t *p = h_reserve(h, PPML_SGX_MEASURED_PAGE_BYTES);
	memset(p, 0, PPML_SGX_RECORD_SIZE);
	memcpy(p, "EADD\0\0\0\0", 8);
	put64(p + 8, addr);
	put64(p + 16, flags);
	p += PPML_SGX_RECORD_SIZE;
	for (unsigned i = 0; i < PPML_SGX_EEXTEND_PER_PAGE; i++) {
		memset(p, 0, PPML_SGX_RECORD_SIZE);
		memcpy(p, "EEXTEND\0", 8);
		put64(p + 8, addr + (uint64_t)i * PPML_SGX_EEXTEND_CHUNK);
		memcpy(p + PPML_SGX_RECORD_SIZE, content + (size_t)i * PPML_SGX_EEXTEND_CHUNK,
		       PPML_SGX_EEXTEND_CHUNK);
		p += PPML_SGX_RECORD_SIZE + PPML_SGX_EEXTEND_CHUNK;
	}
}

/* A zero page: copy the precomputed 5184-byte pattern, patch the 17 offsets and the flags. */
static void emit_zero_page(struct hasher *h, const uint8_t *tmpl, uint64_t addr, uint64_t flags)
{
	uint8_t *p = h_reserve(h, PPML_SGX_MEASURED_PAGE_BYTES);
	memcpy(p, tmpl, PPML_SGX_MEASURED_PAGE_BYTES);
	put64(p + 8, addr);
	put64(p + 16, flags);
	for (unsigned i = 0; i < PPML_SGX_EEXTEND_PER_PAGE; i++)
		put64(p + PPML_SGX_RECORD_SIZE + i * (PPML_SGX_RECORD_SIZE + PPML_SGX_EEXTEND_CHUNK) + 8,
		      addr + (uint64_t)i * PPML_SGX_EEXTEND_CHUNK);
}

static void emit_zero_pages(struct hasher *h, const uint8_t *tmpl, uint64_t addr, uint64_t size,
			    uint64_t flags)
{
	for (uint64_t off = 0; off < size; off += PAGE)
		emit_zero_page(h, tmpl, addr + off, flags);
}

/* EADD-only records for [addr, addr+size): the buffer is filled with templates
 * once, then each chunk only rewrites the 8-byte offsets. */
static void emit_free(struct hasher *h, uint64_t addr, uint64_t size, uint64_t flags)
{
	const size_t per_chunk = CHUNK_SIZE / PPML_SGX_RECORD_SIZE;
	uint64_t pages = size / PAGE;

	h_flush(h);
	memset(h->buf, 0, CHUNK_SIZE);
	for (size_t i = 0; i < per_chunk; i++) {
		memcpy(h->buf + i * PPML_SGX_RECORD_SIZE, "EADD\0\0\0\0", 8);
		put64(h->buf + i * PPML_SGX_RECORD_SIZE + 16, flags);
	}
	while (pages > 0 && !h->failed) {
		size_t n = pages < per_chunk ? (size_t)pages : per_chunk;
		uint8_t *p = h->buf + 8;
		for (size_t i = 0; i < n; i++, p += PPML_SGX_RECORD_SIZE, addr += PAGE)
			put64(p, addr);
		if (EVP_DigestUpdate(h->ctx, h->buf, n * PPML_SGX_RECORD_SIZE) != 1)
			h->failed = 1;
		pages -= n;
	}
	/* The buffer no longer holds anything pending. */
	h->len = 0;
}

static void build_tcs(const struct ppml_sgx_layout *l, unsigned t, uint8_t page[PAGE])
{
	struct ppml_sgx_tcs tcs;
	memset(&tcs, 0, sizeof(tcs));
	tcs.ossa = l->ssa_base + (uint64_t)t * PPML_SGX_SSA_PER_THREAD;
	tcs.nssa = PPML_SGX_SSA_NUM_FRAMES;
	tcs.oentry = l->pal_base + l->entry;
	tcs.ofsbase = 0;
	tcs.ogsbase = l->tls_base + (uint64_t)t * PPML_SGX_TLS_SIZE;
	tcs.fslimit = PPML_SGX_FS_LIMIT;
	tcs.gslimit = PPML_SGX_GS_LIMIT;
	memcpy(page, &tcs, PAGE);
}

/* Section 6.2; all fields but tcs_offset are absolute (base added, spec 12). */
static void build_tls(const struct ppml_sgx_layout *l, unsigned t, uint8_t page[PAGE])
{
	uint64_t tls = l->base + l->tls_base + (uint64_t)t * PPML_SGX_TLS_SIZE;
	uint64_t ssa = l->base + l->ssa_base + (uint64_t)t * PPML_SGX_SSA_PER_THREAD;
	uint64_t stack = l->base + l->tls_base - ((uint64_t)t + 1) * PPML_SGX_STACK_SIZE;
	uint64_t sigstk = l->base + l->stack_low - ((uint64_t)t + 1) * PPML_SGX_SIG_STACK_SIZE;

	memset(page, 0, PAGE);
	put64(page + PPML_SGX_TLS_SELF, tls);
	put64(page + PPML_SGX_TLS_CANARY, PPML_SGX_STACK_CANARY);
	put64(page + PPML_SGX_TLS_ENCLAVE_SIZE, l->enclave_size);
	put64(page + PPML_SGX_TLS_TCS_OFFSET, l->tcs_base + (uint64_t)t * PPML_SGX_TCS_SIZE);
	put64(page + PPML_SGX_TLS_INITIAL_STACK, stack + PPML_SGX_STACK_SIZE);
	put64(page + PPML_SGX_TLS_SIG_STACK_LOW, sigstk);
	put64(page + PPML_SGX_TLS_SIG_STACK_HIGH, sigstk + PPML_SGX_SIG_STACK_SIZE);
	put64(page + PPML_SGX_TLS_SSA, ssa);
	put64(page + PPML_SGX_TLS_GPR, ssa + PPML_SGX_SSA_FRAME_SIZE - PPML_SGX_GPR_SIZE);
	put64(page + PPML_SGX_TLS_MANIFEST_SIZE, l->manifest_size);
	put64(page + PPML_SGX_TLS_HEAP_MIN, l->heap_min);
	put64(page + PPML_SGX_TLS_HEAP_MAX, l->base + l->pal_base);
}

/* Section 6.3: the page's window starts at rounddown(p_offset) + (page -
 * rounddown(p_vaddr)); file bytes outside [p_offset, p_offset+p_filesz) read as zero. */
static void build_pal_page(const struct ppml_measure_input *in, const struct ppml_elf_load *s,
			   uint64_t page_index, uint8_t page[PAGE])
{
	uint64_t win = rounddown(s->offset) + page_index * PAGE;
	uint64_t lo = s->offset, hi = s->offset + s->filesz;
	uint64_t a = win > lo ? win : lo, b = win + PAGE < hi ? win + PAGE : hi;

	memset(page, 0, PAGE);
	if (a < b) /* hi <= pal_len was checked by the ELF parser */
		memcpy(page + (a - win), in->pal + a, (size_t)(b - a));
}

ppml_status ppml_measure_mrenclave(const struct ppml_measure_input *in, uint8_t mrenclave[32],
				   struct ppml_sgx_layout *layout_out, struct ppml_err *err)
{
	struct ppml_sgx_layout l = {0};
	struct hasher h = {0};
	uint8_t *zero_tmpl = NULL, page[PAGE];
	struct ppml_sgx_ecreate_rec ecreate;
	unsigned int mdlen = 0;
	ppml_status st;

	if (layout_out)
		memset(layout_out, 0, sizeof(*layout_out));
	st = ppml_measure_layout(in, &l, err);
	if (st != PPML_OK)
		return st;
	h.buf = malloc(CHUNK_SIZE);
	zero_tmpl = calloc(1, PPML_SGX_MEASURED_PAGE_BYTES);
	h.ctx = EVP_MD_CTX_new();
	if (!h.buf || !zero_tmpl || !h.ctx) {
		st = ppml_err_set(err, PPML_E_NOMEM, "out of memory for the measurement buffer");
		goto out;
	}
	if (EVP_DigestInit_ex(h.ctx, EVP_sha256(), NULL) != 1) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "SHA-256 init failed");
		goto out;
	}
	memcpy(zero_tmpl, "EADD\0\0\0\0", 8);
	for (unsigned i = 0; i < PPML_SGX_EEXTEND_PER_PAGE; i++)
		memcpy(zero_tmpl + PPML_SGX_RECORD_SIZE +
			       i * (PPML_SGX_RECORD_SIZE + PPML_SGX_EEXTEND_CHUNK),
		       "EEXTEND\0", 8);

	memset(&ecreate, 0, sizeof(ecreate));
	memcpy(ecreate.tag, "ECREATE\0", 8);
	ecreate.ssa_frame_size = PPML_SGX_SSA_FRAME_PAGES;
	ecreate.size = l.enclave_size;
	memcpy(h_reserve(&h, sizeof(ecreate)), &ecreate, sizeof(ecreate));

	for (size_t i = 0; i < l.n_areas; i++) {
		const struct ppml_sgx_area *a = &l.areas[i];
		switch (a->kind) {
		case PPML_SGX_AREA_MANIFEST:
			for (uint64_t off = 0; off < a->size; off += PAGE) {
				/* manifest bytes, then the NUL and zero padding */
				size_t n = 0;
				memset(page, 0, PAGE);
				if (off < in->manifest_len) {
					n = in->manifest_len - off < PAGE ? in->manifest_len - off : PAGE;
					memcpy(page, in->manifest + off, n);
				}
				emit_page(&h, a->addr + off, a->flags, page);
			}
			break;
		case PPML_SGX_AREA_TCS:
			for (unsigned t = 0; t < l.max_threads; t++) {
				build_tcs(&l, t, page);
				emit_page(&h, a->addr + (uint64_t)t * PAGE, a->flags, page);
			}
			break;
		case PPML_SGX_AREA_TLS:
			for (unsigned t = 0; t < l.max_threads; t++) {
				build_tls(&l, t, page);
				emit_page(&h, a->addr + (uint64_t)t * PAGE, a->flags, page);
			}
			break;
		case PPML_SGX_AREA_SSA:
		case PPML_SGX_AREA_STACK:
		case PPML_SGX_AREA_SIG_STACK:
			emit_zero_pages(&h, zero_tmpl, a->addr, a->size, a->flags);
			break;
		case PPML_SGX_AREA_PAL:
			for (uint64_t off = 0; off < a->size; off += PAGE) {
				build_pal_page(in, &l.elf.loads[a->index], off / PAGE, page);
				emit_page(&h, a->addr + off, a->flags, page);
			}
			break;
		case PPML_SGX_AREA_FREE:
			emit_free(&h, a->addr, a->size, a->flags);
			break;
		}
	}
	h_flush(&h);
	if (h.failed || EVP_DigestFinal_ex(h.ctx, mrenclave, &mdlen) != 1 || mdlen != 32) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "SHA-256 of the measurement stream failed");
		goto out;
	}
	if (layout_out) {
		*layout_out = l;
		memset(&l, 0, sizeof(l));
	}
out:
	EVP_MD_CTX_free(h.ctx);
	free(h.buf);
	free(zero_tmpl);
	ppml_measure_layout_cleanup(&l);
	return st;
}

/* ---------------------------------------------------------------- parse_size */

static int digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

ppml_status ppml_sgx_parse_size(const char *s, const char *what, uint64_t *out, struct ppml_err *err)
{
	size_t len, i = 0;
	uint64_t scale = 1, v = 0;
	unsigned base = 10;
	int digits = 0, prev_us = 0, nonzero = 0;
	const char *p;

	if (!what)
		what = "size";
	*out = 0;
	len = strlen(s);
	if (len > 0 && s[len - 1] == 'K')
		scale = 1ull << 10;
	else if (len > 0 && s[len - 1] == 'M')
		scale = 1ull << 20;
	else if (len > 0 && s[len - 1] == 'G')
		scale = 1ull << 30;
	if (scale != 1)
		len--;
	/* Python int() strips surrounding whitespace. */
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	while (len > i && isspace((unsigned char)s[len - 1]))
		len--;
	p = s + i;
	len -= i;
	i = 0;
	if (i < len && (p[i] == '+' || p[i] == '-')) {
		if (p[i] == '-')
			goto bad_negative;
		i++;
	}
	if (len - i >= 2 && p[i] == '0') {
		int c = p[i + 1] | 0x20;
		if (c == 'x' || c == 'o' || c == 'b') {
			base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
			i += 2;
			/* "0x_1f" is valid: one '_' may follow the prefix */
			if (i < len && p[i] == '_')
				i++;
			if (i >= len)
				goto bad;
		}
	}
	for (; i < len; i++) {
		int d;
		if (p[i] == '_') {
			if (prev_us || digits == 0)
				goto bad;
			prev_us = 1;
			continue;
		}
		d = digit_value((unsigned char)p[i]);
		if (d >= (int)base)
			goto bad;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			goto bad_big;
		/* a decimal with a leading zero ("010") is a SyntaxError in int(x, 0) */
		if (base == 10 && digits > 0 && !nonzero && d)
			goto bad;
		v = v * base + (uint64_t)d;
		if (d)
			nonzero = 1;
		digits++;
		prev_us = 0;
	}
	if (digits == 0 || prev_us)
		goto bad;
	if (v > UINT64_MAX / scale)
		goto bad_big;
	*out = v * scale;
	return PPML_OK;
bad_negative:
	return ppml_err_set(err, PPML_E_INPUT, "%s: \"%s\" is negative", what, s);
bad_big:
	return ppml_err_set(err, PPML_E_INPUT, "%s: \"%s\" is too large", what, s);
bad:
	return ppml_err_set(err, PPML_E_INPUT,
			    "%s: invalid size \"%s\" (expected a number with an optional K, M or G suffix)",
			    what, s);
}
