#include "trace.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PIDS_RETRY_MS 250      /* the network service shows up ~1 s after launch */
#define PIDS_ATTEMPTS 40       /* then, without one, the browser process alone is traced */
#define RETRY_MS 5000          /* after a failed Tracing.start */
#define FAILS_MAX 5            /* in a row: tracing is given up */
#define CMD_TIMEOUT_MS 15000
#define WATCHDOG_MS 20000      /* Tracing.end without tracingComplete, a read that never ends */
#define READ_CHUNK (1u << 20)
#define MAX_PIDS 8

enum state { T_IDLE, T_PIDS, T_PIDS_WAIT, T_STARTING, T_ON, T_ENDING, T_FAILED, T_DEAD };

struct ll_trace {
    ll_trace_cfg cfg;
    enum state st;
    double since;       /* state entered (ms) */
    double retry_at;
    int attempts, fails, ready;
    long pids[MAX_PIDS];
    size_t npids;
    uint64_t id_pids, id_start, id_end, id_read;
    /* the window being read out */
    int reading, read_done, read_loss;
    char stream[128];
    double end_ms;      /* Tracing.end of the window being read */
    uint8_t *buf;
    size_t len, cap;
    /* flushes */
    int want;
    double want_since;
    double covered;     /* end of the last window handed over (ms) */
    ll_trace_stats st_;
};

static uint64_t send(ll_trace *t, const char *method, json_t *params)
{
    return t->cfg.send(t->cfg.ud, method, params, CMD_TIMEOUT_MS);
}

static void enter(ll_trace *t, enum state s, double now)
{
    t->st = s;
    t->since = now;
}

static void fail(ll_trace *t, double now)
{
    t->st_.failures++;
    t->ready = 1; /* nobody waits for a trace that is not coming */
    if (++t->fails >= FAILS_MAX) {
        enter(t, T_DEAD, now);
        return;
    }
    enter(t, T_FAILED, now);
    t->retry_at = now + RETRY_MS;
}

static void ask_pids(ll_trace *t, double now)
{
    t->id_pids = send(t, "SystemInfo.getProcessInfo", json_object());
    if (t->id_pids)
        enter(t, T_PIDS, now);
    else
        fail(t, now);
}

static void start_window(ll_trace *t, double now)
{
    char *cfg = ll_netlog_config(t->pids, t->npids, t->cfg.buffer_kb);
    if (!cfg) {
        fail(t, now);
        return;
    }
    json_t *p = json_pack("{s:s,s:s,s:s,s:i}", "transferMode", "ReturnAsStream", "streamFormat", "proto",
                          "perfettoConfig", cfg, "bufferUsageReportingInterval", 1000);
    free(cfg);
    t->id_start = send(t, "Tracing.start", p);
    if (t->id_start)
        enter(t, T_STARTING, now);
    else
        fail(t, now);
}

static void end_window(ll_trace *t, double now)
{
    t->id_end = send(t, "Tracing.end", json_object());
    if (!t->id_end) {
        fail(t, now);
        return;
    }
    t->end_ms = now;
    enter(t, T_ENDING, now);
}

ll_trace *ll_trace_new(const ll_trace_cfg *cfg)
{
    ll_trace *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (!t->cfg.period_ms)
        t->cfg.period_ms = LL_TRACE_PERIOD_MS;
    if (!t->cfg.buffer_kb)
        t->cfg.buffer_kb = LL_TRACE_BUFFER_KB;
    t->covered = -INFINITY;
    return t;
}

void ll_trace_free(ll_trace *t)
{
    if (!t)
        return;
    free(t->buf);
    free(t);
}

void ll_trace_start(ll_trace *t, double now_ms)
{
    if (t->st == T_IDLE)
        ask_pids(t, now_ms);
}

/* The processes whose network log we want: the network service, and the browser (which runs the
 * network service itself when it is not out of process). */
