/* libFuzzer target for the DDSketch decoder (bytes from other nodes are untrusted).
 *
 * Properties checked on every input, beyond "no crash, no leak, no sanitizer report":
 * - an accepted input re-encodes to exactly the same bytes (the format is canonical);
 * - an accepted sketch answers quantiles inside [min, max] in ascending order, and merges
 *   into an empty sketch of the same accuracy without error.
 * Each input is decoded twice: as given (mostly stopped by the CRC32 trailer, bad_checksum),
 * and with its last 4 bytes replaced by the checksum of the rest (dds_reseal), so that the
 * fuzzer still explores the body decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddsketch.h"

#define FAIL(msg)                                                                              \
    do {                                                                                       \
        fprintf(stderr, "fuzz_sketch_decode: %s\n", msg);                                      \
        abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size);
    if (size >= 4 && size <= 1u << 20) {
        uint8_t *sealed = malloc(size);
        if (!sealed)
            FAIL("malloc");
        memcpy(sealed, data, size);
        dds_reseal(sealed, size);
        check_one(sealed, size);
        free(sealed);
    }
    return 0;
}

static void check_one(const uint8_t *data, size_t size)
{
    dds_sketch s;
    if (dds_decode(data, size, &s) != DDS_DEC_OK)
        return;

    size_t cap = dds_encoded_size_max(&s);
    uint8_t *buf = malloc(cap);
    if (!buf)
        FAIL("malloc");
    size_t n = dds_encode(&s, buf, cap);
    if (n != size || memcmp(buf, data, size) != 0)
        FAIL("re-encoding differs from the accepted input");
    free(buf);

    if (s.count) {
        static const double qs[] = {0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999, 1.0};
        double out[8];
        if (dds_quantiles(&s, qs, 8, out) != DDS_OK)
            FAIL("quantiles");
        for (int i = 0; i < 8; i++) {
            if (!(out[i] >= s.min && out[i] <= s.max))
                FAIL("quantile outside [min, max]");
            if (i && out[i] < out[i - 1])
                FAIL("quantiles not ascending");
            if (out[i] != dds_quantile(&s, qs[i]))
                FAIL("batch and single quantile differ");
        }
    }

    dds_sketch m;
    if (dds_init(&m, s.alpha, s.max_bins) != DDS_OK)
        FAIL("init");
    if (dds_merge(&m, &s) != DDS_OK || m.count != s.count)
        FAIL("merge into empty");
    dds_free(&m);
    dds_free(&s);
}
