/* DDSketch core: mapping, collapsing dense stores, insert, merge, quantiles. See ddsketch.h. */
#include "ddsketch.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_MIN INT32_MAX
#define EMPTY_MAX INT32_MIN
#define GROW_CHUNK 64

/* ---- mapping ---------------------------------------------------------------------------- */

int dds_valid_alpha(double alpha)
{
    return isfinite(alpha) && alpha >= DDS_MIN_ACCURACY && alpha < 1.0;
}

int dds_valid_max_bins(long long max_bins)
{
    return max_bins >= 1 && max_bins <= DDS_MAX_BINS_LIMIT;
}

/* Cubically interpolated mapping (DDSketch's fast mapping, as CubicallyInterpolatedMapping in
 * sketches-java and sketches-js, same formulas): log2(v) is approximated from v's binary
 * exponent e and significand s in [0, 1) by e + P(s), P(s) = ((A s + B) s + C) s, exact at
 * powers of two and monotone. Dividing the multiplier by C bounds every bin's upper/lower value
 * ratio by gamma, so the relative-accuracy guarantee is that of the exact logarithmic mapping
 * with 1 / (C ln 2) = 1.01 times as many bins, and the insert path makes no libm call
 * (libm's log alone cost more than the whole insert does now). test_mapping checks the bound. */
#define CUBIC_A (6.0 / 35.0)
#define CUBIC_B (-3.0 / 5.0)
#define CUBIC_C (10.0 / 7.0)

static inline double cubic_log2(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    /* v = 2^(e-1) * (1 + s) for normal v > 0 */
    int e = (int)((bits >> 52) & 0x7ff) - 1022;
    uint64_t mbits = (bits & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3fe0000000000000);
    double mantissa; /* in [0.5, 1) */
    memcpy(&mantissa, &mbits, sizeof mantissa);
    double s = 2.0 * mantissa - 1.0;
    return ((CUBIC_A * s + CUBIC_B) * s + CUBIC_C) * s + (double)(e - 1);
}

/* The inverse of cubic_log2 (Cardano's formula). */
static double cubic_exp2(double x)
{
    double exponent = floor(x);
    double delta0 = CUBIC_B * CUBIC_B - 3.0 * CUBIC_A * CUBIC_C;
    double delta1 = 2.0 * CUBIC_B * CUBIC_B * CUBIC_B - 9.0 * CUBIC_A * CUBIC_B * CUBIC_C -
                    27.0 * CUBIC_A * CUBIC_A * (x - exponent);
    double cardano = cbrt((delta1 - sqrt(delta1 * delta1 - 4.0 * delta0 * delta0 * delta0)) / 2.0);
    double significand_plus_one = -(CUBIC_B + cardano + delta0 / cardano) / (3.0 * CUBIC_A) + 1.0;
    return ldexp(significand_plus_one / 2.0, (int)exponent + 1);
}

static inline int32_t key_of(const dds_sketch *s, double magnitude)
{
    double x = cubic_log2(magnitude) * s->multiplier;
    int32_t k = (int32_t)x; /* ceil without a libm call: |x| < 2^31 by DDS_MIN_ACCURACY */
    return k + (x > (double)k);
}

int32_t dds_key(const dds_sketch *s, double magnitude)
{
    return key_of(s, magnitude);
}

double dds_value(const dds_sketch *s, int32_t key)
{
    return cubic_exp2((double)key / s->multiplier) * (2.0 / (1.0 + s->gamma));
}

/* ---- store ------------------------------------------------------------------------------ */

static void store_init(dds_store *st)
{
    memset(st, 0, sizeof *st);
    st->min_key = EMPTY_MIN;
    st->max_key = EMPTY_MAX;
}

static void store_clear(dds_store *st)
{
    if (st->bins)
        memset(st->bins, 0, (size_t)st->cap * sizeof *st->bins);
    st->min_key = EMPTY_MIN;
    st->max_key = EMPTY_MAX;
    st->count = 0;
    st->collapsed = 0;
}

static uint64_t store_bin(const dds_store *st, int32_t key)
{
    return st->bins[key - st->offset];
}

/* Moves the window so that it covers [lo, hi] (hi - lo + 1 <= max_bins), keeping the bins whose
 * keys lie in [lo, hi] and dropping (zeroing) the others. Nothing changes on failure. */
