/* SPDX-License-Identifier: Apache-2.0 */
/* UTC time arithmetic without TZ or locale: days-from-civil over the
 * proleptic Gregorian calendar. */
#include "ppml/timeutil.h"

#include <stdio.h>
#include <string.h>

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool ppml_time_from_civil(int year, int mon, int day, int hour, int min, int sec, int64_t *out)
{
	if (year < 0 || year > 9999 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || hour < 0 || hour > 23 || min < 0 || min > 59 ||
	    sec < 0 || sec > 60)
		return false;
	*out = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
	return true;
}

bool ppml_time_from_tm(const struct tm *tm, int64_t *out)
{
	return ppml_time_from_civil(tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour,
				    tm->tm_min, tm->tm_sec, out);
}

/* n decimal digits at s, exactly. */
static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "YYYY-MM-DDThh:mm:ss" at s (19 bytes); T may be 't' when lax. */
static bool parse_datetime(const char *s, bool lax, int f[6])
{
	if (strnlen(s, 19) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		return false;
	if (!(s[10] == 'T' || (lax && s[10] == 't')))
		return false;
	return digits(s, 4, &f[0]) && digits(s + 5, 2, &f[1]) && digits(s + 8, 2, &f[2]) &&
	       digits(s + 11, 2, &f[3]) && digits(s + 14, 2, &f[4]) && digits(s + 17, 2, &f[5]);
}

bool ppml_time_parse_intel(const char *s, int64_t *out)
{
	int f[6];
	if (!parse_datetime(s, false, f) || strcmp(s + 19, "Z") != 0)
		return false;
	return ppml_time_from_civil(f[0], f[1], f[2], f[3], f[4], f[5], out);
}

bool ppml_time_parse_rfc3339(const char *s, int64_t *out)
{
	int f[6], oh, om;
	int64_t t, off = 0;
	const char *p = s + 19;

	if (!parse_datetime(s, true, f))
		return false;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
		   digits(p + 1, 2, &oh) && digits(p + 4, 2, &om) && oh <= 23 && om <= 59) {
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
	} else {
		return false;
	}
	if (!ppml_time_from_civil(f[0], f[1], f[2], f[3], f[4], f[5], &t))
		return false;
	*out = t - off;
	return true;
}

bool ppml_time_parse_arg(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	if (n > 0 && n <= 15 && strspn(s, "0123456789") == n) {
		int64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v = v * 10 + (s[i] - '0');
		*out = v;
		return true;
	}
	return ppml_time_parse_rfc3339(s, out);
}

bool ppml_time_format(int64_t t, char out[PPML_TIME_RFC3339_LEN])
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	/* civil_from_days (inverse of days_from_civil). */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		return false;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	memcpy(out, tmp, PPML_TIME_RFC3339_LEN);
	return true;
}
