/*
 * tap.h: a minimal TAP producer for the C unit tests.  Each check prints
 * "ok N - name" or "not ok N - name" (with a diagnostic); tap_done() prints
 * the plan and returns the exit status.
 */
#ifndef MP_TAP_H
#define MP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                         \
	do {                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);               \
		if (!ok(g_ == w_, __VA_ARGS__))                                        \
			printf("#   got %lld, want %lld\n", g_, w_);                  \
	} while (0)
#define is_str(got, want, ...)                                                         \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                  \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                 \
			printf("#   got '%s'\n#  want '%s'\n", g_ ? g_ : "(null)",     \
				w_ ? w_ : "(null)");                                   \
	} while (0)
#define has_str(hay, needle, ...)                                                      \
	do {                                                                           \
		const char *h_ = (hay), *n_ = (needle);                                \
		if (!ok(h_ && strstr(h_, n_) != NULL, __VA_ARGS__))                    \
			printf("#   '%s'\n#   does not contain '%s'\n", h_ ? h_ : "(null)", n_); \
	} while (0)

/* n checks that cannot run here, with the reason. */
static inline void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
	fflush(stdout);
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