static dds_status store_relayout(dds_store *st, int32_t max_bins, int32_t lo, int32_t hi)
{
    int32_t need = hi - lo + 1;
    int32_t cap = st->cap;
    if (need > cap) {
        int64_t grown = (int64_t)cap * 2;
        int64_t rounded = ((int64_t)need + GROW_CHUNK - 1) / GROW_CHUNK * GROW_CHUNK;
        int64_t c = grown > rounded ? grown : rounded;
        cap = (int32_t)(c < max_bins ? c : max_bins);
    }
    int32_t off = lo - (cap - need) / 2;
    /* The kept range: old non-empty keys inside [lo, hi]. */
    int32_t cl = st->min_key > lo ? st->min_key : lo;
    int32_t ch = st->max_key < hi ? st->max_key : hi;
    int keep = st->count > 0 && cl <= ch;

    if (cap != st->cap || !st->bins) {
        uint64_t *nb = calloc((size_t)cap, sizeof *nb);
        if (!nb)
            return DDS_ERR_NOMEM;
        if (keep)
            memcpy(nb + (cl - off), st->bins + (cl - st->offset), (size_t)(ch - cl + 1) * sizeof *nb);
        free(st->bins);
        st->bins = nb;
        st->cap = cap;
    } else if (keep) {
        memmove(st->bins + (cl - off), st->bins + (cl - st->offset), (size_t)(ch - cl + 1) * sizeof *st->bins);
        memset(st->bins, 0, (size_t)(cl - off) * sizeof *st->bins);
        memset(st->bins + (ch - off + 1), 0, (size_t)(cap - (ch - off + 1)) * sizeof *st->bins);
    } else {
        memset(st->bins, 0, (size_t)cap * sizeof *st->bins);
    }
    st->offset = off;
    return DDS_OK;
}

/* Makes [min_key, max_key] cover [lo, hi]; beyond max_bins keys the lowest collapse into the
 * lowest kept bin. */
static dds_status store_extend(dds_store *st, int32_t max_bins, int32_t lo, int32_t hi)
{
    if (st->count) {
        if (st->min_key < lo)
            lo = st->min_key;
        if (st->max_key > hi)
            hi = st->max_key;
    }
    uint64_t collapsed = 0;
    int collapsing = (int64_t)hi - lo + 1 > max_bins;
    if (collapsing) {
        int32_t new_lo = hi - max_bins + 1;
        if (st->count)
            for (int32_t k = st->min_key; k <= st->max_key && k < new_lo; k++)
                collapsed += store_bin(st, k);
        lo = new_lo;
    }
    if (!st->bins || lo < st->offset || (int64_t)hi > (int64_t)st->offset + st->cap - 1) {
        dds_status rc = store_relayout(st, max_bins, lo, hi);
        if (rc)
            return rc;
    } else if (collapsing && st->count) {
        for (int32_t k = st->min_key; k <= st->max_key && k < lo; k++)
            st->bins[k - st->offset] = 0;
    }
    if (collapsing)
        st->collapsed = 1;
    st->min_key = lo;
    st->max_key = hi;
    st->bins[lo - st->offset] += collapsed;
    return DDS_OK;
}

dds_status dds_store_reserve(dds_store *st, int32_t max_bins, int32_t lo, int32_t hi)
{
    if (st->count || hi < lo || (int64_t)hi - lo + 1 > max_bins)
        return DDS_ERR_BADARG;
    return store_extend(st, max_bins, lo, hi);
}

/* Everything but the common case of a key inside [min_key, max_key]: kept out of line so that
 * the insert fast path needs no stack frame. */
static __attribute__((noinline)) dds_status store_add_slow(dds_store *st, int32_t max_bins, int32_t key,
                                                           uint64_t n)
{
    if (st->collapsed && st->count && key < st->min_key) {
        key = st->min_key;
    } else {
        dds_status rc = store_extend(st, max_bins, key, key);
        if (rc)
            return rc;
        if (key < st->min_key)
            key = st->min_key;
    }
    st->bins[key - st->offset] += n;
    st->count += n;
    return DDS_OK;
}

/* The merge inner loops, unrolled by hand: -O2 does not vectorise loops that need alias checks. */
static void add_bins(uint64_t *restrict dp, const uint64_t *restrict sp, size_t len)
{
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        dp[i] += sp[i];
        dp[i + 1] += sp[i + 1];
        dp[i + 2] += sp[i + 2];
        dp[i + 3] += sp[i + 3];
    }
    for (; i < len; i++)
        dp[i] += sp[i];
}

static void add_bins_self(uint64_t *dp, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dp[i] += dp[i];
}

