/* DDSketch serialisation: a compact, versioned, canonical byte format.
 *
 * Format version 2 (all doubles IEEE-754 binary64 little-endian; varint = LEB128 unsigned,
 * minimal length, at most 10 bytes; zigzag = signed key mapped to unsigned):
 *
 *   "DK"            2 bytes magic
 *   version         1 byte  (2; version 1 had no checksum and is refused: unsupported_version)
 *   flags           1 byte  bit 0: positive store collapsed, bit 1: negative store collapsed
 *   alpha           8 bytes relative accuracy
 *   max_bins        varint  bins per store, 1..65536
 *   count           varint  total count, <= 2^62
 *   sum, min, max   3 x 8 bytes, present only when count > 0
 *   zero_count      varint
 *   positive store, then negative store (negative values stored under key -key(|v|)):
 *     nbins         varint  non-empty bins, <= max_bins
 *     first key     zigzag varint, then its count (varint >= 1)
 *     nbins - 1 x   key delta (varint >= 1), count (varint >= 1)
 *   crc32           4 bytes little-endian, zlib's CRC-32 of every byte before it
 *
 * Sketches cross nodes: a flipped bit must be rejected (bad_checksum), not merged. The magic
 * and version are checked first (so an old or foreign encoding says so), then the checksum,
 * then the body.
 * The decoder treats its input as hostile: every read is bounds-checked, varints must be
 * minimal, keys must ascend inside the mapping's key range and span at most max_bins keys,
 * counts must add up to the header count, stats must be finite and consistent, and no byte may
 * follow. Memory is allocated only after the header passed, and at most 2 x max_bins x 8 bytes.
 * Being canonical, encode(decode(bytes)) == bytes for every accepted input (the fuzz target
 * checks this).
 */
#include "ddsketch.h"

#include <math.h>
#include <string.h>
#include <zlib.h>

#define MAGIC0 'D'
#define MAGIC1 'K'
#define FLAG_POS_COLLAPSED 1u
#define FLAG_NEG_COLLAPSED 2u
#define VARINT_MAX 10
#define CRC_BYTES 4

static uint32_t crc_of(const uint8_t *buf, size_t len)
{
    return (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), buf, len);
}

static void put_crc(uint8_t *at, uint32_t crc)
{
    for (int i = 0; i < CRC_BYTES; i++)
        at[i] = (uint8_t)(crc >> (8 * i));
}

void dds_reseal(uint8_t *buf, size_t len)
{
    if (len >= CRC_BYTES)
        put_crc(buf + len - CRC_BYTES, crc_of(buf, len - CRC_BYTES));
}

/* ---- encoding --------------------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    uint8_t *end;
    int overflow;
} writer;

static void put_byte(writer *w, uint8_t b)
{
    if (w->p < w->end)
        *w->p++ = b;
    else
        w->overflow = 1;
}

static void put_varint(writer *w, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_byte(w, (uint8_t)v);
}

static void put_double(writer *w, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    for (int i = 0; i < 8; i++)
        put_byte(w, (uint8_t)(bits >> (8 * i)));
}

static uint32_t zigzag(int32_t k)
{
    return ((uint32_t)k << 1) ^ (uint32_t)(k >> 31);
}

static uint64_t store_nonempty(const dds_store *st)
{
    uint64_t n = 0;
    for (int32_t k = st->min_key; k <= st->max_key; k++)
        n += st->bins[k - st->offset] != 0;
    return n;
}

static void put_store(writer *w, const dds_store *st)
{
    put_varint(w, st->count ? store_nonempty(st) : 0);
    if (!st->count)
        return;
    int32_t prev = 0;
    int first = 1;
    for (int32_t k = st->min_key; k <= st->max_key; k++) {
        uint64_t c = st->bins[k - st->offset];
        if (!c)
            continue;
        if (first)
            put_varint(w, zigzag(k));
        else
            put_varint(w, (uint64_t)(k - prev));
        put_varint(w, c);
        prev = k;
        first = 0;
    }
}

size_t dds_encoded_size_max(const dds_sketch *s)
{
    size_t bins = 0;
    if (s->pos.count)
        bins += (size_t)(s->pos.max_key - s->pos.min_key + 1);
    if (s->neg.count)
        bins += (size_t)(s->neg.max_key - s->neg.min_key + 1);
    return 12 + 3 * VARINT_MAX + 24 + 2 * VARINT_MAX + bins * 2 * VARINT_MAX + CRC_BYTES;
}

size_t dds_encode(const dds_sketch *s, uint8_t *buf, size_t cap)
{
    writer w = {buf, buf + cap, 0};
    put_byte(&w, MAGIC0);
    put_byte(&w, MAGIC1);
    put_byte(&w, DDS_FORMAT_VERSION);
    put_byte(&w, (uint8_t)((s->pos.collapsed ? FLAG_POS_COLLAPSED : 0) |
                           (s->neg.collapsed ? FLAG_NEG_COLLAPSED : 0)));
    put_double(&w, s->alpha);
    put_varint(&w, (uint64_t)s->max_bins);
    put_varint(&w, s->count);
    if (s->count) {
        put_double(&w, s->sum);
        put_double(&w, s->min);
        put_double(&w, s->max);
    }
    put_varint(&w, s->zero_count);
    put_store(&w, &s->pos);
    put_store(&w, &s->neg);
    for (int i = 0; i < CRC_BYTES; i++)
        put_byte(&w, 0); /* room for the checksum */
    if (w.overflow)
        return 0;
    size_t n = (size_t)(w.p - buf);
    dds_reseal(buf, n);
    return n;
}

