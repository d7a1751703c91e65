/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated attestation socket (include/ppml/simpki.h): 64 bytes of
 * report data in, one quote out. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ppml/file.h"
#include "ppml/limits.h"
#include "ppml/simpki.h"

#define IO_TIMEOUT_S 5

struct ppml_simatt {
	const struct ppml_simpki *pki;
	struct ppml_sgx_report_body body;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd, stop[2];
	pthread_t thread;
	pthread_mutex_t lock;
	atomic_ulong served;
};

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void serve_one(struct ppml_simatt *s, int fd)
{
	struct ppml_sgx_report_body b = s->body;
	uint8_t *q = NULL;
	size_t ql = 0;

	set_timeouts(fd);
	size_t got = 0;
	if (!ppml_fd_read_full(fd, b.report_data, 64, &got) || got != 64)
		return;
	pthread_mutex_lock(&s->lock);
	ppml_status st = ppml_simpki_quote(s->pki, &b, NULL, &q, &ql, NULL);
	pthread_mutex_unlock(&s->lock);
	if (st == PPML_OK && ppml_fd_write_full(fd, q, ql))
		atomic_fetch_add(&s->served, 1);
	free(q);
}

static void *loop(void *arg)
{
	struct ppml_simatt *s = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			/* One request at a time: the child is one enclave. */
			serve_one(s, fd);
			close(fd);
		}
	}
	return NULL;
}

ppml_status ppml_simatt_start(const struct ppml_simpki *pki, const struct ppml_sgx_report_body *body,
			      const char *path, struct ppml_simatt **out, struct ppml_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ppml_simatt *s;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return ppml_err_set(err, PPML_E_INPUT, "%s: too long for a Unix socket path (%zu "
				    "bytes at most)", path, sizeof(sa.sun_path) - 1);
	if (!(s = calloc(1, sizeof(*s))))
		return ppml_err_set(err, PPML_E_NOMEM, "out of memory");
	s->pki = pki;
	s->body = *body;
	s->lfd = s->stop[0] = s->stop[1] = -1;
	snprintf(s->path, sizeof(s->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path));
	pthread_mutex_init(&s->lock, NULL);
	if (pipe2(s->stop, O_CLOEXEC) != 0 ||
	    (s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		ppml_status rc = ppml_err_set(err, PPML_E_IO, "attestation socket: %s",
					      strerror(errno));
		ppml_simatt_stop(s);
		return rc;
	}
	/* Created 0600 (umask during bind), then made sure with chmod. */
	mode_t old = umask(0177);
	int b = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (b != 0 || chmod(path, 0600) != 0 || listen(s->lfd, 16) != 0) {
		ppml_status rc = ppml_err_set(err, PPML_E_IO, "%s: cannot listen: %s", path,
					      strerror(errno));
		if (b == 0)
			unlink(path);
		s->path[0] = 0;
		ppml_simatt_stop(s);
		return rc;
	}
	if (pthread_create(&s->thread, NULL, loop, s) != 0) {
		unlink(path);
		s->path[0] = 0;
		ppml_simatt_stop(s);
		return ppml_err_set(err, PPML_E_INTERNAL, "attestation socket: no thread");
	}
	*out = s;
	return PPML_OK;
}

void ppml_simatt_stop(struct ppml_simatt *s)
{
	if (!s)
		return;
	if (s->thread) {
		ssize_t w = write(s->stop[1], "x", 1);
		(void)w;
		pthread_join(s->thread, NULL);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop[0] >= 0)
		close(s->stop[0]);
	if (s->stop[1] >= 0)
		close(s->stop[1]);
	if (s->path[0])
		unlink(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

unsigned long ppml_simatt_count(const struct ppml_simatt *s)
{
	return atomic_load(&((struct ppml_simatt *)s)->served);
}

ppml_status ppml_simatt_request(const char *path, const uint8_t report_data[64], uint8_t **quote,
				size_t *quote_len, struct ppml_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = -1;
	ppml_status rc;

	*quote = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return ppml_err_set(err, PPML_E_INPUT, "%s: too long for a Unix socket path", path);
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = ppml_err_set(err, PPML_E_IO,
				  "simulated attestation at %s: %s (is this running under `ppml run "
				  "--sim`?)",
				  path, strerror(errno));
		goto out;
	}
	set_timeouts(fd);
	if (!ppml_fd_write_full(fd, report_data, 64)) {
		rc = ppml_err_set(err, PPML_E_IO, "simulated attestation at %s: write: %s", path,
				  strerror(errno));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	if (!(buf = malloc(PPML_QUOTE_MAX_SIZE + 1))) {
		rc = ppml_err_set(err, PPML_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t k = read(fd, buf + len, PPML_QUOTE_MAX_SIZE + 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = ppml_err_set(err, PPML_E_IO, "simulated attestation at %s: read: %s",
					  path, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > PPML_QUOTE_MAX_SIZE) {
			rc = ppml_err_set(err, PPML_E_LIMIT,
					  "simulated attestation at %s: answer over %u bytes", path,
					  PPML_QUOTE_MAX_SIZE);
			goto out;
		}
	}
	if (len == 0) {
		rc = ppml_err_set(err, PPML_E_IO, "simulated attestation at %s: no quote", path);
		goto out;
	}
	*quote = buf;
	*quote_len = len;
	buf = NULL;
	rc = PPML_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
