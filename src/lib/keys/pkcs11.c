/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SGX keys in a PKCS#11 token, through the module's own function list
 * (PKCS#11 v2.40 base specification): dlopen, C_GetFunctionList,
 * C_Initialize, one token, one session, one key object.  Every path ends in
 * C_Logout, C_CloseSession, C_Finalize and dlclose (ppml_pkcs11_key_free).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <p11-kit/pkcs11.h>

#include "ppml/limits.h"
#include "ppml/pkcs11.h"
#include "ppml/sgx.h"

/* RSA moduli and exponents above this are not SGX keys; bounds what we read. */
#define MAX_BIGNUM_BYTES 1024u
/* Token labels listed in a "token not found" or "object not found" message. */
#define MAX_LISTED 8

struct ppml_pkcs11_key {
	void *dl;
	CK_FUNCTION_LIST *f;
	int initialized, logged_in, has_session;
	CK_SESSION_HANDLE session;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE obj;
	CK_OBJECT_CLASS cls;
	char token_label[33];
	char module[256];
	uint8_t n[MAX_BIGNUM_BYTES], e[MAX_BIGNUM_BYTES];
	size_t n_len, e_len;
	char desc[1024];
};

static const char *ckr_name(CK_RV rv)
{
	switch (rv) {
	case CKR_OK: return "CKR_OK";
	case CKR_HOST_MEMORY: return "CKR_HOST_MEMORY";
	case CKR_SLOT_ID_INVALID: return "CKR_SLOT_ID_INVALID";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
	case CKR_ATTRIBUTE_SENSITIVE: return "CKR_ATTRIBUTE_SENSITIVE";
	case CKR_ATTRIBUTE_TYPE_INVALID: return "CKR_ATTRIBUTE_TYPE_INVALID";
	case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
	case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
	case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
	case CKR_MECHANISM_PARAM_INVALID: return "CKR_MECHANISM_PARAM_INVALID";
	case CKR_OPERATION_ACTIVE: return "CKR_OPERATION_ACTIVE";
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
	case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
	case CKR_PIN_EXPIRED: return "CKR_PIN_EXPIRED";
	case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_SESSION_READ_ONLY: return "CKR_SESSION_READ_ONLY";
	case CKR_TEMPLATE_INCOMPLETE: return "CKR_TEMPLATE_INCOMPLETE";
	case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
	case CKR_USER_ALREADY_LOGGED_IN: return "CKR_USER_ALREADY_LOGGED_IN";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_BUFFER_TOO_SMALL: return "CKR_BUFFER_TOO_SMALL";
	case CKR_CRYPTOKI_NOT_INITIALIZED: return "CKR_CRYPTOKI_NOT_INITIALIZED";
	case CKR_CRYPTOKI_ALREADY_INITIALIZED: return "CKR_CRYPTOKI_ALREADY_INITIALIZED";
	default: return "CKR_(vendor or other)";
	}
}

static ppml_status ck_fail(struct ppml_err *err, CK_RV rv, const char *what)
{
	return ppml_err_set(err, PPML_E_CRYPTO, "PKCS#11 %s failed: %s (0x%lx)", what, ckr_name(rv),
			    (unsigned long)rv);
}

/* A blank-padded CK_UTF8CHAR field as a C string (trailing blanks dropped). */
static void padded_to_cstr(const CK_UTF8CHAR *in, size_t n, char *out)
{
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == 0))
		n--;
	memcpy(out, in, n);
	out[n] = 0;
}

static int field_matches(const char *want, const CK_UTF8CHAR *field, size_t n)
{
	char buf[64];
	if (!want)
		return 1;
	padded_to_cstr(field, n, buf);
	return strcmp(want, buf) == 0;
}

void ppml_pkcs11_key_free(struct ppml_pkcs11_key *k)
{
	if (!k)
		return;
	if (k->logged_in)
		k->f->C_Logout(k->session);
	if (k->has_session)
		k->f->C_CloseSession(k->session);
	if (k->initialized)
		k->f->C_Finalize(NULL);
	if (k->dl)
		dlclose(k->dl);
	free(k);
}

