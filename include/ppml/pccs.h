/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/pccs.h - a client for the Intel PCS / PCCS v4 collateral API
 * (shared/spec/dcap-quote-verification.md section 5), and a cache of
 * fetched collateral sets for services.
 *
 * Nothing here verifies collateral: the verifier (ppml/dcap.h) does.  The
 * client only checks that each response is what the path promises (a JSON
 * object with the expected top-level key, a PEM chain, a CRL) so that a
 * wrong URL fails here with a clear message rather than later.
 *
 * Thread safety: a client may be used from several threads at once (each
 * request has its own connection handle); a cache is guarded by a mutex.
 */
#ifndef PPML_PCCS_H
#define PPML_PCCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/collateral.h"
#include "ppml/err.h"
#include "ppml/limits.h"

/* Which PCK CA issued the PCK certificate (section 2): selects the PCK CRL. */
enum ppml_pck_ca {
	PPML_PCK_CA_PROCESSOR = 0,
	PPML_PCK_CA_PLATFORM = 1,
};
/* "processor" / "platform"; never NULL. */
const char *ppml_pck_ca_name(enum ppml_pck_ca ca);
/* Exact lowercase match of the names above. */
bool ppml_pck_ca_from_name(const char *name, enum ppml_pck_ca *out);

#define PPML_PCCS_DEFAULT_TIMEOUT_MS 30000L

struct ppml_pccs_options {
	const char *cacert;     /* PEM CA file for HTTPS; NULL: the system store */
	long timeout_ms;        /* per request, connection included; 0: the default above */
	size_t max_response;    /* bytes of one body; 0: PPML_COLLATERAL_MAX_FILE */
	const char *api_key;    /* sent as Ocp-Apim-Subscription-Key; NULL: none */
};

struct ppml_pccs_client;

/* A client for base_url ("https://host:8081" or "http://..." for loopback
 * tests; a trailing '/' is dropped; no query or fragment).  HTTPS always
 * verifies the server's certificate and host name.  opt may be NULL.
 * PPML_E_INPUT for a bad URL. */
