/* Unit tests of the DDSketch core: mapping, stores, collapse, merge, quantiles, serialisation.
 *
 *   test_sketch                       run the tests (exit status 1 on the first failure)
 *   test_sketch --write-seeds DIR     write valid encodings as a fuzz seed corpus
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ddsketch.h"

/* xorshift64*: deterministic data without libc rand's global state. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}
static double normal(void)
{
    double u = uniform01(), v = uniform01();
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int within(double est, double exact, double alpha)
{
    return fabs(est - exact) <= alpha * fabs(exact) * (1 + 1e-9) + 1e-300;
}

/* Every quantile 0.01..0.99 and 0.999 within alpha of the sorted exact value. */
static void check_accuracy(const dds_sketch *s, double *sorted, size_t n, double alpha, const char *what)
{
    qsort(sorted, n, sizeof *sorted, cmp_double);
    double qs[100];
    double out[100];
    for (int i = 0; i < 99; i++)
        qs[i] = (i + 1) / 100.0;
    qs[99] = 0.999;
    CHECK(dds_quantiles(s, qs, 100, out) == DDS_OK);
    for (int i = 0; i < 100; i++) {
        double exact = sorted[(size_t)floor(qs[i] * (double)(n - 1))];
        double one = dds_quantile(s, qs[i]);
        if (!within(one, exact, alpha) || one != out[i]) {
            fprintf(stderr, "%s: q=%g exact=%.17g got=%.17g batch=%.17g\n", what, qs[i], exact, one, out[i]);
            failures++;
            return;
        }
    }
    CHECK(dds_quantile(s, 0.0) == sorted[0]);
    CHECK(dds_quantile(s, 1.0) == sorted[n - 1]);
}

static void test_mapping(void)
{
    dds_sketch s;
    CHECK(dds_init(&s, 0.01, 2048) == DDS_OK);
    for (double v = 1e-300; v < 1e300; v *= 1.37) {
        int32_t k = dds_key(&s, v);
        CHECK(within(dds_value(&s, k), v, 0.01));
        CHECK(k >= s.min_key && k <= s.max_key);
    }
    CHECK(dds_key(&s, 1.0) == 0);
    CHECK(dds_key(&s, s.gamma * 1.0000001) == 2);
    CHECK(!dds_valid_alpha(0.0) && !dds_valid_alpha(1.0) && !dds_valid_alpha(NAN) && dds_valid_alpha(0.5));
    CHECK(!dds_valid_max_bins(0) && !dds_valid_max_bins(65537) && dds_valid_max_bins(1));
    dds_sketch bad;
    CHECK(dds_init(&bad, 0.0, 10) == DDS_ERR_BADARG);
    dds_free(&bad);
    dds_free(&s);
}

static void test_empty_and_stats(void)
{
    dds_sketch s;
    dds_init(&s, 0.02, 100);
    CHECK(s.count == 0);
    CHECK(dds_insert(&s, NAN, 1) == DDS_ERR_BADARG);
    CHECK(dds_insert(&s, INFINITY, 1) == DDS_ERR_BADARG);
    CHECK(dds_insert(&s, 1.0, 0) == DDS_ERR_BADARG);
    CHECK(dds_insert(&s, 3.0, 2) == DDS_OK);
    CHECK(dds_insert(&s, -4.0, 1) == DDS_OK);
    CHECK(dds_insert(&s, 0.0, 1) == DDS_OK);
    CHECK(dds_insert(&s, 1e-310, 1) == DDS_OK); /* below the indexable range: a zero */
    CHECK(s.count == 5 && s.zero_count == 2 && s.pos.count == 2 && s.neg.count == 1);
    CHECK(s.sum == 2.0 + 1e-310 || s.sum == 2.0);
    CHECK(s.min == -4.0 && s.max == 3.0);
    CHECK(dds_quantile(&s, 0.0) == -4.0);
    CHECK(dds_quantile(&s, 0.3) == 0.0);  /* rank 1 */
    CHECK(within(dds_quantile(&s, 0.8), 3.0, 0.02));
    CHECK(dds_insert(&s, DBL_MAX, 1) == DDS_OK);
    CHECK(dds_insert(&s, DBL_MAX, 1) == DDS_OK);
    CHECK(s.sum == DBL_MAX); /* saturates */
    CHECK(dds_quantile(&s, 0.99) == DBL_MAX);
    dds_clear(&s);
    CHECK(s.count == 0 && s.pos.count == 0 && s.min == INFINITY);
    CHECK(dds_insert(&s, 7.0, 1) == DDS_OK);
    CHECK(dds_quantile(&s, 0.5) == 7.0); /* clamped into [min, max] */
    dds_free(&s);
}

