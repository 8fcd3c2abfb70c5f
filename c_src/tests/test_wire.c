/* C unit tests of the network-side wire timing: the network-log reader (netlog.c) on protobuf
 * built here the way Chromium writes it, the pairing of a socket's CDP frames with a window's
 * logged frames (wire.c: histories, offsets, gaps, ghosts, records), the tracing-window state
 * machine (trace.c) against a fake browser, and the core's glue (a user's push and reply timed
 * from a window, stats and close_user waiting for it, a page held until the log records). */
#include <ei.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "core_harness.h"
#include "etf.h"
#include "netlog.h"
#include "trace.h"
#include "wire.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-7)

/* ------------------------------------------------------------------ protobuf, as Chromium writes it */

typedef struct {
    uint8_t b[16384];
    size_t n;
} pbuf;

static void pv(pbuf *p, uint64_t v)
{
    do {
        p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void pu(pbuf *p, uint32_t f, uint64_t v) { pv(p, (uint64_t)f << 3), pv(p, v); }
static void pb(pbuf *p, uint32_t f, const void *d, size_t n)
{
    pv(p, (uint64_t)f << 3 | 2);
    pv(p, n);
    memcpy(p->b + p->n, d, n);
    p->n += n;
}
static void pstr(pbuf *p, uint32_t f, const char *s) { pb(p, f, s, strlen(s)); }
static void pm(pbuf *p, uint32_t f, const pbuf *m) { pb(p, f, m->b, m->n); }
static void packet(pbuf *trace, const pbuf *pk) { pm(trace, 1, pk); }

#define SEQ_SVC 1
#define SEQ_NET 7
#define MONO0 1000000000000ull /* ns: 1000 s */
#define BOOT_OFF 5000000ull    /* BOOTTIME - MONOTONIC: 5 ms */
enum { IID_SENT = 1, IID_RECV, IID_HS, IID_OTHER };

static void clock_pair(pbuf *snap, uint64_t mono)
{
    pbuf c1 = {0}, c2 = {0};
    pu(&c1, 1, 6), pu(&c1, 2, mono + BOOT_OFF);
    pu(&c2, 1, 3), pu(&c2, 2, mono);
    pm(snap, 1, &c1), pm(snap, 1, &c2);
}

/* The service's packets: a clock snapshot, then tracing_started (2) or all_data_sources_started (1)
 * at `mono' (written on BOOTTIME, the trace's default clock). */
static void svc_event(pbuf *t, uint32_t which, uint64_t mono)
{
    pbuf pk = {0}, snap = {0}, ev = {0};
    clock_pair(&snap, mono);
    pu(&pk, 10, SEQ_SVC), pm(&pk, 6, &snap);
    packet(t, &pk);
    pk.n = 0;
    pu(&ev, which, 1);
    pu(&pk, 8, mono + BOOT_OFF), pu(&pk, 10, SEQ_SVC), pm(&pk, 69, &ev);
    packet(t, &pk);
}

/* The first packet of the network service's sequence: state cleared, clock 64 incremental from
 * `mono', the three event names and "params" interned (names given: iid 1..3, 4 = other). */
static void net_first(pbuf *t, uint32_t seq, uint64_t mono)
{
    pbuf pk = {0}, def = {0}, snap = {0}, c1 = {0}, c2 = {0}, in = {0}, e = {0};
    pu(&def, 58, 64);
    pu(&c1, 1, 3), pu(&c1, 2, mono);
    pu(&c2, 1, 64), pu(&c2, 2, mono), pu(&c2, 3, 1), pu(&c2, 4, 1);
    pm(&snap, 1, &c1), pm(&snap, 1, &c2);
    const char *names[] = {"WEBSOCKET_SENT_FRAME_HEADER", "WEBSOCKET_RECV_FRAME_HEADER",
                           "HTTP_TRANSACTION_SEND_REQUEST_HEADERS", "SOCKET_BYTES_SENT"};
    for (int i = 0; i < 4; i++) {
        e.n = 0;
        pu(&e, 1, (uint64_t)i + 1), pstr(&e, 2, names[i]);
        pm(&in, 2, &e);
    }
    e.n = 0;
    pu(&e, 1, 1), pstr(&e, 2, "params");
    pm(&in, 3, &e);
    pu(&pk, 87, 1), pu(&pk, 42, 1), pu(&pk, 10, seq), pu(&pk, 13, 1), pm(&pk, 59, &def), pm(&pk, 6, &snap),
        pm(&pk, 12, &in);
    packet(t, &pk);
}

/* A track event on the network sequence, `delta_ns' after the previous one, with params JSON. */
static void net_event(pbuf *t, uint32_t seq, uint64_t delta_ns, uint64_t name_iid, uint64_t track, const char *json)
{
    pbuf pk = {0}, te = {0}, ann = {0};
    pu(&ann, 1, 1), pstr(&ann, 9, json);
    pu(&te, 9, 3), pu(&te, 10, name_iid), pu(&te, 11, track), pm(&te, 4, &ann);
    pu(&pk, 8, delta_ns), pu(&pk, 10, seq), pu(&pk, 13, 2), pm(&pk, 11, &te);
    packet(t, &pk);
}

static void frame_json(char *out, size_t cap, int opcode, unsigned len, int final, int rsv1)
{
    snprintf(out, cap,
             "{\"final\":%s,\"masked\":true,\"opcode\":%d,\"payload_length\":%u.0,\"reserved1\":%s,\"reserved2\":false,"
             "\"reserved3\":false,\"source_start_time\":\"9655458\"}",
             final ? "true" : "false", opcode, len, rsv1 ? "true" : "false");
}

static void ws_frame_ev(pbuf *t, uint64_t delta_ns, int sent, uint64_t track, int opcode, unsigned len, int final,
                        int rsv1)
{
    char j[256];
    frame_json(j, sizeof j, opcode, len, final, rsv1);
    net_event(t, SEQ_NET, delta_ns, sent ? IID_SENT : IID_RECV, track, j);
}

static const char *HS_JSON =
    "{\"headers\":[\"Host: 127.0.0.1:4000\",\"Connection: Upgrade\",\"Upgrade: websocket\","
    "\"sec-websocket-key: q3go0dQnmDHgJN\\/3l\\/Z4fA==\",\"User-Agent: x\"],"
    "\"line\":\"GET \\/live\\/websocket?vsn=2.0.0 HTTP\\/1.1\\r\\n\",\"source_start_time\":\"1\"}";

/* A window: service start at MONO0, one socket (track 77): handshake, push (100 B) 1 ms after the
 * start, its reply (60 B) 0.5 ms later, a ping, a frame on another track. */
static size_t basic_window(pbuf *t)
{
    t->n = 0;
    svc_event(t, 2, MONO0);
    svc_event(t, 1, MONO0 + 200000);
    net_first(t, SEQ_NET, MONO0);
    net_event(t, SEQ_NET, 300000, IID_HS, 77, HS_JSON);
    ws_frame_ev(t, 700000, 1, 77, 1, 100, 1, 0);  /* 1.000 ms */
    ws_frame_ev(t, 500000, 0, 77, 1, 60, 1, 0);   /* 1.500 ms */
    ws_frame_ev(t, 100000, 0, 77, 9, 0, 1, 0);    /* a ping: not a message */
    ws_frame_ev(t, 100000, 1, 78, 2, 10, 1, 0);   /* binary, another socket */
    net_event(t, SEQ_NET, 1000, IID_OTHER, 77, "{\"byte_count\":106}");
    return t->n;
}

static void test_netlog_basic(void)
{
    pbuf t;
    ll_netlog_window w;
    basic_window(&t);
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, t.b, t.n) == 0);
    CHECK(!w.loss);
    CHECK(NEAR(w.start, 1000.0002));
    CHECK(w.nhs == 1 && w.hs[0].track == 77 && !strcmp(w.hs[0].key, "q3go0dQnmDHgJN/3l/Z4fA=="));
    CHECK(w.nmsg == 3);
    /* sorted by track, direction (received first), time */
    CHECK(w.msg[0].track == 77 && !w.msg[0].sent && w.msg[0].len == 60 && NEAR(w.msg[0].ts, 1000.0015));
    CHECK(w.msg[1].track == 77 && w.msg[1].sent && w.msg[1].len == 100 && NEAR(w.msg[1].ts, 1000.001));
    CHECK(w.msg[2].track == 78 && w.msg[2].sent && w.msg[2].len == 10);
    CHECK(w.events == 5);
    ll_netlog_free(&w);
}

