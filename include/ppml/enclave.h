/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/enclave.h - a Gramine enclave's identity from its signed artefacts.
 *
 * Ties the manifest layer (attributes of manifest.sgx), the measurement
 * (layout + MRENCLAVE) and the SIGSTRUCT body together, exactly as
 * gramine-sgx-sign v1.9 does after writing manifest.sgx (spec section 1,
 * step 5: the written bytes are measured; they are parsed again only for the
 * attribute values).  Used by sign, measure, identity and sigstruct verify.
 */
#ifndef PPML_ENCLAVE_H
#define PPML_ENCLAVE_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"
#include "ppml/manifest.h"
#include "ppml/measure.h"
#include "ppml/sigstruct.h"

struct ppml_enclave_identity {
	struct ppml_manifest_attrs attrs;     /* sgx.* values read from manifest.sgx */
	struct ppml_sigstruct_params params;  /* MRENCLAVE, attributes, masks, ISV; date = 0 */
};

/*
 * Measures manifest.sgx (exact bytes) with the PAL and derives the SIGSTRUCT
 * body parameters, with the rules of the given Gramine version (1.3: the
 * v1.3.1 keys, attribute rules and PIE layout of spec section 12).  Fails with Gramine's messages for disallowed cpu_features
 * values and "Enclave size is not large enough".  layout (optional) receives
 * the memory layout; free it with ppml_measure_layout_cleanup.
 */
ppml_status ppml_enclave_measure(const uint8_t *manifest_sgx, size_t manifest_len,
				 const uint8_t *pal, size_t pal_len, const char *pal_name,
				 enum ppml_gramine_version version,
				 struct ppml_enclave_identity *id, struct ppml_sgx_layout *layout,
				 struct ppml_err *err) PPML_WARN_UNUSED;

/*
 * Where Gramine keeps its SGX PAL on this host (pkglibdir/sgx/libpal.so), or
 * NULL when Gramine is not installed.  Static storage.
 */
const char *ppml_enclave_default_libpal(void);

#endif