static ppml_status load_module(struct ppml_pkcs11_key *k, const char *path, struct ppml_err *err)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_C_INITIALIZE_ARGS args = {0};
	CK_RV rv;

	snprintf(k->module, sizeof(k->module), "%s", path);
	k->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!k->dl) {
		const char *why = dlerror();
		return ppml_err_set(err, PPML_E_NOTFOUND,
				    "cannot load the PKCS#11 module %s (%s); install it (softhsm2 for "
				    "SoftHSM) or pass the module with --module PATH",
				    path, why ? why : "dlopen failed");
	}
	*(void **)&get_list = dlsym(k->dl, "C_GetFunctionList");
	if (!get_list)
		return ppml_err_set(err, PPML_E_INPUT,
				    "%s is not a PKCS#11 module (no C_GetFunctionList)", path);
	rv = get_list(&k->f);
	if (rv != CKR_OK || !k->f)
		return ck_fail(err, rv, "C_GetFunctionList");
	/* The module may create threads and must use the OS's locks (v2.40 5.4). */
	args.flags = CKF_OS_LOCKING_OK;
	rv = k->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return ck_fail(err, rv, "C_Initialize");
	k->initialized = rv == CKR_OK;
	return PPML_OK;
}

/* Finds exactly one slot whose token matches the URI. */
static ppml_status find_token(struct ppml_pkcs11_key *k, const struct ppml_pkcs11_uri *uri,
			      struct ppml_err *err)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	CK_RV rv;
	char listed[MAX_LISTED * 36 + 8] = "";
	size_t used = 0, matches = 0, shown = 0;
	ppml_status st = PPML_OK;

	rv = k->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_GetSlotList");
	if (n > PPML_PKCS11_MAX_SLOTS)
		return ppml_err_set(err, PPML_E_LIMIT, "the PKCS#11 module reports more than %u tokens",
				    PPML_PKCS11_MAX_SLOTS);
	if (n > 0) {
		slots = calloc(n, sizeof(*slots));
		if (!slots)
			return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		rv = k->f->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv != CKR_OK) {
			st = ck_fail(err, rv, "C_GetSlotList");
			goto out;
		}
	}
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		char label[33];
		if (k->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		/* A SoftHSM2 free slot holds an uninitialised token: not a candidate. */
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		padded_to_cstr(ti.label, sizeof(ti.label), label);
		if (shown < MAX_LISTED) {
			int w = snprintf(listed + used, sizeof(listed) - used, "%s'%s'", shown ? ", " : "",
					 label);
			if (w > 0 && (size_t)w < sizeof(listed) - used)
				used += (size_t)w;
			shown++;
		}
		if ((uri->has_slot_id && uri->slot_id != slots[i]) ||
		    !field_matches(uri->token, ti.label, sizeof(ti.label)) ||
		    !field_matches(uri->manufacturer, ti.manufacturerID, sizeof(ti.manufacturerID)) ||
		    !field_matches(uri->model, ti.model, sizeof(ti.model)) ||
		    !field_matches(uri->serial, ti.serialNumber, sizeof(ti.serialNumber)))
			continue;
		if (matches++ == 0) {
			k->slot = slots[i];
			memcpy(k->token_label, label, sizeof(label));
		}
	}
	if (n == 0)
		st = ppml_err_set(err, PPML_E_NOTFOUND,
				  "the PKCS#11 module %s has no token; create one (softhsm2-util "
				  "--init-token --free --label NAME) or check SOFTHSM2_CONF",
				  k->module);
	else if (matches == 0)
		st = ppml_err_set(err, PPML_E_NOTFOUND,
				  "PKCS#11 token not found: no token matches %s%s; tokens present: %s",
				  uri->token ? "token=" : "the URI", uri->token ? uri->token : "",
				  shown ? listed : "none initialised");
	else if (matches > 1)
		st = ppml_err_set(err, PPML_E_INPUT,
				  "%zu PKCS#11 tokens match the URI; name one with token= (tokens present: %s)",
				  matches, listed);
out:
	free(slots);
	return st;
}

static ppml_status login(struct ppml_pkcs11_key *k, const char *pin, size_t pin_len,
			 struct ppml_err *err)
{
	CK_RV rv = k->f->C_Login(k->session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)pin_len);
	switch (rv) {
	case CKR_OK:
		k->logged_in = 1;
		return PPML_OK;
	case CKR_USER_ALREADY_LOGGED_IN:
		return PPML_OK;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_LEN_RANGE:
		return ppml_err_set(err, PPML_E_REFUSED,
				    "wrong PIN for PKCS#11 token '%s' (%s); check --pin-file or "
				    "PKCS11_PIN (the token locks after too many wrong PINs)",
				    k->token_label, ckr_name(rv));
	case CKR_PIN_LOCKED:
		return ppml_err_set(err, PPML_E_REFUSED,
				    "the user PIN of PKCS#11 token '%s' is locked (CKR_PIN_LOCKED); "
				    "the security officer must reset it",
				    k->token_label);
	case CKR_USER_PIN_NOT_INITIALIZED:
		return ppml_err_set(err, PPML_E_REFUSED,
				    "PKCS#11 token '%s' has no user PIN yet (CKR_USER_PIN_NOT_INITIALIZED); "
				    "initialise the token first",
				    k->token_label);
	default:
		return ck_fail(err, rv, "C_Login");
	}
}