/* Continuations add up; a compressed, an unterminated message and one cut by the next message
 * have no known size; a continuation of a message begun before the window starts nothing. */
static void test_netlog_fragments(void)
{
    pbuf t = {0};
    ll_netlog_window w;
    svc_event(&t, 1, MONO0);
    net_first(&t, SEQ_NET, MONO0);
    ws_frame_ev(&t, 1000, 0, 5, 0, 40, 1, 0);    /* orphan continuation */
    ws_frame_ev(&t, 1000, 0, 5, 1, 100, 0, 0);   /* 100 + 50 + 25 */
    ws_frame_ev(&t, 1000, 0, 5, 10, 0, 1, 0);    /* a pong between fragments */
    ws_frame_ev(&t, 1000, 0, 5, 0, 50, 0, 0);
    ws_frame_ev(&t, 1000, 0, 5, 0, 25, 1, 0);
    ws_frame_ev(&t, 1000, 0, 5, 1, 30, 1, 1);    /* compressed */
    ws_frame_ev(&t, 1000, 0, 5, 1, 30, 0, 0);    /* never ended: the next message cuts it */
    ws_frame_ev(&t, 1000, 0, 5, 1, 12, 1, 0);
    ws_frame_ev(&t, 1000, 1, 5, 2, 9, 0, 0);     /* sent, open at the window's end */
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, t.b, t.n) == 0 && !w.loss);
    CHECK(w.nmsg == 5);
    CHECK(w.msg[0].len == 175 && NEAR(w.msg[0].ts, 1000.000002));
    CHECK(w.msg[1].len == LL_NETLOG_LEN_ANY);
    CHECK(w.msg[2].len == LL_NETLOG_LEN_ANY);
    CHECK(w.msg[3].len == 12);
    CHECK(w.msg[4].sent && w.msg[4].len == LL_NETLOG_LEN_ANY);
    ll_netlog_free(&w);
}

/* Anything that could hide a frame makes the window untrustworthy. */
static void test_netlog_loss(void)
{
    pbuf t = {0}, pk = {0};
    ll_netlog_window w;
    /* a dropped packet on the sequence (not its first) */
    svc_event(&t, 1, MONO0);
    net_first(&t, SEQ_NET, MONO0);
    pu(&pk, 10, SEQ_NET), pu(&pk, 42, 1);
    packet(&t, &pk);
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, t.b, t.n) == 0 && w.loss);
    ll_netlog_free(&w);
    /* a frame event on a sequence whose incremental state was never set */
    t.n = 0;
    svc_event(&t, 1, MONO0);
    ws_frame_ev(&t, 1000, 1, 5, 1, 10, 1, 0);
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, t.b, t.n) == 0 && w.loss && w.nmsg == 0);
    ll_netlog_free(&w);
    /* no all_data_sources_started: no known start */
    t.n = 0;
    net_first(&t, SEQ_NET, MONO0);
    ws_frame_ev(&t, 1000, 1, 5, 1, 10, 1, 0);
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, t.b, t.n) == 0 && isinf(w.start) && w.nmsg == 1);
    ll_netlog_free(&w);
    /* malformed bytes: a truncated packet, a length past the end, a group, an endless varint */
    basic_window(&t);
    static const uint8_t group[] = {0x0b, 0x0c};
    static const uint8_t endless[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    size_t cuts[] = {t.n - 1, t.n / 2, 3, 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        ll_netlog_init(&w);
        CHECK(ll_netlog_parse(&w, t.b, cuts[i]) == -1 && w.loss);
        ll_netlog_free(&w);
    }
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, group, sizeof group) == -1 && w.loss);
    ll_netlog_free(&w);
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, endless, sizeof endless) == -1 && w.loss);
    ll_netlog_free(&w);
}

