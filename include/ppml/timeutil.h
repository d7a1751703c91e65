/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/timeutil.h - UTC times as Unix seconds, without the C library's
 * locale- and TZ-dependent functions.  Thread-safe.
 */
#ifndef PPML_TIMEUTIL_H
#define PPML_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Seconds since 1970-01-01T00:00:00Z of a proleptic Gregorian UTC date;
 * false when a field is out of range (month 1..12, day within the month,
 * hour 0..23, minute 0..59, second 0..60, year 0..9999). */
bool ppml_time_from_civil(int year, int mon, int day, int hour, int min, int sec, int64_t *out);

/* Parses exactly "YYYY-MM-DDThh:mm:ssZ" (Intel's collateral date format). */
bool ppml_time_parse_intel(const char *s, int64_t *out);

/* Parses RFC 3339: "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm)" ('t'/'z'
 * accepted); fractions are truncated. */
bool ppml_time_parse_rfc3339(const char *s, int64_t *out);

/* Parses a decimal Unix time or an RFC 3339 time (what --at takes). */
bool ppml_time_parse_arg(const char *s, int64_t *out);

/* Formats "YYYY-MM-DDThh:mm:ssZ" into out (at least 21 bytes); false when
 * the year is outside 0..9999. */
#define PPML_TIME_RFC3339_LEN 21
bool ppml_time_format(int64_t t, char out[PPML_TIME_RFC3339_LEN]);

/* struct tm (UTC fields, as ASN1_TIME_to_tm fills) to Unix seconds. */
bool ppml_time_from_tm(const struct tm *tm, int64_t *out);

#endif