static int read_pids(ll_trace *t, const json_t *result)
{
    const json_t *list = json_object_get(result, "processInfo");
    size_t i;
    const json_t *p;
    long browser = 0;
    int net = 0;
    t->npids = 0;
    json_array_foreach(list, i, p)
    {
        const char *type = json_string_value(json_object_get(p, "type"));
        const json_t *id = json_object_get(p, "id");
        if (!type || !json_is_integer(id) || json_integer_value(id) <= 0 || json_integer_value(id) > 0x7fffffff)
            continue;
        if (!strcmp(type, "browser"))
            browser = (long)json_integer_value(id);
        else if (!strcmp(type, "network.mojom.NetworkService") && t->npids < MAX_PIDS - 1)
            t->pids[t->npids++] = (long)json_integer_value(id), net = 1;
    }
    if (browser)
        t->pids[t->npids++] = browser;
    return net;
}

int ll_trace_reply(ll_trace *t, uint64_t id, int err, const json_t *result, double now_ms)
{
    if (!id)
        return 0;
    if (id == t->id_pids) {
        t->id_pids = 0;
        if (err) {
            fail(t, now_ms);
        } else if (read_pids(t, result) || ++t->attempts >= PIDS_ATTEMPTS) {
            if (t->npids)
                start_window(t, now_ms);
            else
                fail(t, now_ms);
        } else {
            enter(t, T_PIDS_WAIT, now_ms);
            t->retry_at = now_ms + PIDS_RETRY_MS;
        }
        return 1;
    }
    if (id == t->id_start) {
        t->id_start = 0;
        if (err) {
            fail(t, now_ms);
            return 1;
        }
        if (t->end_ms > 0 && isfinite(t->end_ms))
            t->st_.blind_ms += now_ms - t->end_ms;
        t->fails = 0;
        t->ready = 1;
        enter(t, T_ON, now_ms);
        if (t->want && t->want_since > t->covered && !t->reading)
            end_window(t, now_ms); /* a flush the previous window ended too early for */
        return 1;
    }
    if (id == t->id_end) {
        t->id_end = 0;
        if (err) /* not tracing any more (another client ended it?): start again */
            fail(t, now_ms);
        return 1;
    }
    if (id == t->id_read) {
        t->id_read = 0;
        const char *data = json_string_value(json_object_get(result, "data"));
        size_t n = data ? json_string_length(json_object_get(result, "data")) : 0;
        int b64 = json_is_true(json_object_get(result, "base64Encoded"));
        if (err || !data) {
            t->read_loss = 1;
            t->read_done = 1;
        } else {
            size_t room = b64 ? n / 4 * 3 + 3 : n;
            if (t->len + room > LL_TRACE_MAX_BYTES) {
                t->read_loss = 1;
            } else {
                if (t->len + room > t->cap) {
                    size_t cap = t->cap ? t->cap : 1 << 16;
                    while (cap < t->len + room)
                        cap *= 2;
                    uint8_t *nb = realloc(t->buf, cap);
                    if (!nb) {
                        t->read_loss = 1;
                        t->read_done = 1;
                        return 1;
                    }
                    t->buf = nb, t->cap = cap;
                }
                if (b64) {
                    long k = ll_base64_decode(data, n, t->buf + t->len);
                    if (k < 0)
                        t->read_loss = 1;
                    else
                        t->len += (size_t)k;
                } else if (n) { /* an empty chunk: no buffer yet, nothing to copy */
                    memcpy(t->buf + t->len, data, n);
                    t->len += n;
                }
            }
            if (json_is_true(json_object_get(result, "eof")) || t->read_loss)
                t->read_done = 1;
            else if (!(t->id_read = send(t, "IO.read", json_pack("{s:s,s:i}", "handle", t->stream, "size", READ_CHUNK))))
                t->read_loss = t->read_done = 1;
        }
        if (t->read_done)
            send(t, "IO.close", json_pack("{s:s}", "handle", t->stream));
        ll_trace_tick(t, now_ms, 0);
        return 1;
    }
    return 0;
}