/* Names inline or interned (an iid given to another name stops matching); odd params. */
static void test_netlog_names(void)
{
    pbuf t = {0}, pk = {0}, te = {0}, ann = {0}, in = {0}, e = {0};
    ll_netlog_window w;
    svc_event(&t, 1, MONO0);
    net_first(&t, SEQ_NET, MONO0);
    /* inline event and annotation names */
    pu(&ann, 10, 0);
    ann.n = 0;
    pstr(&ann, 10, "params"), pstr(&ann, 9, "{\"opcode\":1,\"payload_length\":33,\"final\":true}");
    pu(&te, 9, 3), pstr(&te, 23, "WEBSOCKET_RECV_FRAME_HEADER"), pu(&te, 11, 9), pm(&te, 4, &ann);
    pu(&pk, 8, 1000), pu(&pk, 10, SEQ_NET), pu(&pk, 13, 2), pm(&pk, 11, &te);
    packet(&t, &pk);
    /* iid 1 now names something else: a frame under it is not ours */
    pk.n = 0;
    pu(&e, 1, IID_SENT), pstr(&e, 2, "URL_REQUEST_START_JOB");
    pm(&in, 2, &e);
    pu(&pk, 10, SEQ_NET), pu(&pk, 13, 2), pm(&pk, 12, &in);
    packet(&t, &pk);
    ws_frame_ev(&t, 1000, 1, 9, 1, 10, 1, 0);
    /* a size that is not a plain count: the frame is kept (its order matters), its size unknown;
     * no usable opcode or no object: not a frame */
    net_event(&t, SEQ_NET, 1000, IID_RECV, 9, "{\"opcode\":1,\"payload_length\":-3,\"final\":true}");
    net_event(&t, SEQ_NET, 1000, IID_RECV, 9, "{\"opcode\":1,\"payload_length\":1e3,\"final\":true}");
    net_event(&t, SEQ_NET, 1000, IID_RECV, 9, "{\"opcode\":1,\"final\":true,\"payload_length\":12.5}");
    net_event(&t, SEQ_NET, 1000, IID_RECV, 9, "[1,2]");
    net_event(&t, SEQ_NET, 1000, IID_RECV, 9, "{\"opcode\":\"1\"}"); /* no usable opcode: not a frame */
    net_event(&t, SEQ_NET, 1000, IID_HS, 9, "{\"headers\":[\"Sec-WebSocket-Key: not base64!\",7,{\"a\":[1]}]}");
    net_event(&t, SEQ_NET, 1000, IID_HS, 10, "{\"headers\":\"Sec-WebSocket-Key: abc\"}");
    ll_netlog_init(&w);
    CHECK(ll_netlog_parse(&w, t.b, t.n) == 0 && !w.loss);
    CHECK(w.nmsg == 4 && w.msg[0].len == 33 && !w.msg[0].sent);
    CHECK(w.nmsg == 4 && w.msg[1].len == LL_NETLOG_LEN_ANY && w.msg[2].len == LL_NETLOG_LEN_ANY &&
          w.msg[3].len == LL_NETLOG_LEN_ANY);
    CHECK(w.nhs == 0);
    ll_netlog_free(&w);
}

static void test_base64_and_config(void)
{
    uint8_t out[64];
    CHECK(ll_base64_decode("aGVsbG8=", 8, out) == 5 && !memcmp(out, "hello", 5));
    CHECK(ll_base64_decode("aGVsbG8", 7, out) == 5);
    CHECK(ll_base64_decode("", 0, out) == 0);
    CHECK(ll_base64_decode("a", 1, out) == -1);
    CHECK(ll_base64_decode("aGV*bG8=", 8, out) == -1);
    long pids[] = {4242, 17};
    char *cfg = ll_netlog_config(pids, 2, 16384);
    CHECK(cfg != NULL);
    if (cfg) {
        size_t n = strlen(cfg);
        uint8_t *bin = malloc(n);
        long k = ll_base64_decode(cfg, n, bin);
        CHECK(k > 0);
        int found = 0, netlog = 0;
        for (long i = 0; i + 6 <= k; i++) {
            found += (i + 17 <= k && !memcmp(bin + i, "org.chromium-4242", 17)) ||
                     (i + 15 <= k && !memcmp(bin + i, "org.chromium-17", 15));
            netlog += !memcmp(bin + i, "netlog", 6);
        }
        CHECK(found == 2 && netlog >= 1);
        free(bin);
        free(cfg);
    }
}

/* ------------------------------------------------------------------ pairing */

static ll_netlog_msg nm(double ts, uint32_t len) { return (ll_netlog_msg){.ts = ts, .len = len, .sent = 1}; }

/* Pushes answered one after the other, all in the window: paired in order. */
static void test_align_quiet(void)
{
    ll_hist h;
    ll_hist_init(&h);
    uint64_t s[3];
    for (int i = 0; i < 3; i++)
        s[i] = ll_hist_add(&h, 10.0 + i * 0.1, 10.0 + i * 0.1, 10.0 + i * 0.1 + 0.01, 100);
    ll_netlog_msg net[3] = {nm(10.0004, 100), nm(10.1004, 100), nm(10.2004, 100)};
    CHECK(ll_hist_align(&h, net, 3, 9.9, 10.5) == 1);
    for (int i = 0; i < 3; i++)
        CHECK(NEAR(ll_hist_get(&h, s[i])->net, 10.0004 + i * 0.1));
    ll_hist_trim(&h, 10.5);
    CHECK(ll_hist_get(&h, s[2]) == NULL && h.first == h.next);
}

/* A push whose network frame fell in the gap before the window is never given the next push's
 * frame of the same size: its interval (sent -> reply read) excludes it. */
static void test_align_gap(void)
{
    ll_hist h;
    ll_hist_init(&h);
    uint64_t p1 = ll_hist_add(&h, 1.000, 1.000, 1.002, 100); /* network time ~1.0001: in the gap */
    uint64_t p2 = ll_hist_add(&h, 1.010, 1.010, 1.012, 100);
    ll_netlog_msg net[1] = {nm(1.0102, 100)};
    CHECK(ll_hist_align(&h, net, 1, 1.005, 1.050) == 1);
    CHECK(isnan(ll_hist_get(&h, p1)->net));
    CHECK(NEAR(ll_hist_get(&h, p2)->net, 1.0102));
    /* the mirror: a window ending before a push's frame was logged */
    ll_hist_init(&h);
    p1 = ll_hist_add(&h, 2.000, 2.000, 2.002, 100);
    p2 = ll_hist_add(&h, 2.010, 2.010, 2.012, 100);
    ll_netlog_msg net2[1] = {nm(2.0003, 100)};
    CHECK(ll_hist_align(&h, net2, 1, 1.9, 2.005) == 1);
    CHECK(NEAR(ll_hist_get(&h, p1)->net, 2.0003) && isnan(ll_hist_get(&h, p2)->net));
}

