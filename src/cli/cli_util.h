/* SPDX-License-Identifier: Apache-2.0 */
/* Output helpers shared by sign, measure and identity. */
#ifndef PPML_CLI_UTIL_H
#define PPML_CLI_UTIL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ppml/buf.h"
#include "ppml/enclave.h"

/* Appends path with make's special characters (space, '#', '$', ':') escaped.
 * Returns non-zero on allocation failure. */
int cli_buf_make_escape(struct ppml_buf *b, const char *path);

/* Resolves --date: NULL means SOURCE_DATE_EPOCH's UTC date when that is set, else
 * today; "today" is the local date (as Gramine).  Writes YYYY-MM-DD into out[16]. */
/* --gramine-version ARG ("1.9", "1.3"): CLI_EXIT_OK, or the usage error
 * printed for cmd and CLI_EXIT_USAGE. */
int cli_gramine_version(const char *cmd, const char *arg, enum ppml_gramine_version *out);

ppml_status cli_resolve_date(const char *arg, char out[16], struct ppml_err *err);

/* Prints o as indented JSON and a newline on out, then releases o (also on
 * failure).  Returns 0, or -1 when o is NULL, cannot be serialised or written. */
int cli_print_json(FILE *out, json_t *o);

/* gramine-sgx-sign's verbose printout: attributes, remote attestation, memory layout. */
void cli_print_layout(FILE *out, const struct ppml_enclave_identity *id,
		      const struct ppml_sgx_layout *layout);

/* The signed enclave's identity as text or one JSON object.  mrsigner, date,
 * manifest_sgx and sigfile may be NULL (measure without a key).  Returns non-zero
 * on failure. */
int cli_print_identity(FILE *out, const struct ppml_enclave_identity *id,
		       const uint8_t mrsigner[32], const char *date, const char *manifest_sgx,
		       const char *sigfile, int json);

/* The simulation PKI folder when no --dir/--sim-dir is given: $PPML_SIM_DIR,
 * else $XDG_DATA_HOME/ppml/sim, else ~/.local/share/ppml/sim; NULL when none
 * of them is set.  May return buf. */
const char *cli_sim_dir_default(char *buf, size_t n);
/* SIM_DIR/ppml-sim-pal.so into buf, (re)written when it is not exactly the
 * stand-in. */
ppml_status cli_sim_pal_path(const char *sim_dir, char *buf, size_t n, struct ppml_err *err);

/* Talking to `ppml serve`: --service URL, --credential-file F, --cacert F. */
struct cli_service {
	const char *url, *credential_file, *cacert;
};
/* Consumes argv[*i] (and its value) when it is one of the three options;
 * returns true then. */
bool cli_service_opt(struct cli_service *s, int argc, char **argv, int *i);
/* One request; the JSON answer in *out (NULL for an empty body).  Prints
 * "ppml CMD: ..." and returns the exit code on a transport failure, a
 * non-2xx status (the service's error message), or a non-JSON answer;
 * CLI_EXIT_OK otherwise.  need_credential: read --credential-file. */
int cli_service_call(const char *cmd, const struct cli_service *s, bool need_credential,
		     const char *method, const char *path, const char *content_type,
		     const void *body, size_t body_len, json_t **out, long *status);

#endif
