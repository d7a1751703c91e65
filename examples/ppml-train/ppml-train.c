/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml-train: the example privacy-preserving ML application of `make demo`.
 *
 *   generate  a deterministic synthetic dataset (CSV)
 *   train     L2-regularised logistic regression (Newton-Raphson / IRLS)
 *   enclave   the in-enclave workflow: data key released by attestation through
 *             the `ppml` client, training, model encrypted, metrics in clear
 *
 * One file, libc and libm only, so it can be dropped into any enclave image.
 * Exit status: 0 done, 1 failed or refused, 2 usage.  A failure prints one line,
 * "ppml-train: <what> (<where>): <what was expected>", and leaves no output file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero, environ */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * `generate` promises the same bytes on every machine.  It uses only + - * / and
 * sqrt, which IEEE 754 rounds exactly, so that holds when doubles are evaluated in
 * double precision and a*b+c is not fused.  GCC in an ISO mode (-std=c17) does not
 * fuse; clang needs the pragma.
 */
#if FLT_EVAL_METHOD != 0
#error "ppml-train generate needs FLT_EVAL_METHOD == 0 (SSE2 doubles, as on x86-64)"
#endif
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Input caps: every one is checked before the memory it implies is allocated. */
#define PT_MAX_FEATURES 64
#define PT_MAX_ROWS 10000000ull
#define PT_CSV_MAX_BYTES (2ull << 30)	/* 2 GiB */
#define PT_CSV_MAX_LINE 65536		/* bytes per line, newline excluded */
#define PT_CSV_MAX_CELLS (1ull << 27) /* rows x features held as doubles: 1 GiB */
#define PT_CSV_CHUNK (1u << 20)		/* read size; must exceed PT_CSV_MAX_LINE */
#define PT_MAX_ITERATIONS 1000
#define PT_STEP_TOLERANCE 1e-8
#define PT_LINE_SEARCH_HALVINGS 40
#define PT_ARMIJO 1e-4
#define PT_FIELD_SHOWN 32		/* bytes of a bad field quoted in a message */

_Static_assert(PT_CSV_CHUNK > PT_CSV_MAX_LINE + 1, "a whole line fits in one read buffer");

/* The synthetic data: pairwise feature correlation, and the spread of w.x + b that
 * makes a well-fitted model right about 85% of the time (see README.md). */
#define GEN_CORRELATION 0.2
#define GEN_LOGIT_SD 3.0

enum { PT_EXIT_OK = 0, PT_EXIT_FAILED = 1, PT_EXIT_USAGE = 2 };

/* The exit codes of the ppml client (src/cli/cli.h). */
enum { PPML_OK = 0, PPML_REFUSED = 1, PPML_USAGE = 2, PPML_UNAVAILABLE = 3 };

static const char prog[] = "ppml-train";

/* ---- errors --------------------------------------------------------------- */

/* Filled by the function that failed; printed once by main. */
struct pt_err {
	char msg[768];
};

static bool pt_fail(struct pt_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool pt_fail(struct pt_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return false;
}

/* One line, whatever a path or a field contains. */
static void pt_print_line(FILE *f, const char *msg)
{
	fprintf(f, "%s: ", prog);
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	fputc('\n', f);
}

static int pt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pt_usage_error(const char *cmd, const char *fmt, ...)
{
	struct pt_err e;
	char msg[sizeof e.msg - 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (cmd)
		snprintf(e.msg, sizeof e.msg, "%s; see %s %s --help", msg, prog, cmd);
	else
		snprintf(e.msg, sizeof e.msg, "%s; see %s --help", msg, prog);
	pt_print_line(stderr, e.msg);
	return PT_EXIT_USAGE;
}

/* A field from the input, quoted and escaped for a message. */
static const char *pt_quote(const char *s, size_t n, char *buf, size_t cap)
{
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == PT_FIELD_SHOWN) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static double pt_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- deterministic random numbers ---------------------------------------- */

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, full period. */
struct pt_rng {
	uint64_t state;
	bool has_spare;
	double spare;
};

static uint64_t pt_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Uniform on (0, 1): an odd multiple of 2^-53, so neither 0 nor 1, and 1 - u is exact. */
static double pt_rng_uniform(struct pt_rng *r)
{
	return (double)((pt_splitmix64(&r->state) >> 11) | 1) * 0x1p-53;
}

/*
 * Natural logarithm from + - * / only, so that it gives the same bits everywhere
 * (libm's log may differ in the last bit between versions and CPUs).  x = m 2^e
 * with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(t), t = (m-1)/(m+1), |t| < 0.172;
 * the series to t^25 leaves an error below 1e-19.  x must be positive and finite.
 */
static double pt_det_log(double x)
{
	int e;
	double m = frexp(x, &e);
	if (m < 0x1.6a09e667f3bcdp-1) { /* sqrt(1/2) */
		m *= 2;
		e--;
	}
	double t = (m - 1) / (m + 1), t2 = t * t, s = 0;
	for (int k = 25; k >= 1; k -= 2)
		s = s * t2 + 1.0 / k;
	return 2 * t * s + e * 0x1.62e42fefa39efp-1; /* ln 2 */
}

/* Standard normal: Marsaglia's polar form of Box-Muller (no sin/cos needed). */
static double pt_rng_normal(struct pt_rng *r)
{
	if (r->has_spare) {
		r->has_spare = false;
		return r->spare;
	}
	for (;;) {
		/* 2u - 1 is exact and never 0 (u is an odd multiple of 2^-53), so s > 0. */
		double u = 2 * pt_rng_uniform(r) - 1, v = 2 * pt_rng_uniform(r) - 1;
		double s = u * u + v * v;
		if (s >= 1)
			continue;
		double f = sqrt(-2 * pt_det_log(s) / s);
		r->spare = v * f;
		r->has_spare = true;
		return u * f;
	}
}

/* ---- atomic output --------------------------------------------------------- */

/* A temporary file next to the target, renamed over it only once complete. */
struct pt_out {
	FILE *f;
	const char *path;
	char tmp[PATH_MAX];
};

static bool pt_out_open(struct pt_out *o, const char *path, mode_t mode, size_t bufsize, struct pt_err *e)
{
	o->f = NULL;
	o->path = path;
	o->tmp[0] = '\0';
	int n = snprintf(o->tmp, sizeof o->tmp, "%s.tmp-XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof o->tmp) {
		o->tmp[0] = '\0';
		return pt_fail(e, "path too long (%s): expected at most %d bytes", path, PATH_MAX - 12);
	}
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		int er = errno;
		o->tmp[0] = '\0';
		return pt_fail(e, "cannot create output (%s): expected a writable folder (%s)", path,
			       strerror(er));
	}
	if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w"))) {
		int er = errno;
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return pt_fail(e, "cannot create output (%s): expected a writable folder (%s)", path,
			       strerror(er));
	}
	if (bufsize)
		setvbuf(o->f, NULL, _IOFBF, bufsize);
	return true;
}

