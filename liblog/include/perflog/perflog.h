/* SPDX-License-Identifier: MIT */
/* perflog/perflog.h - umbrella header for liblog, perflog's C library. */
#ifndef PERFLOG_PERFLOG_H
#define PERFLOG_PERFLOG_H

#include <perflog/action.h>
#include <perflog/name.h>
#include <perflog/reader.h>
#include <perflog/status.h>
#include <perflog/value.h>
#include <perflog/writer.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PL_VERSION_MAJOR  0
#define PL_VERSION_MINOR  2
#define PL_VERSION_PATCH  0
#define PL_VERSION_STRING "0.2.0"
/** PL_VERSION_NUMBER: major * 10000 + minor * 100 + patch, as pl_version_number(). */
#define PL_VERSION_NUMBER (PL_VERSION_MAJOR * 10000 + PL_VERSION_MINOR * 100 + PL_VERSION_PATCH)

/** pl_version_number() - the library's version at run time (see PL_VERSION_NUMBER). */
unsigned pl_version_number(void);
/** pl_version_string() - "0.2.0"; static storage. */
const char *pl_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_PERFLOG_H */
