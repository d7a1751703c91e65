/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parallel SHA-256 of trusted files (spec 2.3, "every entry without a sha256
 * is hashed").  A fixed pool of workers takes jobs in list order from a
 * shared counter; each worker owns one read buffer, so memory stays at
 * threads * PPML_MANIFEST_HASH_BUF however large the files are.  When the
 * last files run with CPUs of the budget idle, a large one gets a reader
 * thread (hash_pipelined), still within its worker's buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"
#include "ppml/hex.h"
#include "ppml/limits.h"

struct pool {
	struct gr_hash_job *jobs;
	size_t n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next;         /* next job to take */
	size_t done;         /* jobs finished */
	size_t *order;       /* completion order, for progress */
	unsigned active;     /* workers still running */
	unsigned hashing;    /* workers inside hash_one */
	unsigned budget;     /* CPUs the caller allows (threads before clamping to n) */
	bool stop;           /* a job failed: take no new ones */
	uint64_t bytes_done;
};

/*
 * A large file hashed while cores are idle (typically one big model file,
 * v12) is read by a helper thread into PIPE_NBUF slices of the worker's
 * buffer while this thread hashes the previous slice: the page-cache copy
 * of read() then overlaps with SHA-256 instead of adding to it (about 1.38
 * -> 1.69 GB/s against OpenSSL's 1.80 GB/s on the reference machine).
 * Memory stays the worker's one buffer.
 */
#define PIPE_NBUF 4
#define PIPE_MIN_SIZE (8u << 20)

struct rd_pipe {
	int fd;
	uint8_t *buf[PIPE_NBUF];
	size_t cap;             /* bytes per slice */
	ssize_t len[PIPE_NBUF]; /* > 0 data, 0 end of file, -1 error (errnum[]) */
	int errnum[PIPE_NBUF];
	bool full[PIPE_NBUF];
	bool quit;              /* the hashing side gave up: the reader stops */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static ssize_t read_some(int fd, uint8_t *buf, size_t len)
{
	ssize_t r;
	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	return r;
}

static void *pipe_reader(void *arg)
{
	struct rd_pipe *rp = arg;
	for (unsigned i = 0;; i = (i + 1) % PIPE_NBUF) {
		ssize_t r;
		int e;
		pthread_mutex_lock(&rp->mu);
		while (rp->full[i] && !rp->quit)
			pthread_cond_wait(&rp->cv, &rp->mu);
		if (rp->quit) {
			pthread_mutex_unlock(&rp->mu);
			break;
		}
		pthread_mutex_unlock(&rp->mu);
		r = read_some(rp->fd, rp->buf[i], rp->cap);
		e = r < 0 ? errno : 0;
		pthread_mutex_lock(&rp->mu);
		rp->len[i] = r < 0 ? -1 : r;
		rp->errnum[i] = e;
		rp->full[i] = true;
		pthread_cond_broadcast(&rp->cv);
		pthread_mutex_unlock(&rp->mu);
		if (r <= 0)
			break;
	}
	return NULL;
}

/* Returns false when the helper thread cannot be set up (the caller then
 * reads on its own); otherwise the file was consumed, job->st tells how. */
static bool hash_pipelined(struct gr_hash_job *job, int fd, EVP_MD_CTX *ctx, uint8_t *buf,
			   size_t buflen)
{
	struct rd_pipe rp;
	pthread_t tid;
	bool sync_ok = false, started = false;

	memset(&rp, 0, sizeof(rp));
	rp.fd = fd;
	rp.cap = buflen / PIPE_NBUF;
	for (unsigned i = 0; i < PIPE_NBUF; i++)
		rp.buf[i] = buf + (size_t)i * rp.cap;
	if (pthread_mutex_init(&rp.mu, NULL) != 0)
		return false;
	if (pthread_cond_init(&rp.cv, NULL) != 0)
		goto out;
	sync_ok = true;
	if (pthread_create(&tid, NULL, pipe_reader, &rp) != 0)
		goto out;
	started = true;
	for (unsigned i = 0;; i = (i + 1) % PIPE_NBUF) {
		ssize_t len;
		pthread_mutex_lock(&rp.mu);
		while (!rp.full[i])
			pthread_cond_wait(&rp.cv, &rp.mu);
		len = rp.len[i];
		pthread_mutex_unlock(&rp.mu);
		if (len < 0) {
			job->errnum = rp.errnum[i];
			job->st = PPML_E_IO;
			break;
		}
		if (len == 0) {
			job->st = PPML_OK;
			break;
		}
		if (!EVP_DigestUpdate(ctx, rp.buf[i], (size_t)len)) {
			job->st = PPML_E_CRYPTO;
			break;
		}
		job->size += (uint64_t)len;
		pthread_mutex_lock(&rp.mu);
		rp.full[i] = false;
		pthread_cond_broadcast(&rp.cv);
		pthread_mutex_unlock(&rp.mu);
	}
	pthread_mutex_lock(&rp.mu);
	rp.quit = true;
	pthread_cond_broadcast(&rp.cv);
	pthread_mutex_unlock(&rp.mu);
	pthread_join(tid, NULL);
out:
	if (sync_ok)
		pthread_cond_destroy(&rp.cv);
	pthread_mutex_destroy(&rp.mu);
	return started;
}

/* spare_core: no other job is waiting and a CPU of the budget is idle (see worker()). */
static void hash_one(struct gr_hash_job *job, uint8_t *buf, size_t buflen, bool spare_core)
{
	int fd = -1;
	EVP_MD_CTX *ctx = NULL;
	uint8_t md[32];
	unsigned mdlen = 0;
	struct stat sb;

	job->st = PPML_E_IO;
	job->errnum = 0;
	job->size = 0;
	fd = open(job->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		job->errnum = errno;
		job->st = errno == ENOENT ? PPML_E_NOTFOUND : PPML_E_IO;
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		job->st = PPML_E_CRYPTO;
		goto out;
	}
	if (spare_core && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uint64_t)sb.st_size >= PIPE_MIN_SIZE && hash_pipelined(job, fd, ctx, buf, buflen)) {
		if (job->st != PPML_OK)
			goto out;
	} else {
		for (;;) {
			ssize_t r = read_some(fd, buf, buflen);
			if (r < 0) {
				job->errnum = errno;
				job->st = PPML_E_IO;
				goto out;
			}
			if (r == 0)
				break;
			if (!EVP_DigestUpdate(ctx, buf, (size_t)r)) {
				job->st = PPML_E_CRYPTO;
				goto out;
			}
			job->size += (uint64_t)r;
		}
	}
	job->st = PPML_E_IO;
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != sizeof(md)) {
		job->st = PPML_E_CRYPTO;
		goto out;
	}
	ppml_hex_encode(md, sizeof(md), job->hex);
	job->st = PPML_OK;
out:
	EVP_MD_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	uint8_t *buf = malloc(PPML_MANIFEST_HASH_BUF);

	for (;;) {
		size_t i;
		bool spare;
		pthread_mutex_lock(&p->mu);
		if (p->stop || p->next >= p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = p->next++;
		/* nothing left to start and a CPU of the budget idle: this file may use two */
		spare = p->next >= p->n && p->hashing + 1 < p->budget;
		p->hashing++;
		pthread_mutex_unlock(&p->mu);

		if (buf)
			hash_one(&p->jobs[i], buf, PPML_MANIFEST_HASH_BUF, spare);
		else
			p->jobs[i].st = PPML_E_NOMEM;

		pthread_mutex_lock(&p->mu);
		p->hashing--;
		p->order[p->done++] = i;
		p->bytes_done += p->jobs[i].size;
		if (p->jobs[i].st != PPML_OK)
			p->stop = true;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	free(buf);
	pthread_mutex_lock(&p->mu);
	p->active--;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1u : (unsigned)n;
}

ppml_status gr_hash_files(struct gr_hash_job *jobs, size_t n, unsigned threads,
			  ppml_manifest_progress_fn progress, void *progress_ctx,
			  size_t *first_failed, struct ppml_err *err)
{
	ppml_status st = PPML_OK;
	struct pool p;
	pthread_t tids[PPML_MANIFEST_MAX_THREADS];
	unsigned started = 0;
	size_t reported = 0;
	uint64_t bytes_total = 0;
	bool sync_ok = false;

	*first_failed = SIZE_MAX;
	if (n == 0)
		return PPML_OK;
	memset(&p, 0, sizeof(p));
	p.jobs = jobs;
	p.n = n;
	for (size_t i = 0; i < n; i++)
		jobs[i].st = PPML_E_INTERNAL; /* "not run" until a worker takes it */
	p.order = calloc(n, sizeof(*p.order));
	if (!p.order) {
		st = ppml_err_set(err, PPML_E_NOMEM, "out of memory for %zu hash jobs", n);
		goto out;
	}
	if (pthread_mutex_init(&p.mu, NULL) != 0) {
		st = ppml_err_set(err, PPML_E_INTERNAL, "pthread_mutex_init failed");
		goto out;
	}
	if (pthread_cond_init(&p.cv, NULL) != 0) {
		pthread_mutex_destroy(&p.mu);
		st = ppml_err_set(err, PPML_E_INTERNAL, "pthread_cond_init failed");
		goto out;
	}
	sync_ok = true;
	if (progress) {
		for (size_t i = 0; i < n; i++) {
			struct stat sb;
			if (stat(jobs[i].path, &sb) == 0 && S_ISREG(sb.st_mode))
				bytes_total += (uint64_t)sb.st_size;
		}
	}

	if (threads == 0)
		threads = online_cpus();
	if (threads > PPML_MANIFEST_MAX_THREADS)
		threads = PPML_MANIFEST_MAX_THREADS;
	p.budget = threads;
	if (threads > n)
		threads = (unsigned)n;

	pthread_mutex_lock(&p.mu);
	for (unsigned t = 0; t < threads; t++) {
		p.active++;
		if (pthread_create(&tids[t], NULL, worker, &p) != 0) {
			p.active--;
			break;
		}
		started++;
	}
	pthread_mutex_unlock(&p.mu);
	if (started == 0) {
		/* No thread could be started: hash on this one (same semantics). */
		p.active = 1;
		worker(&p);
	}

	/* Report progress from this thread only, and wait for every worker. */
	pthread_mutex_lock(&p.mu);
	for (;;) {
		while (reported < p.done) {
			size_t i = p.order[reported++];
			size_t done = reported;
			uint64_t bytes = p.bytes_done;
			if (progress && jobs[i].st == PPML_OK) {
				pthread_mutex_unlock(&p.mu);
				progress(progress_ctx, jobs[i].index, jobs[i].path, done, n, bytes,
					 bytes_total);
				pthread_mutex_lock(&p.mu);
			}
		}
		if (p.active == 0)
			break;
		pthread_cond_wait(&p.cv, &p.mu);
	}
	pthread_mutex_unlock(&p.mu);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tids[t], NULL);

	for (size_t i = 0; i < n; i++) {
		if (jobs[i].st != PPML_OK) {
			*first_failed = i;
			st = jobs[i].st;
			break;
		}
	}
out:
	if (sync_ok) {
		pthread_cond_destroy(&p.cv);
		pthread_mutex_destroy(&p.mu);
	}
	free(p.order);
	return st;
}