static void test_distributions(void)
{
    const size_t n = 20000;
    double *data = malloc(n * sizeof *data);
    const char *names[] = {"uniform", "lognormal", "pareto", "mixed-sign", "with-zeros"};
    for (int d = 0; d < 5; d++) {
        dds_sketch s;
        dds_init(&s, 0.01, 2048);
        for (size_t i = 0; i < n; i++) {
            double v;
            switch (d) {
            case 0: v = uniform01() * 1000.0; break;
            case 1: v = exp(normal() * 1.5); break;
            case 2: v = 1.0 / pow(uniform01() + 1e-12, 1.0 / 1.1); break;
            case 3: v = normal() * 100.0; break;
            default: v = uniform01() < 0.3 ? 0.0 : exp(normal()) * (uniform01() < 0.5 ? -1 : 1); break;
            }
            data[i] = v;
            CHECK(dds_insert(&s, v, 1) == DDS_OK);
        }
        check_accuracy(&s, data, n, 0.01, names[d]);
        CHECK(!s.pos.collapsed && !s.neg.collapsed);
        dds_free(&s);
    }
    free(data);
}

/* With a small bin cap the lowest bins collapse; quantiles above the collapsed range hold. */
static void test_collapse(void)
{
    dds_sketch s;
    dds_init(&s, 0.01, 64);
    const size_t n = 5000;
    double *data = malloc(n * sizeof *data);
    for (size_t i = 0; i < n; i++) {
        data[i] = exp(uniform01() * 10.0); /* 1 .. 22026: ~500 keys */
        dds_insert(&s, data[i], 1);
    }
    CHECK(s.pos.collapsed);
    CHECK(s.pos.max_key - s.pos.min_key + 1 <= 64);
    CHECK(s.pos.cap <= 64);
    qsort(data, n, sizeof *data, cmp_double);
    double floor_value = dds_value(&s, s.pos.min_key);
    int checked = 0;
    for (int i = 1; i < 1000; i++) {
        double q = i / 1000.0;
        double exact = data[(size_t)floor(q * (double)(n - 1))];
        if (exact <= floor_value * 1.03)
            continue;
        checked++;
        CHECK(within(dds_quantile(&s, q), exact, 0.01));
    }
    CHECK(checked > 100); /* the top ~13% of the data lies above the collapsed range */
    /* a value below the collapsed range lands in the lowest bin */
    uint64_t low = s.pos.bins[s.pos.min_key - s.pos.offset];
    dds_insert(&s, 0.5, 1);
    CHECK(s.pos.bins[s.pos.min_key - s.pos.offset] == low + 1);
    CHECK(s.min == 0.5);
    /* a jump far above everything collapses all into the lowest kept bin */
    dds_insert(&s, 1e200, 1);
    CHECK(s.pos.max_key - s.pos.min_key + 1 == 64);
    uint64_t total = 0;
    for (int32_t k = s.pos.min_key; k <= s.pos.max_key; k++)
        total += s.pos.bins[k - s.pos.offset];
    CHECK(total == s.pos.count && total == n + 2);
    CHECK(s.pos.bins[s.pos.min_key - s.pos.offset] == n + 1);
    free(data);

    /* regression (found by fuzz_sketch_ops): merging values below a collapsed store's lowest
     * bin lands them in that bin; it must not open a lower bin under the collapsed one */
    dds_sketch c1, c2;
    dds_init(&c1, 0.01, 2);
    dds_init(&c2, 0.01, 2);
    dds_insert(&c1, 1.0, 1);
    dds_insert(&c1, 1e6, 1);
    CHECK(c1.pos.collapsed);
    int32_t floor_key = c1.pos.min_key;
    dds_insert(&c2, 1e6 / 1.05, 1); /* one key below c1's lowest */
    dds_sketch c4; /* collapsed (by merge) with room left under its cap */
    dds_init(&c4, 0.01, 4);
    CHECK(dds_merge(&c4, &c1) == DDS_OK);
    CHECK(c4.pos.collapsed && c4.pos.min_key == floor_key);
    CHECK(dds_merge(&c4, &c2) == DDS_OK);
    CHECK(c4.pos.min_key == floor_key);
    CHECK(c4.pos.bins[floor_key - c4.pos.offset] == 2);
    dds_insert(&c4, 1e6 / 1.05, 1); /* the insert path clamps the same way */
    CHECK(c4.pos.min_key == floor_key && c4.pos.bins[floor_key - c4.pos.offset] == 3);
    dds_free(&c4);
    CHECK(dds_merge(&c1, &c2) == DDS_OK);
    CHECK(c1.pos.min_key == floor_key);
    CHECK(c1.pos.bins[floor_key - c1.pos.offset] == 2);
    /* and merging a collapsed sketch raises the receiver's collapsed range to the sender's */
    dds_sketch c3;
    dds_init(&c3, 0.01, 2048);
    dds_insert(&c3, 1e-3, 1);
    dds_insert(&c3, 1e3, 1);
    CHECK(dds_merge(&c3, &c1) == DDS_OK);
    CHECK(c3.pos.collapsed && c3.pos.min_key == floor_key);
    CHECK(c3.pos.bins[floor_key - c3.pos.offset] == 4); /* 1e-3, 1e3, 1.0, 1e6/1.05 */
    dds_free(&c1);
    dds_free(&c2);
    dds_free(&c3);

    /* negatives: the most negative values (the lowest keys of the negative store) collapse */
    dds_sketch neg;
    dds_init(&neg, 0.01, 32);
    for (int i = 0; i < 1000; i++)
        dds_insert(&neg, -exp(i / 100.0), 1);
    CHECK(neg.neg.collapsed);
    CHECK(within(dds_quantile(&neg, 0.99), -exp(9.99 - 0.99 * 9.99), 0.01) ||
          within(dds_quantile(&neg, 0.99), -exp(0.09), 0.02));
    dds_free(&neg);
    dds_free(&s);
}