static ppml_status open_session(struct ppml_pkcs11_key *k, const char *module_path,
				const struct ppml_pkcs11_uri *uri, const char *pin, size_t pin_len,
				int rw, struct ppml_err *err)
{
	ppml_status st;
	CK_RV rv;

	if (!module_path)
		module_path = uri->module_path ? uri->module_path : PPML_PKCS11_DEFAULT_MODULE;
	if ((st = load_module(k, module_path, err)) != PPML_OK || (st = find_token(k, uri, err)) != PPML_OK)
		return st;
	rv = k->f->C_OpenSession(k->slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL,
				 &k->session);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_OpenSession");
	k->has_session = 1;
	if (pin)
		return login(k, pin, pin_len, err);
	return PPML_OK;
}

/* Up to 2 handles of class cls matching the URI's label/id (2 = ambiguous). */
static ppml_status find_objects(struct ppml_pkcs11_key *k, const struct ppml_pkcs11_uri *uri,
				CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE found[2], CK_ULONG *count,
				struct ppml_err *err)
{
	CK_ATTRIBUTE tmpl[3];
	CK_ULONG nt = 0;
	CK_RV rv, rv2;

	tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
	if (uri->object)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_LABEL, uri->object, strlen(uri->object)};
	if (uri->id)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_ID, uri->id, uri->id_len};
	*count = 0;
	rv = k->f->C_FindObjectsInit(k->session, tmpl, nt);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_FindObjectsInit");
	rv = k->f->C_FindObjects(k->session, found, 2, count);
	rv2 = k->f->C_FindObjectsFinal(k->session);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_FindObjects");
	if (rv2 != CKR_OK)
		return ck_fail(err, rv2, "C_FindObjectsFinal");
	return PPML_OK;
}

/* Reads one variable-length attribute into buf[cap]. */
static CK_RV get_attr(struct ppml_pkcs11_key *k, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t, void *buf,
		      size_t cap, size_t *len)
{
	CK_ATTRIBUTE a = {t, NULL, 0};
	CK_RV rv = k->f->C_GetAttributeValue(k->session, h, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > cap)
		return CKR_BUFFER_TOO_SMALL;
	a.pValue = buf;
	rv = k->f->C_GetAttributeValue(k->session, h, &a, 1);
	if (rv == CKR_OK)
		*len = a.ulValueLen;
	return rv;
}

/* Gramine names the python-cryptography class of a non-RSA key (as key.c does):
 * the prefix for a PKCS#11 key type. */
static const char *key_class_prefix(CK_KEY_TYPE t)
{
	switch (t) {
	case CKK_EC: return "EllipticCurve";
	case CKK_DSA: return "DSA";
	case CKK_DH: return "DH";
	case CKK_EC_EDWARDS: return "Ed25519";
	default: return "Unknown";
	}
}

/* The labels of up to MAX_LISTED keys of class cls, for a "not found" message. */
static void list_keys(struct ppml_pkcs11_key *k, CK_OBJECT_CLASS cls, char *out, size_t cap)
{
	CK_ATTRIBUTE tmpl = {CKA_CLASS, &cls, sizeof(cls)};
	CK_OBJECT_HANDLE h[MAX_LISTED];
	CK_ULONG n = 0;
	size_t used = 0;

	out[0] = 0;
	if (k->f->C_FindObjectsInit(k->session, &tmpl, 1) != CKR_OK)
		return;
	if (k->f->C_FindObjects(k->session, h, MAX_LISTED, &n) != CKR_OK)
		n = 0;
	k->f->C_FindObjectsFinal(k->session);
	for (CK_ULONG i = 0; i < n; i++) {
		char label[65];
		size_t len = 0;
		int w;
		if (get_attr(k, h[i], CKA_LABEL, label, sizeof(label) - 1, &len) != CKR_OK)
			len = 0;
		label[len] = 0;
		w = snprintf(out + used, cap - used, "%s'%s'", i ? ", " : "", label);
		if (w < 0 || (size_t)w >= cap - used)
			break;
		used += (size_t)w;
	}
	if (n == 0)
		snprintf(out, cap, "none");
}

