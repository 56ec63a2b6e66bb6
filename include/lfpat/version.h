/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat/version.h — the version of the headers, and of the library linked.
 *
 * LFP_VERSION_* describe the headers a program was compiled with;
 * lfp_version() the library it runs with. They differ when a program built
 * against one release runs with another's shared library.
 *
 * ABI policy. The objects are caller-allocated and the fast paths are inline,
 * so every public struct's size and field offsets, and every inline fast
 * path, are part of the ABI. While the major version is 0 the soname
 * (liblfpat.so.0.MINOR) changes with the minor version, and the minor
 * version changes whenever any public struct layout or inline fast path
 * changes; a patch release keeps both. tests/test_version.c records the size
 * of every public type so that an unannounced layout change fails CI.
 * This file is the one place the version is written: CMakeLists.txt reads it.
 */
#ifndef LFPAT_VERSION_H
#define LFPAT_VERSION_H

#define LFP_VERSION_MAJOR 0
#define LFP_VERSION_MINOR 5
#define LFP_VERSION_PATCH 0
#define LFP_VERSION_STRING "0.5.0"

/* One integer that orders releases: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define LFP_VERSION_NUMBER \
    (LFP_VERSION_MAJOR * 10000 + LFP_VERSION_MINOR * 100 + LFP_VERSION_PATCH)

#include "lfpat/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The linked library's version string, e.g. "0.2.0". Never NULL; static
 * storage. Thread-safe, async-signal-safe. */
LFP_API const char *lfp_version(void);

/* The linked library's LFP_VERSION_NUMBER. */
LFP_API int lfp_version_number(void);

#ifdef __cplusplus
}
#endif

#endif