static int same_state(const dds_sketch *a, const dds_sketch *b)
{
    if (a->count != b->count || a->zero_count != b->zero_count || a->pos.count != b->pos.count ||
        a->neg.count != b->neg.count || a->pos.collapsed != b->pos.collapsed ||
        a->neg.collapsed != b->neg.collapsed || a->alpha != b->alpha || a->max_bins != b->max_bins)
        return 0;
    if (a->count && (a->min != b->min || a->max != b->max || a->sum != b->sum))
        return 0;
    const dds_store *sa[2] = {&a->pos, &a->neg}, *sb[2] = {&b->pos, &b->neg};
    for (int i = 0; i < 2; i++) {
        if (!sa[i]->count)
            continue;
        if (sa[i]->min_key != sb[i]->min_key || sa[i]->max_key != sb[i]->max_key)
            return 0;
        for (int32_t k = sa[i]->min_key; k <= sa[i]->max_key; k++)
            if (sa[i]->bins[k - sa[i]->offset] != sb[i]->bins[k - sb[i]->offset])
                return 0;
    }
    return 1;
}

static void test_merge(void)
{
    for (int round = 0; round < 20; round++) {
        int32_t bins = round % 2 ? 2048 : 40;
        dds_sketch a, b, both;
        dds_init(&a, 0.01, bins);
        dds_init(&b, 0.01, bins);
        dds_init(&both, 0.01, bins);
        double scale_a = exp(normal() * 3), scale_b = exp(normal() * 3);
        for (int i = 0; i < 3000; i++) {
            double v = exp(normal()) * scale_a * (uniform01() < 0.1 ? -1 : 1);
            dds_insert(&a, v, 1);
            dds_insert(&both, v, 1);
            double w = uniform01() < 0.05 ? 0.0 : exp(normal() * 2) * scale_b;
            dds_insert(&b, w, 2);
            dds_insert(&both, w, 2);
        }
        dds_sketch b_before;
        CHECK(dds_copy(&b_before, &b) == DDS_OK);
        CHECK(dds_merge(&a, &b) == DDS_OK);
        CHECK(same_state(&b, &b_before));
        if (bins == 2048) {
            /* without collapse merge is exact, except for the order of float additions in sum */
            a.sum = both.sum;
            CHECK(same_state(&a, &both));
        } else {
            CHECK(a.count == both.count && a.pos.count == both.pos.count);
            CHECK(a.pos.max_key == both.pos.max_key);
        }
        /* merging into itself doubles */
        uint64_t c = b.count;
        CHECK(dds_merge(&b, &b) == DDS_OK);
        CHECK(b.count == 2 * c && b.pos.count == 2 * b_before.pos.count);
        dds_free(&a);
        dds_free(&b);
        dds_free(&b_before);
        dds_free(&both);
    }
    dds_sketch x, y, e;
    dds_init(&x, 0.01, 2048);
    dds_init(&y, 0.02, 2048);
    dds_init(&e, 0.01, 2048);
    dds_insert(&y, 1.0, 1);
    CHECK(dds_merge(&x, &y) == DDS_ERR_INCOMPATIBLE);
    CHECK(dds_merge(&x, &e) == DDS_OK && x.count == 0);
    dds_insert(&x, 5.0, DDS_MAX_COUNT - 1);
    dds_insert(&e, 5.0, 2);
    CHECK(dds_merge(&x, &e) == DDS_ERR_OVERFLOW);
    CHECK(dds_insert(&x, 1.0, 2) == DDS_ERR_BADARG);
    dds_free(&x);
    dds_free(&y);
    dds_free(&e);
}

