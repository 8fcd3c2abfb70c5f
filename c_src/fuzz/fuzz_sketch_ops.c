/* libFuzzer target for the DDSketch stores: random sequences of inserts (any magnitude, any
 * multiplicity), merges (also of sketches with another bin cap, and into itself) and clears,
 * checked after every step against an exact model.
 *
 * The model is the exact histogram of keys inserted (per store). Collapsing only ever moves
 * counts into the lowest kept bin, so at all times, for each store:
 *   - every bin above min_key holds exactly the model's count for its key;
 *   - the bin at min_key holds the model's count for all keys <= min_key;
 *   - the span max_key - min_key + 1 is at most max_bins, and the allocation at most max_bins;
 *   - count, zero count, min, max are exact; encode/decode round-trips to identical bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddsketch.h"

#define MAX_KEYS 4096

typedef struct {
    int32_t key[MAX_KEYS];
    uint64_t count[MAX_KEYS];
    int n;
} model_store;

typedef struct {
    dds_sketch s;
    model_store pos, neg;
    uint64_t zero;
} subject;

#define FAIL(msg)                                                                              \
    do {                                                                                       \
        fprintf(stderr, "fuzz_sketch_ops: %s (line %d)\n", msg, __LINE__);                     \
        abort();                                                                               \
    } while (0)

static int trace; /* FUZZ_SKETCH_TRACE=1: print every step (to debug a crash input) */

static int model_add(model_store *m, int32_t key, uint64_t n)
{
    for (int i = 0; i < m->n; i++)
        if (m->key[i] == key) {
            m->count[i] += n;
            return 1;
        }
    if (m->n == MAX_KEYS)
        return 0;
    m->key[m->n] = key;
    m->count[m->n++] = n;
    return 1;
}

static void check_store(const dds_store *st, const model_store *m, int32_t max_bins)
{
    uint64_t total = 0;
    for (int i = 0; i < m->n; i++)
        total += m->count[i];
    if (st->count != total)
        FAIL("store count differs from the model");
    if (!total)
        return;
    if (st->max_key - st->min_key + 1 > max_bins || st->cap > max_bins)
        FAIL("store wider than max_bins");
    if (st->min_key < st->offset || st->max_key >= st->offset + st->cap)
        FAIL("keys outside the window");
    uint64_t low = 0, seen = 0;
    if (trace)
        fprintf(stderr, "  check store min=%d max=%d collapsed=%d\n", st->min_key, st->max_key, st->collapsed);
    for (int i = 0; i < m->n; i++) {
        if (m->key[i] <= st->min_key) {
            low += m->count[i];
        } else {
            if (m->key[i] > st->max_key)
                FAIL("model key above max_key");
            if (st->bins[m->key[i] - st->offset] != m->count[i])
                FAIL("bin count differs from the model");
        }
    }
    if (trace)
        fprintf(stderr, "  store min=%d max=%d collapsed=%d count=%llu\n", st->min_key, st->max_key,
                st->collapsed, (unsigned long long)st->count);
    if (st->bins[st->min_key - st->offset] != low)
        FAIL("lowest bin differs from the model's collapsed count");
    for (int32_t k = st->min_key; k <= st->max_key; k++)
        seen += st->bins[k - st->offset];
    if (seen != total)
        FAIL("bins do not add up to the count");
    if (!low)
        FAIL("min_key bin empty");
}

static void check(const subject *x)
{
    const dds_sketch *s = &x->s;
    check_store(&s->pos, &x->pos, s->max_bins);
    check_store(&s->neg, &x->neg, s->max_bins);
    if (s->zero_count != x->zero || s->count != s->pos.count + s->neg.count + s->zero_count)
        FAIL("totals");
    size_t cap = dds_encoded_size_max(s);
    uint8_t *buf = malloc(cap), *again = malloc(cap);
    size_t n = dds_encode(s, buf, cap);
    dds_sketch d;
    if (!n || dds_decode(buf, n, &d) != DDS_DEC_OK)
        FAIL("own encoding rejected");
    if (dds_encode(&d, again, cap) != n || memcmp(buf, again, n) != 0)
        FAIL("round trip differs");
    dds_free(&d);
    free(buf);
    free(again);
    if (s->count) {
        double prev = -INFINITY;
        for (int i = 0; i <= 20; i++) {
            double v = dds_quantile(s, i / 20.0);
            if (v < prev || v < s->min || v > s->max)
                FAIL("quantiles out of order or range");
            prev = v;
        }
    }
}

