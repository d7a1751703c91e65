/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parallel SHA-256 of trusted files (spec 2.3, "every entry without a sha256
 * is hashed").  A fixed pool of workers takes jobs in list order from a
 * shared counter; each worker owns one read buffer, so memory stays at
 * threads * PPML_MANIFEST_HASH_BUF however large the files are.
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
	bool stop;           /* a job failed: take no new ones */
	uint64_t bytes_done;
};

static void hash_one(struct gr_hash_job *job, uint8_t *buf, size_t buflen)
{
	int fd = -1;
	EVP_MD_CTX *ctx = NULL;
	uint8_t md[32];
	unsigned mdlen = 0;

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
	for (;;) {
		ssize_t r = read(fd, buf, buflen);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			job->errnum = errno;
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
		pthread_mutex_lock(&p->mu);
		if (p->stop || p->next >= p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);

		if (buf)
			hash_one(&p->jobs[i], buf, PPML_MANIFEST_HASH_BUF);
		else
			p->jobs[i].st = PPML_E_NOMEM;

		pthread_mutex_lock(&p->mu);
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