ppml_status ppml_pccs_client_new(const char *base_url, const struct ppml_pccs_options *opt,
				 struct ppml_pccs_client **out, struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_pccs_client_free(struct ppml_pccs_client *c);

/*
 * Each fetch fills malloc'ed outputs (JSON bodies and PEM chains
 * NUL-terminated, the NUL not counted; CRLs as DER) and returns PPML_OK, or sets nothing and returns:
 *   PPML_E_NOTFOUND  HTTP 404 (unknown FMSPC or CA);
 *   PPML_E_IO        the server could not be reached, TLS failed, a timeout,
 *                    or any other HTTP status;
 *   PPML_E_LIMIT     a body or header above its cap;
 *   PPML_E_INPUT     a 200 response that is not what the path serves.
 * Messages name the request path, the HTTP status and what to check.
 */
/* GET /sgx/certification/v4/tcb?fmspc=<12 lowercase hex>; the chain from
 * TCB-Info-Issuer-Chain, else SGX-TCB-Info-Issuer-Chain. */
ppml_status ppml_pccs_fetch_tcb_info(struct ppml_pccs_client *c, const uint8_t fmspc[6],
				     uint8_t **body, size_t *body_len, uint8_t **chain,
				     size_t *chain_len, struct ppml_err *err) PPML_WARN_UNUSED;
/* GET /sgx/certification/v4/qe/identity; SGX-Enclave-Identity-Issuer-Chain. */
ppml_status ppml_pccs_fetch_qe_identity(struct ppml_pccs_client *c, uint8_t **body,
					size_t *body_len, uint8_t **chain, size_t *chain_len,
					struct ppml_err *err) PPML_WARN_UNUSED;
/* GET /sgx/certification/v4/pckcrl?ca=<ca>&encoding=der; the body may be
 * DER, PEM or hex (*der is DER); SGX-PCK-CRL-Issuer-Chain. */
ppml_status ppml_pccs_fetch_pck_crl(struct ppml_pccs_client *c, enum ppml_pck_ca ca,
				    uint8_t **der, size_t *der_len, uint8_t **chain,
				    size_t *chain_len, struct ppml_err *err) PPML_WARN_UNUSED;
/* GET /sgx/certification/v4/rootcacrl (a PCCS path); hex or DER -> DER. */
ppml_status ppml_pccs_fetch_root_ca_crl(struct ppml_pccs_client *c, uint8_t **der,
					size_t *der_len, struct ppml_err *err) PPML_WARN_UNUSED;

/* All four requests; out (which must be {0}) is filled only when every one
 * succeeded.  CRLs are stored as DER. */
ppml_status ppml_pccs_fetch_collateral(struct ppml_pccs_client *c, const uint8_t fmspc[6],
				       enum ppml_pck_ca ca, struct ppml_collateral *out,
				       struct ppml_err *err) PPML_WARN_UNUSED;

/* Decodes an issuer-chain header value: "%XX" (either case) becomes the
 * byte; everything else, '+' included, is copied (section 5, as Intel's
 * qcnl).  A '%' not followed by two hex digits is PPML_E_INPUT.  *out is
 * malloc'ed and NUL-terminated. */
ppml_status ppml_pccs_percent_decode(const char *in, size_t len, uint8_t **out, size_t *out_len,
				     struct ppml_err *err) PPML_WARN_UNUSED;

/* The earliest nextUpdate of a set: tcbInfo.nextUpdate,
 * enclaveIdentity.nextUpdate and both CRLs' nextUpdate (section 4.6; the
 * certificates' notAfter are the verifier's business).  PPML_E_INPUT names
 * the member that lacks a parsable nextUpdate. */
ppml_status ppml_collateral_next_update(const struct ppml_collateral *c, int64_t *out,
					struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- a fetch cache for services ---- */

/* Fetched sets keyed by (FMSPC, CA).  A set is reused while the
 * verification time is before its earliest nextUpdate; otherwise it is
 * fetched again.  At most max_entries sets (0: PPML_DCAP_CACHE_SETS); when
 * full, the set that expires first is dropped. */
struct ppml_pccs_cache;
ppml_status ppml_pccs_cache_new(struct ppml_pccs_client *client, size_t max_entries,
				struct ppml_pccs_cache **out, struct ppml_err *err) PPML_WARN_UNUSED;
/* Frees the cache (not the client).  Accepts NULL. */
void ppml_pccs_cache_free(struct ppml_pccs_cache *cache);

/* A deep copy of the set for (fmspc, ca) valid at `at` (Unix seconds), from
 * the cache or freshly fetched (then stored, unless already expired at
 * `at`: the verifier will flag it and the next call fetches again).
 * *from_cache (may be NULL) tells which.  out must be {0}; the caller
 * cleans it up.  Concurrent misses for one key may fetch twice. */
ppml_status ppml_pccs_cache_get(struct ppml_pccs_cache *cache, const uint8_t fmspc[6],
				enum ppml_pck_ca ca, int64_t at, struct ppml_collateral *out,
				bool *from_cache, struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- where a service gets collateral ---- */

/* Collateral folders (`--collateral-dir`, offline) and/or a PCCS cache.  A
 * folder is one set (it holds tcb_info.json) or a folder of set folders;
 * sets are indexed by (FMSPC of the TCB info, CA named by the PCK CRL's
 * issuer) and re-read when older than PPML_COLLATERAL_RESCAN_S, so a set
 * replaced on disk (`ppml collateral fetch`, `ppml sim quote`) is picked up
 * without a restart; a set that no longer loads keeps its last good copy.
 * Thread-safe. */
#define PPML_COLLATERAL_RESCAN_S 10
struct ppml_collateral_source;
/* dirs may be empty when cache is set; cache (borrowed, may be NULL) answers
 * what the folders do not hold.  Fails when a folder has no loadable set. */
ppml_status ppml_collateral_source_new(const char *const *dirs, size_t n_dirs,
				       struct ppml_pccs_cache *cache,
				       struct ppml_collateral_source **out,
				       struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_collateral_source_free(struct ppml_collateral_source *s);
/* A deep copy (out must be {0}) of the set for (fmspc, ca) at time `at`.
 * PPML_E_NOTFOUND names the FMSPC and CA when no source has it. */
ppml_status ppml_collateral_source_get(struct ppml_collateral_source *s, const uint8_t fmspc[6],
				       enum ppml_pck_ca ca, int64_t at, struct ppml_collateral *out,
				       struct ppml_err *err) PPML_WARN_UNUSED;
/* Re-reads the folders now (e.g. on SIGHUP); on failure the last good sets
 * stay and err says why. */
ppml_status ppml_collateral_source_rescan(struct ppml_collateral_source *s,
					  struct ppml_err *err) PPML_WARN_UNUSED;
/* Number of sets the folders hold now. */
size_t ppml_collateral_source_count(struct ppml_collateral_source *s);

#endif