static size_t encode_alloc(const dds_sketch *s, uint8_t **out)
{
    size_t cap = dds_encoded_size_max(s);
    *out = malloc(cap);
    size_t n = dds_encode(s, *out, cap);
    CHECK(n > 0 && n <= cap);
    uint8_t *small = malloc(n);
    CHECK(dds_encode(s, small, n - 1) == 0); /* too small a buffer is refused */
    free(small);
    return n;
}

static void check_roundtrip(const dds_sketch *s)
{
    uint8_t *buf, *buf2;
    size_t n = encode_alloc(s, &buf);
    dds_sketch d;
    dds_decode_status st = dds_decode(buf, n, &d);
    CHECK(st == DDS_DEC_OK);
    if (st == DDS_DEC_OK) {
        CHECK(same_state(s, &d));
        size_t n2 = encode_alloc(&d, &buf2);
        CHECK(n2 == n && memcmp(buf, buf2, n) == 0);
        free(buf2);
        dds_free(&d);
    }
    /* every strict prefix is rejected */
    for (size_t len = 0; len < n; len++) {
        CHECK(dds_decode(buf, len, &d) != DDS_DEC_OK);
    }
    free(buf);
}

static void fill_varied(dds_sketch *s, int variant)
{
    for (int i = 0; i < 2000; i++) {
        double v;
        switch (variant % 4) {
        case 0: v = exp(normal()) * 1e-3; break;
        case 1: v = normal() * 10; break;
        case 2: v = uniform01() < 0.5 ? 0.0 : uniform01(); break;
        default: v = exp(uniform01() * 40 - 20); break;
        }
        dds_insert(s, v, 1 + (uint64_t)(uniform01() * 3));
    }
}

