/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the files of src/lib/image; not a public interface. */
#ifndef PPML_IMAGE_INTERNAL_H
#define PPML_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ppml/image.h"
#include "ppml/limits.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_LAYER_TAR    "application/vnd.oci.image.layer.v1.tar"
#define MT_LAYER_GZIP   "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* One layer as a local file (an OCI blob, or a member extracted from a
 * docker archive into a private temporary folder). */
struct img_layer {
	char path[4400];
	char digest[72];       /* of the stored bytes (compressed if gzip) */
	char diff_id[72];      /* of the uncompressed tar, from the config */
	char media_type[96];
	int64_t size;
};

/* An image opened for reading, every digest checked. */
struct img_local {
	char tmpdir[64];       /* non-empty: extraction folder, removed by img_local_free */
	uint8_t *config;       /* exact bytes */
	size_t config_len;
	char config_digest[72];
	json_t *config_json;
	char manifest_digest[72]; /* OCI only ("" for docker archives) */
	struct img_layer *layers;
	size_t n_layers;
};

void img_local_free(struct img_local *im);
/* Opens an OCI layout or docker archive (not scratch): every blob's digest
 * and size, and every layer's diff_id, are checked. */
ppml_status img_local_open(const struct ppml_image_ref *ref, struct img_local *out,
			   struct ppml_err *err);

/* "sha256:<hex>" of a buffer; of a file (and its size). */
void img_digest(const void *p, size_t n, char out[72]);
ppml_status img_digest_file(const char *path, char out[72], int64_t *size, struct ppml_err *err);
/* The uncompressed tar's digest and size of a layer file (gzip or plain). */
ppml_status img_diff_id(const char *path, char out[72], int64_t *size, struct ppml_err *err);
/* Parses "sha256:<64 lowercase hex>"; false otherwise. */
bool img_digest_ok(const char *d);

/* Normalises a path inside an image: no leading "/" or "./", no empty or
 * "." segments; false when a ".." segment or an over-long path appears.
 * "" is the root. */
bool img_norm_path(const char *in, char *out, size_t out_len);

/* One layer entry, as a tar reader sees it. */
struct img_entry {
	const char *path;      /* normalised */
	int type;              /* AE_IFREG, AE_IFDIR, AE_IFLNK, or 0 for a hardlink */
	const char *link;      /* symlink target as stored, or hardlink target (normalised) */
	int64_t size;
	unsigned mode;
};
/* Calls fn for each entry of a layer file (gzip or plain tar); fn may read
 * the entry's data with img_entry_read while it runs.  A path that escapes
 * the root is PPML_E_INPUT naming the layer and the entry.  fn returns
 * false to stop (PPML_OK is returned then). */
struct archive;
typedef bool (*img_entry_fn)(void *ctx, const struct img_entry *e, struct archive *a);
ppml_status img_layer_scan(const char *path, const char *what, img_entry_fn fn, void *ctx,
			   struct ppml_err *err);
/* Reads up to len bytes of the current entry; returns bytes read, 0 at end, <0 on error. */
long img_entry_read(struct archive *a, void *buf, size_t len);

/* ---- writing ---- */

/* One file of the layer build writes.  Folders for every parent are added. */
struct img_file {
	char dest[PPML_IMAGE_MAX_PATH + 1];  /* normalised path in the image */
	char *src;                           /* host file (owned) */
	bool has_sha256;                     /* the content must hash to sha256 */
	char sha256[65];
	const char *what;                    /* for messages: "trusted file", "--add" */
};

/* Writes a deterministic tar.gz layer of files to out_path (sorted entries,
 * parents as folders 0755, files 0644 or 0755 by the source's x bits, owner
 * 0:0, mtime, gzip without name or time).  Refuses private keys and files
 * whose content does not hash as required, naming them.  Returns the blob
 * digest and size and the diff_id. */
ppml_status img_layer_write(struct img_file *files, size_t n, int64_t mtime, const char *out_path,
			    char digest[72], int64_t *size, char diff_id[72], int64_t *tar_size,
			    struct ppml_err *err);

/* Streams a layer file (gzip or plain) uncompressed into fd-less writer
 * callback; used for docker archives. */
typedef bool (*img_sink)(void *ctx, const void *p, size_t n);
ppml_status img_layer_uncompress(const char *path, img_sink sink, void *ctx,
				 struct ppml_err *err);

/* True (and why) when the file is a PEM or DER private key, or holds a PEM
 * private key block anywhere. */
bool img_private_key_in(const uint8_t *p, size_t n, const char **why);

#endif