static void describe_uri(const struct ppml_pkcs11_uri *uri, char *out, size_t cap)
{
	size_t used = 0;
	int w;

	out[0] = 0;
	if (uri->object) {
		w = snprintf(out, cap, "object='%s'", uri->object);
		used = w > 0 && (size_t)w < cap ? (size_t)w : 0;
	}
	if (uri->id) {
		w = snprintf(out + used, cap - used, "%sid=", used ? " " : "");
		used += w > 0 && (size_t)w < cap - used ? (size_t)w : 0;
		for (size_t i = 0; i < uri->id_len && used + 4 < cap; i++)
			used += (size_t)snprintf(out + used, cap - used, "%%%02X", uri->id[i]);
	}
	if (!used)
		snprintf(out, cap, "(any)");
}

static ppml_status find_key(struct ppml_pkcs11_key *k, const struct ppml_pkcs11_uri *uri,
			    int need_private, struct ppml_err *err)
{
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	CK_OBJECT_CLASS cls;
	char what[PPML_PKCS11_MAX_LABEL + 2 * PPML_PKCS11_MAX_ID + 64];
	int either = 0;
	ppml_status st;

	if (need_private && uri->type == PPML_PKCS11_TYPE_PUBLIC)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the PKCS#11 URI names a public key (type=public); signing needs "
				    "the private key (type=private)");
	cls = uri->type == PPML_PKCS11_TYPE_PUBLIC ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY;
	st = find_objects(k, uri, cls, h, &n, err);
	if (st == PPML_OK && n == 0 && !need_private && uri->type == PPML_PKCS11_TYPE_ANY) {
		cls = CKO_PUBLIC_KEY;
		either = 1;
		st = find_objects(k, uri, cls, h, &n, err);
	}
	if (st != PPML_OK)
		return st;
	describe_uri(uri, what, sizeof(what));
	if (n == 0) {
		char keys[MAX_LISTED * 70 + 8];
		list_keys(k, cls, keys, sizeof(keys));
		return ppml_err_set(err, PPML_E_NOTFOUND,
				    "PKCS#11 object not found: no %s key %s in token '%s'%s; %s keys "
				    "there: %s (ppml keygen --pkcs11 URI creates one)",
				    either ? "private or public" : cls == CKO_PRIVATE_KEY ? "private" : "public",
				    what, k->token_label,
				    k->logged_in ? "" : " (not logged in: private keys are hidden)",
				    cls == CKO_PRIVATE_KEY ? "private" : "public", keys);
	}
	if (n > 1)
		return ppml_err_set(err, PPML_E_INPUT,
				    "more than one key matches %s in token '%s'; add id= or object= to "
				    "the URI",
				    what, k->token_label);
	k->obj = h[0];
	k->cls = cls;
	snprintf(k->desc, sizeof(k->desc), "pkcs11 token '%s' %s", k->token_label, what);
	return PPML_OK;
}

/* Reads CKA_KEY_TYPE, CKA_MODULUS and CKA_PUBLIC_EXPONENT of the key object
 * (from its public twin when the module keeps them off the private key). */
static ppml_status read_public(struct ppml_pkcs11_key *k, const struct ppml_pkcs11_uri *uri,
			       struct ppml_err *err)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_OBJECT_HANDLE src = k->obj;
	CK_RV rv;

	rv = k->f->C_GetAttributeValue(k->session, k->obj, &a, 1);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_GetAttributeValue(CKA_KEY_TYPE)");
	if (kt != CKK_RSA)
		return ppml_err_set(err, PPML_E_INPUT,
				    "Invalid key: expected RSA private key, found %s%s instance",
				    key_class_prefix(kt),
				    k->cls == CKO_PRIVATE_KEY ? "PrivateKey" : "PublicKey");
	rv = get_attr(k, src, CKA_MODULUS, k->n, sizeof(k->n), &k->n_len);
	if (rv == CKR_OK)
		rv = get_attr(k, src, CKA_PUBLIC_EXPONENT, k->e, sizeof(k->e), &k->e_len);
	if (rv != CKR_OK && k->cls == CKO_PRIVATE_KEY) {
		CK_OBJECT_HANDLE h[2];
		CK_ULONG n = 0;
		if (find_objects(k, uri, CKO_PUBLIC_KEY, h, &n, NULL) == PPML_OK && n == 1) {
			src = h[0];
			rv = get_attr(k, src, CKA_MODULUS, k->n, sizeof(k->n), &k->n_len);
			if (rv == CKR_OK)
				rv = get_attr(k, src, CKA_PUBLIC_EXPONENT, k->e, sizeof(k->e), &k->e_len);
		}
	}
	if (rv == CKR_BUFFER_TOO_SMALL)
		return ppml_err_set(err, PPML_E_INPUT, "Invalid RSA key: modulus or exponent larger than %u bytes",
				    MAX_BIGNUM_BYTES);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "reading the public key (CKA_MODULUS, CKA_PUBLIC_EXPONENT)");
	if (k->n_len == 0 || k->e_len == 0)
		return ppml_err_set(err, PPML_E_INPUT, "the PKCS#11 key has an empty modulus or exponent");
	return PPML_OK;
}

