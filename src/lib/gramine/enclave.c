/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <unistd.h>

#include "ppml/enclave.h"
#include "ppml/limits.h"

ppml_status ppml_enclave_measure(const uint8_t *manifest_sgx, size_t manifest_len,
				 const uint8_t *pal, size_t pal_len, const char *pal_name,
				 enum ppml_gramine_version version,
				 struct ppml_enclave_identity *id, struct ppml_sgx_layout *layout,
				 struct ppml_err *err)
{
	struct ppml_sgx_manifest_attrs m;
	struct ppml_measure_input in;
	ppml_status rc;

	memset(id, 0, sizeof(*id));
	rc = ppml_manifest_attrs_from_text((const char *)manifest_sgx, manifest_len, version,
					   &id->attrs, err);
	if (rc != PPML_OK)
		return rc;
	if (id->attrs.max_threads == 0 || id->attrs.max_threads > PPML_SGX_MAX_THREADS)
		return ppml_err_set(err, PPML_E_INPUT,
				    "sgx.%s: %llu is out of range (expected 1 to %u)",
				    version == PPML_GRAMINE_1_3 ? "thread_num" : "max_threads",
				    (unsigned long long)id->attrs.max_threads, PPML_SGX_MAX_THREADS);

	/* Section 8: attributes come before the layout, as in Gramine, so e03's
	 * cpu_features error wins over any layout error. */
	m.debug = id->attrs.debug;
	m.use_exinfo = id->attrs.use_exinfo;
	m.avx = id->attrs.cpu_features[PPML_CPU_AVX];
	m.avx512 = id->attrs.cpu_features[PPML_CPU_AVX512];
	m.amx = id->attrs.cpu_features[PPML_CPU_AMX];
	m.mpx = id->attrs.cpu_features[PPML_CPU_MPX];
	m.pkru = id->attrs.cpu_features[PPML_CPU_PKRU];
	m.legacy_require = version == PPML_GRAMINE_1_3;
	m.require_avx = id->attrs.require[PPML_CPU_AVX];
	m.require_avx512 = id->attrs.require[PPML_CPU_AVX512];
	m.require_amx = id->attrs.require[PPML_CPU_AMX];
	m.require_mpx = id->attrs.require[PPML_CPU_MPX];
	m.require_pkru = id->attrs.require[PPML_CPU_PKRU];
	rc = ppml_sigstruct_attributes(&m, &id->params, err);
	if (rc != PPML_OK)
		return rc;
	id->params.isv_prod_id = id->attrs.isvprodid;
	id->params.isv_svn = id->attrs.isvsvn;

	memset(&in, 0, sizeof(in));
	in.manifest = manifest_sgx;
	in.manifest_len = manifest_len;
	in.pal = pal;
	in.pal_len = pal_len;
	in.pal_name = pal_name;
	in.enclave_size = id->attrs.enclave_size;
	in.max_threads = (uint32_t)id->attrs.max_threads;
	in.edmm_enable = id->attrs.edmm_enable;
	/* spec 12: v1.3 places a PIE enclave at base = E unless sgx.nonpie_binary */
	in.base = version == PPML_GRAMINE_1_3 && !id->attrs.nonpie_binary ? in.enclave_size : 0;
	return ppml_measure_mrenclave(&in, id->params.mrenclave, layout, err);
}

const char *ppml_enclave_default_libpal(void)
{
	/* Gramine's pkglibdir in Debian/Ubuntu packages, then a source install's. */
	static const char *const candidates[] = {
		"/usr/lib/x86_64-linux-gnu/gramine/sgx/libpal.so",
		"/usr/local/lib/x86_64-linux-gnu/gramine/sgx/libpal.so",
		"/usr/lib/gramine/sgx/libpal.so",
		"/usr/local/lib/gramine/sgx/libpal.so",
	};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	return NULL;
}