/* When a push is in flight across the window's start and the next one has the same size, either
 * could own the window's first frame: nothing is paired, nothing guessed. Different sizes decide. */
static void test_align_ambiguous(void)
{
    ll_hist h;
    ll_hist_init(&h);
    uint64_t p1 = ll_hist_add(&h, 3.000, 3.000, INFINITY, 100); /* unanswered, sent just before cs */
    uint64_t p2 = ll_hist_add(&h, 3.006, 3.006, INFINITY, 100); /* unanswered, sent in the window */
    ll_netlog_msg net[1] = {nm(3.0062, 100)};
    CHECK(ll_hist_align(&h, net, 1, 3.005, 3.008) == 0);
    CHECK(isnan(ll_hist_get(&h, p1)->net) && isnan(ll_hist_get(&h, p2)->net));
    ll_hist_init(&h);
    p1 = ll_hist_add(&h, 3.000, 3.000, INFINITY, 90);
    p2 = ll_hist_add(&h, 3.006, 3.006, INFINITY, 100);
    CHECK(ll_hist_align(&h, net, 1, 3.005, 3.008) == 1);
    CHECK(isnan(ll_hist_get(&h, p1)->net) && NEAR(ll_hist_get(&h, p2)->net, 3.0062));
    /* a compressed message (size unknown) pairs by order and time alone */
    ll_hist_init(&h);
    p1 = ll_hist_add(&h, 4.000, 4.000, 4.001, 90);
    ll_netlog_msg any[1] = {nm(4.0002, LL_NETLOG_LEN_ANY)};
    CHECK(ll_hist_align(&h, any, 1, 3.9, 4.1) == 1 && NEAR(ll_hist_get(&h, p1)->net, 4.0002));
}

/* A frame that had to be logged in the window but is missing (a different size there, or none):
 * no offset fits. */
static void test_align_inconsistent(void)
{
    ll_hist h;
    ll_hist_init(&h);
    ll_hist_add(&h, 5.000, 5.000, 5.001, 100);
    CHECK(ll_hist_align(&h, NULL, 0, 4.9, 5.1) == -1);
    ll_netlog_msg net[1] = {nm(5.0002, 101)};
    CHECK(ll_hist_align(&h, net, 1, 4.9, 5.1) == -1);
    /* a reply is logged after its push left and before the page reads it, never after */
    ll_hist_init(&h);
    ll_hist_add(&h, 6.000, 5.95, 6.000, 50);
    ll_netlog_msg late[1] = {nm(6.001, 50)};
    CHECK(ll_hist_align(&h, late, 1, 5.9, 6.1) == -1);
}

/* The page reported frames the window does not show yet (future) and frames the history had to
 * forget (ghosts): neither constrains, both only widen what fits. */
static void test_align_ghosts(void)
{
    ll_hist h;
    ll_hist_init(&h);
    for (int i = 0; i < LL_HIST + 2; i++)
        ll_hist_add(&h, 7.0 + i * 1e-4, 7.0 + i * 1e-4, INFINITY, 10);
    CHECK(h.ghosts == 2 && h.next - h.first == LL_HIST);
    uint64_t last = ll_hist_add(&h, 8.0, 8.0, 8.001, 20);
    ll_netlog_msg net[1] = {nm(8.0002, 20)};
    CHECK(ll_hist_align(&h, net, 1, 7.99, 8.01) == 1 && NEAR(ll_hist_get(&h, last)->net, 8.0002));
    ll_hist_trim(&h, 8.01);
    CHECK(h.ghosts == 0 && h.first == h.next);
    /* a frame the page has not reported yet: the window's last message may be it */
    ll_hist_init(&h);
    uint64_t a = ll_hist_add(&h, 9.0, 9.0, INFINITY, 30);
    ll_netlog_msg two[2] = {nm(9.0001, 30), nm(9.0002, 30)};
    CHECK(ll_hist_align(&h, two, 2, 8.9, 9.1) == 1 && NEAR(ll_hist_get(&h, a)->net, 9.0001));
}

typedef struct {
    int n;
    double ms[8];
    char event[8][LL_PHX_EVENT];
} emitted;

static void on_emit(void *ud, const ll_wire_rec *r, double ms)
{
    emitted *e = ud;
    if (e->n < 8) {
        e->ms[e->n] = ms;
        snprintf(e->event[e->n], sizeof e->event[0], "%s", r->event);
        e->n++;
    }
}

/* A push and its reply through both sides: the record waits for a window, is emitted with the
 * network times (not the CDP ones), or is counted once no window can time it. */
