/* clock.h - event timestamps: a calibrated TSC where it is invariant, else
 * CLOCK_MONOTONIC; and the conversion of ticks to nanoseconds since an anchor.
 *
 * Why TSC: on this class of machine (KVM, invariant TSC) rdtsc costs ~11 ns while
 * clock_gettime(CLOCK_MONOTONIC) costs ~33 ns, more than the whole event budget.
 */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* 128-bit products keep tick->ns conversion exact for centuries of ticks. */
__extension__ typedef unsigned __int128 pl_u128;

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PL_HAVE_TSC 1
#else
#define PL_HAVE_TSC 0
#endif

/* Monotonic and wall-clock time in ns. */
static inline uint64_t pl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t pl_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Raw ticks of the chosen clock: TSC ticks, or monotonic ns. */
static inline uint64_t pl_ticks(bool tsc)
{
#if PL_HAVE_TSC
	if (tsc)
		return __rdtsc();
#endif
	(void)tsc;
	return pl_mono_ns();
}

/* Whether the TSC is usable: invariant (constant_tsc + nonstop_tsc) and not disabled
 * by PERFLOG_CLOCK=monotonic. Computed once per process. */
bool pl_clock_tsc_usable(void);

/*
 * struct pl_clock_conv - ticks -> ns since an anchor, as a 32.32 fixed-point rate.
 * The anchor pairs a tick reading with CLOCK_MONOTONIC and CLOCK_REALTIME readings.
 * Owned by one thread (the writer's flusher) after pl_clock_conv_init().
 */
struct pl_clock_conv {
	bool tsc;
	uint64_t tick0;     /* ticks at the anchor */
	uint64_t mono0;     /* CLOCK_MONOTONIC ns at the anchor */
	int64_t wall0;      /* CLOCK_REALTIME ns at the anchor */
	uint64_t mult;      /* ns per tick << 32 */
};

/* Take the anchor and an initial rate (a ~1 ms busy calibration for the TSC). */
void pl_clock_conv_init(struct pl_clock_conv *c, bool tsc);

/* Refine the rate from the anchor to now: the longer the span, the better the rate. */
void pl_clock_conv_refine(struct pl_clock_conv *c);

/* Ticks per second according to the current rate (0 for the monotonic clock). */
double pl_clock_conv_hz(const struct pl_clock_conv *c);

/* Convert ticks (>= anchor, or a tick difference when @delta) to ns. */
static inline uint64_t pl_clock_ns(const struct pl_clock_conv *c, uint64_t ticks)
{
	uint64_t d = ticks >= c->tick0 ? ticks - c->tick0 : 0;
	return (uint64_t)(((pl_u128)d * c->mult) >> 32);
}

static inline uint64_t pl_clock_delta_ns(const struct pl_clock_conv *c, uint64_t dticks)
{
	return (uint64_t)(((pl_u128)dticks * c->mult) >> 32);
}

#endif /* PL_CLOCK_H */
