/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the files of src/lib/gramine; not a public interface. */
#ifndef PPML_GRAMINE_INTERNAL_H
#define PPML_GRAMINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ppml/buf.h"
#include "ppml/err.h"
#include "ppml/manifest.h"
#include "ppml/toml.h"

/* One file to hash.  The pool fills everything after path. */
struct gr_hash_job {
	const char *path;
	size_t index;        /* reported to the progress callback */
	ppml_status st;      /* PPML_OK once hashed */
	int errnum;          /* errno of the failure, 0 otherwise */
	uint64_t size;
	char hex[65];
};

/*
 * Hashes every job with SHA-256 on up to `threads` workers (0 = online
 * CPUs).  Results land in each job, so they come out in list order whatever
 * the completion order.  After the first failure no new job starts; every
 * job before the first failing one (in list order) is always completed, so
 * the caller reports a deterministic error.  Returns PPML_OK when every job
 * succeeded, otherwise the failing job's status and *first_failed = its
 * position; PPML_E_NOMEM/PPML_E_INTERNAL for pool failures (err set).
 * All workers are joined before returning.
 */
ppml_status gr_hash_files(struct gr_hash_job *jobs, size_t n, unsigned threads,
			  ppml_manifest_progress_fn progress, void *progress_ctx,
			  size_t *first_failed, struct ppml_err *err);

/* Python truthiness of a TOML value (bool(x)). */
bool gr_truthy(const struct ppml_toml_value *v);

/* Appends Python's repr() of v (str, int, float, bool, list, dict). */
ppml_status gr_pyrepr(struct ppml_buf *b, const struct ppml_toml_value *v);
/* Appends Python's repr() of a str. */
ppml_status gr_pyrepr_str(struct ppml_buf *b, const char *s, size_t len);

#endif