static void test_records(void)
{
    ll_wire *w = calloc(1, sizeof *w);
    ll_wsock *s = malloc(sizeof *s);
    ll_wsock_init(s);
    const char *push = "[\"4\",\"9\",\"lv:phx-F1\",\"event\",{\"type\":\"click\",\"event\":\"inc\",\"value\":{}}]";
    const char *reply = "[\"4\",\"9\",\"lv:phx-F1\",\"phx_reply\",{\"response\":{},\"status\":\"ok\"}]";
    uint64_t dropped = 0, unmatched = 0, rs = 0;
    ll_wire_push out;
    ll_wire_frame_sent(w, s, 1, 100.000, 5000.0, push, strlen(push), (uint32_t)strlen(push), &dropped);
    CHECK(ll_wire_frame_received(w, s, 1, 100.009, reply, strlen(reply), (uint32_t)strlen(reply), &out, &rs) == 1);
    CHECK(out.timed && !strcmp(out.event, "inc"));
    CHECK(ll_hist_get(&s->dir[1], out.serial)->ub == 100.009);  /* the push left before its reply was read */
    CHECK(ll_hist_get(&s->dir[0], rs)->lb == 100.000);          /* the reply came after the push */
    ll_wire_rec ev;
    ll_wire_rec *r = ll_wire_record(w, &out, rs, 100.009, "http://h/counter", &ev);
    CHECK(r && !ev.used && w->nr == 1 && !strcmp(r->url, "http://h/counter"));
    /* the window: handshake unseen so far, the socket unmapped: nothing aligned, nothing final */
    emitted e = {0};
    ll_netlog_window win;
    ll_netlog_init(&win);
    win.start = 99.0;
    CHECK(ll_wsock_align(s, &win, 99.0, 99.5) == 0);
    ll_wire_settle(w, 1, s, 99.5, on_emit, &e, &unmatched);
    CHECK(e.n == 0 && unmatched == 0 && w->nr == 1);
    /* mapped, and a window with both frames */
    ll_netlog_msg m[2] = {{.track = 3, .ts = 100.0088, .len = (uint32_t)strlen(reply), .sent = 0},
                          {.track = 3, .ts = 100.0003, .len = (uint32_t)strlen(push), .sent = 1}};
    win.msg = m, win.nmsg = 2;
    s->mapped = 1, s->track = 3;
    CHECK(ll_wsock_align(s, &win, 99.9, 100.2) == 0);
    ll_wire_settle(w, 1, s, 100.2, on_emit, &e, &unmatched);
    CHECK(e.n == 1 && NEAR(e.ms[0], 8.5) && !strcmp(e.event[0], "inc") && unmatched == 0 && w->nr == 0);
    /* a second push whose frames no window timed: counted once the window passed its reply */
    ll_wire_frame_sent(w, s, 1, 101.000, 6000.0, push, strlen(push), (uint32_t)strlen(push), &dropped);
    CHECK(ll_wire_frame_received(w, s, 1, 101.004, reply, strlen(reply), (uint32_t)strlen(reply), &out, &rs) == 1);
    ll_wire_record(w, &out, rs, 101.004, NULL, &ev);
    ll_wire_settle(w, 1, s, 101.003, on_emit, &e, &unmatched);
    CHECK(unmatched == 0 && w->nr == 1);
    ll_wire_settle(w, 1, s, 101.010, on_emit, &e, &unmatched);
    CHECK(unmatched == 1 && w->nr == 0 && e.n == 1);
    /* a full table: the oldest record gives way */
    for (int i = 0; i < LL_WIRE_RECORDS + 1; i++) {
        ll_wire_push p = {.used = 1, .timed = 1, .socket = 1, .ts = 200.0 + i};
        ll_wire_record(w, &p, 0, 200.0 + i, "u", &ev);
        if (ev.used)
            unmatched++, free(ev.url);
    }
    CHECK(w->nr == LL_WIRE_RECORDS && unmatched == 2);
    ll_wire_expire(w, -1.0, &unmatched);
    CHECK(w->nr == LL_WIRE_RECORDS);
    ll_wire_drop_records(w, 1, 0, &unmatched);
    CHECK(w->nr == 0 && unmatched == 2 + LL_WIRE_RECORDS);
    free(s);
    free(w);
}

static void test_tracks(void)
{
    ll_tracks *t = calloc(1, sizeof *t);
    uint64_t tr = 0;
    ll_tracks_add(t, 5, "abc=");
    ll_tracks_add(t, 6, "abc="); /* the first one stays */
    ll_tracks_add(t, 7, "");
    CHECK(ll_tracks_find(t, "abc=", &tr) == 1 && tr == 5);
    CHECK(ll_tracks_find(t, "", &tr) == 0 && t->n == 1);
    char k[16];
    for (int i = 0; i < LL_TRACKS; i++) {
        snprintf(k, sizeof k, "k%d", i);
        ll_tracks_add(t, (uint64_t)i, k);
    }
    CHECK(ll_tracks_find(t, "abc=", &tr) == 0 && ll_tracks_find(t, "k1023", &tr) == 1 && tr == 1023);
    free(t);
}

/* ------------------------------------------------------------------ tracing windows */

#define MAXC 64
static struct {
    char method[MAXC][48];
    json_t *params[MAXC];
    unsigned timeout[MAXC];
    int n;
    uint64_t next_id;
    int windows;
    double end_ms;
    size_t nmsg, nhs;
    int loss;
} f;

static uint64_t fake_send(void *ud, const char *method, json_t *params, unsigned timeout_ms)
{
    (void)ud;
    if (f.n < MAXC) {
        snprintf(f.method[f.n], sizeof f.method[0], "%s", method);
        f.params[f.n] = params;
        f.timeout[f.n] = timeout_ms;
        f.n++;
    } else {
        json_decref(params);
    }
    return ++f.next_id;
}

static void fake_window(void *ud, const ll_netlog_window *w, double end_ms)
{
    (void)ud;
    f.windows++;
    f.end_ms = end_ms;
    f.nmsg = w->nmsg;
    f.nhs = w->nhs;
    f.loss = w->loss;
}

static void f_reset(void)
{
    for (int i = 0; i < f.n; i++)
        json_decref(f.params[i]);
    f.n = 0;
}

static int f_last(const char *method) /* index of the last command with this method, -1 */
{
    for (int i = f.n - 1; i >= 0; i--)
        if (!strcmp(f.method[i], method))
            return i;
    return -1;
}

static uint64_t f_id(int i) { return f.next_id - (uint64_t)(f.n - 1 - i); }

static json_t *procs(int with_network)
{
    json_t *list = json_pack("[{s:s,s:i},{s:s,s:i}]", "type", "browser", "id", 100, "type", "renderer", "id", 300);
    if (with_network)
        json_array_append_new(list, json_pack("{s:s,s:i}", "type", "network.mojom.NetworkService", "id", 200));
    return json_pack("{s:o}", "processInfo", list);
}

