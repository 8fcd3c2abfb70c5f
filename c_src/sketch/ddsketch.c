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

int32_t dds_key(const dds_sketch *s, double magnitude)
{
    return (int32_t)ceil(log(magnitude) * s->multiplier);
}

double dds_value(const dds_sketch *s, int32_t key)
{
    return exp((double)key / s->multiplier) * (2.0 / (1.0 + s->gamma));
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

static inline dds_status store_add(dds_store *st, int32_t max_bins, int32_t key, uint64_t n)
{
    if (key < st->min_key || key > st->max_key) {
        if (st->collapsed && st->count && key < st->min_key) {
            key = st->min_key;
        } else {
            dds_status rc = store_extend(st, max_bins, key, key);
            if (rc)
                return rc;
            if (key < st->min_key)
                key = st->min_key;
        }
    }
    st->bins[key - st->offset] += n;
    st->count += n;
    return DDS_OK;
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
        const uint64_t *sp = src->bins + (k - src->offset);
        uint64_t *dp = dst->bins + (k - dst->offset);
        size_t len = (size_t)(smax - k + 1);
        for (size_t i = 0; i < len; i++)
            dp[i] += sp[i];
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
    s->multiplier = 1.0 / log1p(2.0 * alpha / (1.0 - alpha));
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
    if (n == 0 || n > DDS_MAX_COUNT - s->count || !isfinite(value))
        return DDS_ERR_BADARG;
    dds_status rc = DDS_OK;
    if (value > s->min_indexable)
        rc = store_add(&s->pos, s->max_bins, dds_key(s, value), n);
    else if (value < -s->min_indexable)
        rc = store_add(&s->neg, s->max_bins, -dds_key(s, -value), n);
    else
        s->zero_count += n;
    if (rc)
        return rc;
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
} q_index;

static int q_index_cmp(const void *a, const void *b)
{
    double x = ((const q_index *)a)->q, y = ((const q_index *)b)->q;
    return (x > y) - (x < y);
}

/* Walks the bins once in value order, answering the sorted ranks as it passes them. */
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

    size_t j = 0;
    uint64_t cum = 0;
    for (int32_t k = s->neg.min_key; k <= s->neg.max_key && j < n; k++) {
        uint64_t c = store_bin(&s->neg, k);
        if (!c)
            continue;
        cum += c;
        double v = -dds_value(s, -k);
        for (; j < n && rank_of(s, ord[j].q) < cum; j++)
            out[ord[j].i] = v;
    }
    cum += s->zero_count;
    for (; j < n && rank_of(s, ord[j].q) < cum; j++)
        out[ord[j].i] = 0.0;
    for (int32_t k = s->pos.min_key; k <= s->pos.max_key && j < n; k++) {
        uint64_t c = store_bin(&s->pos, k);
        if (!c)
            continue;
        cum += c;
        double v = dds_value(s, k);
        for (; j < n && rank_of(s, ord[j].q) < cum; j++)
            out[ord[j].i] = v;
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