static dds_status store_merge(dds_store *dst, int32_t max_bins, const dds_store *src)
{
    if (!src->count)
        return DDS_OK;
    /* src may be dst: store_extend then changes nothing, and the loop below doubles every bin. */
    int32_t smin = src->min_key, smax = src->max_key;
    uint64_t scount = src->count;
    int scollapsed = src->collapsed;
    dds_status rc = store_extend(dst, max_bins, smin, smax);
    if (rc)
        return rc;
    int32_t k = smin;
    uint64_t below = 0;
    for (; k < dst->min_key && k <= smax; k++)
        below += store_bin(src, k);
    dst->bins[dst->min_key - dst->offset] += below;
    if (k <= smax) {
        size_t len = (size_t)(smax - k + 1);
        uint64_t *dp = dst->bins + (k - dst->offset);
        if (src == dst)
            add_bins_self(dp, len);
        else
            add_bins(dp, src->bins + (k - src->offset), len);
    }
    dst->count += scount;
    dst->collapsed |= scollapsed;
    return DDS_OK;
}

static dds_status store_copy(dds_store *dst, const dds_store *src)
{
    *dst = *src;
    dst->bins = NULL;
    if (src->bins) {
        dst->bins = malloc((size_t)src->cap * sizeof *dst->bins);
        if (!dst->bins)
            return DDS_ERR_NOMEM;
        memcpy(dst->bins, src->bins, (size_t)src->cap * sizeof *dst->bins);
    }
    return DDS_OK;
}

/* ---- sketch ----------------------------------------------------------------------------- */

dds_status dds_init(dds_sketch *s, double alpha, int32_t max_bins)
{
    memset(s, 0, sizeof *s);
    store_init(&s->pos);
    store_init(&s->neg);
    if (!dds_valid_alpha(alpha) || !dds_valid_max_bins(max_bins))
        return DDS_ERR_BADARG;
    s->alpha = alpha;
    s->gamma = 1.0 + 2.0 * alpha / (1.0 - alpha);
    s->multiplier = 1.0 / log1p(2.0 * alpha / (1.0 - alpha)) / CUBIC_C;
    s->min_indexable = DBL_MIN * s->gamma;
    s->min_key = dds_key(s, s->min_indexable);
    s->max_key = dds_key(s, DBL_MAX);
    s->max_bins = max_bins;
    s->min = INFINITY;
    s->max = -INFINITY;
    return DDS_OK;
}

void dds_free(dds_sketch *s)
{
    free(s->pos.bins);
    free(s->neg.bins);
    s->pos.bins = NULL;
    s->neg.bins = NULL;
    s->pos.cap = s->neg.cap = 0;
}

void dds_clear(dds_sketch *s)
{
    store_clear(&s->pos);
    store_clear(&s->neg);
    s->zero_count = 0;
    s->count = 0;
    s->sum = 0.0;
    s->min = INFINITY;
    s->max = -INFINITY;
}

static double saturate(double x)
{
    if (x > DBL_MAX)
        return DBL_MAX;
    if (x < -DBL_MAX)
        return -DBL_MAX;
    return x;
}

dds_status dds_insert(dds_sketch *s, double value, uint64_t n)
{
    if (__builtin_expect(n == 0 || n > DDS_MAX_COUNT - s->count || !isfinite(value), 0))
        return DDS_ERR_BADARG;
    dds_store *st;
    int32_t key;
    if (value > s->min_indexable) {
        st = &s->pos;
        key = key_of(s, value);
    } else if (value < -s->min_indexable) {
        st = &s->neg;
        key = -key_of(s, -value);
    } else {
        s->zero_count += n;
        goto stats;
    }
    if (__builtin_expect(key >= st->min_key && key <= st->max_key, 1)) {
        st->bins[key - st->offset] += n;
        st->count += n;
    } else {
        dds_status rc = store_add_slow(st, s->max_bins, key, n);
        if (rc)
            return rc;
    }
stats:
    s->count += n;
    s->sum = saturate(s->sum + (n == 1 ? value : value * (double)n));
    if (value < s->min)
        s->min = value;
    if (value > s->max)
        s->max = value;
    return DDS_OK;
}