static void test_trace_cycle(void)
{
    memset(&f, 0, sizeof f);
    ll_trace_cfg cfg = {.send = fake_send, .window = fake_window, .period_ms = 1000};
    ll_trace *t = ll_trace_new(&cfg);
    ll_trace_start(t, 0);
    CHECK(f.n == 1 && !strcmp(f.method[0], "SystemInfo.getProcessInfo"));
    CHECK(!ll_trace_ready(t) && ll_trace_alive(t));
    /* no network service yet: asked again a little later */
    json_t *r = procs(0);
    CHECK(ll_trace_reply(t, f_id(0), 0, r, 10) == 1);
    json_decref(r);
    CHECK(f.n == 1);
    ll_trace_tick(t, 100, 0);
    CHECK(f.n == 1);
    ll_trace_tick(t, 300, 0);
    CHECK(f.n == 2 && !strcmp(f.method[1], "SystemInfo.getProcessInfo"));
    r = procs(1);
    ll_trace_reply(t, f_id(1), 0, r, 310);
    json_decref(r);
    int st = f_last("Tracing.start");
    CHECK(st == 2);
    CHECK(!strcmp(json_string_value(json_object_get(f.params[st], "transferMode")), "ReturnAsStream"));
    CHECK(!strcmp(json_string_value(json_object_get(f.params[st], "streamFormat")), "proto"));
    CHECK(json_is_string(json_object_get(f.params[st], "perfettoConfig")));
    CHECK(ll_trace_reply(t, f_id(st), 0, NULL, 320) == 1 && ll_trace_ready(t));
    /* not busy: no roll, whatever the time */
    ll_trace_tick(t, 5000, 0);
    CHECK(f_last("Tracing.end") == -1);
    /* busy for a period: the window ends */
    ll_trace_tick(t, 5001, 1);
    int end = f_last("Tracing.end");
    CHECK(end == 3);
    ll_trace_reply(t, f_id(end), 0, NULL, 5002);
    json_t *ev = json_pack("{s:b,s:s}", "dataLossOccurred", 0, "stream", "H1");
    CHECK(ll_trace_event(t, "Tracing.tracingComplete", ev, 5010) == 1);
    json_decref(ev);
    int rd = f_last("IO.read"), st2 = f_last("Tracing.start");
    CHECK(rd == 4 && st2 == 5); /* the next window starts while this one is read out */
    /* the window's bytes in two reads (base64), the second with eof */
    pbuf w;
    size_t n = basic_window(&w), half = n / 3 * 3 / 2 / 3 * 3;
    char *b64a = NULL, *b64b = NULL;
    {
        static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t parts[2][2] = {{0, half}, {half, n}};
        char **outs[2] = {&b64a, &b64b};
        for (int k = 0; k < 2; k++) {
            size_t a = parts[k][0], e = parts[k][1];
            char *o = malloc(4 * ((e - a + 2) / 3) + 1), *p = o;
            for (size_t i = a; i < e; i += 3) {
                uint32_t v = (uint32_t)w.b[i] << 16 | (i + 1 < e ? (uint32_t)w.b[i + 1] << 8 : 0) | (i + 2 < e ? w.b[i + 2] : 0);
                *p++ = A[v >> 18 & 63], *p++ = A[v >> 12 & 63];
                *p++ = i + 1 < e ? A[v >> 6 & 63] : '=';
                *p++ = i + 2 < e ? A[v & 63] : '=';
            }
            *p = 0;
            *outs[k] = o;
        }
    }
    ll_trace_reply(t, f_id(st2), 0, NULL, 5020);
    r = json_pack("{s:b,s:s,s:b}", "base64Encoded", 1, "data", b64a, "eof", 0);
    ll_trace_reply(t, f_id(rd), 0, r, 5030);
    json_decref(r);
    int rd2 = f_last("IO.read");
    CHECK(rd2 == 6);
    r = json_pack("{s:b,s:s,s:b}", "base64Encoded", 1, "data", b64b, "eof", 1);
    ll_trace_reply(t, f_id(rd2), 0, r, 5040);
    json_decref(r);
    free(b64a), free(b64b);
    CHECK(f_last("IO.close") == 7);
    /* read out, but not settled yet */
    CHECK(f.windows == 0 && !ll_trace_covered(t, 5001));
    ll_trace_tick(t, 5001 + LL_TRACE_SETTLE_MS, 0);
    CHECK(f.windows == 1 && f.end_ms == 5001 && f.nmsg == 3 && f.nhs == 1 && !f.loss);
    CHECK(ll_trace_covered(t, 5001) && !ll_trace_covered(t, 5002));
    ll_trace_stats s;
    ll_trace_get_stats(t, &s);
    CHECK(s.windows == 1 && s.bytes == n && s.lost == 0 && s.blind_ms > 0);
    /* a flush: the window ends at once, and again when the one in flight ended too early */
    ll_trace_flush(t, 6000);
    end = f_last("Tracing.end");
    CHECK(end == 8);
    ll_trace_flush(t, 6001); /* asked after that end: needs one more window */
    ev = json_pack("{s:b,s:s}", "dataLossOccurred", 1, "stream", "H2");
    ll_trace_event(t, "Tracing.tracingComplete", ev, 6010);
    json_decref(ev);
    rd = f_last("IO.read"), st = f_last("Tracing.start");
    ll_trace_reply(t, f_id(st), 0, NULL, 6011);
    CHECK(f_last("Tracing.end") == 8); /* not while the last window is still being read */
    r = json_pack("{s:b,s:s,s:b}", "base64Encoded", 0, "data", "", "eof", 1);
    ll_trace_reply(t, f_id(rd), 0, r, 6200);
    json_decref(r);
    CHECK(f.windows == 2 && f.loss && ll_trace_covered(t, 6000) && !ll_trace_covered(t, 6001));
    CHECK(f_last("Tracing.end") > 8); /* the second flush's window */
    ll_trace_get_stats(t, &s);
    CHECK(s.lost == 1);
    f_reset();
    ll_trace_free(t);
}