typedef struct {
    const uint8_t *p, *end;
} input;

static uint64_t take(input *in, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes && in->p < in->end; i++)
        v = v << 8 | *in->p++;
    return v;
}

static double take_value(input *in)
{
    uint8_t kind = (uint8_t)take(in, 1);
    switch (kind % 4) {
    case 0: { /* any finite double */
        uint64_t bits = take(in, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        return isfinite(d) ? d : 1.0;
    }
    case 1: /* small integers, both signs */
        return (double)(int8_t)take(in, 1);
    case 2: /* a range latencies live in */
        return ldexp(1.0 + (double)take(in, 1) / 256.0, (int)(take(in, 1) % 64) - 32);
    default: /* a drifting walk upward: the relayout / collapse path */
        return ldexp(1.0, (int)(take(in, 2) % 2000) - 1000);
    }
}

static void insert(subject *x, double v, uint64_t n)
{
    if (trace)
        fprintf(stderr, "insert %p v=%a n=%llu key=%d\n", (void *)x, v, (unsigned long long)n,
                v > x->s.min_indexable ? dds_key(&x->s, v) : v < -x->s.min_indexable ? -dds_key(&x->s, -v) : 0);
    if (n > DDS_MAX_COUNT - x->s.count) {
        uint64_t before = x->s.count;
        if (dds_insert(&x->s, v, n) != DDS_ERR_BADARG || x->s.count != before)
            FAIL("insert beyond the count limit accepted");
        return;
    }
    if (dds_insert(&x->s, v, n) != DDS_OK)
        FAIL("insert");
    const dds_sketch *s = &x->s;
    if (v > s->min_indexable) {
        if (!model_add(&x->pos, dds_key(s, v), n))
            FAIL("model full");
    } else if (v < -s->min_indexable) {
        if (!model_add(&x->neg, -dds_key(s, -v), n))
            FAIL("model full");
    } else {
        x->zero += n;
    }
}

static void subject_init(subject *x, int32_t max_bins)
{
    memset(x, 0, sizeof *x);
    if (dds_init(&x->s, 0.02, max_bins) != DDS_OK)
        FAIL("init");
}

static void model_merge(model_store *into, const model_store *from)
{
    model_store copy = *from; /* from may be into */
    for (int i = 0; i < copy.n; i++)
        if (!model_add(into, copy.key[i], copy.count[i]))
            FAIL("model full");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static subject a, b;
    trace = getenv("FUZZ_SKETCH_TRACE") != NULL;
    input in = {data, data + size};
    int32_t caps[] = {1, 2, 7, 64, 2048};
    subject_init(&a, caps[take(&in, 1) % 5]);
    subject_init(&b, caps[take(&in, 1) % 5]);
    int steps = 0;
    while (in.p < in.end && steps++ < 512) {
        uint8_t op = (uint8_t)take(&in, 1);
        subject *x = op & 0x80 ? &b : &a;
        switch (op & 7) {
        case 0: case 1: case 2: case 3:
            insert(x, take_value(&in), 1 + (op & 7 ? 0 : take(&in, 2)));
            break;
        case 4: /* merge the other sketch into x */
        case 5: { /* merge x into itself */
            subject *from = (op & 7) == 4 ? (x == &a ? &b : &a) : x;
            if (x->s.count + from->s.count > DDS_MAX_COUNT)
                break;
            if (trace)
                fprintf(stderr, "merge %p <- %p\n", (void *)x, (void *)from);
            if (dds_merge(&x->s, &from->s) != DDS_OK)
                FAIL("merge");
            model_merge(&x->pos, &from->pos);
            model_merge(&x->neg, &from->neg);
            x->zero += from->zero; /* doubles when from == x */
            break;
        }
        case 6:
            if (trace)
                fprintf(stderr, "clear %p\n", (void *)x);
            dds_clear(&x->s);
            x->pos.n = x->neg.n = 0;
            x->zero = 0;
            break;
        default:
            check(x);
            continue;
        }
        check(x);
    }
    check(&a);
    check(&b);
    dds_free(&a.s);
    dds_free(&b.s);
    return 0;
}