static void test_serialisation(void)
{
    dds_sketch s;
    dds_init(&s, 0.01, 2048);
    check_roundtrip(&s); /* empty */
    for (int v = 0; v < 8; v++) {
        dds_sketch t;
        dds_init(&t, v < 4 ? 0.01 : 0.05, v % 2 ? 30 : 2048);
        fill_varied(&t, v);
        check_roundtrip(&t);
        dds_free(&t);
    }
    /* compactness: 1e6 lognormal latencies around 1 ms */
    for (int i = 0; i < 1000000; i++)
        dds_insert(&s, exp(normal() * 0.5) * 1.0, 1);
    uint8_t *buf;
    size_t n = encode_alloc(&s, &buf);
    CHECK(n <= 4096);
    check_roundtrip(&s);

    /* corruptions (after a body change, dds_reseal makes the checksum match again so that the
     * body checks are reached) */
    dds_sketch d;
    uint8_t *bad = malloc(n + 1);
    memcpy(bad, buf, n);
    bad[n] = 0;
    CHECK(dds_decode(bad, n + 1, &d) == DDS_DEC_BAD_CHECKSUM);
    dds_reseal(bad, n + 1);
    CHECK(dds_decode(bad, n + 1, &d) == DDS_DEC_TRAILING_BYTES);
    memcpy(bad, buf, n);
    bad[0] = 'X';
    CHECK(dds_decode(bad, n, &d) == DDS_DEC_BAD_MAGIC);
    memcpy(bad, buf, n);
    bad[2] = 1; /* version 1 had no checksum */
    CHECK(dds_decode(bad, n, &d) == DDS_DEC_BAD_VERSION);
    bad[2] = 9;
    CHECK(dds_decode(bad, n, &d) == DDS_DEC_BAD_VERSION);
    memcpy(bad, buf, n);
    bad[3] = 4;
    CHECK(dds_decode(bad, n, &d) == DDS_DEC_BAD_CHECKSUM);
    dds_reseal(bad, n);
    CHECK(dds_decode(bad, n, &d) == DDS_DEC_BAD_HEADER);
    memcpy(bad, buf, n);
    bad[3] = 1; /* claims a collapse that never happened: still a valid sketch */
    dds_reseal(bad, n);
    CHECK(dds_decode(bad, n, &d) == DDS_DEC_OK);
    dds_free(&d);
    memcpy(bad, buf, n);
    memset(bad + 4, 0, 8); /* alpha 0 */
    dds_reseal(bad, n);
    CHECK(dds_decode(bad, n, &d) == DDS_DEC_BAD_HEADER);
    /* every single flipped bit, anywhere (checksum included), is rejected */
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, buf, n);
            bad[i] ^= (uint8_t)(1u << bit);
            CHECK(dds_decode(bad, n, &d) != DDS_DEC_OK);
        }
    }
    /* every resealed single-byte change is either rejected or decodes to a sketch that
     * re-encodes to exactly those bytes */
    for (size_t i = 0; i + 4 < n; i++) {
        for (int delta = 1; delta < 256; delta += 37) {
            memcpy(bad, buf, n);
            bad[i] = (uint8_t)(bad[i] + delta);
            dds_reseal(bad, n);
            if (dds_decode(bad, n, &d) == DDS_DEC_OK) {
                uint8_t *again;
                size_t m = encode_alloc(&d, &again);
                CHECK(m == n && memcmp(again, bad, n) == 0);
                free(again);
                dds_free(&d);
            }
        }
    }
    /* hand-made hostile inputs (4 trailing bytes for the checksum, set by dds_reseal) */
    uint8_t huge_bins[] = {'D', 'K', 2, 0, 0x7b, 0x14, 0xae, 0x47, 0xe1, 0x7a, 0x84, 0x3f,
                                 0x80, 0x10, 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
                                 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0};
    dds_reseal(huge_bins, sizeof huge_bins);
    CHECK(dds_decode(huge_bins, sizeof huge_bins, &d) == DDS_DEC_TOO_MANY_BINS);
    uint8_t overlong[] = {'D', 'K', 2, 0, 0x7b, 0x14, 0xae, 0x47, 0xe1, 0x7a, 0x84, 0x3f, 0x80, 0x00, 0, 0, 0, 0};
    dds_reseal(overlong, sizeof overlong);
    CHECK(dds_decode(overlong, sizeof overlong, &d) == DDS_DEC_BAD_VARINT);
    /* a checksum of the right bytes in the wrong place is still wrong; short inputs are truncated */
    const uint8_t tiny[] = {'D', 'K', 2, 0, 0};
    CHECK(dds_decode(tiny, 3, &d) == DDS_DEC_TRUNCATED);
    CHECK(dds_decode(tiny, sizeof tiny, &d) == DDS_DEC_TRUNCATED || dds_decode(tiny, sizeof tiny, &d) == DDS_DEC_BAD_CHECKSUM);
    free(bad);
    free(buf);
    dds_free(&s);
}

static int write_seeds(const char *dir)
{
    for (int v = 0; v < 12; v++) {
        dds_sketch s;
        dds_init(&s, v < 6 ? 0.01 : 0.02, v % 3 ? 2048 : 16);
        if (v)
            fill_varied(&s, v);
        size_t cap = dds_encoded_size_max(&s);
        uint8_t *buf = malloc(cap);
        size_t n = dds_encode(&s, buf, cap);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed_%02d", dir, v);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, n, f) != n) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
        fclose(f);
        free(buf);
        dds_free(&s);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);
    test_mapping();
    test_empty_and_stats();
    test_distributions();
    test_collapse();
    test_merge();
    test_serialisation();
    fprintf(stderr, "test_sketch: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
