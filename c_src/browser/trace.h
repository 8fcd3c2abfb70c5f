/* The tracing windows behind the LiveView wire timing (guides/events.md, "Three timings per event").
 *
 * One per browser. Chromium hands a trace over only when it ends, and runs one tracing session at
 * a time, so the network log is recorded in windows: Tracing.start (category netlog, enabled only
 * in the network service and browser processes: SystemInfo.getProcessInfo names them), later
 * Tracing.end; on Tracing.tracingComplete the next window starts at once and the finished one is
 * read out of its stream (IO.read, base64 protobuf) and parsed (netlog.h), then handed to the
 * caller with the time Tracing.end was sent. What the network service did between two windows
 * (Tracing.end sent -> the next window's data sources started, typically 10-50 ms) is not seen.
 *
 * A window ends when asked (ll_trace_flush: stats, close_user, a table filling up) or, while the
 * caller has something waiting (ll_trace_tick's busy), every period_ms. Pure logic: commands go
 * out through cfg.send, replies and events come back through ll_trace_reply / ll_trace_event,
 * time through the callers' now_ms; C tests drive it with a fake browser. */
#ifndef LL_TRACE_H
#define LL_TRACE_H

#include <jansson.h>
#include <stdint.h>

#include "netlog.h"

#define LL_TRACE_PERIOD_MS 5000   /* default window length while something waits */
#define LL_TRACE_BUFFER_KB 16384  /* the trace's ring buffer (Chromium allocates it as it fills) */
#define LL_TRACE_SETTLE_MS 100    /* a window is read out no earlier than this after its end: the
                                     page's CDP frame events up to its end have arrived by then */
#define LL_TRACE_MAX_BYTES (64u << 20) /* one window's protobuf; above it the window is dropped */

typedef struct ll_trace ll_trace;

typedef struct {
    /* a CDP command on the browser session (takes params); returns its id, 0 when not sent */
    uint64_t (*send)(void *ud, const char *method, json_t *params, unsigned timeout_ms);
    /* a window read out: its log and the time (ms, caller's clock) Tracing.end was sent */
    void (*window)(void *ud, const ll_netlog_window *w, double end_ms);
    void *ud;
    unsigned period_ms;  /* 0: LL_TRACE_PERIOD_MS */
    unsigned buffer_kb;  /* 0: LL_TRACE_BUFFER_KB */
} ll_trace_cfg;

typedef struct {
    uint64_t windows;  /* windows read out */
    uint64_t lost;     /* windows dropped: data loss, unreadable, failed reads */
    uint64_t bytes;    /* protobuf bytes read */
    uint64_t failures; /* Tracing.start / getProcessInfo failures (retried) */
    double blind_ms;   /* summed time between a window's end and the next one recording */
} ll_trace_stats;

ll_trace *ll_trace_new(const ll_trace_cfg *cfg);
void ll_trace_free(ll_trace *t);
/* Finds the processes and starts the first window. */
void ll_trace_start(ll_trace *t, double now_ms);
/* A reply to command `id' (result NULL when err): 1 when it was one of ours. */
int ll_trace_reply(ll_trace *t, uint64_t id, int err, const json_t *result, double now_ms);
/* A browser-session event (Tracing.tracingComplete, Tracing.bufferUsage): 1 when handled. */
int ll_trace_event(ll_trace *t, const char *method, const json_t *params, double now_ms);
/* Periodic: retries, the period roll when busy, watchdogs, windows waiting to settle. */
void ll_trace_tick(ll_trace *t, double now_ms, int busy);
/* A window ending now or later is wanted as soon as possible. */
void ll_trace_flush(ll_trace *t, double now_ms);
/* A window ended at or after `since' (ms) has been handed over. */
int ll_trace_covered(const ll_trace *t, double since_ms);
/* Tracing can still deliver windows (not given up, not stopped). */
int ll_trace_alive(const ll_trace *t);
/* The first window is recording, or tracing gave up: a page may start (its socket's handshake
 * would otherwise go unseen). */
int ll_trace_ready(const ll_trace *t);
void ll_trace_get_stats(const ll_trace *t, ll_trace_stats *s);

#endif
