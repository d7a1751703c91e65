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

#endif