static void pt_out_abort(struct pt_out *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

/* Flush, fsync, rename; then fsync the folder so the rename itself is durable. */
static bool pt_out_commit(struct pt_out *o, struct pt_err *e)
{
	int er = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		er = errno ? errno : EIO;
	else if (fsync(fileno(o->f)) != 0)
		er = errno;
	if (fclose(o->f) != 0 && !er)
		er = errno;
	o->f = NULL;
	if (!er && rename(o->tmp, o->path) != 0)
		er = errno;
	if (er) {
		pt_out_abort(o);
		return pt_fail(e, "cannot write output (%s): expected the whole file to be written (%s)",
			       o->path, strerror(er));
	}
	o->tmp[0] = '\0';
	char dir[PATH_MAX];
	const char *slash = strrchr(o->path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == o->path ? 1 : (int)(slash - o->path), o->path);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return true;
}

/* ---- option parsing ---------------------------------------------------------- */

struct pt_opt {
	const char *name; /* "--rows" */
	const char *arg;  /* for messages: "N" */
	bool required;
	const char *value; /* filled by pt_parse_opts */
};

enum pt_parsed { PT_PARSED, PT_PARSED_HELP, PT_PARSED_ERROR };

/* "--name VALUE" pairs; --help anywhere prints the usage.  argv[0] is the command. */
static enum pt_parsed pt_parse_opts(const char *cmd, const char *usage, int argc, char **argv,
				    struct pt_opt *opts, size_t nopts)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return PT_PARSED_HELP;
		}
	for (int i = 1; i < argc; i++) {
		struct pt_opt *o = NULL;
		for (size_t k = 0; k < nopts && !o; k++)
			if (!strcmp(argv[i], opts[k].name))
				o = &opts[k];
		if (!o) {
			pt_usage_error(cmd, "unknown argument (%s argument %d \"%s\"): expected an option "
					    "of %s %s",
				       cmd, i, argv[i], prog, cmd);
			return PT_PARSED_ERROR;
		}
		if (o->value) {
			pt_usage_error(cmd, "option given twice (%s %s): expected it once", cmd, o->name);
			return PT_PARSED_ERROR;
		}
		if (i + 1 >= argc) {
			pt_usage_error(cmd, "missing value (%s %s): expected %s %s", cmd, o->name, o->name,
				       o->arg);
			return PT_PARSED_ERROR;
		}
		o->value = argv[++i];
	}
	for (size_t k = 0; k < nopts; k++)
		if (opts[k].required && !opts[k].value) {
			pt_usage_error(cmd, "missing option (%s): expected %s %s", cmd, opts[k].name,
				       opts[k].arg);
			return PT_PARSED_ERROR;
		}
	return PT_PARSED;
}

