/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enclave identity documents: built from matching manifest.sgx + .sig, written
 * and read as JSON (version 1), and compared.  See ppml/identity.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ppml/hex.h"
#include "ppml/identity.h"
#include "ppml/limits.h"
#include "ppml/toml.h"

/* ---- known test keys --------------------------------------------------------
 * MRSIGNERs whose private keys are public.  Each is the "mrsigner" recorded in
 * ../shared/vectors/gramine-v1.9/v* /expected.json and, after them,
 * ../shared/vectors/gramine-v1.3.1-bigdl/b* /expected.json (the keys shipped
 * with the vectors).  Intel SGX SDK's sample enclaves generate a fresh test key at build
 * time in current SDKs, so there is no single well-known SDK MRSIGNER to list. */
static const char *const gramine_vector_mrsigners[] = {
	"05092b2ee2d801caf9bd5b36809de31746adbdb37ff51c814c4f9483a8401bd8",
	"0bc352b821d6773ab480e8a814923c428da17dfc4e7130c13e97c9f10f0d75b1",
	"1dc0b24b221ecc654af7a147b71100286538df85990e551034b4106fbcab2922",
	"22f2b310652f456d40ffc956bf7a1160a91368a08aeea8909d08f00987f2441a",
	"6046d9fb13e2e3fef562e5745ca34127a53107a2097278ab8be9df77eb66fcc2",
	"6ce0ba077abc0fc72cd39e58fcf3194b8706fbd69acca2a61ed4657cb1f003e2",
	"7c767926a98d74ccca61edb36d6e8683c5cb0e6fa349f199b13876b4dc24cad4",
	"838c962bb233e78cccb6518d882b04f963700ff022f599b7b96e3f33a9728717",
	"846974f5b3be78b9b83071ee53a2c75a2b3d186c081a318fd6abc0fa74fff15b",
	"941a2ecbffa2b4e7ef9cca6a4867b32200abcf5ac2e5a62ed1536b7bc62c817b",
	"a0b4f57d0473402b4e28e79e3853cb260e0cfe0f5b45b271aaa93a495af92448",
	"a123a66ef52bf7c28557314c9f89331e3b2775262ab68e36295a6c696ed834d9",
	"ad80b27531d93f35c5f07360c6f23aa82d49f1d7ab4f73e0669b22972e56706d",
	"bb310d1d7342912902b9d1b3e880290813556dde986894534302b3da572484b9",
	"c7a250a2b7b38b8591f70ede3a3660d9e6465dc3ceab8424ed9bc4fb7c2ed14a",
	"e48a77a313c534dfa57a9684666caa26f079daba341709b7cbab4fb05d451aa7",
	"ef8e989027e241990278d0c13d26b1a5ee588f65c16a40f4a8aa9c97b44e3426",
	"f4ee2a0f824218aa690c1bd67269deff2b0de99f0725a4084918ab32308e1df7",
	"f9b9457a2b0603b47c155ec9d5dd0d8b337a952d8ba49e03966de570dbe5332f",
	"fedda347f4ebd284f48296dfe1313893552a870babf03e390e9d8966062b20ac",
	/* gramine-v1.3.1-bigdl (b06, b07: keys SGX rejects, public all the same) */
	"01006517c491b59ad500567c4bb5535cfe922c5aa785619e36d9bb0535e5e537",
	"3e207529edf59675dca79ac3b80f425333a8d39a1f864b937dc5d95a5352d824",
	"46af3c4fa7dcd8a914903ea224c304ac236ff9a1c7f3c55c2ed7b4f671ac6fc6",
	"4989131c7ee1f4bca95b39df0d3d93bcc4ed8135a742d4418b76271bd15a1c5c",
	"6103d4f8b2e0f5193f611f060636b03836de397c0b9746c0321e5bb0fe535005",
	"9b8985d8b3fb5562e941fe52e7c905efd8caf8acbac0f916bd4f2177c73bb0a0",
	"9ef77b4efd343e5b0fc99c2607095c1dd49a15c8866d3606bb7e0292163f1864",
	"bfd3b3d4c6e9d44c1c3c7cd7afd85aee40237635c3d935973b5437cd18d7bb20",
};

const char *ppml_identity_known_test_key(const uint8_t mrsigner[32])
{
	char hex[65];
	ppml_hex_encode(mrsigner, 32, hex);
	for (size_t i = 0; i < sizeof(gramine_vector_mrsigners) / sizeof(gramine_vector_mrsigners[0]); i++)
		if (strcmp(hex, gramine_vector_mrsigners[i]) == 0)
			return "a test key from the Gramine signing vectors";
	return NULL;
}

/* ---- allocation helpers ---------------------------------------------------- */

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static char *dup0(const char *s)
{
	return dupn(s, strlen(s));
}

/* Grows *items (of elem bytes) so that one more fits. */
static int grow(void **items, size_t len, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;
	if (len < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / elem)
		return -1;
	p = realloc(*items, ncap * elem);
	if (!p)
		return -1;
	*items = p;
	*cap = ncap;
	return 0;
}

struct builder {
	struct ppml_identity *id;
	size_t files_cap, keys_cap, warnings_cap;
};

static ppml_status add_file(struct builder *b, const char *uri, size_t ulen, const char *sha,
			    size_t slen)
{
	struct ppml_identity *id = b->id;
	struct ppml_identity_file *f;
	if (grow((void **)&id->files, id->n_files, &b->files_cap, sizeof(*f)))
		return PPML_E_NOMEM;
	f = &id->files[id->n_files];
	f->uri = dupn(uri, ulen);
	f->sha256 = dupn(sha, slen);
	id->n_files++;
	return f->uri && f->sha256 ? PPML_OK : PPML_E_NOMEM;
}

/* Takes ownership of key and value (both freed on failure). */
static ppml_status add_key(struct builder *b, char *key, char *value)
{
	struct ppml_identity *id = b->id;
	if (!key || !value || grow((void **)&id->keys, id->n_keys, &b->keys_cap, sizeof(*id->keys))) {
		free(key);
		free(value);
		return PPML_E_NOMEM;
	}
	id->keys[id->n_keys].key = key;
	id->keys[id->n_keys].value = value;
	id->n_keys++;
	return PPML_OK;
}

