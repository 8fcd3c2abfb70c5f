/* The port's protocol logic, free of I/O: decodes commands from Erlang, speaks CDP with flat
 * sessions, routes replies and events per user, and computes the compact network records.
 * The event loop (main.c) feeds it whole frames and ships what it emits; C tests and fuzz targets
 * drive it directly. The wire protocol is documented at the top of main.c. */
#ifndef LL_CORE_H
#define LL_CORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ll_core ll_core;

typedef struct {
    /* one CDP message (JSON, no terminator) for the browser; returns 0, or -1 when the queue to the
     * browser is full (the command is then answered too_many_pending) */
    int (*to_browser)(void *ud, const char *json, size_t len);
    /* one ETF term (version byte included, no length prefix) for Erlang; is_event = 1 for id-0
     * events, which the loop may drop under back-pressure, never replies */
    void (*to_erlang)(void *ud, const char *etf, size_t len, int is_event);
    void *ud;
    const char *observer_js; /* init script installed in every page (NUL-terminated) */
    const char *binding;     /* name of the Runtime binding the observer calls */
    unsigned max_users;      /* cap on live users (default 256) */
    unsigned max_inflight;   /* cap on tracked in-flight HTTP requests per user (default 128) */
    /* deadline of a CDP command Erlang gave none (ms, default 120000); internal setup commands
     * and disposals use it too */
    unsigned cmd_timeout_ms;
    /* monotonic clock in ms (default CLOCK_MONOTONIC); tests drive a fake one */
    double (*now_ms)(void *ud);
    /* LiveView wire round trips from the network service's own frame times (trace.h): 1 on (the
     * port), 0 off (then only the page-side `received' timing is reported) */
    int wire_trace;
    unsigned trace_period_ms; /* 0: LL_TRACE_PERIOD_MS */
} ll_core_cfg;

typedef struct {
    uint64_t cdp_in, cdp_out, erl_in, erl_out, events_dropped, bad_frames, http_dropped, expired;
    uint64_t wire_dropped; /* LiveView pushes whose reply frame never came (evicted, expired, socket closed) */
    uint64_t wire_unmatched; /* answered LiveView pushes without network-side times: no `wire' event */
    uint64_t wire_unaligned; /* socket directions a tracing window could not pair one way */
    unsigned users, pending;
} ll_core_stats;

ll_core *ll_core_new(const ll_core_cfg *cfg);
void ll_core_free(ll_core *c);
/* Sends the root setup (Target.setAutoAttach). */
void ll_core_start(ll_core *c);
/* One frame from Erlang (the ETF after the {packet,4} length). Never fails: malformed input gets an
 * error reply (or a protocol_error event when no request id can be read). */
void ll_core_from_erlang(ll_core *c, const char *buf, size_t len);
/* One CDP message from the browser. Returns -1 for undecodable JSON (logged, counted, ignored). */
int ll_core_from_browser(ll_core *c, const char *json, size_t len);
/* Starts disposing every user's context; returns how many disposals are in flight. */
unsigned ll_core_shutdown(ll_core *c);
unsigned ll_core_disposing(const ll_core *c);
void ll_core_get_stats(const ll_core *c, ll_core_stats *s);
/* Track an extra counter the loop owns (events dropped under back-pressure). */
void ll_core_count_dropped(ll_core *c);

/* Expires every pending command whose deadline has passed: an Erlang call gets {Id, error, timeout},
 * a user still being created fails, a disposal counts as done. Its slot is free again. The loop
 * calls it periodically. Returns how many expired. */
unsigned ll_core_tick(ll_core *c);
/* The slot capacity of the pending-command table (for tests). */
unsigned ll_core_pending_cap(void);

#endif
