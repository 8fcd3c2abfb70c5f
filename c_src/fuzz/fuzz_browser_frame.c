/* libFuzzer: WebSocket frame payloads (what a page or a server puts on the wire) through the
 * LiveView frame-head reader and the table of pending pushes (wire.h). The input is split at its
 * first newline: the first part is sent as a push (several times, on two sockets and at growing
 * timestamps, so eviction and expiry run), the second is received as a reply. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly `size' bytes: ASan sees any read past the frame */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    ll_phx_head h;
    (void)ll_phx_head_parse(buf, size, &h, 0);
    (void)ll_phx_head_parse(buf, size, &h, 1);

    const char *nl = memchr(buf, '\n', size);
    size_t a = nl ? (size_t)(nl - buf) : size;
    const char *reply = nl ? nl + 1 : buf;
    size_t b = nl ? size - a - 1 : size;
    ll_wire *w = calloc(1, sizeof *w);
    ll_wire_push out;
    uint64_t dropped = 0;
    for (int i = 0; i < LL_WIRE_PENDING + 3; i++)
        ll_wire_sent(w, (uint32_t)(i & 1), i * (LL_WIRE_TTL_S / 8), -1, (uint64_t)i, buf, a, &dropped);
    while (ll_wire_received(w, 1, reply, b, &out))
        ;
    ll_wire_forget(w, 0, &dropped);
    free(w);
    free(buf);
    return 0;
}