/* Failures: retried, then given up (windows stop, pages are not held). A full buffer flushes. */
static void test_trace_failures(void)
{
    memset(&f, 0, sizeof f);
    ll_trace_cfg cfg = {.send = fake_send, .window = fake_window};
    ll_trace *t = ll_trace_new(&cfg);
    ll_trace_start(t, 0);
    double now = 0;
    for (int k = 0; k < 5; k++) {
        int p = f_last("SystemInfo.getProcessInfo");
        json_t *r = procs(1);
        ll_trace_reply(t, f_id(p), 0, r, now);
        json_decref(r);
        int st = f_last("Tracing.start");
        CHECK(st >= 0);
        ll_trace_reply(t, f_id(st), 1, NULL, now); /* "Tracing has already been started" */
        CHECK(ll_trace_ready(t));
        now += 6000;
        ll_trace_tick(t, now, 1);
    }
    CHECK(!ll_trace_alive(t));
    ll_trace_stats s;
    ll_trace_get_stats(t, &s);
    CHECK(s.failures == 5);
    f_reset();
    ll_trace_free(t);
    /* a buffer half full ends the window; a tracingComplete never coming gives up after a while */
    memset(&f, 0, sizeof f);
    t = ll_trace_new(&cfg);
    ll_trace_start(t, 0);
    json_t *r = procs(1);
    ll_trace_reply(t, f_id(0), 0, r, 0);
    json_decref(r);
    ll_trace_reply(t, f_id(f_last("Tracing.start")), 0, NULL, 1);
    json_t *u = json_pack("{s:f}", "percentFull", 0.6);
    ll_trace_event(t, "Tracing.bufferUsage", u, 2);
    json_decref(u);
    CHECK(f_last("Tracing.end") >= 0);
    int asked = f_last("SystemInfo.getProcessInfo");
    ll_trace_tick(t, 19000, 0);
    CHECK(ll_trace_alive(t)); /* still waiting for tracingComplete */
    ll_trace_tick(t, 30000, 0);
    CHECK(!ll_trace_alive(t) && f_last("SystemInfo.getProcessInfo") == asked);
    ll_trace_tick(t, 36000, 0); /* retried: processes, then a new window */
    CHECK(ll_trace_alive(t) && f_last("SystemInfo.getProcessInfo") > asked);
    f_reset();
    ll_trace_free(t);
}

/* ------------------------------------------------------------------ the core's glue */

static int cmd(const char *method) /* the last command with this method, -1 */
{
    for (int i = q.nb - 1; i >= 0; i--)
        if (!strcmp(json_string_value(json_object_get(q.to_browser[i], "method")), method))
            return i;
    return -1;
}

static void reply(ll_core *c, const char *method, const char *result)
{
    int i = cmd(method);
    CHECK(i >= 0);
    if (i >= 0)
        from_browser(c, "{'id':%lld,'result':%s}", (long long)cmd_id(i), result);
}

static void erl(ll_core *c, const char *what, long id, long user)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, !strcmp(what, "stats") ? 2 : 3);
    ei_x_encode_long(&x, id);
    ei_x_encode_atom(&x, what);
    if (!strcmp(what, "new_user"))
        ei_x_encode_map_header(&x, 0);
    else if (strcmp(what, "stats"))
        ei_x_encode_long(&x, user);
    ll_core_from_erlang(c, x.buff, (size_t)x.index);
    ei_x_free(&x);
}

/* the Erlang outputs with request id `id' (a reply), or the liveview events of kind `kind' */
static int replies(long id)
{
    int n = 0;
    for (int i = 0; i < q.ne; i++) {
        long a;
        json_t *j = erl_out(i, &a, NULL);
        n += a == id;
        json_decref(j);
    }
    return n;
}

static int lv_events(const char *kind, double *ms)
{
    int n = 0;
    for (int i = 0; i < q.ne; i++) {
        long a;
        json_t *j = erl_out(i, &a, NULL);
        if (a == 0 && j && !strcmp(json_string_value(json_object_get(j, "type")), "liveview") &&
            !strcmp(json_string_value(json_object_get(j, "kind")), kind)) {
            if (ms)
                *ms = json_number_value(json_object_get(j, "ms"));
            n++;
        }
        json_decref(j);
    }
    return n;
}

static char *b64(const uint8_t *d, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(4 * ((n + 2) / 3) + 1), *p = o;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        *p++ = A[v >> 18 & 63], *p++ = A[v >> 12 & 63];
        *p++ = i + 1 < n ? A[v >> 6 & 63] : '=';
        *p++ = i + 2 < n ? A[v & 63] : '=';
    }
    *p = 0;
    return o;
}

/* Push at 1000.010 s and reply at 1000.025 s (CDP, renderer); the network service wrote the push
 * at 1000.0102 and read the reply at 1000.0112: wire 1.0 ms, received 15 ms. */