ppml_status ppml_pkcs11_key_open(const char *module_path, const struct ppml_pkcs11_uri *uri,
				 const char *pin, size_t pin_len, int need_private,
				 struct ppml_pkcs11_key **out, struct ppml_err *err)
{
	struct ppml_pkcs11_key *k = calloc(1, sizeof(*k));
	ppml_status st;

	*out = NULL;
	if (!k)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if ((st = open_session(k, module_path, uri, pin, pin_len, 0, err)) != PPML_OK ||
	    (st = find_key(k, uri, need_private, err)) != PPML_OK ||
	    (st = read_public(k, uri, err)) != PPML_OK) {
		ppml_pkcs11_key_free(k);
		return st;
	}
	*out = k;
	return PPML_OK;
}

const char *ppml_pkcs11_key_describe(const struct ppml_pkcs11_key *k)
{
	return k ? k->desc : "";
}

static ppml_status rsa_public(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
			      EVP_PKEY **out, struct ppml_err *err)
{
	BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(e, (int)e_len, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	ppml_status st = PPML_OK;

	*out = NULL;
	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(*out);
		*out = NULL;
		st = ppml_err_openssl(err, PPML_E_CRYPTO, "building the token's RSA public key failed");
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return st;
}

ppml_status ppml_pkcs11_key_public(const struct ppml_pkcs11_key *k, EVP_PKEY **out,
				   struct ppml_err *err)
{
	return rsa_public(k->n, k->n_len, k->e, k->e_len, out, err);
}

ppml_status ppml_pkcs11_key_sign(struct ppml_pkcs11_key *k, const uint8_t *msg, size_t msg_len,
				 uint8_t *sig, size_t sig_cap, size_t *sig_len, struct ppml_err *err)
{
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_ULONG len = (CK_ULONG)sig_cap;
	CK_RV rv;

	*sig_len = 0;
	if (k->cls != CKO_PRIVATE_KEY)
		return ppml_err_set(err, PPML_E_INPUT, "signing needs the private key; the URI names a public key");
	rv = k->f->C_SignInit(k->session, &mech, k->obj);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		return ppml_err_set(err, PPML_E_REFUSED,
				    "PKCS#11 token '%s' needs a login to sign; give the PIN with "
				    "--pin-file F or PKCS11_PIN",
				    k->token_label);
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
		return ppml_err_set(err, PPML_E_REFUSED,
				    "the PKCS#11 key may not sign (CKA_SIGN is false); generate one with "
				    "ppml keygen --pkcs11");
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_SignInit(CKM_SHA256_RSA_PKCS)");
	rv = k->f->C_Sign(k->session, (CK_BYTE_PTR)msg, (CK_ULONG)msg_len, sig, &len);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_Sign");
	if (len > sig_cap)
		return ppml_err_set(err, PPML_E_INTERNAL, "PKCS#11 module returned an oversized signature");
	*sig_len = len;
	return PPML_OK;
}

ppml_status ppml_pkcs11_generate(const char *module_path, const struct ppml_pkcs11_uri *uri,
				 const char *pin, size_t pin_len, EVP_PKEY **pub,
				 struct ppml_err *err)
{
	struct ppml_pkcs11_key *k = NULL;
	static const CK_BYTE exponent[] = {PPML_SGX_KEY_EXPONENT}; /* SGX requires e = 3 */
	CK_ULONG bits = PPML_SGX_KEY_BITS;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ATTRIBUTE pubt[8], privt[10];
	CK_ULONG np = 0, nv = 0;
	CK_OBJECT_HANDLE hpub = 0, hpriv = 0, h[2];
	CK_ULONG found = 0;
	char what[PPML_PKCS11_MAX_LABEL + 2 * PPML_PKCS11_MAX_ID + 64];
	ppml_status st;
	CK_RV rv;

	*pub = NULL;
	if (!uri->object && !uri->id)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the PKCS#11 URI for a new key needs object= (a label) and/or id=");
	if (uri->type != PPML_PKCS11_TYPE_ANY)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the PKCS#11 URI for a new key must not have type= (both halves are created)");
	if (!pin)
		return ppml_err_set(err, PPML_E_INPUT,
				    "generating a key in a PKCS#11 token needs the user PIN: --pin-file F or PKCS11_PIN");
	k = calloc(1, sizeof(*k));
	if (!k)
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if ((st = open_session(k, module_path, uri, pin, pin_len, 1, err)) != PPML_OK)
		goto out;
	describe_uri(uri, what, sizeof(what));
	for (int c = 0; c < 2; c++) {
		if ((st = find_objects(k, uri, c ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY, h, &found, err)) != PPML_OK)
			goto out;
		if (found) {
			st = ppml_err_set(err, PPML_E_EXISTS,
					  "a key with %s already exists in token '%s'; refusing to create a "
					  "second one (choose another object=/id=)",
					  what, k->token_label);
			goto out;
		}
	}

	pubt[np++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
	pubt[np++] = (CK_ATTRIBUTE){CKA_PRIVATE, &no, sizeof(no)}; /* MRSIGNER readable without PIN */
	pubt[np++] = (CK_ATTRIBUTE){CKA_VERIFY, &yes, sizeof(yes)};
	pubt[np++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
	pubt[np++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)exponent, sizeof(exponent)};
	privt[nv++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
	privt[nv++] = (CK_ATTRIBUTE){CKA_PRIVATE, &yes, sizeof(yes)};
	privt[nv++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &yes, sizeof(yes)};
	privt[nv++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &no, sizeof(no)};
	privt[nv++] = (CK_ATTRIBUTE){CKA_SIGN, &yes, sizeof(yes)};
	privt[nv++] = (CK_ATTRIBUTE){CKA_DECRYPT, &no, sizeof(no)};
	if (uri->object) {
		CK_ULONG ll = strlen(uri->object);
		pubt[np++] = (CK_ATTRIBUTE){CKA_LABEL, uri->object, ll};
		privt[nv++] = (CK_ATTRIBUTE){CKA_LABEL, uri->object, ll};
	}
	if (uri->id) {
		pubt[np++] = (CK_ATTRIBUTE){CKA_ID, uri->id, uri->id_len};
		privt[nv++] = (CK_ATTRIBUTE){CKA_ID, uri->id, uri->id_len};
	}
	rv = k->f->C_GenerateKeyPair(k->session, &mech, pubt, np, privt, nv, &hpub, &hpriv);
	if (rv != CKR_OK) {
		st = ck_fail(err, rv, "C_GenerateKeyPair(CKM_RSA_PKCS_KEY_PAIR_GEN, 3072 bits, e = 3)");
		goto out;
	}
	k->obj = hpub;
	k->cls = CKO_PUBLIC_KEY;
	rv = get_attr(k, hpub, CKA_MODULUS, k->n, sizeof(k->n), &k->n_len);
	if (rv == CKR_OK)
		rv = get_attr(k, hpub, CKA_PUBLIC_EXPONENT, k->e, sizeof(k->e), &k->e_len);
	if (rv != CKR_OK) {
		st = ck_fail(err, rv, "reading the new public key");
		goto out;
	}
	st = rsa_public(k->n, k->n_len, k->e, k->e_len, pub, err);
out:
	ppml_pkcs11_key_free(k);
	return st;
}

/* ---- AES-256 secret keys (the key service's master key) ---- */

/* Finds exactly one AES-256 secret key matching the URI's label/id. */
static ppml_status find_aes(struct ppml_pkcs11_key *k, const struct ppml_pkcs11_uri *uri,
			    struct ppml_err *err)
{
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	char what[PPML_PKCS11_MAX_LABEL + 2 * PPML_PKCS11_MAX_ID + 64];
	ppml_status st = find_objects(k, uri, CKO_SECRET_KEY, h, &n, err);
	if (st != PPML_OK)
		return st;
	describe_uri(uri, what, sizeof(what));
	if (n == 0) {
		char keys[MAX_LISTED * 70 + 8];
		list_keys(k, CKO_SECRET_KEY, keys, sizeof(keys));
		return ppml_err_set(err, PPML_E_NOTFOUND,
				    "PKCS#11 object not found: no secret key %s in token '%s'; secret "
				    "keys there: %s (ppml serve --init --master-key URI creates one)",
				    what, k->token_label, keys);
	}
	if (n > 1)
		return ppml_err_set(err, PPML_E_INPUT,
				    "more than one secret key matches %s in token '%s'; add id= or "
				    "object= to the URI",
				    what, k->token_label);
	CK_KEY_TYPE kt = 0;
	CK_ULONG len = 0;
	CK_ATTRIBUTE a[2] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_VALUE_LEN, &len, sizeof(len)}};
	CK_RV rv = k->f->C_GetAttributeValue(k->session, h[0], a, 2);
	if (rv != CKR_OK)
		return ck_fail(err, rv, "C_GetAttributeValue(CKA_KEY_TYPE, CKA_VALUE_LEN)");
	if (kt != CKK_AES || len != 32)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the secret key %s in token '%s' is not an AES-256 key (%s, %lu "
				    "bytes); the master key must be AES-256",
				    what, k->token_label, kt == CKK_AES ? "AES" : "not AES",
				    (unsigned long)len);
	k->obj = h[0];
	k->cls = CKO_SECRET_KEY;
	snprintf(k->desc, sizeof(k->desc), "pkcs11 token '%s' %s", k->token_label, what);
	return PPML_OK;
}

ppml_status ppml_pkcs11_aes_open(const char *module_path, const struct ppml_pkcs11_uri *uri,
				 const char *pin, size_t pin_len, struct ppml_pkcs11_key **out,
				 struct ppml_err *err)
{
	struct ppml_pkcs11_key *k;
	ppml_status st;

	*out = NULL;
	if (!pin)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the master key's token needs the user PIN: pin-source=file:F in "
				    "the URI, or PKCS11_PIN");
	if (uri->type != PPML_PKCS11_TYPE_ANY)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the master key URI must not have type= (it names a secret key)");
	if (!(k = calloc(1, sizeof(*k))))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if ((st = open_session(k, module_path, uri, pin, pin_len, 0, err)) != PPML_OK ||
	    (st = find_aes(k, uri, err)) != PPML_OK) {
		ppml_pkcs11_key_free(k);
		return st;
	}
	*out = k;
	return PPML_OK;
}