/* ---- decoding --------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} reader;

static dds_decode_status get_byte(reader *r, uint8_t *b)
{
    if (r->p >= r->end)
        return DDS_DEC_TRUNCATED;
    *b = *r->p++;
    return DDS_DEC_OK;
}

static dds_decode_status get_varint(reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < VARINT_MAX; i++) {
        uint8_t b;
        if (get_byte(r, &b))
            return DDS_DEC_TRUNCATED;
        if (i == 9 && b > 1)
            return DDS_DEC_BAD_VARINT; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return DDS_DEC_BAD_VARINT; /* not minimal */
            *out = v;
            return DDS_DEC_OK;
        }
    }
    return DDS_DEC_BAD_VARINT;
}

static dds_decode_status get_double(reader *r, double *out)
{
    if (r->end - r->p < 8)
        return DDS_DEC_TRUNCATED;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    memcpy(out, &bits, sizeof bits);
    return DDS_DEC_OK;
}

#define TRY(expr)                                                                              \
    do {                                                                                       \
        dds_decode_status st_ = (expr);                                                        \
        if (st_)                                                                               \
            return st_;                                                                        \
    } while (0)

/* One store. Keys are validated against [kmin, kmax]; total counts accumulate into *total,
 * which may not exceed limit. Bins are first checked in a read-only pass so that memory is
 * allocated only for a span proven <= max_bins. */
static dds_decode_status get_store(reader *r, dds_sketch *s, dds_store *st, int32_t kmin, int32_t kmax,
                                   uint64_t limit, uint64_t *total)
{
    uint64_t nbins;
    TRY(get_varint(r, &nbins));
    if (nbins == 0)
        return DDS_DEC_OK;
    if (nbins > (uint64_t)s->max_bins)
        return DDS_DEC_TOO_MANY_BINS;

    /* Pass 1: validate. */
    reader scan = *r;
    int64_t first = 0, key = 0;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < nbins; i++) {
        uint64_t v, c;
        TRY(get_varint(&scan, &v));
        if (i == 0) {
            if (v > UINT32_MAX)
                return DDS_DEC_BAD_KEY;
            key = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            first = key;
        } else {
            if (v == 0 || v > (uint64_t)s->max_bins)
                return DDS_DEC_BAD_KEY;
            key += (int64_t)v;
        }
        if (key < kmin || key > kmax || key - first + 1 > s->max_bins)
            return DDS_DEC_BAD_KEY;
        TRY(get_varint(&scan, &c));
        if (c == 0 || c > limit - sum)
            return DDS_DEC_BAD_COUNT;
        sum += c;
        if (sum > limit - *total)
            return DDS_DEC_COUNT_MISMATCH;
    }

    /* Pass 2: fill. The span fits in max_bins, so no collapse can happen. */
    if (dds_store_reserve(st, s->max_bins, (int32_t)first, (int32_t)key))
        return DDS_DEC_NOMEM;
    key = 0;
    for (uint64_t i = 0; i < nbins; i++) {
        uint64_t v, c;
        TRY(get_varint(r, &v));
        key = i == 0 ? (int64_t)(v >> 1) ^ -(int64_t)(v & 1) : key + (int64_t)v;
        TRY(get_varint(r, &c));
        st->bins[key - st->offset] = c;
    }
    st->count = sum;
    *total += sum;
    return DDS_DEC_OK;
}

