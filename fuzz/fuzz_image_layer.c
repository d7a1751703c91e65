/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes image verification with the input as the image's only layer (tar
 * or tar.gz): the tar reader, path normalisation, whiteouts, symlink
 * resolution in the virtual root, and the manifest/signature parsers behind
 * them.  The OCI layout around the layer is made valid each run so the
 * digests check out and the layer is really applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ppml/file.h"
#include "ppml/hex.h"
#include "ppml/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void digest(const void *p, size_t n, char out[72])
{
	uint8_t md[32];
	char hex[65];
	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	ppml_hex_encode(md, 32, hex);
	snprintf(out, 72, "sha256:%s", hex);
}

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static void put_blob(const char *dir, const char *d, const void *p, size_t n)
{
	char name[128];
	snprintf(name, sizeof(name), "blobs/sha256/%s", d + 7);
	put(dir, name, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	char ld[72], cd[72], md[72], cfg[1024], man[1024], idx[512], path[128];
	struct ppml_image_ref ref = {.kind = PPML_IMAGE_OCI};
	struct ppml_image_expect e = {.has_mrsigner = true};
	struct ppml_image_verdict v;
	struct ppml_err err;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/ppml-fuzz-image-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/blobs", dir);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
		mkdir(path, 0700);
		put(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	}
	/* The diff_id is what verification recomputes; a wrong one is refused
	 * early, so give the right one when the input is a plain tar (for
	 * gzip inputs the check itself is what gets fuzzed). */
	digest(data, size, ld);
	put_blob(dir, ld, data, size);
	snprintf(cfg, sizeof(cfg),
		 "{\"config\":{\"WorkingDir\":\"/app\",\"Labels\":{\"io.ppml.sgx.manifest\":"
		 "\"/app/app.manifest.sgx\",\"io.ppml.sgx.sigfile\":\"/app/app.sig\","
		 "\"io.ppml.sgx.libpal\":\"/app/libpal.so\"}},\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\"]}}",
		 ld);
	digest(cfg, strlen(cfg), cd);
	put_blob(dir, cd, cfg, strlen(cfg));
	snprintf(man, sizeof(man),
		 "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":%zu},\"layers\":"
		 "[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\","
		 "\"size\":%zu}]}",
		 cd, strlen(cfg), ld, size);
	digest(man, strlen(man), md);
	put_blob(dir, md, man, strlen(man));
	snprintf(idx, sizeof(idx),
		 "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}", md,
		 strlen(man));
	put(dir, "index.json", idx, strlen(idx));
	snprintf(ref.path, sizeof(ref.path), "%s", dir);
	ppml_status st = ppml_image_verify(&ref, NULL, &e, &v, &err);
	if (st == PPML_OK && v.ok && v.n_reasons)
		__builtin_trap();
	/* Blobs are named by content: remove this run's. */
	const char *ds[] = {ld, cd, md};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, ds[i] + 7);
		unlink(path);
	}
	return 0;
}