static ppml_status add_warning(struct builder *b, const char *code, const char *fmt, ...)
	PPML_PRINTF(3, 4);
static ppml_status add_warning(struct builder *b, const char *code, const char *fmt, ...)
{
	struct ppml_identity *id = b->id;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (grow((void **)&id->warnings, id->n_warnings, &b->warnings_cap, sizeof(*id->warnings)))
		return PPML_E_NOMEM;
	id->warnings[id->n_warnings].code = dup0(code);
	id->warnings[id->n_warnings].message = dup0(msg);
	id->n_warnings++;
	return id->warnings[id->n_warnings - 1].code && id->warnings[id->n_warnings - 1].message
		       ? PPML_OK : PPML_E_NOMEM;
}

void ppml_identity_free(struct ppml_identity *id)
{
	if (!id)
		return;
	for (size_t i = 0; i < id->n_files; i++) {
		free(id->files[i].uri);
		free(id->files[i].sha256);
	}
	for (size_t i = 0; i < id->n_keys; i++) {
		free(id->keys[i].key);
		free(id->keys[i].value);
	}
	for (size_t i = 0; i < id->n_warnings; i++) {
		free(id->warnings[i].code);
		free(id->warnings[i].message);
	}
	free(id->files);
	free(id->keys);
	free(id->warnings);
	free(id);
}

/* ---- SIGSTRUCT against the measurement ------------------------------------- */

ppml_status ppml_identity_match_sigstruct(const struct ppml_enclave_identity *measured,
					  const struct ppml_sgx_sigstruct *s,
					  const char *manifest_name, struct ppml_err *err)
{
	const struct ppml_sigstruct_params *p = &measured->params;
	struct ppml_sgx_sigstruct want;
	struct ppml_sigstruct_params pd = *p;
	uint8_t a[PPML_SGX_PAYLOAD_SIZE], b[PPML_SGX_PAYLOAD_SIZE];
	char h1[65], h2[65];
	const char *m = manifest_name ? manifest_name : "the manifest";

	if (CRYPTO_memcmp(s->enclave_hash, p->mrenclave, 32) != 0) {
		ppml_hex_encode(s->enclave_hash, 32, h1);
		ppml_hex_encode(p->mrenclave, 32, h2);
		return ppml_err_set(err, PPML_E_REFUSED,
				    "ENCLAVEHASH %s does not match the measurement of %s (%s); "
				    "the .sig was made for other artefacts (or another PAL: check --libpal)",
				    h1, m, h2);
	}
#define FIELD(name, got, exp, fmt)                                                              \
	do {                                                                                    \
		if ((got) != (exp))                                                             \
			return ppml_err_set(err, PPML_E_REFUSED,                                \
					    name " " fmt " in the SIGSTRUCT differs from " fmt  \
					    " derived from %s",                                 \
					    got, exp, m);                                       \
	} while (0)
	FIELD("ATTRIBUTES.FLAGS", (uint64_t)s->attributes_flags, p->attributes_flags, "0x%016" PRIx64);
	FIELD("ATTRIBUTES.XFRM", (uint64_t)s->attributes_xfrm, p->attributes_xfrm, "0x%016" PRIx64);
	FIELD("ATTRIBUTEMASK.FLAGS", (uint64_t)s->attribute_mask_flags, p->attribute_mask_flags,
	      "0x%016" PRIx64);
	FIELD("ATTRIBUTEMASK.XFRM", (uint64_t)s->attribute_mask_xfrm, p->attribute_mask_xfrm,
	      "0x%016" PRIx64);
	FIELD("MISCSELECT", (uint32_t)s->misc_select, p->misc_select, "0x%08" PRIx32);
	FIELD("MISCMASK", (uint32_t)s->misc_mask, p->misc_mask, "0x%08" PRIx32);
	FIELD("ISVPRODID", (unsigned)s->isv_prod_id, (unsigned)p->isv_prod_id, "%u");
	FIELD("ISVSVN", (unsigned)s->isv_svn, (unsigned)p->isv_svn, "%u");
#undef FIELD
	/* Everything else in the signed bytes (vendor, swdefined, CET, ISV family
	 * and extended product IDs) is fixed by Gramine: compare the whole payload
	 * with the one the signer would have built, DATE taken from the .sig. */
	pd.date = s->date;
	ppml_sigstruct_init(&want, &pd);
	ppml_sigstruct_payload(&want, a);
	ppml_sigstruct_payload(s, b);
	if (CRYPTO_memcmp(a, b, sizeof(a)) != 0)
		return ppml_err_set(err, PPML_E_REFUSED,
				    "the SIGSTRUCT sets fields Gramine leaves fixed (VENDOR, SWDEFINED, "
				    "CET, ISVFAMILYID or ISVEXTPRODID): it was not signed for %s", m);
	return PPML_OK;
}

/* ---- the manifest tree ----------------------------------------------------- */