ppml_status ppml_pkcs11_aes_generate(const char *module_path, const struct ppml_pkcs11_uri *uri,
				     const char *pin, size_t pin_len, struct ppml_err *err)
{
	struct ppml_pkcs11_key *k = NULL;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG len = 32;
	CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ATTRIBUTE t[12];
	CK_ULONG nt = 0, found = 0;
	CK_OBJECT_HANDLE h[2], key = 0;
	char what[PPML_PKCS11_MAX_LABEL + 2 * PPML_PKCS11_MAX_ID + 64];
	ppml_status st;
	CK_RV rv;

	if (!uri->object && !uri->id)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the PKCS#11 URI for a new master key needs object= (a label) "
				    "and/or id=");
	if (uri->type != PPML_PKCS11_TYPE_ANY)
		return ppml_err_set(err, PPML_E_INPUT,
				    "the master key URI must not have type= (it names a secret key)");
	if (!pin)
		return ppml_err_set(err, PPML_E_INPUT,
				    "generating a key in a PKCS#11 token needs the user PIN: "
				    "pin-source=file:F in the URI, or PKCS11_PIN");
	if (!(k = calloc(1, sizeof(*k))))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	if ((st = open_session(k, module_path, uri, pin, pin_len, 1, err)) != PPML_OK ||
	    (st = find_objects(k, uri, CKO_SECRET_KEY, h, &found, err)) != PPML_OK)
		goto out;
	describe_uri(uri, what, sizeof(what));
	if (found) {
		st = ppml_err_set(err, PPML_E_EXISTS,
				  "a secret key with %s already exists in token '%s'", what,
				  k->token_label);
		goto out;
	}
	t[nt++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
	t[nt++] = (CK_ATTRIBUTE){CKA_PRIVATE, &yes, sizeof(yes)};
	t[nt++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &yes, sizeof(yes)};
	t[nt++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &no, sizeof(no)};
	t[nt++] = (CK_ATTRIBUTE){CKA_ENCRYPT, &yes, sizeof(yes)};
	t[nt++] = (CK_ATTRIBUTE){CKA_DECRYPT, &yes, sizeof(yes)};
	t[nt++] = (CK_ATTRIBUTE){CKA_WRAP, &no, sizeof(no)};
	t[nt++] = (CK_ATTRIBUTE){CKA_VALUE_LEN, &len, sizeof(len)};
	if (uri->object)
		t[nt++] = (CK_ATTRIBUTE){CKA_LABEL, uri->object, strlen(uri->object)};
	if (uri->id)
		t[nt++] = (CK_ATTRIBUTE){CKA_ID, uri->id, uri->id_len};
	rv = k->f->C_GenerateKey(k->session, &mech, t, nt, &key);
	if (rv != CKR_OK)
		st = ck_fail(err, rv, "C_GenerateKey(CKM_AES_KEY_GEN, 256 bits)");
out:
	ppml_pkcs11_key_free(k);
	return st;
}