static void test_core_wire_from_window(void)
{
    memset(&q, 0, sizeof q);
    q.now = 1000000.0; /* ms: the port's clock equals the browser's here */
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang, .now_ms = q_now, .wire_trace = 1};
    ll_core *c = ll_core_new(&cfg);
    ll_core_start(c);
    CHECK(cmd("SystemInfo.getProcessInfo") >= 0);
    /* a user created before the log records: its page stays paused */
    erl(c, "new_user", 11, 0);
    reply(c, "Target.createBrowserContext", "{'browserContextId':'C1'}");
    from_browser(c, "{'method':'Target.attachedToTarget','params':{'sessionId':'S1','waitingForDebugger':true,"
               "'targetInfo':{'targetId':'T1','type':'page','browserContextId':'C1'}}}");
    CHECK(cmd("Runtime.runIfWaitingForDebugger") == -1);
    for (int i = 0; i < q.nb; i++) /* answer the setup commands */
        if (json_object_get(q.to_browser[i], "sessionId"))
            from_browser(c, "{'id':%lld,'result':{}}", (long long)cmd_id(i));
    CHECK(replies(11) == 0);
    reply(c, "SystemInfo.getProcessInfo",
          "{'processInfo':[{'type':'browser','id':1},{'type':'network.mojom.NetworkService','id':2}]}");
    reply(c, "Tracing.start", "{}");
    int run = cmd("Runtime.runIfWaitingForDebugger");
    CHECK(run >= 0);
    from_browser(c, "{'id':%lld,'result':{}}", (long long)cmd_id(run));
    CHECK(replies(11) == 1);
    q_reset();
    /* the page's socket and one click */
    const char *push = "[\\\"4\\\",\\\"9\\\",\\\"lv:phx-F1\\\",\\\"event\\\",{\\\"type\\\":\\\"click\\\",\\\"event\\\":\\\"inc\\\",\\\"value\\\":{}}]";
    const char *reply_f = "[\\\"4\\\",\\\"9\\\",\\\"lv:phx-F1\\\",\\\"phx_reply\\\",{\\\"response\\\":{\\\"diff\\\":{}},\\\"status\\\":\\\"ok\\\"}]";
    size_t push_len = 71, reply_len = 72;
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'W','url':'ws://h/live/websocket'}}");
    from_browser(c, "{'method':'Network.webSocketWillSendHandshakeRequest','sessionId':'S1','params':{'requestId':'W',"
               "'timestamp':1000.001,'wallTime':1700000000.0,'request':{'headers':{'sec-websocket-key':'q3go0dQnmDHgJN/3l/Z4fA=='}}}}");
    q.now = 1000010.5;
    from_browser(c, "{'method':'Network.webSocketFrameSent','sessionId':'S1','params':{'requestId':'W','timestamp':1000.010,"
               "'response':{'opcode':1,'payloadData':'%s'}}}", push);
    q.now = 1000025.5;
    from_browser(c, "{'method':'Network.webSocketFrameReceived','sessionId':'S1','params':{'requestId':'W','timestamp':1000.025,"
               "'response':{'opcode':1,'payloadData':'%s'}}}", reply_f);
    double ms = 0;
    CHECK(lv_events("received", &ms) == 1 && NEAR(ms, 15.0));
    CHECK(lv_events("wire", NULL) == 0);
    /* stats waits for the window that times it: the window ends now */
    q.now = 1000030.0;
    erl(c, "stats", 12, 0);
    CHECK(replies(12) == 0 && cmd("Tracing.end") >= 0);
    reply(c, "Tracing.end", "{}");
    /* the log: handshake before, push and reply inside; built with lengths of the real frames */
    pbuf w = {0};
    svc_event(&w, 1, MONO0);
    net_first(&w, SEQ_NET, MONO0);
    net_event(&w, SEQ_NET, 1000000, IID_HS, 77, HS_JSON);                    /* 1000.001 */
    ws_frame_ev(&w, 9200000, 1, 77, 1, (unsigned)push_len, 1, 0);             /* 1000.0102 */
    ws_frame_ev(&w, 1000000, 0, 77, 1, (unsigned)reply_len, 1, 0);            /* 1000.0112 */
    from_browser(c, "{'method':'Tracing.tracingComplete','params':{'dataLossOccurred':false,'stream':'S9'}}");
    reply(c, "Tracing.start", "{}");
    char *d = b64(w.b, w.n);
    int rd = cmd("IO.read");
    CHECK(rd >= 0);
    from_browser(c, "{'id':%lld,'result':{'base64Encoded':true,'data':'%s','eof':true}}", (long long)cmd_id(rd), d);
    free(d);
    q.now = 1000030.0 + LL_TRACE_SETTLE_MS + 1;
    ll_core_tick(c);
    ms = 0;
    CHECK(lv_events("wire", &ms) == 1 && fabs(ms - 1.0) < 1e-3);
    CHECK(replies(12) == 1);
    ll_core_stats st;
    ll_core_get_stats(c, &st);
    CHECK(st.wire_unmatched == 0 && st.wire_unaligned == 0);
    /* close_user with nothing waiting: disposed at once */
    q_reset();
    erl(c, "close_user", 13, 1);
    CHECK(cmd("Target.disposeBrowserContext") >= 0);
    reply(c, "Target.disposeBrowserContext", "{}");
    CHECK(replies(13) == 1);
    q_reset();
    ll_core_free(c);
}

/* close_user with a push not timed yet waits for the next window (here one with data loss: the
 * push is counted, not timed) before disposing; EOF does the same within its grace. */
static void test_core_close_waits(void)
{
    memset(&q, 0, sizeof q);
    q.now = 1000000.0;
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang, .now_ms = q_now, .wire_trace = 1};
    ll_core *c = ll_core_new(&cfg);
    ll_core_start(c);
    reply(c, "SystemInfo.getProcessInfo", "{'processInfo':[{'type':'network.mojom.NetworkService','id':2}]}");
    reply(c, "Tracing.start", "{}");
    erl(c, "new_user", 11, 0);
    reply(c, "Target.createBrowserContext", "{'browserContextId':'C1'}");
    from_browser(c, "{'method':'Target.attachedToTarget','params':{'sessionId':'S1','waitingForDebugger':true,"
               "'targetInfo':{'targetId':'T1','type':'page','browserContextId':'C1'}}}");
    for (int i = 0; i < q.nb; i++)
        if (json_object_get(q.to_browser[i], "sessionId"))
            from_browser(c, "{'id':%lld,'result':{}}", (long long)cmd_id(i));
    CHECK(replies(11) == 1);
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'W','url':'ws://h/live/websocket'}}");
    from_browser(c, "{'method':'Network.webSocketFrameSent','sessionId':'S1','params':{'requestId':'W','timestamp':1000.010,"
               "'response':{'opcode':1,'payloadData':'[\\\"1\\\",\\\"2\\\",\\\"lv:a\\\",\\\"event\\\",{}]'}}}");
    from_browser(c, "{'method':'Network.webSocketFrameReceived','sessionId':'S1','params':{'requestId':'W','timestamp':1000.012,"
               "'response':{'opcode':1,'payloadData':'[\\\"1\\\",\\\"2\\\",\\\"lv:a\\\",\\\"phx_reply\\\",{}]'}}}");
    q_reset();
    q.now = 1000020.0;
    erl(c, "close_user", 13, 1);
    CHECK(cmd("Target.disposeBrowserContext") == -1 && cmd("Tracing.end") >= 0);
    from_browser(c, "{'method':'Tracing.tracingComplete','params':{'dataLossOccurred':true,'stream':'S9'}}");
    int rd = cmd("IO.read");
    from_browser(c, "{'id':%lld,'result':{'base64Encoded':true,'data':'','eof':true}}", (long long)cmd_id(rd));
    q.now += LL_TRACE_SETTLE_MS + 1;
    ll_core_tick(c);
    CHECK(cmd("Target.disposeBrowserContext") >= 0);
    ll_core_stats st;
    ll_core_get_stats(c, &st);
    CHECK(st.wire_unmatched == 1);
    reply(c, "Target.disposeBrowserContext", "{}");
    CHECK(replies(13) == 1 && lv_events("wire", NULL) == 0);
    q_reset();
    ll_core_free(c);
}

int main(void)
{
    test_netlog_basic();
    test_netlog_fragments();
    test_netlog_loss();
    test_netlog_names();
    test_base64_and_config();
    test_align_quiet();
    test_align_gap();
    test_align_ambiguous();
    test_align_inconsistent();
    test_align_ghosts();
    test_records();
    test_tracks();
    test_trace_cycle();
    test_trace_failures();
    test_core_wire_from_window();
    test_core_close_waits();
    printf("test_wire: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
