/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/file.h - bounded reads and atomic writes.
 */
#ifndef PPML_FILE_H
#define PPML_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ppml/err.h"

/*
 * Reads the whole file at path into a fresh malloc'ed buffer (NUL-terminated,
 * the NUL not counted in *len).  Fails with PPML_E_LIMIT if the file is
 * larger than max_len, PPML_E_NOTFOUND if it does not exist, PPML_E_IO
 * otherwise.  The caller frees *data.
 */
ppml_status ppml_file_read(const char *path, size_t max_len, uint8_t **data, size_t *len,
			   struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Reads a small secret file (passphrase, PIN): at most max_len bytes into a
 * buffer allocated once (never reallocated, so no stray copy is left on the
 * heap), one trailing "\n" or "\r\n" dropped, NUL-terminated.  An empty
 * secret is PPML_E_INPUT naming `what`.  The caller wipes (OPENSSL_cleanse)
 * and frees *data; on failure nothing is returned and everything read is wiped.
 */
ppml_status ppml_file_read_secret(const char *path, size_t max_len, const char *what,
				  char **data, size_t *len, struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Writes data to path atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory.  mode is applied to the new file
 * (e.g. 0600 for keys).  With no_clobber, an existing path is refused with
 * PPML_E_EXISTS (checked with link(2) semantics, so there is no race).
 * On failure nothing is left behind.
 */
ppml_status ppml_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
				   int no_clobber, struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * A set of outputs committed together: each is staged to a temporary file;
 * ppml_outputs_commit renames them all into place.  If anything fails before
 * commit (or ppml_outputs_abort is called) no output appears.
 */
struct ppml_outputs;
struct ppml_outputs *ppml_outputs_new(void);
ppml_status ppml_outputs_stage(struct ppml_outputs *o, const char *path, const void *data,
			       size_t len, mode_t mode, struct ppml_err *err) PPML_WARN_UNUSED;
ppml_status ppml_outputs_commit(struct ppml_outputs *o, struct ppml_err *err) PPML_WARN_UNUSED;
/* Removes staged temporaries and frees.  Accepts NULL; safe after commit. */
void ppml_outputs_free(struct ppml_outputs *o);

/* Reads until n bytes or EOF (retrying EINTR); *got says how many.  False
 * on a read error (errno set). */
bool ppml_fd_read_full(int fd, uint8_t *p, size_t n, size_t *got);
/* Writes all n bytes (retrying EINTR and short writes); false on error. */
bool ppml_fd_write_full(int fd, const uint8_t *p, size_t n);

#endif
