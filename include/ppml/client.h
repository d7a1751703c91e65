/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/client.h - the enclave side of attestation.
 *
 * Quote source, in this order and with no fallback between the first two:
 *   1. Gramine's /dev/attestation, when its attestation_type reads "dcap":
 *      the report data is written to user_report_data and the quote read
 *      from quote (a Gramine enclave on SGX hardware);
 *      any other attestation_type is an error (an enclave without DCAP);
 *   2. PPML_SIM_ATTESTATION=unix:PATH (a `ppml run --sim` process);
 *   3. otherwise an error saying neither exists.
 */
#ifndef PPML_CLIENT_H
#define PPML_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

#define PPML_GRAMINE_ATTESTATION_DIR "/dev/attestation"

enum ppml_quote_source {
	PPML_QUOTE_SOURCE_GRAMINE = 1,   /* a real SGX quote from Gramine */
	PPML_QUOTE_SOURCE_SIMULATED,     /* from the `ppml run --sim` socket */
};

/* "gramine-dcap" / "simulated". */
const char *ppml_quote_source_name(enum ppml_quote_source s);

/* A quote over report_data from the source above.  dev_root replaces
 * /dev/attestation (tests stand a folder in for it); NULL for the real one.
 * *quote is malloc'ed (at most PPML_QUOTE_MAX_SIZE bytes). */
ppml_status ppml_client_get_quote(const char *dev_root, const uint8_t report_data[64],
				  uint8_t **quote, size_t *quote_len, enum ppml_quote_source *src,
				  struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- attesting to `ppml serve` ---- */

struct json_t;

struct ppml_attest_opts {
	const char *service;          /* https://HOST:PORT */
	const char *cacert;           /* PEM CA for the service's certificate; NULL: system */
	const char *policy;           /* the policy name */
	const char *aud;              /* the token audience; NULL: the service decides */
	const uint8_t *runtime_data;  /* bound into REPORTDATA too; may be NULL */
	size_t runtime_data_len;
	const char *dev_root;         /* tests: stands in for /dev/attestation */
};

struct ppml_attest_result {
	bool accepted;
	char *token;                  /* when accepted (malloc'ed) */
	struct json_t *response;      /* the service's answer (checks, reasons, verdict) */
	enum ppml_quote_source source;
};
void ppml_attest_result_cleanup(struct ppml_attest_result *r);

/* Gets a nonce, binds it (and the runtime data) into REPORTDATA
 * ("ppml-attest-v1"), gets a quote from the quote source above, and posts
 * it.  PPML_OK with accepted false when the service refused (the response
 * says why); an error status when no verdict was obtained.  Up to 3 tries,
 * each from a fresh nonce and quote, 0.25 s and 0.5 s apart, when no answer
 * came, the service said 502/503/504 (a replica behind a balancer went
 * away), or the only failed check was the nonce (the transport re-sent a
 * request a dying replica had already processed).  Any other refusal is
 * final.  The same holds for ppml_client_release. */
ppml_status ppml_client_attest(const struct ppml_attest_opts *o, struct ppml_attest_result *out,
			       struct ppml_err *err) PPML_WARN_UNUSED;

/* ---- key release: a data key for this enclave ---- */

/* Asks the key service to release the data key in `wrapped` (a PWK1 blob of
 * key `key_name`): a fresh P-256 key pair is made for this request alone,
 * its public key bound into REPORTDATA ("ppml-release-v1") next to a fresh
 * nonce, and the answer opened with its private key, which is then freed.
 * dk (32 bytes) receives the key (*dk_len 32 or 16).  PPML_E_REFUSED with
 * the service's reasons (and *response, when non-NULL) on refusal. */
ppml_status ppml_client_release(const struct ppml_attest_opts *o, const char *key_name,
				const uint8_t *wrapped, size_t wrapped_len, uint8_t dk[32],
				size_t *dk_len, struct json_t **response,
				struct ppml_err *err) PPML_WARN_UNUSED;

#endif
