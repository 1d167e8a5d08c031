/* SPDX-License-Identifier: MIT */
/* perflog/name.h - interned names for action types, message types and field names.
 *
 * Names are interned once per process and referred to by a small number on the hot
 * path; every trace file defines each number it uses once, before first use.
 */
#ifndef PERFLOG_NAME_H
#define PERFLOG_NAME_H

#include <stddef.h>
#include <stdint.h>

#include <perflog/value.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An interned name. 0 is the empty name, also returned when interning fails. Since: 0.1 */
typedef uint32_t pl_name;

/**
 * pl_name_intern() - intern a UTF-8 name for use as an action, message or field name.
 * @s: the name; need not be NUL-terminated.
 * @len: its length in bytes (at most PL_NAME_MAX_LEN; longer names are cut there).
 *
 * Interning the same bytes again returns the same number. Names live until the process
 * ends (they are few: one per call site or function). Thread-safe; takes a lock and may
 * allocate, so call it once per call site (see PL_NAME()), not per event.
 *
 * Returns: the name's number, or 0 (the empty name) if memory, PL_NAMES_MAX or
 * PL_NAMES_MAX_BYTES ran out (every trace defines every name, and a reader refuses files
 * past these). Never fails otherwise. Since: 0.1
 */
pl_name pl_name_intern(const char *s, size_t len);

/**
 * pl_name_str() - the text of an interned name.
 * @name: a number returned by pl_name_intern().
 * @len: if not NULL, receives the length.
 *
 * Returns: the NUL-terminated text, owned by the library and valid for the process's
 * lifetime, or "" for an unknown number. Thread-safe, lock-free. Since: 0.1
 */
const char *pl_name_str(pl_name name, size_t *len);

/** Longest name kept, in bytes. */
#define PL_NAME_MAX_LEN 1024u
/** Most names one process can intern. */
#define PL_NAMES_MAX (1u << 20)
/** Most bytes of names one process can intern (each name's length plus one). */
#define PL_NAMES_MAX_BYTES (64u << 20)

/**
 * struct pl_field - a named field value given to the writer (an input, an output, a
 * message field). The name is an interned pl_name (PL_NAME(), pl_name_intern()): a
 * number written once per trace file, not the text at every event. The value is copied
 * during the call. Its read-side counterpart is struct pl_kv (value.h): the name as text,
 * as a reader gives it back, and also the key/value pairs inside a PL_VALUE_MAP value,
 * whose keys are not interned (maps are rare, and their keys come from data).
 */
struct pl_field {
	pl_name name;
	pl_value value;
};

/**
 * PL_NAME() - intern a string literal once per call site (GNU C statement expression).
 *
 * The number is cached in a static variable; the first call interns, later calls cost
 * one load. Safe to race: both racers get the same number.
 */
#define PL_NAME(lit)                                                                               \
	__extension__({                                                                            \
		static pl_name pl_name_cache_;                                                     \
		pl_name pl_n_ = __atomic_load_n(&pl_name_cache_, __ATOMIC_RELAXED);                \
		if (__builtin_expect(pl_n_ == 0, 0)) {                                             \
			pl_n_ = pl_name_intern((lit), sizeof(lit) - 1);                            \
			__atomic_store_n(&pl_name_cache_, pl_n_, __ATOMIC_RELAXED);                \
		}                                                                                  \
		pl_n_;                                                                             \
	})

/* Field constructors for the common cases: PL_F_INT("n", 3), PL_F_STR("word", w). */
#define PL_F(lit, val)	   ((struct pl_field){PL_NAME(lit), (val)})
#define PL_F_INT(lit, x)   PL_F(lit, PL_V_INT(x))
#define PL_F_UINT(lit, x)  PL_F(lit, PL_V_UINT(x))
#define PL_F_FLOAT(lit, x) PL_F(lit, PL_V_FLOAT(x))
#define PL_F_BOOL(lit, x)  PL_F(lit, PL_V_BOOL(x))
#define PL_F_STR(lit, s)   PL_F(lit, PL_V_STR(s))

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_NAME_H */
