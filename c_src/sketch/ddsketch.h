/* DDSketch: a mergeable quantile sketch with relative-error guarantees.
 *
 * Pure C, no Erlang headers (the NIF in live_load_sketch_nif.c only converts terms).
 *
 * Mapping: cubically interpolated logarithm (as sketches-java/-js CubicallyInterpolatedMapping,
 * bit-for-bit the same formulas). A positive value v lands in bin k = ceil(L(v) * m), where
 * L approximates log2 from v's exponent and significand with a cubic, m = 1 / (C ln(gamma)),
 * gamma = (1 + a) / (1 - a) for relative accuracy a. Every bin spans a value ratio <= gamma;
 * bin k stands for (1 - a) * its upper bound, within a of every value in the bin.
 *
 * Stores: one dense store for positive values (key k) and one for negative values, which
 * stores -v under key -k so that both stores ascend with the value. Values whose magnitude is
 * below the smallest indexable value count as zero. Each store holds at most max_bins
 * contiguous keys; beyond that the LOWEST keys (the smallest values of the whole sketch)
 * collapse into the lowest kept bin, so quantiles above the collapsed range keep the bound.
 *
 * Counts are integers (uint64); min, max, count and sum are exact (sum saturates at
 * +/-DBL_MAX so that it stays finite). Not thread-safe: callers serialise access.
 */
#ifndef LIVE_LOAD_DDSKETCH_H
#define LIVE_LOAD_DDSKETCH_H

#include <stddef.h>
#include <stdint.h>

#define DDS_MIN_ACCURACY 1e-6   /* keeps every key inside int32 */
#define DDS_MAX_BINS_LIMIT 65536 /* per store; bounds memory (512 KiB) and every O(bins) pass */
#define DDS_MAX_COUNT (UINT64_C(1) << 62)

typedef struct {
    uint64_t *bins;   /* bins[i] counts key offset + i; NULL until the first insert */
    int32_t offset;
    int32_t cap;      /* allocated bins, <= max_bins */
    int32_t min_key;  /* valid when count > 0 */
    int32_t max_key;
    uint64_t count;
    int collapsed;    /* the bin at min_key also holds every lower key */
} dds_store;

typedef struct {
    double alpha;
    double gamma;
    double multiplier;   /* 1 / (C ln(gamma)), keys per unit of approximate log2 */
    double min_indexable;
    int32_t min_key;     /* key bounds for positive magnitudes (decoder checks) */
    int32_t max_key;
    int32_t max_bins;
    dds_store pos;
    dds_store neg;
    uint64_t zero_count;
    uint64_t count;
    double sum;
    double min;
    double max;
} dds_sketch;

typedef enum {
    DDS_OK = 0,
    DDS_ERR_NOMEM,
    DDS_ERR_BADARG,
    DDS_ERR_INCOMPATIBLE,
    DDS_ERR_OVERFLOW,
} dds_status;

/* alpha in [DDS_MIN_ACCURACY, 1), max_bins in [1, DDS_MAX_BINS_LIMIT]. */
int dds_valid_alpha(double alpha);
int dds_valid_max_bins(long long max_bins);
dds_status dds_init(dds_sketch *s, double alpha, int32_t max_bins);
void dds_free(dds_sketch *s); /* accepts a zeroed or half-built sketch */
void dds_clear(dds_sketch *s);

int32_t dds_key(const dds_sketch *s, double magnitude); /* magnitude >= min_indexable */
double dds_value(const dds_sketch *s, int32_t key);

/* value must be finite; n in [1, DDS_MAX_COUNT - count]. */
dds_status dds_insert(dds_sketch *s, double value, uint64_t n);
/* into += from. Same alpha required (DDS_ERR_INCOMPATIBLE); from unchanged; into may equal from. */
dds_status dds_merge(dds_sketch *into, const dds_sketch *from);
dds_status dds_copy(dds_sketch *dst, const dds_sketch *src); /* dst uninitialised */

/* Value at quantile q in [0,1], the estimate of the element of rank floor(q * (count - 1)) in
 * sorted order, within alpha of it unless it lies in a collapsed range. count must be > 0. */
double dds_quantile(const dds_sketch *s, double q);
/* n quantiles in one pass; qs any order. Returns DDS_ERR_NOMEM only for n > 64. */
dds_status dds_quantiles(const dds_sketch *s, const double *qs, size_t n, double *out);

/* For the decoder: makes an EMPTY store's window cover [lo, hi] (hi - lo + 1 <= max_bins). */
dds_status dds_store_reserve(dds_store *st, int32_t max_bins, int32_t lo, int32_t hi);

/* Serialisation (ddsketch_codec.c): see the format description there. */
#define DDS_FORMAT_VERSION 2
typedef enum {
    DDS_DEC_OK = 0,
    DDS_DEC_TRUNCATED,
    DDS_DEC_BAD_MAGIC,
    DDS_DEC_BAD_VERSION,
    DDS_DEC_BAD_HEADER,
    DDS_DEC_BAD_VARINT,
    DDS_DEC_TOO_MANY_BINS,
    DDS_DEC_BAD_KEY,
    DDS_DEC_BAD_COUNT,
    DDS_DEC_COUNT_MISMATCH,
    DDS_DEC_BAD_STATS,
    DDS_DEC_TRAILING_BYTES,
    DDS_DEC_BAD_CHECKSUM,
    DDS_DEC_NOMEM, /* keep last */
} dds_decode_status;

size_t dds_encoded_size_max(const dds_sketch *s); /* upper bound for dds_encode's output */
size_t dds_encode(const dds_sketch *s, uint8_t *buf, size_t cap); /* bytes written, 0 if cap too small */
/* On success *out is initialised (free with dds_free); on failure it is left freed. */
dds_decode_status dds_decode(const uint8_t *buf, size_t len, dds_sketch *out);
const char *dds_decode_status_name(dds_decode_status st);
/* Rewrites the CRC32 trailer of an encoding of len >= 4 bytes (tests and fuzzers that mutate the
 * body and want the decoder to look past the checksum). */
void dds_reseal(uint8_t *buf, size_t len);

#endif
