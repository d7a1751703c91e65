/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/simrun.h - what `ppml run --sim` checks and runs, without SGX.
 *
 * Before anything starts, a simulated run proves that what it is about to
 * run is what was signed: the SIGSTRUCT verifies, MRENCLAVE recomputed from
 * manifest.sgx and the PAL equals the signature's, and every measured file
 * (loader.entrypoint and each trusted file) has the hash manifest.sgx
 * names.  It then derives what Gramine would run: libos.entrypoint resolved
 * through fs.mounts to a host path (which must be a trusted file),
 * loader.argv, and the environment of loader.env.
 */
#ifndef PPML_SIMRUN_H
#define PPML_SIMRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "ppml/err.h"
#include "ppml/identity.h"
#include "ppml/sgx.h"

struct ppml_simrun {
	struct ppml_identity *id;      /* the verified identity */
	char *manifest_entrypoint;     /* libos.entrypoint, the in-enclave path */
	char *entrypoint;              /* its host path (a trusted file) */
	char **argv;                   /* NULL-terminated */
	char **envp;                   /* NULL-terminated "KEY=value" (no PPML_SIM_* yet) */
	bool use_cmdline_argv, use_host_env;
	size_t files_checked;          /* measured files hashed */
	unsigned long long bytes_checked;
};

/*
 * Verifies and plans a run.  extra_args (may be empty) are appended to the
 * command line only when loader.insecure__use_cmdline_argv is true;
 * otherwise they are refused.  host_envp is the runner's environment (used
 * for loader.env passthrough and, with loader.insecure__use_host_env, as the
 * base).  Relative file URIs are relative to the working directory, as for
 * Gramine; absolute ones are host paths, or paths under fsroot when it is
 * not NULL (an image's unpacked root filesystem).  version: the Gramine
 * signer that wrote manifest.sgx (its layout and MRENCLAVE rules).  PPML_E_REFUSED (with the file, field or value named) when the
 * signature, measurement, a file hash or the entrypoint does not hold;
 * PPML_E_INPUT for a malformed manifest value.  *out is set only on success.
 */
ppml_status ppml_simrun_prepare(const char *manifest_sgx_path, const char *sig_path,
				const char *libpal_path, enum ppml_gramine_version version,
				const char *fsroot,
				char *const *extra_args, size_t n_extra,
				char *const *host_envp, struct ppml_simrun **out,
				struct ppml_err *err) PPML_WARN_UNUSED;
void ppml_simrun_free(struct ppml_simrun *r);

/* The report body an SGX CPU would put in this enclave's REPORT (MRENCLAVE,
 * MRSIGNER, ATTRIBUTES, MISCSELECT, ISVPRODID, ISVSVN); report_data zero. */
void ppml_simrun_report_body(const struct ppml_simrun *r, struct ppml_sgx_report_body *out);

#endif