/* A read-out window is handed over once settled. */
static void deliver(ll_trace *t, double now)
{
    if (!t->reading || !t->read_done || now < t->end_ms + LL_TRACE_SETTLE_MS)
        return;
    ll_netlog_window w;
    ll_netlog_init(&w);
    if (t->read_loss)
        w.loss = 1;
    else
        ll_netlog_parse(&w, t->buf, t->len);
    t->st_.bytes += t->len;
    t->st_.windows++;
    if (w.loss)
        t->st_.lost++;
    t->covered = t->end_ms;
    t->cfg.window(t->cfg.ud, &w, t->end_ms);
    ll_netlog_free(&w);
    t->reading = 0;
    t->len = 0;
    /* A window passes megabytes through the heap (its buffer, IO.read chunks of 1 MB as base64 JSON
     * strings, the parse). Kept between windows, the buffer doubled to 4 MB over a soak; and glibc
     * holds what the rest leave free: the port's RSS grew ~1 MB a minute per browser while 3-4 MB
     * were in use. The buffer goes, and the heap's free pages go back, once a window. */
    free(t->buf);
    t->buf = NULL;
    t->cap = 0;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    if (t->want && t->covered >= t->want_since)
        t->want = 0;
}

int ll_trace_event(ll_trace *t, const char *method, const json_t *params, double now_ms)
{
    if (!strcmp(method, "Tracing.tracingComplete")) {
        if (t->st != T_ENDING)
            return 1;
        const char *stream = json_string_value(json_object_get(params, "stream"));
        t->reading = 1;
        t->read_done = 0;
        t->read_loss = json_is_true(json_object_get(params, "dataLossOccurred"));
        t->len = 0;
        if (!stream || strlen(stream) >= sizeof t->stream) {
            t->read_loss = t->read_done = 1;
        } else {
            strcpy(t->stream, stream);
            t->id_read = send(t, "IO.read", json_pack("{s:s,s:i}", "handle", t->stream, "size", READ_CHUNK));
            if (!t->id_read)
                t->read_loss = t->read_done = 1;
        }
        start_window(t, now_ms); /* the next window records while this one is read out */
        return 1;
    }
    if (!strcmp(method, "Tracing.bufferUsage")) {
        const json_t *full = json_object_get(params, "percentFull");
        if (json_is_number(full) && json_number_value(full) >= 0.5)
            ll_trace_flush(t, now_ms);
        return 1;
    }
    return 0;
}

void ll_trace_tick(ll_trace *t, double now_ms, int busy)
{
    deliver(t, now_ms);
    switch (t->st) {
    case T_PIDS_WAIT:
        if (now_ms >= t->retry_at)
            ask_pids(t, now_ms);
        break;
    case T_FAILED:
        if (now_ms >= t->retry_at)
            ask_pids(t, now_ms);
        break;
    case T_ON:
        if (!t->reading && ((t->want && t->want_since > t->covered) || (busy && now_ms - t->since >= t->cfg.period_ms)))
            end_window(t, now_ms);
        break;
    case T_ENDING:
        if (now_ms - t->since > WATCHDOG_MS) {
            t->id_end = 0;
            fail(t, now_ms);
        }
        break;
    default:
        break;
    }
    if (t->reading && !t->read_done && now_ms - t->end_ms > WATCHDOG_MS) {
        t->id_read = 0;
        t->read_loss = t->read_done = 1;
        deliver(t, now_ms);
    }
}

void ll_trace_flush(ll_trace *t, double now_ms)
{
    t->want_since = t->want && t->want_since > now_ms ? t->want_since : now_ms;
    t->want = 1;
    if (t->st == T_ON && !t->reading)
        end_window(t, now_ms);
}

int ll_trace_covered(const ll_trace *t, double since_ms) { return t->covered >= since_ms; }

int ll_trace_alive(const ll_trace *t) { return t->st != T_DEAD && t->st != T_IDLE && t->st != T_FAILED; }

int ll_trace_ready(const ll_trace *t) { return t->ready; }

void ll_trace_get_stats(const ll_trace *t, ll_trace_stats *s) { *s = t->st_; }