static json_t *toml_to_json(const struct ppml_toml_value *v)
{
	char buf[64];
	const struct ppml_toml_datetime *d;
	json_t *o;
	switch (v->type) {
	case PPML_TOML_STRING:
		return json_stringn(v->u.s.ptr, v->u.s.len);
	case PPML_TOML_INTEGER:
		return json_integer(v->u.i);
	case PPML_TOML_FLOAT:
		if (isfinite(v->u.f))
			return json_real(v->u.f);
		/* JSON has no NaN/inf: keep them recognisable as TOML spells them */
		return json_string(isnan(v->u.f) ? "nan" : v->u.f > 0 ? "inf" : "-inf");
	case PPML_TOML_BOOLEAN:
		return json_boolean(v->u.b);
	case PPML_TOML_DATETIME:
	case PPML_TOML_DATETIME_LOCAL:
	case PPML_TOML_DATE_LOCAL:
	case PPML_TOML_TIME_LOCAL: {
		size_t n = 0;
		d = &v->u.dt;
		if (v->type != PPML_TOML_TIME_LOCAL)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%04d-%02d-%02d", d->year,
					      d->month, d->day);
		if (v->type != PPML_TOML_DATE_LOCAL) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%02d:%02d:%02d",
					      v->type == PPML_TOML_TIME_LOCAL ? "" : "T", d->hour,
					      d->minute, d->second);
			if (d->frac_digits && n < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%09" PRIu32,
						      d->nanosecond);
		}
		if (v->type == PPML_TOML_DATETIME && n < sizeof(buf)) {
			int off = d->offset_minutes, a = off < 0 ? -off : off;
			if (off == 0)
				snprintf(buf + n, sizeof(buf) - n, "Z");
			else
				snprintf(buf + n, sizeof(buf) - n, "%c%02d:%02d", off < 0 ? '-' : '+',
					 a / 60, a % 60);
		}
		return json_string(buf);
	}
	case PPML_TOML_ARRAY:
		o = json_array();
		for (size_t i = 0; o && i < v->u.a.len; i++) {
			json_t *x = toml_to_json(v->u.a.items[i]);
			if (!x || json_array_append_new(o, x)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	case PPML_TOML_TABLE:
		o = json_object();
		for (size_t i = 0; o && i < v->u.t.len; i++) {
			const struct ppml_toml_kv *kv = &v->u.t.items[i];
			json_t *x = toml_to_json(kv->value);
			/* keys with NUL cannot be JSON object keys in jansson: drop the tail */
			if (!x || json_object_set_new(o, kv->key, x)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	return NULL;
}

static char *json_text(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static int bare_key(const char *k, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Appends ".key" (or the first "key") to path, quoting keys that are not bare. */
static ppml_status path_push(struct ppml_buf *path, const struct ppml_toml_kv *kv)
{
	json_t *s;
	char *q;
	ppml_status st;
	if (path->len && ppml_buf_putc(path, '.'))
		return PPML_E_NOMEM;
	if (bare_key(kv->key, kv->key_len))
		return ppml_buf_append(path, kv->key, kv->key_len);
	s = json_stringn(kv->key, kv->key_len);
	q = s ? json_text(s) : NULL;
	json_decref(s);
	if (!q)
		return PPML_E_NOMEM;
	st = ppml_buf_puts(path, q);
	free(q);
	return st;
}

static const char *path_str(struct ppml_buf *path)
{
	return path->data ? (const char *)path->data : "";
}

/* Flattens a table into dotted keys; non-empty tables are entered, everything
 * else (arrays included) is one value.  sgx.trusted_files is left to files. */
static ppml_status flatten(struct builder *b, const struct ppml_toml_value *t, struct ppml_buf *path)
{
	for (size_t i = 0; i < t->u.t.len; i++) {
		const struct ppml_toml_kv *kv = &t->u.t.items[i];
		size_t mark = path->len;
		ppml_status st = path_push(path, kv);
		if (st == PPML_OK && ppml_buf_putc(path, 0))
			st = PPML_E_NOMEM;
		if (st != PPML_OK)
			return st;
		path->len--; /* keep the NUL terminator out of the length */
		if (kv->value->type == PPML_TOML_TABLE && kv->value->u.t.len) {
			st = flatten(b, kv->value, path);
		} else if (strcmp(path_str(path), "sgx.trusted_files") != 0) {
			json_t *j = toml_to_json(kv->value);
			char *v = j ? json_text(j) : NULL;
			json_decref(j);
			st = add_key(b, dup0(path_str(path)), v);
		}
		if (st != PPML_OK)
			return st;
		path->len = mark;
		if (path->data)
			path->data[mark] = 0;
	}
	return PPML_OK;
}

#define MAX_INSECURE_WARNINGS 32

static ppml_status find_insecure(struct builder *b, const struct ppml_toml_value *v,
				 struct ppml_buf *path, size_t *count)
{
	ppml_status st = PPML_OK;
	if (v->type == PPML_TOML_ARRAY) {
		for (size_t i = 0; st == PPML_OK && i < v->u.a.len; i++)
			st = find_insecure(b, v->u.a.items[i], path, count);
		return st;
	}
	if (v->type != PPML_TOML_TABLE)
		return PPML_OK;
	for (size_t i = 0; st == PPML_OK && i < v->u.t.len; i++) {
		const struct ppml_toml_kv *kv = &v->u.t.items[i];
		size_t mark = path->len;
		st = path_push(path, kv);
		if (st == PPML_OK && ppml_buf_putc(path, 0))
			st = PPML_E_NOMEM;
		if (st != PPML_OK)
			return st;
		path->len--;
		if (strncmp(kv->key, "insecure__", 10) == 0 && (*count)++ < MAX_INSECURE_WARNINGS)
			st = add_warning(b, "insecure_option",
					 "manifest option `%s` is set: insecure__ options switch off a "
					 "protection and are not for production", path_str(path));
		if (st == PPML_OK)
			st = find_insecure(b, kv->value, path, count);
		path->len = mark;
		if (path->data)
			path->data[mark] = 0;
	}
	return st;
}

static const char *str_of(const struct ppml_toml_value *t, const char *key, size_t *len)
{
	const struct ppml_toml_value *v = ppml_toml_get(t, key);
	if (!v || v->type != PPML_TOML_STRING)
		return NULL;
	*len = v->u.s.len;
	return v->u.s.ptr;
}

static ppml_status read_files(struct builder *b, const struct ppml_toml_value *root,
			      enum ppml_gramine_version version, struct ppml_err *err)
{
	const struct ppml_toml_value *loader = ppml_toml_get(root, "loader");
	const struct ppml_toml_value *ep = ppml_toml_get(loader, "entrypoint");
	const struct ppml_toml_value *tf = ppml_toml_get(ppml_toml_get(root, "sgx"), "trusted_files");
	const char *uri, *sha;
	size_t ul = 0, sl = 0;

	/* v1.3's loader.entrypoint is a plain URI, not hashed: the LibOS is a
	 * trusted file there (spec 12) */
	if (ep && version != PPML_GRAMINE_1_3) {
		uri = str_of(ep, "uri", &ul);
		sha = str_of(ep, "sha256", &sl);
		if (!uri || !sha)
			return ppml_err_set(err, PPML_E_INPUT,
					    "loader.entrypoint needs string uri and sha256 (is this "
					    "a manifest.sgx written by the signer?)");
		if (add_file(b, uri, ul, sha, sl) != PPML_OK)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	if (!tf)
		return PPML_OK;
	if (tf->type != PPML_TOML_ARRAY)
		return ppml_err_set(err, PPML_E_INPUT, "sgx.trusted_files must be an array");
	for (size_t i = 0; i < tf->u.a.len; i++) {
		const struct ppml_toml_value *e = tf->u.a.items[i];
		uri = e->type == PPML_TOML_TABLE ? str_of(e, "uri", &ul) : NULL;
		sha = e->type == PPML_TOML_TABLE ? str_of(e, "sha256", &sl) : NULL;
		if (!uri || !sha)
			return ppml_err_set(err, PPML_E_INPUT,
					    "sgx.trusted_files[%zu] needs string uri and sha256 (is "
					    "this a manifest.sgx written by the signer?)", i);
		if (add_file(b, uri, ul, sha, sl) != PPML_OK)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	return PPML_OK;
}

/*
 * Keys of the other Gramine version (spec 12): that signer would have used
 * them, this one ignores them, so the enclave is not configured as written.
 * Each warning names the key to use instead.
 */
static ppml_status other_version_keys(struct builder *b, enum ppml_gramine_version ver,
				      const struct ppml_toml_value *sgx)
{
	static const struct {
		enum ppml_gramine_version ignored_by;
		const char *key, *fix;
	} keys[] = {
		{PPML_GRAMINE_1_9, "thread_num", "sgx.max_threads"},
		{PPML_GRAMINE_1_9, "require_avx", "sgx.cpu_features.avx = \"required\""},
		{PPML_GRAMINE_1_9, "require_avx512", "sgx.cpu_features.avx512 = \"required\""},
		{PPML_GRAMINE_1_9, "require_mpx", "sgx.cpu_features.mpx = \"required\""},
		{PPML_GRAMINE_1_9, "require_pkru", "sgx.cpu_features.pkru = \"required\""},
		{PPML_GRAMINE_1_9, "require_amx", "sgx.cpu_features.amx = \"required\""},
		{PPML_GRAMINE_1_9, "support_exinfo", "sgx.use_exinfo"},
		{PPML_GRAMINE_1_9, "nonpie_binary", "nothing (Gramine 1.5+ always uses base 0)"},
		{PPML_GRAMINE_1_3, "max_threads", "sgx.thread_num"},
		{PPML_GRAMINE_1_3, "cpu_features", "sgx.require_avx, sgx.require_avx512, ... = true"},
		{PPML_GRAMINE_1_3, "use_exinfo", "sgx.support_exinfo"},
		{PPML_GRAMINE_1_3, "edmm_enable", "nothing (v1.3 has no EDMM)"},
	};
	ppml_status st = PPML_OK;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && st == PPML_OK; i++) {
		if (keys[i].ignored_by != ver || !ppml_toml_get(sgx, keys[i].key))
			continue;
		st = add_warning(b, "other_gramine_version_key",
				 "sgx.%s is a Gramine %s key that the %s signer ignores: it changes "
				 "MRENCLAVE but configures nothing; for Gramine %s use %s, or measure "
				 "with --gramine-version %s if this enclave was signed by that version",
				 keys[i].key, ver == PPML_GRAMINE_1_9 ? "v1.3" : "1.4+",
				 ppml_gramine_version_name(ver), ppml_gramine_version_name(ver),
				 keys[i].fix, ver == PPML_GRAMINE_1_9 ? "1.3" : "1.9");
	}
	return st;
}

static ppml_status add_warnings(struct builder *b, const struct ppml_enclave_identity *m,
				const struct ppml_toml_value *root)
{
	const struct ppml_manifest_attrs *a = &m->attrs;
	struct ppml_buf path = {0};
	const char *test_key;
	size_t n_insecure = 0;
	ppml_status st = PPML_OK;

	if (b->id->debug)
		st = add_warning(b, "debug_enclave",
				 "sgx.debug = true: the enclave is debuggable, the host can read "
				 "and change its memory (never for production)");
	if (st == PPML_OK && a->has_allowed_files) {
		const struct ppml_toml_value *af = ppml_toml_get(ppml_toml_get(root, "sgx"), "allowed_files");
		size_t n = af && af->type == PPML_TOML_ARRAY ? af->u.a.len : 0;
		st = add_warning(b, "allowed_files",
				 "sgx.allowed_files is present (%zu entries): those files are read "
				 "and written without integrity checks and are not part of MRENCLAVE",
				 n);
	}
	if (st == PPML_OK && strcmp(a->file_check_policy, "allow_all_but_log") == 0)
		st = add_warning(b, "file_check_policy_allow_all",
				 "sgx.file_check_policy = \"allow_all_but_log\": any file that is "
				 "not a trusted file is opened without integrity checks (only logged)");
	if (st == PPML_OK)
		st = find_insecure(b, root, &path, &n_insecure);
	if (st == PPML_OK && n_insecure > MAX_INSECURE_WARNINGS)
		st = add_warning(b, "insecure_option", "%zu more insecure__ options are set",
				 n_insecure - MAX_INSECURE_WARNINGS);
	if (st == PPML_OK && strcmp(a->remote_attestation, "dcap") != 0)
		st = add_warning(b, "remote_attestation_not_dcap",
				 "sgx.remote_attestation is \"%s\", not \"dcap\": the enclave cannot "
				 "prove this identity to a relying party with DCAP quotes",
				 *a->remote_attestation ? a->remote_attestation : "none");
	if (st == PPML_OK)
		st = other_version_keys(b, a->version, ppml_toml_get(root, "sgx"));
	test_key = ppml_identity_known_test_key(b->id->mrsigner);
	if (st == PPML_OK && test_key)
		st = add_warning(b, "test_signing_key",
				 "the enclave is signed with %s: its private key is public, so "
				 "anyone can sign enclaves with this MRSIGNER", test_key);
	ppml_buf_free(&path);
	return st;
}

ppml_status ppml_identity_build(const uint8_t *manifest_sgx, size_t manifest_len,
				const uint8_t *pal, size_t pal_len, const char *pal_name,
				enum ppml_gramine_version version, const uint8_t *sig, size_t sig_len, const char *manifest_name,
				struct ppml_identity **out, struct ppml_err *err)
{
	struct ppml_sgx_sigstruct s;
	struct ppml_enclave_identity m;
	struct ppml_toml_value *root = NULL;
	struct ppml_buf path = {0};
	struct builder b = {0};
	unsigned int mdlen = 0;
	ppml_status st;

	*out = NULL;
	st = ppml_sigstruct_parse(sig, sig_len, &s, err);
	if (st == PPML_E_INPUT) {
		ppml_err_prefix(err, "not a SIGSTRUCT: ");
		err->code = st = PPML_E_REFUSED;
	}
	if (st != PPML_OK)
		return st;
	if ((st = ppml_sigstruct_verify(&s, err)) != PPML_OK)
		return st;
	if ((st = ppml_enclave_measure(manifest_sgx, manifest_len, pal, pal_len, pal_name, version,
				       &m, NULL, err)) != PPML_OK)
		return st;
	if ((st = ppml_identity_match_sigstruct(&m, &s, manifest_name, err)) != PPML_OK)
		return st;

	b.id = calloc(1, sizeof(*b.id));
	if (!b.id)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	memcpy(b.id->mrenclave, s.enclave_hash, 32);
	if ((st = ppml_sigstruct_mrsigner(&s, b.id->mrsigner, err)) != PPML_OK)
		goto out;
	b.id->isvprodid = s.isv_prod_id;
	b.id->isvsvn = s.isv_svn;
	b.id->attributes_flags = s.attributes_flags;
	b.id->attributes_xfrm = s.attributes_xfrm;
	b.id->attribute_mask_flags = s.attribute_mask_flags;
	b.id->attribute_mask_xfrm = s.attribute_mask_xfrm;
	b.id->misc_select = s.misc_select;
	b.id->misc_mask = s.misc_mask;
	b.id->debug = (s.attributes_flags & PPML_SGX_FLAGS_DEBUG) != 0;
	{
		char date[16];
		(void)ppml_sigstruct_format_date(s.date, version == PPML_GRAMINE_1_3, date);
		snprintf(b.id->date, sizeof(b.id->date), "%.10s", date);
	}
	if (!EVP_Digest(manifest_sgx, manifest_len, b.id->manifest_sha256, &mdlen, EVP_sha256(),
			NULL) || mdlen != 32) {
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "SHA-256 of manifest.sgx");
		goto out;
	}
	if ((st = ppml_manifest_parse((const char *)manifest_sgx, manifest_len, version, &root,
				      err)) != PPML_OK ||
	    (st = read_files(&b, root, version, err)) != PPML_OK)
		goto out;
	if ((st = flatten(&b, root, &path)) != PPML_OK || (st = add_warnings(&b, &m, root)) != PPML_OK) {
		ppml_err_set(err, st, "out of memory");
		goto out;
	}
	*out = b.id;
	b.id = NULL;
out:
	ppml_buf_free(&path);
	ppml_toml_free(root);
	ppml_identity_free(b.id);
	return st;
}

/* ---- JSON writer ----------------------------------------------------------- */

static int set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char hex[65];
	ppml_hex_encode(p, n, hex);
	return json_object_set_new(o, k, json_string(hex));
}

static int set_fmt(json_t *o, const char *k, const char *fmt, ...) PPML_PRINTF(3, 4);
static int set_fmt(json_t *o, const char *k, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return json_object_set_new(o, k, json_string(buf));
}

ppml_status ppml_identity_to_json(const struct ppml_identity *id, struct ppml_buf *out,
				  struct ppml_err *err)
{
	json_t *o = json_object(), *at = json_object(), *files = json_array(), *keys = json_object();
	json_t *warns = json_array();
	char *text = NULL;
	int bad = !o || !at || !files || !keys || !warns;
	ppml_status st;

	bad = bad || json_object_set_new(o, "version", json_integer(PPML_IDENTITY_VERSION));
	bad = bad || set_hex(o, "mrenclave", id->mrenclave, 32);
	bad = bad || set_hex(o, "mrsigner", id->mrsigner, 32);
	bad = bad || json_object_set_new(o, "isvprodid", json_integer(id->isvprodid));
	bad = bad || json_object_set_new(o, "isvsvn", json_integer(id->isvsvn));
	bad = bad || json_object_set_new(o, "debug", json_boolean(id->debug));
	bad = bad || set_fmt(at, "flags", "0x%016" PRIx64, id->attributes_flags);
	bad = bad || set_fmt(at, "xfrm", "0x%016" PRIx64, id->attributes_xfrm);
	bad = bad || set_fmt(at, "mask_flags", "0x%016" PRIx64, id->attribute_mask_flags);
	bad = bad || set_fmt(at, "mask_xfrm", "0x%016" PRIx64, id->attribute_mask_xfrm);
	bad = bad || set_fmt(at, "misc_select", "0x%08" PRIx32, id->misc_select);
	bad = bad || set_fmt(at, "misc_mask", "0x%08" PRIx32, id->misc_mask);
	bad = bad || json_object_set(o, "attributes", at);
	bad = bad || json_object_set_new(o, "date", json_string(id->date));
	bad = bad || set_hex(o, "manifest_sha256", id->manifest_sha256, 32);
	for (size_t i = 0; !bad && i < id->n_files; i++) {
		json_t *f = json_object();
		bad = !f || json_object_set_new(f, "uri", json_string(id->files[i].uri)) ||
		      json_object_set_new(f, "sha256", json_string(id->files[i].sha256)) ||
		      json_array_append_new(files, f);
	}
	bad = bad || json_object_set(o, "measured_files", files);
	for (size_t i = 0; !bad && i < id->n_keys; i++) {
		json_t *v = json_loads(id->keys[i].value, JSON_DECODE_ANY, NULL);
		bad = !v || json_object_set_new(keys, id->keys[i].key, v);
	}
	bad = bad || json_object_set(o, "manifest_keys", keys);
	for (size_t i = 0; !bad && i < id->n_warnings; i++) {
		json_t *w = json_object();
		bad = !w || json_object_set_new(w, "code", json_string(id->warnings[i].code)) ||
		      json_object_set_new(w, "message", json_string(id->warnings[i].message)) ||
		      json_array_append_new(warns, w);
	}
	bad = bad || json_object_set(o, "warnings", warns);
	if (!bad)
		text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		st = ppml_err_set(err, PPML_E_NOMEM, "cannot encode the identity as JSON (out of memory "
				  "or a string that is not UTF-8)");
	else if ((st = ppml_buf_puts(out, text)) != PPML_OK || (st = ppml_buf_putc(out, '\n')) != PPML_OK)
		ppml_err_set(err, st, "out of memory");
	free(text);
	json_decref(o);
	json_decref(at);
	json_decref(files);
	json_decref(keys);
	json_decref(warns);
	return st;
}

/* ---- JSON reader ----------------------------------------------------------- */

static ppml_status get_field(json_t *o, const char *parent, const char *k, json_type type,
			     json_t **out, struct ppml_err *err)
{
	static const char *const names[] = {"an object", "an array", "a string", "an integer",
					    "a number", "a boolean", "a boolean", "null"};
	json_t *v = json_object_get(o, k);
	int ok = v && (json_typeof(v) == type ||
		       (type == JSON_TRUE && json_typeof(v) == JSON_FALSE));
	if (!ok)
		return ppml_err_set(err, PPML_E_INPUT, "%s%s%s: %s (expected %s)", parent,
				    *parent ? "." : "", k, v ? "wrong type" : "missing",
				    (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?");
	*out = v;
	return PPML_OK;
}

static int is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static ppml_status get_hex32(json_t *o, const char *k, uint8_t out[32], struct ppml_err *err)
{
	json_t *v;
	ppml_status st = get_field(o, "", k, JSON_STRING, &v, err);
	if (st != PPML_OK)
		return st;
	if (json_string_length(v) != 64 || !is_lower_hex(json_string_value(v), 64))
		return ppml_err_set(err, PPML_E_INPUT, "%s: expected 64 lowercase hex digits", k);
	return ppml_hex_decode(json_string_value(v), out, 32, k, err);
}

/* "0x" and 1..digits lowercase hex digits. */
static ppml_status get_hexnum(json_t *o, const char *k, unsigned digits, uint64_t *out,
			      struct ppml_err *err)
{
	json_t *v;
	const char *s;
	size_t n;
	ppml_status st = get_field(o, "attributes", k, JSON_STRING, &v, err);
	if (st != PPML_OK)
		return st;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n < 3 || n > 2 + digits || s[0] != '0' || s[1] != 'x' || !is_lower_hex(s + 2, n - 2))
		return ppml_err_set(err, PPML_E_INPUT,
				    "attributes.%s: expected \"0x\" and up to %u lowercase hex digits", k,
				    digits);
	*out = strtoull(s + 2, NULL, 16);
	return PPML_OK;
}

static ppml_status get_u16(json_t *o, const char *k, uint16_t *out, struct ppml_err *err)
{
	json_t *v;
	ppml_status st = get_field(o, "", k, JSON_INTEGER, &v, err);
	if (st != PPML_OK)
		return st;
	if (json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return ppml_err_set(err, PPML_E_INPUT, "%s: %" JSON_INTEGER_FORMAT " is out of range "
				    "(0..65535)", k, json_integer_value(v));
	*out = (uint16_t)json_integer_value(v);
	return PPML_OK;
}

/* A string without NUL, at most PPML_IDENTITY_MAX_STRING bytes. */
static ppml_status get_str(json_t *o, const char *where, const char *k, const char **out,
			   struct ppml_err *err)
{
	json_t *v;
	ppml_status st = get_field(o, where, k, JSON_STRING, &v, err);
	if (st != PPML_OK)
		return st;
	if (json_string_length(v) > PPML_IDENTITY_MAX_STRING)
		return ppml_err_set(err, PPML_E_LIMIT, "%s.%s: longer than %u bytes", where, k,
				    PPML_IDENTITY_MAX_STRING);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return ppml_err_set(err, PPML_E_INPUT, "%s.%s: contains a NUL character", where, k);
	*out = json_string_value(v);
	return PPML_OK;
}

static ppml_status read_doc(json_t *root, struct builder *b, struct ppml_err *err)
{
	struct ppml_identity *id = b->id;
	json_t *v, *at, *arr;
	uint64_t x;
	ppml_status st;
	const char *key;
	size_t i;

	if (!json_is_object(root))
		return ppml_err_set(err, PPML_E_INPUT, "not an identity document: expected a JSON object");
	/* the version first: a later format is refused before its fields are judged */
	v = json_object_get(root, "version");
	if (!v)
		return ppml_err_set(err, PPML_E_INPUT,
				    "version: missing (not a `ppml identity --json` document?)");
	if (!json_is_integer(v) || json_integer_value(v) != PPML_IDENTITY_VERSION)
		return ppml_err_set(err, PPML_E_INPUT,
				    "version: expected %d (this ppml reads identity format %d only)",
				    PPML_IDENTITY_VERSION, PPML_IDENTITY_VERSION);
	if ((st = get_hex32(root, "mrenclave", id->mrenclave, err)) != PPML_OK ||
	    (st = get_hex32(root, "mrsigner", id->mrsigner, err)) != PPML_OK ||
	    (st = get_u16(root, "isvprodid", &id->isvprodid, err)) != PPML_OK ||
	    (st = get_u16(root, "isvsvn", &id->isvsvn, err)) != PPML_OK ||
	    (st = get_field(root, "", "debug", JSON_TRUE, &v, err)) != PPML_OK)
		return st;
	id->debug = json_is_true(v);
	if ((st = get_field(root, "", "attributes", JSON_OBJECT, &at, err)) != PPML_OK)
		return st;
	if ((st = get_hexnum(at, "flags", 16, &id->attributes_flags, err)) != PPML_OK ||
	    (st = get_hexnum(at, "xfrm", 16, &id->attributes_xfrm, err)) != PPML_OK ||
	    (st = get_hexnum(at, "mask_flags", 16, &id->attribute_mask_flags, err)) != PPML_OK ||
	    (st = get_hexnum(at, "mask_xfrm", 16, &id->attribute_mask_xfrm, err)) != PPML_OK)
		return st;
	if ((st = get_hexnum(at, "misc_select", 8, &x, err)) != PPML_OK)
		return st;
	id->misc_select = (uint32_t)x;
	if ((st = get_hexnum(at, "misc_mask", 8, &x, err)) != PPML_OK)
		return st;
	id->misc_mask = (uint32_t)x;
	if ((st = get_field(root, "", "date", JSON_STRING, &v, err)) != PPML_OK)
		return st;
	key = json_string_value(v);
	if (json_string_length(v) != 10 || key[4] != '-' || key[7] != '-' || !is_lower_hex(key, 4) ||
	    !is_lower_hex(key + 5, 2) || !is_lower_hex(key + 8, 2))
		return ppml_err_set(err, PPML_E_INPUT, "date: expected YYYY-MM-DD");
	memcpy(id->date, key, 11);
	if ((st = get_hex32(root, "manifest_sha256", id->manifest_sha256, err)) != PPML_OK)
		return st;

	if ((st = get_field(root, "", "measured_files", JSON_ARRAY, &arr, err)) != PPML_OK)
		return st;
	if (json_array_size(arr) > PPML_IDENTITY_MAX_FILES)
		return ppml_err_set(err, PPML_E_LIMIT, "measured_files: more than %u entries",
				    PPML_IDENTITY_MAX_FILES);
	json_array_foreach(arr, i, v) {
		const char *uri, *sha;
		char where[48];
		snprintf(where, sizeof(where), "measured_files[%zu]", i);
		if (!json_is_object(v))
			return ppml_err_set(err, PPML_E_INPUT, "%s: expected an object", where);
		if ((st = get_str(v, where, "uri", &uri, err)) != PPML_OK ||
		    (st = get_str(v, where, "sha256", &sha, err)) != PPML_OK)
			return st;
		if (add_file(b, uri, strlen(uri), sha, strlen(sha)) != PPML_OK)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}

	if ((st = get_field(root, "", "manifest_keys", JSON_OBJECT, &arr, err)) != PPML_OK)
		return st;
	if (json_object_size(arr) > PPML_IDENTITY_MAX_KEYS)
		return ppml_err_set(err, PPML_E_LIMIT, "manifest_keys: more than %u keys",
				    PPML_IDENTITY_MAX_KEYS);
	json_object_foreach(arr, key, v) {
		char *text = json_text(v);
		if (text && strlen(text) > PPML_IDENTITY_MAX_STRING) {
			free(text);
			return ppml_err_set(err, PPML_E_LIMIT, "manifest_keys.%.200s: value longer "
					    "than %u bytes", key, PPML_IDENTITY_MAX_STRING);
		}
		if (add_key(b, dup0(key), text) != PPML_OK)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}

	if ((st = get_field(root, "", "warnings", JSON_ARRAY, &arr, err)) != PPML_OK)
		return st;
	if (json_array_size(arr) > PPML_IDENTITY_MAX_WARNINGS)
		return ppml_err_set(err, PPML_E_LIMIT, "warnings: more than %u entries",
				    PPML_IDENTITY_MAX_WARNINGS);
	json_array_foreach(arr, i, v) {
		const char *code, *msg;
		char where[48];
		snprintf(where, sizeof(where), "warnings[%zu]", i);
		if (!json_is_object(v))
			return ppml_err_set(err, PPML_E_INPUT, "%s: expected an object", where);
		if ((st = get_str(v, where, "code", &code, err)) != PPML_OK ||
		    (st = get_str(v, where, "message", &msg, err)) != PPML_OK)
			return st;
		if (add_warning(b, code, "%s", msg) != PPML_OK)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	return PPML_OK;
}

ppml_status ppml_identity_from_json(const char *text, size_t len, struct ppml_identity **out,
				    struct ppml_err *err)
{
	json_error_t jerr;
	json_t *root;
	struct builder b = {0};
	ppml_status st;

	*out = NULL;
	if (len > PPML_IDENTITY_MAX_JSON)
		return ppml_err_set(err, PPML_E_LIMIT, "identity document larger than %u bytes",
				    PPML_IDENTITY_MAX_JSON);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ppml_err_set(err, PPML_E_INPUT, "not valid JSON: line %d, column %d: %s",
				    jerr.line, jerr.column, jerr.text);
	b.id = calloc(1, sizeof(*b.id));
	if (!b.id) {
		json_decref(root);
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	}
	st = read_doc(root, &b, err);
	json_decref(root);
	if (st != PPML_OK) {
		ppml_identity_free(b.id);
		return st;
	}
	*out = b.id;
	return PPML_OK;
}

/* ---- diff ------------------------------------------------------------------ */

void ppml_identity_diff_cleanup(struct ppml_identity_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->len; i++) {
		free(d->items[i].name);
		free(d->items[i].a);
		free(d->items[i].b);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

/* Takes ownership of a and b. */
static ppml_status change(struct ppml_identity_diff *d, enum ppml_identity_change_kind kind,
			  const char *name, char *a, char *b)
{
	struct ppml_identity_change *c;
	if (grow((void **)&d->items, d->len, &d->cap, sizeof(*c))) {
		free(a);
		free(b);
		return PPML_E_NOMEM;
	}
	c = &d->items[d->len++];
	c->kind = kind;
	c->name = dup0(name);
	c->a = a;
	c->b = b;
	return c->name ? PPML_OK : PPML_E_NOMEM;
}

static char *quoted(const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_text(j) : NULL;
	json_decref(j);
	return t;
}

static char *fmt(const char *f, ...) PPML_PRINTF(1, 2);
static char *fmt(const char *f, ...)
{
	char buf[80];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return dup0(buf);
}

static ppml_status hex_field(struct ppml_identity_diff *d, const char *name, const uint8_t *a,
			     const uint8_t *b)
{
	char ha[67] = "\"", hb[67] = "\"";
	if (memcmp(a, b, 32) == 0)
		return PPML_OK;
	ppml_hex_encode(a, 32, ha + 1);
	ppml_hex_encode(b, 32, hb + 1);
	strcat(ha, "\"");
	strcat(hb, "\"");
	return change(d, PPML_IDENTITY_FIELD, name, dup0(ha), dup0(hb));
}

static int cmp_file(const void *x, const void *y)
{
	const struct ppml_identity_file *a = *(const struct ppml_identity_file *const *)x;
	const struct ppml_identity_file *b = *(const struct ppml_identity_file *const *)y;
	return strcmp(a->uri, b->uri);
}

static int cmp_key(const void *x, const void *y)
{
	const struct ppml_identity_key *a = *(const struct ppml_identity_key *const *)x;
	const struct ppml_identity_key *b = *(const struct ppml_identity_key *const *)y;
	return strcmp(a->key, b->key);
}

/* Sorted views of both sides, merged: added, removed and changed entries. */
static ppml_status diff_keys(struct ppml_identity_diff *d, const struct ppml_identity *a,
			     const struct ppml_identity *b)
{
	const struct ppml_identity_key **ka = calloc(a->n_keys + 1, sizeof(*ka));
	const struct ppml_identity_key **kb = calloc(b->n_keys + 1, sizeof(*kb));
	size_t i = 0, j = 0;
	ppml_status st = PPML_OK;
	if (!ka || !kb) {
		st = PPML_E_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < a->n_keys; k++)
		ka[k] = &a->keys[k];
	for (size_t k = 0; k < b->n_keys; k++)
		kb[k] = &b->keys[k];
	qsort(ka, a->n_keys, sizeof(*ka), cmp_key);
	qsort(kb, b->n_keys, sizeof(*kb), cmp_key);
	while (st == PPML_OK && (i < a->n_keys || j < b->n_keys)) {
		int c = i == a->n_keys ? 1 : j == b->n_keys ? -1 : strcmp(ka[i]->key, kb[j]->key);
		if (c < 0) {
			st = change(d, PPML_IDENTITY_KEY, ka[i]->key, dup0(ka[i]->value), NULL);
			i++;
		} else if (c > 0) {
			st = change(d, PPML_IDENTITY_KEY, kb[j]->key, NULL, dup0(kb[j]->value));
			j++;
		} else {
			if (strcmp(ka[i]->value, kb[j]->value) != 0)
				st = change(d, PPML_IDENTITY_KEY, ka[i]->key, dup0(ka[i]->value),
					    dup0(kb[j]->value));
			i++;
			j++;
		}
	}
out:
	free(ka);
	free(kb);
	return st;
}

static ppml_status diff_files(struct ppml_identity_diff *d, const struct ppml_identity *a,
			      const struct ppml_identity *b)
{
	const struct ppml_identity_file **fa = calloc(a->n_files + 1, sizeof(*fa));
	const struct ppml_identity_file **fb = calloc(b->n_files + 1, sizeof(*fb));
	size_t i = 0, j = 0;
	ppml_status st = PPML_OK;
	if (!fa || !fb) {
		st = PPML_E_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < a->n_files; k++)
		fa[k] = &a->files[k];
	for (size_t k = 0; k < b->n_files; k++)
		fb[k] = &b->files[k];
	qsort(fa, a->n_files, sizeof(*fa), cmp_file);
	qsort(fb, b->n_files, sizeof(*fb), cmp_file);
	while (st == PPML_OK && (i < a->n_files || j < b->n_files)) {
		int c = i == a->n_files ? 1 : j == b->n_files ? -1 : strcmp(fa[i]->uri, fb[j]->uri);
		if (c < 0) {
			st = change(d, PPML_IDENTITY_FILE, fa[i]->uri, quoted(fa[i]->sha256), NULL);
			i++;
		} else if (c > 0) {
			st = change(d, PPML_IDENTITY_FILE, fb[j]->uri, NULL, quoted(fb[j]->sha256));
			j++;
		} else {
			if (strcmp(fa[i]->sha256, fb[j]->sha256) != 0)
				st = change(d, PPML_IDENTITY_FILE, fa[i]->uri, quoted(fa[i]->sha256),
					    quoted(fb[j]->sha256));
			i++;
			j++;
		}
	}
out:
	free(fa);
	free(fb);
	return st;
}

ppml_status ppml_identity_diff(const struct ppml_identity *a, const struct ppml_identity *b,
			       struct ppml_identity_diff *d, struct ppml_err *err)
{
	ppml_status st = PPML_OK;
	memset(d, 0, sizeof(*d));
#define NUM(name, fa, fb, f)                                                                  \
	if (st == PPML_OK && (fa) != (fb))                                                    \
	st = change(d, PPML_IDENTITY_FIELD, name, fmt(f, fa), fmt(f, fb))
	st = hex_field(d, "mrenclave", a->mrenclave, b->mrenclave);
	if (st == PPML_OK)
		st = hex_field(d, "mrsigner", a->mrsigner, b->mrsigner);
	NUM("isvprodid", (unsigned)a->isvprodid, (unsigned)b->isvprodid, "%u");
	NUM("isvsvn", (unsigned)a->isvsvn, (unsigned)b->isvsvn, "%u");
	if (st == PPML_OK && a->debug != b->debug)
		st = change(d, PPML_IDENTITY_FIELD, "debug", dup0(a->debug ? "true" : "false"),
			    dup0(b->debug ? "true" : "false"));
	NUM("attributes.flags", a->attributes_flags, b->attributes_flags, "\"0x%016" PRIx64 "\"");
	NUM("attributes.xfrm", a->attributes_xfrm, b->attributes_xfrm, "\"0x%016" PRIx64 "\"");
	NUM("attributes.mask_flags", a->attribute_mask_flags, b->attribute_mask_flags,
	    "\"0x%016" PRIx64 "\"");
	NUM("attributes.mask_xfrm", a->attribute_mask_xfrm, b->attribute_mask_xfrm,
	    "\"0x%016" PRIx64 "\"");
	NUM("attributes.misc_select", a->misc_select, b->misc_select, "\"0x%08" PRIx32 "\"");
	NUM("attributes.misc_mask", a->misc_mask, b->misc_mask, "\"0x%08" PRIx32 "\"");
#undef NUM
	if (st == PPML_OK)
		st = hex_field(d, "manifest_sha256", a->manifest_sha256, b->manifest_sha256);
	if (st == PPML_OK)
		st = diff_keys(d, a, b);
	if (st == PPML_OK)
		st = diff_files(d, a, b);
	if (st != PPML_OK) {
		ppml_identity_diff_cleanup(d);
		return ppml_err_set(err, st, "out of memory");
	}
	return PPML_OK;
}
