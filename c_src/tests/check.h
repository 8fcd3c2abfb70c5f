/* The C unit tests' checks: CHECK(cond) and CHECK_STR(got, want) count, print the failing line and
 * go on; a test's main prints `checks' and `failures' and exits 1 when any failed. */
#ifndef LL_TESTS_CHECK_H
#define LL_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int failures, checks;

#define CHECK(c)                                                                                       \
    do {                                                                                               \
        checks++;                                                                                      \
        if (!(c)) {                                                                                    \
            failures++;                                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);                      \
        }                                                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                                \
    do {                                                                                               \
        checks++;                                                                                      \
        const char *a_ = (a), *b_ = (b);                                                               \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                                            \
            failures++;                                                                                \
            fprintf(stderr, "%s:%d: got\n  %s\nwant\n  %s\n", __FILE__, __LINE__, a_ ? a_ : "(null)", \
                    b_ ? b_ : "(null)");                                                               \
        }                                                                                              \
    } while (0)

#endif
