/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the TOML tree and its parser; not part of the public API. */
#ifndef PPML_TOML_INTERNAL_H
#define PPML_TOML_INTERNAL_H

#include "ppml/toml.h"

/* Appends key (klen bytes, may contain NUL) = val to table without a
 * duplicate check.  Takes val, also on failure (PPML_E_NOMEM). */
ppml_status ppml_toml_table_add(struct ppml_toml_value *table, const char *key, size_t klen,
				struct ppml_toml_value *val) PPML_WARN_UNUSED;

/* Python's str()/isoformat() of a date, time or datetime value: sep between
 * date and time (' ' for str, 'T' for isoformat), .ffffff when micro is not
 * zero, the offset as +HH:MM, or Z for +00:00 when utc_z. */
ppml_status ppml_toml_put_pydatetime(struct ppml_buf *b, const struct ppml_toml_value *v,
				     char sep, unsigned micro, int utc_z) PPML_WARN_UNUSED;

/* A key made only of A-Za-z0-9_- (non-empty): written bare by both writers. */
int ppml_toml_is_bare_key(const char *k, size_t len);

/* Appends Python's repr() of a float ("0.1", "1e-05", "inf", "nan"); shared
 * by the tomli-w and toml 0.10.2 writers. */
ppml_status ppml_toml_put_pyfloat(struct ppml_buf *b, double x) PPML_WARN_UNUSED;

#endif