/* Decimal digits only, no sign or blanks, within [min, max]. */
static bool pt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Decimal number characters only (no inf, nan, hex or blanks), whole string, finite. */
static bool pt_parse_double(const char *s, const char *end, double *out)
{
	if (s == end)
		return false;
	for (const char *p = s; p < end; p++)
		if (!*p || !strchr("0123456789+-.eE", *p))
			return false;
	char *stop;
	errno = 0;
	double v = strtod(s, &stop);
	if (stop != end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* ---- generate -------------------------------------------------------------- */

static const char generate_usage[] =
	"usage: ppml-train generate --rows N --features D --seed S --out FILE.csv\n"
	"\n"
	"Writes a synthetic dataset: header x1,...,xD,label, then N rows (1..10000000)\n"
	"of D features (1..64) and a 0/1 label.  Features are N(0,1) with a shared\n"
	"factor (pairwise correlation 0.2); the label is Bernoulli(sigmoid(w.x + b))\n"
	"with w and b drawn from the seed S (0..2^64-1), so a well-fitted model is right\n"
	"about 85% of the time.  Values are printed like %.6f.\n"
	"\n"
	"Same arguments, same bytes on any machine with IEEE-754 doubles: own PRNG\n"
	"(splitmix64), Marsaglia's polar form of Box-Muller, and a logarithm made of\n"
	"+ - * / only, so no libm rounding enters.  Written atomically (mode 0644).\n";

/* q millionths as "%.6f" prints q / 1e6; returns the length. */
static size_t pt_fmt_micro(char *p, int64_t q)
{
	char digits[24];
	size_t n = 0, k = 0;
	uint64_t a = q < 0 ? (uint64_t)(-(q + 1)) + 1 : (uint64_t)q;
	uint64_t ip = a / 1000000, fp = a % 1000000;
	if (q < 0)
		p[n++] = '-';
	do {
		digits[k++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	while (k)
		p[n++] = digits[--k];
	p[n++] = '.';
	for (int i = 5; i >= 0; i--) {
		p[n + (size_t)i] = (char)('0' + fp % 10);
		fp /= 10;
	}
	return n + 6;
}

static int cmd_generate(int argc, char **argv)
{
	struct pt_opt opts[] = {
		{"--rows", "N", true, NULL},
		{"--features", "D", true, NULL},
		{"--seed", "S", true, NULL},
		{"--out", "FILE.csv", true, NULL},
	};
	switch (pt_parse_opts("generate", generate_usage, argc, argv, opts, 4)) {
	case PT_PARSED_HELP:
		return PT_EXIT_OK;
	case PT_PARSED_ERROR:
		return PT_EXIT_USAGE;
	case PT_PARSED:
		break;
	}
	uint64_t rows, d, seed;
	if (!pt_parse_u64(opts[0].value, 1, PT_MAX_ROWS, &rows))
		return pt_usage_error("generate", "bad value (generate --rows \"%s\"): expected an "
						  "integer from 1 to %llu",
				      opts[0].value, PT_MAX_ROWS);
	if (!pt_parse_u64(opts[1].value, 1, PT_MAX_FEATURES, &d))
		return pt_usage_error("generate", "bad value (generate --features \"%s\"): expected "
						  "an integer from 1 to %d",
				      opts[1].value, PT_MAX_FEATURES);
	if (!pt_parse_u64(opts[2].value, 0, UINT64_MAX, &seed))
		return pt_usage_error("generate", "bad value (generate --seed \"%s\"): expected an "
						  "integer from 0 to 18446744073709551615",
				      opts[2].value);

	struct pt_err e;
	struct pt_rng r = {.state = seed};
	double w[PT_MAX_FEATURES], sw = 0, sw2 = 0;
	for (size_t j = 0; j < d; j++) {
		double mag = 0.5 + 1.5 * pt_rng_uniform(&r);
		w[j] = (pt_splitmix64(&r.state) & 1) ? -mag : mag;
		sw += w[j];
		sw2 += w[j] * w[j];
	}
	double bias = pt_rng_uniform(&r) - 0.5;
	/* x_j = a g_j + c f with g_j, f iid N(0,1): Var x_j = 1, Cov(x_j, x_k) = c^2. */
	const double a = sqrt(1 - GEN_CORRELATION), c = sqrt(GEN_CORRELATION);
	double var = (1 - GEN_CORRELATION) * sw2 + GEN_CORRELATION * sw * sw;
	double scale = GEN_LOGIT_SD / sqrt(var);
	for (size_t j = 0; j < d; j++)
		w[j] *= scale;

	struct pt_out o;
	if (!pt_out_open(&o, opts[3].value, 0644, 1u << 20, &e)) {
		pt_print_line(stderr, e.msg);
		return PT_EXIT_FAILED;
	}
	for (size_t j = 0; j < d; j++)
		fprintf(o.f, "x%zu,", j + 1);
	fputs("label\n", o.f);
	/* Per feature at most "-13.123456," (|x| < 40: the polar method cannot exceed
	 * sqrt(2 * 106 ln 2) ~ 12.2 per normal). */
	char line[PT_MAX_FEATURES * 24 + 8];
	for (uint64_t i = 0; i < rows; i++) {
		double f = pt_rng_normal(&r), z = bias;
		size_t n = 0;
		for (size_t j = 0; j < d; j++) {
			double x = a * pt_rng_normal(&r) + c * f;
			int64_t q = (int64_t)nearbyint(x * 1e6);
			z += w[j] * ((double)q / 1e6); /* the label follows the printed value */
			n += pt_fmt_micro(line + n, q);
			line[n++] = ',';
		}
		/* u < sigmoid(z)  <=>  logit(u) < z, without exp. */
		double u = pt_rng_uniform(&r);
		line[n++] = pt_det_log(u) - pt_det_log(1 - u) < z ? '1' : '0';
		line[n++] = '\n';
		fwrite(line, 1, n, o.f);
	}
	if (!pt_out_commit(&o, &e)) {
		pt_print_line(stderr, e.msg);
		return PT_EXIT_FAILED;
	}
	printf("wrote %" PRIu64 " rows x %" PRIu64 " features to %s (seed %" PRIu64 ")\n", rows, d,
	       opts[3].value, seed);
	return PT_EXIT_OK;
}

/* ---- CSV loading ------------------------------------------------------------- */

/* Features row-major (rows x d), labels 0/1.  Training data: wiped when freed. */
struct pt_dataset {
	size_t d;
	size_t rows, cap;
	double *x;
	unsigned char *y;
};

static void pt_dataset_free(struct pt_dataset *ds)
{
	if (ds->x) {
		explicit_bzero(ds->x, ds->cap * ds->d * sizeof *ds->x);
		free(ds->x);
	}
	if (ds->y) {
		explicit_bzero(ds->y, ds->cap);
		free(ds->y);
	}
	ds->x = NULL;
	ds->y = NULL;
	ds->rows = ds->cap = 0;
}

/* Room for one more row; old buffers are wiped, not left to realloc. */
static bool pt_dataset_grow(struct pt_dataset *ds, const char *path, uint64_t line, struct pt_err *e)
{
	size_t max_rows = PT_MAX_ROWS;
	if (PT_CSV_MAX_CELLS / ds->d < max_rows)
		max_rows = PT_CSV_MAX_CELLS / ds->d;
	if (ds->rows >= max_rows)
		return pt_fail(e, "too many rows (%s line %" PRIu64 "): expected at most %zu rows of "
				  "%zu features (%llu values in all, %llu rows)",
			       path, line, max_rows, ds->d, PT_CSV_MAX_CELLS, PT_MAX_ROWS);
	if (ds->rows < ds->cap)
		return true;
	size_t cap = ds->cap ? ds->cap * 2 : 4096;
	if (cap > max_rows)
		cap = max_rows;
	double *x = malloc(cap * ds->d * sizeof *x);
	unsigned char *y = malloc(cap);
	if (!x || !y) {
		free(x);
		free(y);
		return pt_fail(e, "out of memory (%s line %" PRIu64 "): expected room for %zu rows of "
				  "%zu features",
			       path, line, cap, ds->d);
	}
	if (ds->rows) {
		memcpy(x, ds->x, ds->rows * ds->d * sizeof *x);
		memcpy(y, ds->y, ds->rows);
	}
	size_t rows = ds->rows;
	pt_dataset_free(ds);
	ds->x = x;
	ds->y = y;
	ds->rows = rows;
	ds->cap = cap;
	return true;
}

/* Lines from a file descriptor through one bounded buffer. */
struct pt_reader {
	int fd;
	const char *path;
	char *buf; /* PT_CSV_CHUNK + 1 */
	size_t len, pos;
	bool eof;
	uint64_t line, bytes;
};

/* 1: *s is the next line (NUL-terminated, "\n" or "\r\n" removed), 0: end of file,
 * -1: error in e. */
static int pt_reader_line(struct pt_reader *r, char **s, size_t *n, struct pt_err *e)
{
	for (;;) {
		char *start = r->buf + r->pos;
		size_t avail = r->len - r->pos, l;
		char *nl = memchr(start, '\n', avail);
		if (nl) {
			l = (size_t)(nl - start);
		} else if (r->eof) {
			if (!avail)
				return 0;
			l = avail; /* a last line without newline */
		} else {
			if (avail > PT_CSV_MAX_LINE) {
				pt_fail(e, "line too long (%s line %" PRIu64 "): expected at most %d bytes",
					r->path, r->line + 1, PT_CSV_MAX_LINE);
				return -1;
			}
			memmove(r->buf, start, avail);
			r->len = avail;
			r->pos = 0;
			ssize_t k;
			do
				k = read(r->fd, r->buf + r->len, PT_CSV_CHUNK - r->len);
			while (k < 0 && errno == EINTR);
			if (k < 0) {
				pt_fail(e, "cannot read (%s line %" PRIu64 "): expected a readable file (%s)",
					r->path, r->line + 1, strerror(errno));
				return -1;
			}
			if (k == 0)
				r->eof = true;
			r->len += (size_t)k;
			r->bytes += (uint64_t)k;
			if (r->bytes > PT_CSV_MAX_BYTES) {
				pt_fail(e, "file too large (%s): expected at most %llu bytes", r->path,
					PT_CSV_MAX_BYTES);
				return -1;
			}
			continue;
		}
		r->line++;
		if (l > PT_CSV_MAX_LINE) {
			pt_fail(e, "line too long (%s line %" PRIu64 "): expected at most %d bytes", r->path,
				r->line, PT_CSV_MAX_LINE);
			return -1;
		}
		if (memchr(start, '\0', l)) {
			pt_fail(e, "NUL byte (%s line %" PRIu64 " byte %zu): expected text", r->path, r->line,
				(size_t)((char *)memchr(start, '\0', l) - start) + 1);
			return -1;
		}
		start[l] = '\0'; /* the newline, or the spare byte after the buffer */
		r->pos += l + (nl ? 1 : 0);
		if (l && start[l - 1] == '\r')
			start[--l] = '\0';
		*s = start;
		*n = l;
		return 1;
	}
}

/* The header fixes the number of features: x1,...,xD,label (names free, not empty). */
static bool pt_parse_header(char *s, size_t n, const char *path, size_t *d, struct pt_err *e)
{
	char q[PT_FIELD_SHOWN * 4 + 8];
	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) { /* a UTF-8 byte order mark */
		s += 3;
		n -= 3;
	}
	size_t cols = 0;
	char *p = s, *end = s + n;
	for (;;) {
		char *comma = memchr(p, ',', (size_t)(end - p));
		char *fe = comma ? comma : end;
		cols++;
		if (cols > PT_MAX_FEATURES + 1)
			return pt_fail(e, "too many columns (%s line 1 column %zu): expected at most %d "
					  "features and the label",
				       path, cols, PT_MAX_FEATURES);
		if (fe == p || memchr(p, '"', (size_t)(fe - p)))
			return pt_fail(e, "bad column name (%s line 1 column %zu): expected a name, not "
					  "empty or quoted, found %s",
				       path, cols, pt_quote(p, (size_t)(fe - p), q, sizeof q));
		if (!comma) {
			if (cols < 2 || (size_t)(fe - p) != 5 || memcmp(p, "label", 5))
				return pt_fail(e, "bad header (%s line 1 column %zu): expected x1,...,xD,label "
						  "(at least one feature, the label last), found %s",
					       path, cols, pt_quote(p, (size_t)(fe - p), q, sizeof q));
			break;
		}
		p = comma + 1;
	}
	*d = cols - 1;
	return true;
}

/* One data row into ds (room already made). */
static bool pt_parse_row(struct pt_dataset *ds, char *s, size_t n, const char *path, uint64_t line,
			 struct pt_err *e)
{
	char q[PT_FIELD_SHOWN * 4 + 8];
	size_t want = ds->d + 1, col = 0;
	double *x = ds->x + ds->rows * ds->d;
	char *p = s, *end = s + n;
	if (!n)
		return pt_fail(e, "empty line (%s line %" PRIu64 "): expected %zu comma-separated values "
				  "as in the header",
			       path, line, want);
	/* The column count first, so that a shifted row is reported as such. */
	for (char *c = p; (c = memchr(c, ',', (size_t)(end - c))); c++)
		col++;
	if (++col != want)
		return pt_fail(e, "too %s columns (%s line %" PRIu64 " column %zu): expected %zu as in "
				  "the header, found %zu",
			       col > want ? "many" : "few", path, line, col > want ? want + 1 : col, want,
			       col);
	col = 0;
	for (;;) {
		char *comma = memchr(p, ',', (size_t)(end - p));
		char *fe = comma ? comma : end;
		double v;
		col++;
		*fe = '\0';
		if (!pt_parse_double(p, fe, &v))
			return pt_fail(e, "not a number (%s line %" PRIu64 " column %zu): expected a finite "
					  "decimal number, found %s",
				       path, line, col, pt_quote(p, (size_t)(fe - p), q, sizeof q));
		if (col < want) {
			x[col - 1] = v;
		} else if (v == 0 || v == 1) {
			ds->y[ds->rows] = v == 1;
		} else {
			return pt_fail(e, "bad label (%s line %" PRIu64 " column %zu): expected 0 or 1, "
					  "found %s",
				       path, line, col, pt_quote(p, (size_t)(fe - p), q, sizeof q));
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	ds->rows++;
	return true;
}

static bool pt_load_csv(const char *path, struct pt_dataset *ds, struct pt_err *e)
{
	struct pt_reader r = {.fd = -1, .path = path};
	struct stat st;
	bool ok = false;
	char *s;
	size_t n;
	int got;
	memset(ds, 0, sizeof *ds);
	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0) {
		pt_fail(e, "cannot open (%s): expected a readable CSV file (%s)", path, strerror(errno));
		goto out;
	}
	if (fstat(r.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		pt_fail(e, "not a regular file (%s): expected a CSV file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > PT_CSV_MAX_BYTES) {
		pt_fail(e, "file too large (%s): expected at most %llu bytes", path, PT_CSV_MAX_BYTES);
		goto out;
	}
	if (!(r.buf = malloc(PT_CSV_CHUNK + 1))) {
		pt_fail(e, "out of memory (%s): expected %u bytes for a read buffer", path, PT_CSV_CHUNK);
		goto out;
	}
	got = pt_reader_line(&r, &s, &n, e);
	if (got < 0)
		goto out;
	if (got == 0) {
		pt_fail(e, "empty file (%s line 1): expected a header line x1,...,xD,label", path);
		goto out;
	}
	if (!pt_parse_header(s, n, path, &ds->d, e))
		goto out;
	while ((got = pt_reader_line(&r, &s, &n, e)) > 0)
		if (!pt_dataset_grow(ds, path, r.line, e) || !pt_parse_row(ds, s, n, path, r.line, e))
			goto out;
	if (got < 0)
		goto out;
	if (!ds->rows) {
		pt_fail(e, "no data rows (%s line 2): expected rows after the header", path);
		goto out;
	}
	ok = true;
out:
	if (r.buf) {
		explicit_bzero(r.buf, PT_CSV_CHUNK + 1);
		free(r.buf);
	}
	if (r.fd >= 0)
		close(r.fd);
	if (!ok)
		pt_dataset_free(ds);
	return ok;
}

/* ---- logistic regression ------------------------------------------------------ */

struct pt_train_opts {
	double test_fraction;
	double l2;
	int max_iterations;
};

/* w[0..d-1] the weights, w[d] the bias. */
struct pt_model {
	size_t d;
	double w[PT_MAX_FEATURES + 1];
	double l2;
	uint64_t trained_rows;
	int iterations;
	bool converged;
	double seconds;
};

struct pt_metrics {
	uint64_t rows_train, rows_test;
	double accuracy, log_loss, auc, precision, recall; /* NaN when undefined */
	double load_seconds;
};

/* log(1 + e^z) without overflow or loss of the small end. */
static double pt_softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double pt_score(const double *x, const double *w, size_t d)
{
	double z = w[d];
	for (size_t j = 0; j < d; j++)
		z += w[j] * x[j];
	return z;
}

/* The test split: rows whose index hashes below the fraction.  Independent of the
 * row order in the file, identical on every run. */
static bool pt_is_test(uint64_t row, double fraction)
{
	uint64_t s = row ^ 0x7070bd17a1c0ffeeu; /* a fixed salt: the split is part of the format */
	return (double)(pt_splitmix64(&s) >> 11) * 0x1p-53 < fraction;
}

/* Mean log-loss over the training rows plus l2/2 |w|^2 (the bias not penalised). */
static double pt_objective(const struct pt_dataset *ds, const unsigned char *test, const double *w,
			   double l2, uint64_t ntrain)
{
	double sum = 0, reg = 0;
	for (size_t i = 0; i < ds->rows; i++) {
		if (test[i])
			continue;
		double z = pt_score(ds->x + i * ds->d, w, ds->d);
		sum += pt_softplus(z) - (ds->y[i] ? z : 0);
	}
	for (size_t j = 0; j < ds->d; j++)
		reg += w[j] * w[j];
	return sum / (double)ntrain + 0.5 * l2 * reg;
}

/* In place: the lower triangle of the p x p matrix a becomes L with L L^T = a.
 * false when a is not (numerically) positive definite. */
static bool pt_cholesky(double *a, size_t p)
{
	for (size_t j = 0; j < p; j++) {
		double s = a[j * p + j];
		for (size_t k = 0; k < j; k++)
			s -= a[j * p + k] * a[j * p + k];
		if (!(s > 0) || !isfinite(s))
			return false;
		double ljj = sqrt(s);
		a[j * p + j] = ljj;
		for (size_t i = j + 1; i < p; i++) {
			double t = a[i * p + j];
			for (size_t k = 0; k < j; k++)
				t -= a[i * p + k] * a[j * p + k];
			a[i * p + j] = t / ljj;
		}
	}
	return true;
}

/* Solves L L^T x = b in place (b becomes x). */
static void pt_cholesky_solve(const double *l, size_t p, double *b)
{
	for (size_t i = 0; i < p; i++) {
		double t = b[i];
		for (size_t k = 0; k < i; k++)
			t -= l[i * p + k] * b[k];
		b[i] = t / l[i * p + i];
	}
	for (size_t i = p; i-- > 0;) {
		double t = b[i];
		for (size_t k = i + 1; k < p; k++)
			t -= l[k * p + i] * b[k];
		b[i] = t / l[i * p + i];
	}
}

/*
 * Newton-Raphson on the regularised mean log-loss (IRLS):
 *   g = X^T (p - y) / n + l2 w,   H = X^T S X / n + l2 I,   S = diag(p (1 - p)),
 * with the bias as a last column of ones and no penalty on it.  H dx = -g by
 * Cholesky; a backtracking (Armijo) line search keeps every step a descent, which
 * plain Newton does not guarantee on nearly separable data.  Stops when |dx| < 1e-8.
 */
static bool pt_train(const struct pt_dataset *ds, const unsigned char *test, uint64_t ntrain,
		     const struct pt_train_opts *o, struct pt_model *m, const char *path, struct pt_err *e)
{
	enum { P_MAX = PT_MAX_FEATURES + 1 };
	const size_t d = ds->d, p = d + 1;
	double g[P_MAX], h[P_MAX * P_MAX], dx[P_MAX], wn[P_MAX];
	double t0 = pt_now();
	memset(m, 0, sizeof *m);
	m->d = d;
	m->l2 = o->l2;
	m->trained_rows = ntrain;
	double f = pt_objective(ds, test, m->w, o->l2, ntrain);
	while (m->iterations < o->max_iterations) {
		memset(g, 0, sizeof g);
		memset(h, 0, sizeof h);
		for (size_t i = 0; i < ds->rows; i++) {
			if (test[i])
				continue;
			const double *x = ds->x + i * d;
			double z = pt_score(x, m->w, d);
			double ez = exp(-fabs(z)); /* stable: sigmoid(|z|) = 1 / (1 + ez) */
			double pr = z >= 0 ? 1 / (1 + ez) : ez / (1 + ez);
			double s = ez / ((1 + ez) * (1 + ez)), r = pr - ds->y[i];
			for (size_t a = 0; a < d; a++) {
				double sxa = s * x[a];
				g[a] += r * x[a];
				for (size_t b = 0; b <= a; b++)
					h[a * p + b] += sxa * x[b];
				h[d * p + a] += sxa;
			}
			g[d] += r;
			h[d * p + d] += s;
		}
		for (size_t a = 0; a < p; a++) {
			g[a] /= (double)ntrain;
			for (size_t b = 0; b <= a; b++)
				h[a * p + b] /= (double)ntrain;
		}
		for (size_t a = 0; a < d; a++) {
			g[a] += o->l2 * m->w[a];
			h[a * p + a] += o->l2;
		}
		if (!pt_cholesky(h, p))
			return pt_fail(e, "singular system (%s, Newton iteration %d): expected features "
					  "that are not linearly dependent, or a larger --l2",
				       path, m->iterations + 1);
		double gdx = 0, norm = 0;
		for (size_t a = 0; a < p; a++)
			dx[a] = -g[a];
		pt_cholesky_solve(h, p, dx);
		for (size_t a = 0; a < p; a++) {
			gdx += g[a] * dx[a];
			norm += dx[a] * dx[a];
		}
		norm = sqrt(norm);
		m->iterations++;
		if (norm < PT_STEP_TOLERANCE) { /* at the optimum to working precision */
			for (size_t a = 0; a < p; a++)
				m->w[a] += dx[a];
			m->converged = true;
			break;
		}
		double step = 1, fn = f;
		bool accepted = false;
		for (int k = 0; k < PT_LINE_SEARCH_HALVINGS; k++) {
			for (size_t a = 0; a < p; a++)
				wn[a] = m->w[a] + step * dx[a];
			fn = pt_objective(ds, test, wn, o->l2, ntrain);
			if (fn <= f + PT_ARMIJO * step * gdx) {
				accepted = true;
				break;
			}
			step /= 2;
		}
		if (!accepted) /* no decrease left to find: stop where we are */
			break;
		memcpy(m->w, wn, p * sizeof *wn);
		f = fn;
		if (step * norm < PT_STEP_TOLERANCE) {
			m->converged = true;
			break;
		}
	}
	m->seconds = pt_now() - t0;
	for (size_t a = 0; a < p; a++)
		if (!isfinite(m->w[a]))
			return pt_fail(e, "training diverged (%s): expected finite weights; try a larger --l2",
				       path);
	return true;
}

struct pt_scored {
	double z;
	unsigned char y;
};

static int pt_cmp_scored(const void *pa, const void *pb)
{
	double a = ((const struct pt_scored *)pa)->z, b = ((const struct pt_scored *)pb)->z;
	return (a > b) - (a < b);
}

/* Accuracy, log-loss, precision, recall at 0.5, and ROC AUC as the normalised
 * Mann-Whitney U: positives' rank sum, tied scores sharing their mean rank. */
static bool pt_evaluate(const struct pt_dataset *ds, const unsigned char *test, uint64_t ntest,
			const struct pt_model *m, struct pt_metrics *mt, struct pt_err *e)
{
	struct pt_scored *sc = malloc(ntest * sizeof *sc);
	if (!sc)
		return pt_fail(e, "out of memory (evaluation): expected room for %" PRIu64 " scores", ntest);
	uint64_t tp = 0, fp = 0, tn = 0, fn = 0, k = 0;
	double loss = 0;
	for (size_t i = 0; i < ds->rows; i++) {
		if (!test[i])
			continue;
		double z = pt_score(ds->x + i * ds->d, m->w, ds->d);
		bool y = ds->y[i], yhat = z >= 0;
		loss += pt_softplus(z) - (y ? z : 0);
		tp += y && yhat;
		fp += !y && yhat;
		tn += !y && !yhat;
		fn += y && !yhat;
		sc[k].z = z;
		sc[k++].y = y;
	}
	mt->accuracy = (double)(tp + tn) / (double)ntest;
	mt->log_loss = loss / (double)ntest;
	mt->precision = tp + fp ? (double)tp / (double)(tp + fp) : NAN;
	mt->recall = tp + fn ? (double)tp / (double)(tp + fn) : NAN;
	uint64_t npos = tp + fn, nneg = tn + fp;
	mt->auc = NAN;
	if (npos && nneg) {
		qsort(sc, ntest, sizeof *sc, pt_cmp_scored);
		double rank_sum = 0; /* exact: half-integers below 2^52 */
		for (size_t i = 0; i < ntest;) {
			size_t j = i, pos = 0;
			while (j < ntest && sc[j].z == sc[i].z)
				pos += sc[j++].y;
			rank_sum += (double)pos * ((double)(i + 1) + (double)j) / 2;
			i = j;
		}
		mt->auc = (rank_sum - (double)npos * ((double)npos + 1) / 2) / ((double)npos * (double)nneg);
	}
	explicit_bzero(sc, ntest * sizeof *sc);
	free(sc);
	return true;
}

/* Load, split, train, evaluate; the dataset is wiped before returning. */
static bool pt_run_training(const char *path, const struct pt_train_opts *o, struct pt_model *m,
			    struct pt_metrics *mt, struct pt_err *e)
{
	struct pt_dataset ds;
	unsigned char *test = NULL;
	uint64_t ntest = 0;
	bool ok = false;
	double t0 = pt_now();
	memset(mt, 0, sizeof *mt);
	if (!pt_load_csv(path, &ds, e))
		return false;
	mt->load_seconds = pt_now() - t0;
	if (!(test = malloc(ds.rows))) {
		pt_fail(e, "out of memory (%s): expected room for the split of %zu rows", path, ds.rows);
		goto out;
	}
	for (size_t i = 0; i < ds.rows; i++)
		ntest += test[i] = pt_is_test(i, o->test_fraction);
	mt->rows_test = ntest;
	mt->rows_train = ds.rows - ntest;
	if (!mt->rows_train || !mt->rows_test) {
		pt_fail(e, "too few rows (%s, %zu rows): expected at least one training and one test row "
			   "with --test-fraction %g",
			path, ds.rows, o->test_fraction);
		goto out;
	}
	if (!pt_train(&ds, test, mt->rows_train, o, m, path, e) ||
	    !pt_evaluate(&ds, test, ntest, m, mt, e))
		goto out;
	ok = true;
out:
	free(test);
	pt_dataset_free(&ds);
	return ok;
}

/* ---- JSON outputs ----------------------------------------------------------- */

/* The shortest of %.15g..%.17g that reads back as the same double; null if not finite. */
static void pt_json_double(FILE *f, double v)
{
	char b[32];
	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(b, sizeof b, "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	fputs(b, f);
}

static bool pt_write_model(const char *path, const struct pt_model *m, struct pt_err *e)
{
	struct pt_out o;
	if (!pt_out_open(&o, path, 0600, 0, e))
		return false;
	fprintf(o.f, "{\n  \"format\": \"ppml-train-model\",\n  \"version\": 1,\n"
		     "  \"kind\": \"logistic_regression\",\n  \"features\": %zu,\n  \"bias\": ",
		m->d);
	pt_json_double(o.f, m->w[m->d]);
	fputs(",\n  \"weights\": [", o.f);
	for (size_t j = 0; j < m->d; j++) {
		fputs(j ? ", " : "", o.f);
		pt_json_double(o.f, m->w[j]);
	}
	fputs("],\n  \"l2\": ", o.f);
	pt_json_double(o.f, m->l2);
	fprintf(o.f, ",\n  \"trained_rows\": %" PRIu64 "\n}\n", m->trained_rows);
	return pt_out_commit(&o, e);
}

static bool pt_write_metrics(const char *path, const struct pt_model *m, const struct pt_metrics *mt,
			     const struct pt_train_opts *opt, struct pt_err *e)
{
	struct pt_out o;
	if (!pt_out_open(&o, path, 0644, 0, e))
		return false;
	fprintf(o.f,
		"{\n  \"format\": \"ppml-train-metrics\",\n  \"version\": 1,\n"
		"  \"kind\": \"logistic_regression\",\n"
		"  \"rows_train\": %" PRIu64 ",\n  \"rows_test\": %" PRIu64 ",\n  \"features\": %zu,\n"
		"  \"iterations\": %d,\n  \"converged\": %s,\n",
		mt->rows_train, mt->rows_test, m->d, m->iterations, m->converged ? "true" : "false");
	const struct {
		const char *key;
		double v;
	} kv[] = {
		{"accuracy", mt->accuracy},
		{"log_loss", mt->log_loss},
		{"auc", mt->auc},
		{"precision", mt->precision},
		{"recall", mt->recall},
		{"test_fraction", opt->test_fraction},
		{"l2", m->l2},
		{"train_seconds", m->seconds},
	};
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
		fprintf(o.f, "%s  \"%s\": ", i ? ",\n" : "", kv[i].key);
		pt_json_double(o.f, kv[i].v);
	}
	fputs("\n}\n", o.f);
	return pt_out_commit(&o, e);
}

/* "0.8512" or "n/a" */
static const char *pt_fmt4(double v, char *buf, size_t cap)
{
	if (isfinite(v))
		snprintf(buf, cap, "%.4f", v);
	else
		snprintf(buf, cap, "n/a");
	return buf;
}

static void pt_print_summary(const struct pt_model *m, const struct pt_metrics *mt)
{
	char a[16], u[16], l[16], p[16], r[16];
	printf("logistic regression: %" PRIu64 " training rows, %" PRIu64 " test rows, %zu feature%s\n",
	       mt->rows_train, mt->rows_test, m->d, m->d == 1 ? "" : "s");
	printf("  %d Newton iterations%s, %.3f s training (%.3f s loading)\n", m->iterations,
	       m->converged ? "" : " (not converged)", m->seconds, mt->load_seconds);
	printf("  test: accuracy %s, auc %s, log_loss %s, precision %s, recall %s\n",
	       pt_fmt4(mt->accuracy, a, sizeof a), pt_fmt4(mt->auc, u, sizeof u),
	       pt_fmt4(mt->log_loss, l, sizeof l), pt_fmt4(mt->precision, p, sizeof p),
	       pt_fmt4(mt->recall, r, sizeof r));
}

/* --test-fraction, --l2, --max-iterations, shared by train and enclave. */
static bool pt_parse_train_opts(const char *cmd, const char *tf, const char *l2, const char *it,
				struct pt_train_opts *o)
{
	uint64_t k = 25;
	o->test_fraction = 0.2;
	o->l2 = 1e-4;
	if (tf && (!pt_parse_double(tf, tf + strlen(tf), &o->test_fraction) ||
		   !(o->test_fraction > 0 && o->test_fraction < 1))) {
		pt_usage_error(cmd, "bad value (%s --test-fraction \"%s\"): expected a number strictly "
				    "between 0 and 1",
			       cmd, tf);
		return false;
	}
	if (l2 && (!pt_parse_double(l2, l2 + strlen(l2), &o->l2) || !(o->l2 >= 0 && o->l2 <= 1e6))) {
		pt_usage_error(cmd, "bad value (%s --l2 \"%s\"): expected a number from 0 to 1e6", cmd, l2);
		return false;
	}
	if (it && !pt_parse_u64(it, 1, PT_MAX_ITERATIONS, &k)) {
		pt_usage_error(cmd, "bad value (%s --max-iterations \"%s\"): expected an integer from 1 "
				    "to %d",
			       cmd, it, PT_MAX_ITERATIONS);
		return false;
	}
	o->max_iterations = (int)k;
	return true;
}

/* ---- train ------------------------------------------------------------------ */

static const char train_usage[] =
	"usage: ppml-train train --data FILE.csv --model-out MODEL.json --metrics-out METRICS.json\n"
	"                        [--test-fraction F] [--l2 L] [--max-iterations K]\n"
	"\n"
	"Reads a CSV with the header x1,...,xD,label (1..64 features, any names, label\n"
	"last), then rows of exactly as many values: finite decimal numbers, the label\n"
	"0 or 1; no quoting.  At most 2 GiB, 65536 bytes a line, 10000000 rows.\n"
	"\n"
	"Rows whose index hashes below F (default 0.2) are the test split.  Fits L2-\n"
	"regularised logistic regression (mean log-loss + L/2 |w|^2, bias not penalised,\n"
	"L default 1e-4) by Newton-Raphson (IRLS, Cholesky solve, backtracking line\n"
	"search) until the step norm is below 1e-8 or after K iterations (default 25).\n"
	"Accuracy, log-loss, ROC AUC, precision and recall are measured on the test\n"
	"split.  Both outputs are JSON, written atomically (the model mode 0600).\n";

static int cmd_train(int argc, char **argv)
{
	struct pt_opt opts[] = {
		{"--data", "FILE.csv", true, NULL},
		{"--model-out", "MODEL.json", true, NULL},
		{"--metrics-out", "METRICS.json", true, NULL},
		{"--test-fraction", "F", false, NULL},
		{"--l2", "L", false, NULL},
		{"--max-iterations", "K", false, NULL},
	};
	switch (pt_parse_opts("train", train_usage, argc, argv, opts, 6)) {
	case PT_PARSED_HELP:
		return PT_EXIT_OK;
	case PT_PARSED_ERROR:
		return PT_EXIT_USAGE;
	case PT_PARSED:
		break;
	}
	struct pt_train_opts o;
	if (!pt_parse_train_opts("train", opts[3].value, opts[4].value, opts[5].value, &o))
		return PT_EXIT_USAGE;
	struct pt_err e;
	struct pt_model m;
	struct pt_metrics mt;
	if (!pt_run_training(opts[0].value, &o, &m, &mt, &e) ||
	    !pt_write_model(opts[1].value, &m, &e))
		goto fail;
	if (!pt_write_metrics(opts[2].value, &m, &mt, &o, &e)) {
		unlink(opts[1].value); /* both outputs or neither */
		goto fail;
	}
	pt_print_summary(&m, &mt);
	printf("  model: %s, metrics: %s\n", opts[1].value, opts[2].value);
	return PT_EXIT_OK;
fail:
	pt_print_line(stderr, e.msg);
	return PT_EXIT_FAILED;
}

/* ---- enclave ----------------------------------------------------------------- */

static const char enclave_usage[] =
	"usage: ppml-train enclave --service URL --data-key NAME --data FILE.enc\n"
	"                          --model-key FILE.pwk --out-dir DIR\n"
	"                          [--policy NAME] [--cacert FILE]\n"
	"                          [--test-fraction F] [--l2 L] [--max-iterations K]\n"
	"\n"
	"The in-enclave workflow (in the demo under `ppml run --sim`).  Runs the ppml\n"
	"client named by the environment variable PPML directly (no shell):\n"
	"  1. with --policy: ppml attest --policy NAME --token-out DIR/token.jwt\n"
	"  2. ppml attest --release-key NAME --for FILE.enc --out PRIV/train.csv: the\n"
	"     data key is released to this enclave only and the file decrypted into\n"
	"     PRIV, a private folder DIR/.enclave-tmp-XXXXXX (mode 0700; under Gramine an\n"
	"     in-enclave tmpfs), removed at the end whether the run succeeds or not\n"
	"  3. trains as `ppml-train train` does; the model goes to PRIV/model.json\n"
	"  4. ppml encrypt --attested --wrapped-key FILE.pwk --key NAME --in\n"
	"     PRIV/model.json --out DIR/model.enc: FILE.pwk must be a wrapped key of\n"
	"     the --data-key NAME (a substituted key is refused)\n"
	"  5. the metrics, in clear, to DIR/metrics.json\n"
	"--service and --cacert are passed to every ppml call.  A refusal by ppml (its\n"
	"exit 1) or any other failure ends the run with exit 1, and none of token.jwt,\n"
	"model.enc, metrics.json is left from it.\n";

extern char **environ;

/* Runs ppml with av (av[0] = the path) and maps its exit status to a message. */
static bool pt_ppml(const char *const *av, const char *step, struct pt_err *e)
{
	pid_t pid;
	int st, rc;
	fflush(stdout);
	fflush(stderr);
	/* posix_spawn's argv is char *const[] for historical reasons; it does not write to it. */
	rc = posix_spawn(&pid, av[0], NULL, NULL, (char *const *)av, environ);
	if (rc)
		return pt_fail(e, "cannot start ppml (PPML=%s): expected an executable ppml client (%s)",
			       av[0], strerror(rc));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return pt_fail(e, "%s: lost the ppml process (waitpid): expected its exit status "
					  "(%s)",
				       step, strerror(errno));
	if (WIFSIGNALED(st))
		return pt_fail(e, "%s failed (ppml %s, killed by signal %d): expected exit status 0",
			       step, av[1], WTERMSIG(st));
	switch (WEXITSTATUS(st)) {
	case PPML_OK:
		return true;
	case PPML_REFUSED:
		return pt_fail(e, "%s refused (ppml %s, exit 1): expected the service to accept this "
				  "enclave; ppml's reasons are above",
			       step, av[1]);
	case PPML_USAGE:
		return pt_fail(e, "%s failed (ppml %s, exit 2, usage): expected a ppml client that "
				  "supports this call",
			       step, av[1]);
	case PPML_UNAVAILABLE:
		return pt_fail(e, "%s unavailable (ppml %s, exit 3): expected the service and the "
				  "quote source to be reachable",
			       step, av[1]);
	default:
		return pt_fail(e, "%s failed (ppml %s, exit %d): expected exit status 0", step, av[1],
			       WEXITSTATUS(st));
	}
}

/* Empties and removes the private folder (flat: ppml and we only put files there). */
static bool pt_remove_private(const char *dir)
{
	DIR *d = opendir(dir);
	bool ok = true;
	if (!d)
		return errno == ENOENT;
	for (struct dirent *de; (de = readdir(d));) {
		char p[PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int n = snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof p || (unlink(p) != 0 && rmdir(p) != 0))
			ok = false;
	}
	closedir(d);
	return rmdir(dir) == 0 && ok;
}

static bool pt_join(char *buf, size_t cap, const char *dir, const char *name, struct pt_err *e)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap)
		return pt_fail(e, "path too long (%s/%s): expected at most %zu bytes", dir, name, cap - 1);
	return true;
}

static bool pt_readable(const char *path, const char *opt, const char *what, struct pt_err *e)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0)
		return pt_fail(e, "cannot read (%s %s): expected %s", opt, path, what);
	return true;
}

static int cmd_enclave(int argc, char **argv)
{
	struct pt_opt opts[] = {
		{"--service", "URL", true, NULL},
		{"--data-key", "NAME", true, NULL},
		{"--data", "FILE.enc", true, NULL},
		{"--model-key", "FILE.pwk", true, NULL},
		{"--out-dir", "DIR", true, NULL},
		{"--policy", "NAME", false, NULL},
		{"--cacert", "FILE", false, NULL},
		{"--test-fraction", "F", false, NULL},
		{"--l2", "L", false, NULL},
		{"--max-iterations", "K", false, NULL},
	};
	switch (pt_parse_opts("enclave", enclave_usage, argc, argv, opts, 10)) {
	case PT_PARSED_HELP:
		return PT_EXIT_OK;
	case PT_PARSED_ERROR:
		return PT_EXIT_USAGE;
	case PT_PARSED:
		break;
	}
	const char *service = opts[0].value, *key = opts[1].value, *data = opts[2].value,
		   *wkey = opts[3].value, *dir = opts[4].value, *policy = opts[5].value,
		   *cacert = opts[6].value;
	struct pt_train_opts o;
	if (!pt_parse_train_opts("enclave", opts[7].value, opts[8].value, opts[9].value, &o))
		return PT_EXIT_USAGE;

	struct pt_err e;
	struct pt_model m;
	struct pt_metrics mt;
	struct stat st;
	char token[PATH_MAX], enc[PATH_MAX], metrics[PATH_MAX], priv[PATH_MAX], csv[PATH_MAX],
		model[PATH_MAX];
	bool made_priv = false, made_token = false, made_enc = false, ok = false;
	const char *ppml = getenv("PPML");
	if (!ppml || !*ppml) {
		pt_fail(&e, "PPML is not set (environment): expected the path of the ppml client");
		goto out;
	}
	if (!pt_readable(data, "--data", "an encrypted dataset (PPMLENC1)", &e) ||
	    !pt_readable(wkey, "--model-key", "a wrapped key (PWK1)", &e) ||
	    (cacert && !pt_readable(cacert, "--cacert", "CA certificates (PEM)", &e)))
		goto out;
	if (stat(dir, &st) != 0 && errno == ENOENT && mkdir(dir, 0755) != 0) {
		pt_fail(&e, "cannot create (--out-dir %s): expected a writable folder (%s)", dir,
			strerror(errno));
		goto out;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		pt_fail(&e, "not a folder (--out-dir %s): expected a writable folder", dir);
		goto out;
	}
	if (!pt_join(token, sizeof token, dir, "token.jwt", &e) ||
	    !pt_join(enc, sizeof enc, dir, "model.enc", &e) ||
	    !pt_join(metrics, sizeof metrics, dir, "metrics.json", &e) ||
	    !pt_join(priv, sizeof priv, dir, ".enclave-tmp-XXXXXX", &e) ||
	    !pt_join(csv, sizeof csv, priv, "train.csv", &e) ||
	    !pt_join(model, sizeof model, priv, "model.json", &e))
		goto out;

	if (policy) {
		const char *av[] = {ppml, "attest", "--service", service, "--policy", policy,
				    "--token-out", token, cacert ? "--cacert" : NULL, cacert, NULL};
		made_token = true; /* ppml may have written it even when it then fails */
		if (!pt_ppml(av, "attestation", &e))
			goto out;
	}

	if (!mkdtemp(priv)) {
		pt_fail(&e, "cannot create the private folder (%s): expected a writable --out-dir (%s)",
			priv, strerror(errno));
		goto out;
	}
	made_priv = true;
	/* mkdtemp fixed the Xs in place; the file paths inside follow it. */
	if (!pt_join(csv, sizeof csv, priv, "train.csv", &e) ||
	    !pt_join(model, sizeof model, priv, "model.json", &e))
		goto out;

	{
		const char *av[] = {ppml, "attest", "--service", service, "--release-key", key, "--for",
				    data, "--out", csv, cacert ? "--cacert" : NULL, cacert, NULL};
		if (!pt_ppml(av, "key release", &e))
			goto out;
	}
	if (!pt_run_training(csv, &o, &m, &mt, &e))
		goto out;
	if (unlink(csv) != 0) {
		pt_fail(&e, "cannot remove the decrypted dataset (%s): expected a writable private folder "
			    "(%s)",
			csv, strerror(errno));
		goto out;
	}
	if (!pt_write_model(model, &m, &e))
		goto out;
	{
		/* --key: the model is encrypted only under the key named on this
		 * (measured) command line, never under one the host substituted. */
		const char *av[] = {ppml, "encrypt", "--attested", "--service", service, "--wrapped-key",
				    wkey, "--key", key, "--in", model, "--out", enc,
				    cacert ? "--cacert" : NULL, cacert, NULL};
		made_enc = true;
		if (!pt_ppml(av, "model encryption", &e))
			goto out;
	}
	if (!pt_write_metrics(metrics, &m, &mt, &o, &e))
		goto out;
	ok = true;
out:
	if (made_priv && !pt_remove_private(priv) && ok) {
		pt_fail(&e, "cannot remove the private folder (%s): expected it to be removable", priv);
		ok = false;
		unlink(metrics);
	}
	if (!ok) {
		if (made_token)
			unlink(token);
		if (made_enc)
			unlink(enc);
		pt_print_line(stderr, e.msg);
		return PT_EXIT_FAILED;
	}
	char a[16], u[16];
	printf("enclave training done: %" PRIu64 " training rows, %" PRIu64 " test rows, %zu "
	       "feature%s, %d iterations, %.3f s\n",
	       mt.rows_train, mt.rows_test, m.d, m.d == 1 ? "" : "s", m.iterations, m.seconds);
	printf("  test accuracy %s, auc %s\n", pt_fmt4(mt.accuracy, a, sizeof a),
	       pt_fmt4(mt.auc, u, sizeof u));
	printf("  model written encrypted to %s\n", enc);
	printf("  metrics (clear) in %s\n", metrics);
	if (policy)
		printf("  attestation token in %s\n", token);
	printf("  decrypted data and plaintext model removed with the private folder\n");
	return PT_EXIT_OK;
}

/* ---- commands ------------------------------------------------------------------ */

static const struct pt_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} pt_commands[] = {
	{"generate", "write a deterministic synthetic dataset (CSV)", cmd_generate},
	{"train", "train logistic regression on a CSV; model and metrics as JSON", cmd_train},
	{"enclave", "in-enclave workflow: data key by attestation, train, model encrypted",
	 cmd_enclave},
};

static void pt_usage(FILE *f)
{
	fprintf(f, "usage: %s COMMAND [OPTIONS]     (%s COMMAND --help for details)\n\n", prog, prog);
	for (size_t i = 0; i < sizeof pt_commands / sizeof pt_commands[0]; i++)
		fprintf(f, "  %-9s %s\n", pt_commands[i].name, pt_commands[i].summary);
	fprintf(f, "\nThe example application of `make demo`: inside an SGX enclave it gets its data\n"
		   "key by attestation through the ppml client, trains, and writes the model\n"
		   "encrypted.  Exit status: 0 done, 1 failed or refused, 2 usage.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		pt_usage(stderr);
		return PT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		pt_usage(stdout);
		return PT_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof pt_commands / sizeof pt_commands[0]; i++)
		if (!strcmp(argv[1], pt_commands[i].name))
			return pt_commands[i].run(argc - 1, argv + 1);
	return pt_usage_error(NULL, "unknown command (argument 1 \"%s\"): expected generate, train "
				    "or enclave",
			      argv[1]);
}
