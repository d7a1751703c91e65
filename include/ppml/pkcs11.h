/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/pkcs11.h - SGX signing keys that live in a PKCS#11 token (an HSM,
 * SoftHSM2).  The private key never leaves the token: signing runs inside it
 * with CKM_SHA256_RSA_PKCS; only the modulus and public exponent are read.
 *
 * Keys are named with RFC 7512 URIs ("pkcs11:token=T;object=L;id=%01").
 * The module (a PKCS#11 shared library) is loaded with dlopen for the life of
 * one ppml_pkcs11_key and finalized and unloaded when it is freed, on every
 * path.  PINs are passed in by the caller as pointer plus length and are never
 * copied or put into messages; the caller wipes them.
 *
 * Thread safety: the URI functions are thread-safe.  PKCS#11 modules hold
 * process-global state (C_Initialize), so at most one ppml_pkcs11_key (or one
 * ppml_pkcs11_generate call) may exist per module at a time.
 */
#ifndef PPML_PKCS11_H
#define PPML_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ppml/err.h"

/* Where Debian 12's softhsm2 package installs its module (a symlink into the
 * multiarch folder). */
#define PPML_PKCS11_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

enum ppml_pkcs11_type {
	PPML_PKCS11_TYPE_ANY = 0, /* no type= attribute */
	PPML_PKCS11_TYPE_PRIVATE, /* type=private */
	PPML_PKCS11_TYPE_PUBLIC,  /* type=public */
};

/* A parsed RFC 7512 URI.  String values are percent-decoded and
 * NUL-terminated (embedded NULs are refused); NULL means "absent".  The id is
 * binary (any bytes).  Freed with ppml_pkcs11_uri_free. */
struct ppml_pkcs11_uri {
	char *token;        /* token=        CK_TOKEN_INFO.label (<= 32 bytes) */
	char *manufacturer; /* manufacturer= CK_TOKEN_INFO.manufacturerID (<= 32) */
	char *model;        /* model=        CK_TOKEN_INFO.model (<= 16) */
	char *serial;       /* serial=       CK_TOKEN_INFO.serialNumber (<= 16) */
	char *object;       /* object=       CKA_LABEL */
	uint8_t *id;        /* id=           CKA_ID */
	size_t id_len;
	int has_slot_id;    /* slot-id=      a decimal CK_SLOT_ID */
	unsigned long slot_id;
	enum ppml_pkcs11_type type;
	char *pin_source;   /* ?pin-source=  a file path ("file:" prefix removed) */
	char *module_path;  /* ?module-path= the PKCS#11 module to load */
};

/* True if s starts with "pkcs11:" (how the CLI tells a URI from a key file). */
int ppml_pkcs11_is_uri(const char *s);

/*
 * Parses an RFC 7512 URI of at most PPML_PKCS11_MAX_URI bytes (s need not be
 * NUL-terminated).  Strict: only RFC 7512's characters, well-formed %XX,
 * every attribute at most once, the per-field caps of ppml/limits.h, and no
 * attribute ppml cannot honour (an ignored attribute could select the wrong
 * key).  "pin-value" is refused: a PIN never comes from the command line.
 * On success *out is a new URI (caller frees); PPML_E_INPUT or PPML_E_LIMIT
 * otherwise, naming the attribute.
 */
ppml_status ppml_pkcs11_uri_parse(const char *s, size_t len, struct ppml_pkcs11_uri **out,
				  struct ppml_err *err) PPML_WARN_UNUSED;

/* Frees u and its strings.  Accepts NULL. */
void ppml_pkcs11_uri_free(struct ppml_pkcs11_uri *u);

/*
 * Reads a PIN file: its content with one trailing "\n" or "\r\n" removed, at
 * most PPML_PKCS11_MAX_PIN bytes, not empty.  *pin is NUL-terminated; the
 * caller wipes and frees it with ppml_pkcs11_pin_free(*pin, *pin_len).
 */
ppml_status ppml_pkcs11_pin_read(const char *path, char **pin, size_t *pin_len,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/* The PIN, in order: pin_file (may be NULL), the URI's pin-source,
 * $PKCS11_PIN.  *pin is NULL (PPML_OK) when none is given.  Free with
 * ppml_pkcs11_pin_free. */
ppml_status ppml_pkcs11_pin_resolve(const char *pin_file, const struct ppml_pkcs11_uri *uri,
				    char **pin, size_t *len, struct ppml_err *err) PPML_WARN_UNUSED;

/* Wipes (OPENSSL_cleanse) and frees a PIN.  Accepts NULL. */
void ppml_pkcs11_pin_free(char *pin, size_t pin_len);

/* A key in a token, with an open (and, with a PIN, logged-in) session. */
struct ppml_pkcs11_key;

/*
 * Loads the module (module_path; NULL: the URI's module-path, else
 * PPML_PKCS11_DEFAULT_MODULE), finds exactly one token matching the URI and
 * logs in with the PIN (pin may be NULL for a public key only).  Then finds
 * exactly one key object: with need_private a private key (type=public is
 * refused); otherwise the URI's type, or a private key and, failing that, a
 * public one.  The key must be RSA; its public half is read.
 * Errors (one line, what to do next): PPML_E_NOTFOUND for a missing module,
 * token (the message lists the tokens present) or object; PPML_E_REFUSED for
 * a wrong or locked PIN; PPML_E_INPUT for an ambiguous URI or a non-RSA key
 * ("Invalid key: expected RSA private key, found EllipticCurvePrivateKey
 * instance", Gramine's text as in ppml/key.h); PPML_E_CRYPTO for
 * other module failures (the CKR_ name is given).
 * The SGX checks (3072 bits, e = 3) are left to ppml_key_check_sgx on
 * ppml_pkcs11_key_public's result.
 */
ppml_status ppml_pkcs11_key_open(const char *module_path, const struct ppml_pkcs11_uri *uri,
				 const char *pin, size_t pin_len, int need_private,
				 struct ppml_pkcs11_key **out, struct ppml_err *err) PPML_WARN_UNUSED;

/* The key's public half as a new RSA EVP_PKEY (caller frees), for
 * ppml_key_check_sgx and ppml_key_mrsigner. */
ppml_status ppml_pkcs11_key_public(const struct ppml_pkcs11_key *k, EVP_PKEY **out,
				   struct ppml_err *err) PPML_WARN_UNUSED;

/* The token label and object label found, for messages (never NULL). */
const char *ppml_pkcs11_key_describe(const struct ppml_pkcs11_key *k);

/*
 * RSASSA-PKCS1-v1_5 with SHA-256 (CKM_SHA256_RSA_PKCS) of msg inside the
 * token.  sig has room for sig_cap bytes; *sig_len receives the length (the
 * modulus size, big-endian).  The signature is NOT verified here:
 * ppml_sigstruct_assemble does that against the public key.
 */
ppml_status ppml_pkcs11_key_sign(struct ppml_pkcs11_key *k, const uint8_t *msg, size_t msg_len,
				 uint8_t *sig, size_t sig_cap, size_t *sig_len,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/* Logs out, closes the session, C_Finalize, dlclose.  Accepts NULL. */
void ppml_pkcs11_key_free(struct ppml_pkcs11_key *k);

/*
 * Generates an SGX key pair inside the token (C_GenerateKeyPair,
 * CKM_RSA_PKCS_KEY_PAIR_GEN): 3072 bits, public exponent 3; the private half
 * CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_PRIVATE, CKA_SIGN; both halves
 * CKA_TOKEN with the URI's object= label and id= (at least one is required).
 * Refuses (PPML_E_EXISTS) when a key with that label/id is already there.
 * *pub receives the public half (caller frees).  A PIN is required.
 */
ppml_status ppml_pkcs11_generate(const char *module_path, const struct ppml_pkcs11_uri *uri,
				 const char *pin, size_t pin_len, EVP_PKEY **pub,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- AES-256 secret keys: the key service's master key in a token ----
 *
 * The key is a CKO_SECRET_KEY of type CKK_AES, 32 bytes, found by the URI's
 * object= and/or id=.  It never leaves the token: AES-256-GCM (CKM_AES_GCM,
 * 96-bit IV, 128-bit tag) runs inside it.  One session: callers serialise
 * seal/open (PKCS#11 sessions are not for concurrent use).
 */

/* Opens the AES-256 key named by uri (a PIN is required: master keys are
 * CKA_PRIVATE).  Errors as ppml_pkcs11_key_open; PPML_E_INPUT when the
 * object is not an AES-256 secret key. */
ppml_status ppml_pkcs11_aes_open(const char *module_path, const struct ppml_pkcs11_uri *uri,
				 const char *pin, size_t pin_len, struct ppml_pkcs11_key **out,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/* Generates an AES-256 key inside the token (CKM_AES_KEY_GEN): CKA_TOKEN,
 * CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_ENCRYPT and
 * CKA_DECRYPT, with the URI's label and/or id.  PPML_E_EXISTS when a secret
 * key with that label/id is already there. */
ppml_status ppml_pkcs11_aes_generate(const char *module_path, const struct ppml_pkcs11_uri *uri,
				     const char *pin, size_t pin_len,
				     struct ppml_err *err) PPML_WARN_UNUSED;

/* AES-256-GCM inside the token: out receives n bytes of ciphertext and the
 * 16-byte tag (n + 16 bytes). */
ppml_status ppml_pkcs11_aes_gcm_seal(struct ppml_pkcs11_key *k, const uint8_t iv[12],
				     const uint8_t *aad, size_t aad_len, const uint8_t *in,
				     size_t n, uint8_t *out, struct ppml_err *err) PPML_WARN_UNUSED;

/* The reverse: in holds n bytes of ciphertext then the tag; out receives n
 * bytes.  PPML_E_REFUSED when the tag does not verify. */
ppml_status ppml_pkcs11_aes_gcm_open(struct ppml_pkcs11_key *k, const uint8_t iv[12],
				     const uint8_t *aad, size_t aad_len, const uint8_t *in,
				     size_t n, uint8_t *out, struct ppml_err *err) PPML_WARN_UNUSED;

#endif
