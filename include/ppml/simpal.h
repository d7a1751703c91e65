/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ppml/simpal.h - ppml-sim-pal.so, the stand-in for Gramine's sgx/libpal.so
 * on machines without Gramine.
 *
 * Signing measures the PAL, so simulation signing needs one.  The stand-in
 * is a small x86-64 ELF shared object that ppml writes itself, byte for byte
 * the same on every machine and toolchain (version 1: two PT_LOAD segments,
 * a text page naming what it is and a data page with a bss tail).  It is
 * never executed.  An enclave measured with it has an MRENCLAVE that NO real
 * Gramine enclave has: it is for `ppml run --sim` and the demo only.
 */
#ifndef PPML_SIMPAL_H
#define PPML_SIMPAL_H

#include <stddef.h>
#include <stdint.h>

#include "ppml/err.h"

#define PPML_SIMPAL_NAME    "ppml-sim-pal.so"
#define PPML_SIMPAL_VERSION 1

/* The stand-in's bytes (static storage, *len set); the same on every call. */
const uint8_t *ppml_simpal_image(size_t *len);

/* Writes the stand-in to path (atomically, mode 0644). */
ppml_status ppml_simpal_write(const char *path, struct ppml_err *err) PPML_WARN_UNUSED;

/* True when the file at path is exactly the stand-in. */
int ppml_simpal_is(const char *path);

#endif