static ppml_status gcm_op(struct ppml_pkcs11_key *k, int enc, const uint8_t iv[12],
			  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len,
			  uint8_t *out, size_t out_len, struct ppml_err *err)
{
	CK_GCM_PARAMS gp = {(CK_BYTE_PTR)iv, 12, 96, (CK_BYTE_PTR)aad, (CK_ULONG)aad_len, 128};
	CK_MECHANISM mech = {CKM_AES_GCM, &gp, sizeof(gp)};
	/* Some modules (SoftHSM2) want room for the whole input when
	 * decrypting, tag included: decrypt into a scratch buffer. */
	uint8_t scratch[PPML_PKCS11_MAX_GCM + 16];
	uint8_t *dst = enc ? out : scratch;
	CK_ULONG ol = (CK_ULONG)(enc ? out_len : sizeof(scratch));
	CK_RV rv;

	if (k->cls != CKO_SECRET_KEY)
		return ppml_err_set(err, PPML_E_INPUT, "the PKCS#11 key is not a secret key");
	if (in_len > PPML_PKCS11_MAX_GCM + 16 || out_len > PPML_PKCS11_MAX_GCM + 16)
		return ppml_err_set(err, PPML_E_LIMIT, "PKCS#11 AES-GCM: at most %u bytes",
				    PPML_PKCS11_MAX_GCM);
	rv = enc ? k->f->C_EncryptInit(k->session, &mech, k->obj)
		 : k->f->C_DecryptInit(k->session, &mech, k->obj);
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
		return ppml_err_set(err, PPML_E_REFUSED,
				    "the master key in %s may not %s (CKA_%s is false)", k->desc,
				    enc ? "encrypt" : "decrypt", enc ? "ENCRYPT" : "DECRYPT");
	if (rv != CKR_OK)
		return ck_fail(err, rv, enc ? "C_EncryptInit(CKM_AES_GCM)" : "C_DecryptInit(CKM_AES_GCM)");
	rv = enc ? k->f->C_Encrypt(k->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len, dst, &ol)
		 : k->f->C_Decrypt(k->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len, dst, &ol);
	if (!enc && (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_FUNCTION_FAILED ||
		     rv == CKR_ENCRYPTED_DATA_LEN_RANGE))
		return ppml_err_set(err, PPML_E_REFUSED,
				    "AES-GCM tag does not verify under the master key in %s", k->desc);
	if (rv != CKR_OK)
		return ck_fail(err, rv, enc ? "C_Encrypt(CKM_AES_GCM)" : "C_Decrypt(CKM_AES_GCM)");
	if (ol != out_len) {
		OPENSSL_cleanse(scratch, sizeof(scratch));
		return ppml_err_set(err, PPML_E_INTERNAL, "PKCS#11 AES-GCM returned %lu bytes, "
				    "expected %zu", (unsigned long)ol, out_len);
	}
	if (!enc) {
		memcpy(out, scratch, out_len);
		OPENSSL_cleanse(scratch, sizeof(scratch));
	}
	return PPML_OK;
}

ppml_status ppml_pkcs11_aes_gcm_seal(struct ppml_pkcs11_key *k, const uint8_t iv[12],
				     const uint8_t *aad, size_t aad_len, const uint8_t *in,
				     size_t n, uint8_t *out, struct ppml_err *err)
{
	return gcm_op(k, 1, iv, aad, aad_len, in, n, out, n + 16, err);
}

ppml_status ppml_pkcs11_aes_gcm_open(struct ppml_pkcs11_key *k, const uint8_t iv[12],
				     const uint8_t *aad, size_t aad_len, const uint8_t *in,
				     size_t n, uint8_t *out, struct ppml_err *err)
{
	return gcm_op(k, 0, iv, aad, aad_len, in, n + 16, out, n, err);
}