static dds_decode_status decode(reader *r, dds_sketch *s)
{
    uint8_t m0, m1, version, flags;
    TRY(get_byte(r, &m0));
    TRY(get_byte(r, &m1));
    if (m0 != MAGIC0 || m1 != MAGIC1)
        return DDS_DEC_BAD_MAGIC;
    TRY(get_byte(r, &version));
    if (version != DDS_FORMAT_VERSION)
        return DDS_DEC_BAD_VERSION;
    /* the checksum covers everything before it; the body is read only once it matched */
    if (r->end - r->p < CRC_BYTES)
        return DDS_DEC_TRUNCATED;
    const uint8_t *trailer = r->end - CRC_BYTES;
    uint32_t want = 0;
    for (int i = 0; i < CRC_BYTES; i++)
        want |= (uint32_t)trailer[i] << (8 * i);
    if (crc_of(r->p - 3, (size_t)(trailer - (r->p - 3))) != want)
        return DDS_DEC_BAD_CHECKSUM;
    r->end = trailer;
    TRY(get_byte(r, &flags));
    if (flags & ~(FLAG_POS_COLLAPSED | FLAG_NEG_COLLAPSED))
        return DDS_DEC_BAD_HEADER;
    double alpha;
    uint64_t max_bins, count, zero;
    TRY(get_double(r, &alpha));
    TRY(get_varint(r, &max_bins));
    if (!dds_valid_alpha(alpha) || !dds_valid_max_bins(max_bins > DDS_MAX_BINS_LIMIT ? 0 : (long long)max_bins))
        return DDS_DEC_BAD_HEADER;
    if (dds_init(s, alpha, (int32_t)max_bins))
        return DDS_DEC_BAD_HEADER;
    TRY(get_varint(r, &count));
    if (count > DDS_MAX_COUNT)
        return DDS_DEC_BAD_COUNT;
    if (count) {
        TRY(get_double(r, &s->sum));
        TRY(get_double(r, &s->min));
        TRY(get_double(r, &s->max));
        if (!isfinite(s->sum) || !isfinite(s->min) || !isfinite(s->max) || s->min > s->max)
            return DDS_DEC_BAD_STATS;
    }
    TRY(get_varint(r, &zero));
    if (zero > count)
        return DDS_DEC_COUNT_MISMATCH;
    uint64_t total = zero;
    TRY(get_store(r, s, &s->pos, s->min_key, s->max_key, count, &total));
    TRY(get_store(r, s, &s->neg, -s->max_key, -s->min_key, count, &total));
    if (total != count)
        return DDS_DEC_COUNT_MISMATCH;
    if (r->p != r->end)
        return DDS_DEC_TRAILING_BYTES;
    if (((flags & FLAG_POS_COLLAPSED) && !s->pos.count) || ((flags & FLAG_NEG_COLLAPSED) && !s->neg.count))
        return DDS_DEC_BAD_HEADER;
    s->pos.collapsed = (flags & FLAG_POS_COLLAPSED) != 0;
    s->neg.collapsed = (flags & FLAG_NEG_COLLAPSED) != 0;
    /* Stats must agree with the stores: the sketch relies on min <= every estimate <= max. */
    if (count && ((s->neg.count && !(s->min < -s->min_indexable)) ||
                  (s->pos.count && !(s->max > s->min_indexable)) ||
                  (!s->neg.count && s->min < -s->min_indexable) ||
                  (!s->pos.count && s->max > s->min_indexable)))
        return DDS_DEC_BAD_STATS;
    s->zero_count = zero;
    s->count = count;
    return DDS_DEC_OK;
}

dds_decode_status dds_decode(const uint8_t *buf, size_t len, dds_sketch *out)
{
    reader r = {buf, buf + len};
    memset(out, 0, sizeof *out);
    dds_decode_status st = decode(&r, out);
    if (st)
        dds_free(out);
    return st;
}

const char *dds_decode_status_name(dds_decode_status st)
{
    switch (st) {
    case DDS_DEC_OK: return "ok";
    case DDS_DEC_TRUNCATED: return "truncated";
    case DDS_DEC_BAD_MAGIC: return "bad_magic";
    case DDS_DEC_BAD_VERSION: return "unsupported_version";
    case DDS_DEC_BAD_HEADER: return "bad_header";
    case DDS_DEC_BAD_VARINT: return "bad_varint";
    case DDS_DEC_TOO_MANY_BINS: return "too_many_bins";
    case DDS_DEC_BAD_KEY: return "bad_key";
    case DDS_DEC_BAD_COUNT: return "bad_count";
    case DDS_DEC_COUNT_MISMATCH: return "count_mismatch";
    case DDS_DEC_BAD_STATS: return "bad_stats";
    case DDS_DEC_TRAILING_BYTES: return "trailing_bytes";
    case DDS_DEC_BAD_CHECKSUM: return "bad_checksum";
    case DDS_DEC_NOMEM: return "nomem";
    }
    return "unknown";
}
