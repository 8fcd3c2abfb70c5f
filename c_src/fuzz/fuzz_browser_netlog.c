/* libFuzzer: a tracing window's bytes (Chromium's network log as perfetto protobuf: what
 * Tracing.start / IO.read hand over, untrusted) through the reader (netlog.h), then the pairing
 * of a socket's CDP frames with the logged messages (wire.h) for every source the window names,
 * and the same bytes as base64 text. The CDP history is built from the window's own messages
 * (sizes and times nudged) so that pairings, ghosts and futures are all reached. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netlog.h"
#include "wire.h"

static void emit(void *ud, const ll_wire_rec *r, double ms) { (void)ud, (void)r, (void)ms; }

static void pair(const ll_netlog_window *w, uint64_t track, double cs, double ce)
{
    ll_wire *wire = calloc(1, sizeof *wire);
    ll_wsock *s = malloc(sizeof *s);
    uint64_t unmatched = 0;
    ll_wsock_init(s);
    s->mapped = 1;
    s->track = track;
    /* the socket's frames as the page would report them: the logged ones, a few shifted */
    for (size_t i = 0, k = 0; i < w->nmsg && k < LL_HIST + 8; i++) {
        const ll_netlog_msg *m = &w->msg[i];
        if (m->track != track)
            continue;
        uint32_t len = m->len == LL_NETLOG_LEN_ANY ? 7 : m->len + (uint32_t)(k % 5 == 4);
        if (m->sent)
            ll_hist_add(&s->dir[1], m->ts - 1e-4, m->ts - 1e-4, k % 3 ? m->ts + 1e-3 : INFINITY, len);
        else
            ll_hist_add(&s->dir[0], m->ts + 1e-4, k % 2 ? -INFINITY : m->ts - 1e-3, m->ts + 1e-4, len);
        if (k % 4 == 0) {
            ll_wire_push p = {.used = 1, .timed = 1, .ts = m->ts, .serial = s->dir[1].next ? s->dir[1].next - 1 : 0};
            ll_wire_rec ev;
            ll_wire_record(wire, &p, s->dir[0].next ? s->dir[0].next - 1 : 0, m->ts + 1e-3, "u", &ev);
            if (ev.used)
                free(ev.url);
        }
        k++;
    }
    (void)ll_wsock_align(s, w, cs, ce);
    ll_wire_settle(wire, 0, s, ce, emit, NULL, &unmatched);
    ll_wire_drop_records(wire, 0, 1, &unmatched);
    free(s);
    free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly `size' bytes: ASan sees any read past the window */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    ll_netlog_window w;
    ll_netlog_init(&w);
    (void)ll_netlog_parse(&w, buf, size);
    double cs = isfinite(w.start) ? w.start : 0, ce = cs + 10;
    for (size_t i = 0; i < w.nhs && i < 4; i++)
        pair(&w, w.hs[i].track, cs, ce);
    if (w.nmsg)
        pair(&w, w.msg[0].track, cs, ce);
    ll_netlog_free(&w);
    uint8_t *out = malloc(size / 4 * 3 + 3);
    (void)ll_base64_decode((const char *)buf, size, out);
    free(out);
    free(buf);
    return 0;
}