dds_status dds_merge(dds_sketch *into, const dds_sketch *from)
{
    if (into->gamma != from->gamma)
        return DDS_ERR_INCOMPATIBLE;
    if (from->count == 0)
        return DDS_OK;
    if (from->count > DDS_MAX_COUNT - into->count)
        return DDS_ERR_OVERFLOW;
    /* Stores first: on NOMEM the sketch keeps consistent totals per store it did merge. */
    uint64_t fcount = from->count, fzero = from->zero_count;
    double fsum = from->sum, fmin = from->min, fmax = from->max;
    uint64_t pos_before = into->pos.count;
    dds_status rc = store_merge(&into->pos, into->max_bins, &from->pos);
    if (rc)
        return rc;
    rc = store_merge(&into->neg, into->max_bins, &from->neg);
    if (rc) {
        /* keep count == sum of parts: account for the positive part that was merged */
        into->count += into->pos.count - pos_before;
        return rc;
    }
    into->zero_count += fzero;
    into->count += fcount;
    into->sum = saturate(into->sum + fsum);
    if (fmin < into->min)
        into->min = fmin;
    if (fmax > into->max)
        into->max = fmax;
    return DDS_OK;
}

dds_status dds_copy(dds_sketch *dst, const dds_sketch *src)
{
    *dst = *src;
    dst->pos.bins = NULL;
    dst->neg.bins = NULL;
    if (store_copy(&dst->pos, &src->pos) || store_copy(&dst->neg, &src->neg)) {
        dds_free(dst);
        return DDS_ERR_NOMEM;
    }
    return DDS_OK;
}

/* ---- quantiles -------------------------------------------------------------------------- */

static double clamp_to_range(const dds_sketch *s, double v)
{
    if (v < s->min)
        return s->min;
    if (v > s->max)
        return s->max;
    return v;
}

static int32_t store_key_at_rank(const dds_store *st, uint64_t rank)
{
    uint64_t running = 0;
    for (int32_t k = st->min_key; k <= st->max_key; k++) {
        running += store_bin(st, k);
        if (running > rank)
            return k;
    }
    return st->max_key;
}

static uint64_t rank_of(const dds_sketch *s, double q)
{
    double r = floor(q * (double)(s->count - 1));
    uint64_t rank = r <= 0 ? 0 : (uint64_t)r;
    return rank > s->count - 1 ? s->count - 1 : rank;
}

double dds_quantile(const dds_sketch *s, double q)
{
    if (q <= 0.0)
        return s->min;
    if (q >= 1.0)
        return s->max;
    uint64_t rank = rank_of(s, q);
    double v;
    if (rank < s->neg.count)
        v = -dds_value(s, -store_key_at_rank(&s->neg, rank));
    else if (rank < s->neg.count + s->zero_count)
        v = 0.0;
    else
        v = dds_value(s, store_key_at_rank(&s->pos, rank - s->neg.count - s->zero_count));
    return clamp_to_range(s, v);
}

typedef struct {
    double q;
    size_t i;
    uint64_t rank;
} q_index;

static int q_index_cmp(const void *a, const void *b)
{
    double x = ((const q_index *)a)->q, y = ((const q_index *)b)->q;
    return (x > y) - (x < y);
}

/* Walks the bins once in value order, answering the sorted ranks as it passes them. Bin values
 * (cbrt, sqrt) are computed only for bins that answer a rank. */
dds_status dds_quantiles(const dds_sketch *s, const double *qs, size_t n, double *out)
{
    q_index small[64];
    q_index *ord = small;
    if (n > 64) {
        ord = malloc(n * sizeof *ord);
        if (!ord)
            return DDS_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        ord[i].q = qs[i];
        ord[i].i = i;
    }
    qsort(ord, n, sizeof *ord, q_index_cmp);
    for (size_t i = 0; i < n; i++)
        ord[i].rank = rank_of(s, ord[i].q);

    size_t j = 0;
    uint64_t cum = 0;
    for (int32_t k = s->neg.min_key; k <= s->neg.max_key && j < n; k++) {
        cum += store_bin(&s->neg, k);
        if (ord[j].rank < cum) {
            double v = -dds_value(s, -k);
            for (; j < n && ord[j].rank < cum; j++)
                out[ord[j].i] = v;
        }
    }
    cum += s->zero_count;
    for (; j < n && ord[j].rank < cum; j++)
        out[ord[j].i] = 0.0;
    for (int32_t k = s->pos.min_key; k <= s->pos.max_key && j < n; k++) {
        cum += store_bin(&s->pos, k);
        if (ord[j].rank < cum) {
            double v = dds_value(s, k);
            for (; j < n && ord[j].rank < cum; j++)
                out[ord[j].i] = v;
        }
    }
    for (; j < n; j++)
        out[ord[j].i] = s->max;
    for (size_t i = 0; i < n; i++) {
        if (qs[i] <= 0.0)
            out[i] = s->min;
        else if (qs[i] >= 1.0)
            out[i] = s->max;
        else
            out[i] = clamp_to_range(s, out[i]);
    }
    if (ord != small)
        free(ord);
    return DDS_OK;
}
