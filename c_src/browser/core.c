#include "core.h"

#include <ctype.h>
#include <ei.h>
#include <jansson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "etf.h"
#include "trace.h"
#include "wire.h"

#define ID_CAP 64          /* CDP ids (context, target, session) are 32 hex chars today */
#define PEND_CAP 4096      /* in-flight CDP commands (power of two) */
#define URL_CAP 1024       /* URL kept per HTTP record */
#define WS_CAP 24          /* tracked WebSockets per user, open or closed with frames a window has to time */
#define METHOD_CAP 128     /* CDP method names from Erlang */
#define CMD_TIMEOUT_MS 120000u /* default deadline of a CDP command */
#define METHOD_STATS 64        /* distinct CDP methods counted in stats (the rest as "other") */
#define FLUSH_WAIT_MS 5000.0   /* stats / close_user wait at most this long for a tracing window */
#define SHUTDOWN_WAIT_MS 1500.0 /* EOF on stdin: the last window, within the 3 s grace */
#define RECORD_TTL_MS 60000.0  /* a push that no window timed in this long never will */
#define STATS_WAITS 16

enum ustate { U_CREATING, U_SETUP, U_READY, U_CLOSING, U_GONE };
enum pkind { P_FREE, P_IGNORE, P_ERL, P_CTX, P_TARGET, P_SETUP, P_DISPOSE, P_TRACE };

struct http_req {
    int used, have_resp;
    char id[ID_CAP], method[16], type[24];
    char url[URL_CAP];
    double t0, wall, ttfb, dns, connect, tls;
    long status;
};

struct ws_conn {
    int used, sampled; /* sampled: its ws events are reported (LiveView wire timing is kept either way) */
    int have_wall;     /* wall_base is known */
    uint32_t gen;      /* which of the user's sockets this is, for the wire table */
    char id[ID_CAP], url[URL_CAP];
    double t_hs, wall_base; /* wall_base: wallTime - timestamp at the handshake (s) */
    uint64_t sent, received;
    ll_wsock *ns; /* network-side frame history (wire timing on), kept after the close while records wait */
};

struct user {
    uint32_t id;
    enum ustate st;
    int fast, network, setup_left, setup_failed;
    long err_code;
    char err_msg[256];
    double sample;
    long vw, vh;
    uint64_t erl_req; /* Erlang request waiting on new_user/close_user, 0 if none */
    uint64_t rng;
    char ctx[ID_CAP], target[ID_CAP], session[ID_CAP];
    struct http_req *reqs;
    struct ws_conn ws[WS_CAP];
    uint32_t ws_gen;
    ll_wire wire;                          /* LiveView pushes awaiting their reply frame */
    char frame[ID_CAP], page_url[URL_CAP]; /* main frame and its URL (routes of wire events) */
    int await_trace;                       /* page held paused until the network log records */
    int close_wait;                        /* close_user waits for the window timing its pushes */
    uint64_t close_erl;
    double close_since;
    double dlg_t0;  /* start of the current dialog window (ms) */
    unsigned dlg_n; /* dialogs opened in it */
    int crashed;    /* the page's renderer crashed: no command is answered until a navigation */
};

struct pending {
    uint64_t id, erl;
    uint32_t user;
    enum pkind k;
    int on_session; /* sent on the user's page session (dies with it) */
    double deadline; /* ms on the core's clock */
};

/* CDP messages per method and direction ("out Page.navigate", "in Network.dataReceived",
 * "in reply"): what the benchmarks divide by iterations to compare driver changes */
struct method_count {
    char name[METHOD_CAP + 8];
    uint64_t n;
};

struct ll_core {
    ll_core_cfg cfg;
    struct method_count methods[METHOD_STATS];
    unsigned nmethods;
    struct user **users; /* max_users slots, NULL = free */
    unsigned nusers;
    uint32_t next_user;
    uint64_t next_id;
    struct pending pend[PEND_CAP];
    unsigned npending, disposing;
    int plain_target, freeing;
    ll_core_stats st;
    /* network-side wire timing */
    ll_trace *trace;
    ll_tracks tracks;
    double off_est; /* port clock - browser clock upper bound (s): min(receipt - timestamp) */
    struct {
        uint64_t erl;
        double since;
    } waits[STATS_WAITS]; /* stats calls waiting for a window */
    unsigned nwaits;
    int shutdown_wait;
    double shutdown_since;
};

/* ------------------------------------------------------------------ output helpers */

static void emit_x(ll_core *c, ei_x_buff *x, int is_event)
{
    c->cfg.to_erlang(c->cfg.ud, x->buff, (size_t)x->index, is_event);
    (void)is_event;
    c->st.erl_out++;
    ei_x_free(x);
}

/* {Id, ok, Json} */
static void reply_ok(ll_core *c, uint64_t erl, const json_t *j)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_ulonglong(&x, erl);
    ei_x_encode_atom(&x, "ok");
    if (ll_json_to_etf(&x, j)) {
        ei_x_free(&x);
        ei_x_new_with_version(&x);
        ei_x_encode_tuple_header(&x, 3);
        ei_x_encode_ulonglong(&x, erl);
        ei_x_encode_atom(&x, "error");
        ei_x_encode_atom(&x, "result_too_deep");
    }
    emit_x(c, &x, 0);
}

/* {Id, error, Atom} or {Id, error, {Atom, Detail}} when detail != NULL */
static void reply_err(ll_core *c, uint64_t erl, const char *atom, const char *detail)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_ulonglong(&x, erl);
    ei_x_encode_atom(&x, "error");
    if (detail) {
        ei_x_encode_tuple_header(&x, 2);
        ei_x_encode_atom(&x, atom);
        ei_x_encode_binary(&x, detail, (int)strlen(detail));
    } else {
        ei_x_encode_atom(&x, atom);
    }
    emit_x(c, &x, 0);
}

/* {Id, error, {cdp, Code, Message}} */
static void reply_cdp_err(ll_core *c, uint64_t erl, long code, const char *msg)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_ulonglong(&x, erl);
    ei_x_encode_atom(&x, "error");
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_atom(&x, "cdp");
    ei_x_encode_long(&x, code);
    ei_x_encode_binary(&x, msg, (int)strlen(msg));
    emit_x(c, &x, 0);
}

/* {0, User, Map}; takes ownership of ev */
static void emit_event(ll_core *c, uint32_t user, json_t *ev)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_ulong(&x, 0);
    ei_x_encode_ulong(&x, user);
    if (ll_json_to_etf(&x, ev)) {
        ei_x_free(&x);
        json_decref(ev);
        c->st.events_dropped++;
        return;
    }
    json_decref(ev);
    emit_x(c, &x, 1);
}

/* ------------------------------------------------------------------ per-method counters */

static void count_method(ll_core *c, const char *dir, const char *method)
{
    char key[METHOD_CAP + 8];
    snprintf(key, sizeof key, "%s %s", dir, method && strlen(method) < METHOD_CAP ? method : "other");
    for (unsigned i = 0; i < c->nmethods; i++)
        if (!strcmp(c->methods[i].name, key)) {
            c->methods[i].n++;
            return;
        }
    if (c->nmethods < METHOD_STATS - 1) {
        strcpy(c->methods[c->nmethods].name, key);
        c->methods[c->nmethods++].n = 1;
        return;
    }
    /* the last slot holds everything past the cap */
    strcpy(c->methods[METHOD_STATS - 1].name, "other");
    c->methods[METHOD_STATS - 1].n++;
    c->nmethods = METHOD_STATS;
}

static json_t *method_counts(const ll_core *c)
{
    json_t *o = json_object();
    for (unsigned i = 0; i < c->nmethods; i++)
        json_object_set_new(o, c->methods[i].name, json_integer((json_int_t)c->methods[i].n));
    return o;
}

/* ------------------------------------------------------------------ users and pending */

static struct user *user_by_id(ll_core *c, uint32_t id)
{
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i] && c->users[i]->id == id)
            return c->users[i];
    return NULL;
}

static struct user *user_by_session(ll_core *c, const char *sid)
{
    if (!sid || !*sid)
        return NULL;
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i] && !strcmp(c->users[i]->session, sid))
            return c->users[i];
    return NULL;
}

static struct user *user_by_ctx(ll_core *c, const char *ctx)
{
    if (!ctx || !*ctx)
        return NULL;
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i] && !strcmp(c->users[i]->ctx, ctx))
            return c->users[i];
    return NULL;
}

static void release_pending(ll_core *c, uint32_t user, int session_only, const char *reason);
static void wire_resume(ll_core *c);
static void wire_waits(ll_core *c);
static void stats_reply(ll_core *c, uint64_t erl);
static void close_dispose(ll_core *c, struct user *u, uint64_t erl);
static unsigned dispose_all(ll_core *c);

/* Forgets the user: its pending commands are failed (user_gone) and their slots freed. */
static void user_free(ll_core *c, struct user *u)
{
    release_pending(c, u->id, 0, "user_gone");
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i] == u) {
            c->users[i] = NULL;
            c->nusers--;
        }
    ll_wire_drop_records(&u->wire, 0, 1, &c->st.wire_unmatched);
    for (int i = 0; i < WS_CAP; i++)
        free(u->ws[i].ns);
    free(u->reqs);
    free(u);
#ifdef __GLIBC__
    /* A user's request table is ~150 kB: once glibc's mmap threshold has risen it comes from the
     * heap, which holds what it leaves free (the 2000-cycle row saw the port's RSS step up 1 MB
     * once, with 8 users at a time). The free pages go back as each user goes; not when the
     * port frees every user on its way out. */
    if (!c->freeing)
        malloc_trim(0);
#endif
}

static void copy_id(char *dst, const char *src)
{
    if (!src || strlen(src) >= ID_CAP) {
        dst[0] = 0;
        return;
    }
    strcpy(dst, src);
}

static double now_ms(ll_core *c)
{
    if (c->cfg.now_ms)
        return c->cfg.now_ms(c->cfg.ud);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Sends {id, method, params, sessionId} with a deadline of timeout_ms (0 = the default). Takes
 * ownership of params. A slot still held by an unanswered command is skipped (its id is not
 * reused), so only a table that is really full fails: 0 then, or when the queue to the browser is
 * full. */
static uint64_t send_cmd_t(ll_core *c, const char *session, const char *method, json_t *params, enum pkind k,
                           uint32_t user, uint64_t erl, unsigned timeout_ms)
{
    if (c->npending >= PEND_CAP) {
        json_decref(params);
        return 0;
    }
    while (c->pend[c->next_id & (PEND_CAP - 1)].k != P_FREE)
        c->next_id++;
    uint64_t id = c->next_id;
    struct pending *p = &c->pend[id & (PEND_CAP - 1)];
    json_t *m = json_object();
    json_object_set_new(m, "id", json_integer((json_int_t)id));
    json_object_set_new(m, "method", json_string(method));
    json_object_set_new(m, "params", params ? params : json_object());
    if (session && *session)
        json_object_set_new(m, "sessionId", json_string(session));
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (!s)
        return 0;
    if (c->cfg.to_browser(c->cfg.ud, s, strlen(s))) {
        free(s);
        return 0;
    }
    free(s);
    c->next_id++;
    *p = (struct pending){.id = id,
                          .erl = erl,
                          .user = user,
                          .k = k,
                          .on_session = session && *session,
                          .deadline = now_ms(c) + (timeout_ms ? timeout_ms : c->cfg.cmd_timeout_ms)};
    c->npending++;
    c->st.cdp_out++;
    count_method(c, "out", method);
    return id;
}

static uint64_t send_cmd(ll_core *c, const char *session, const char *method, json_t *params, enum pkind k,
                         uint32_t user, uint64_t erl)
{
    return send_cmd_t(c, session, method, params, k, user, erl, 0);
}

/* Frees the slots of user id's pending commands (only those sent on its page session when
 * session_only): Erlang calls among them are answered {Id, error, Reason}. */
static void release_pending(ll_core *c, uint32_t user, int session_only, const char *reason)
{
    for (unsigned i = 0; i < PEND_CAP && c->npending > 0; i++) {
        struct pending *p = &c->pend[i];
        if (p->k == P_FREE || p->user != user || (session_only && !p->on_session))
            continue;
        enum pkind k = p->k;
        uint64_t erl = p->erl;
        p->k = P_FREE;
        c->npending--;
        if ((k == P_ERL || (k == P_DISPOSE && erl)) && !c->freeing)
            reply_err(c, erl, reason, NULL);
        else if (k == P_DISPOSE && c->disposing > 0)
            c->disposing--;
    }
}

static json_t *user_info(const struct user *u)
{
    return json_pack("{s:I,s:s,s:s,s:s}", "user", (json_int_t)u->id, "target_id", u->target,
                     "browser_context_id", u->ctx, "session_id", u->session);
}

/* Creation failed after the context exists: answer Erlang, dispose, forget the user. */
static void fail_user(ll_core *c, struct user *u, long code, const char *msg)
{
    if (u->erl_req)
        reply_cdp_err(c, u->erl_req, code, msg);
    if (u->ctx[0])
        send_cmd(c, NULL, "Target.disposeBrowserContext", json_pack("{s:s}", "browserContextId", u->ctx),
                 P_IGNORE, 0, 0);
    user_free(c, u);
}

static void start_setup(ll_core *c, struct user *u)
{
    const char *s = u->session;
    uint32_t id = u->id;
    int n = 0;
    u->st = U_SETUP;
    n += !!send_cmd(c, s, "Page.enable", NULL, P_SETUP, id, 0);
    n += !!send_cmd(c, s, "Page.setLifecycleEventsEnabled", json_pack("{s:b}", "enabled", 1), P_SETUP, id, 0);
    n += !!send_cmd(c, s, "Runtime.enable", NULL, P_SETUP, id, 0);
    if (u->network)
        n += !!send_cmd(c, s, "Network.enable", NULL, P_SETUP, id, 0);
    n += !!send_cmd(c, s, "Emulation.setFocusEmulationEnabled", json_pack("{s:b}", "enabled", 1), P_SETUP, id, 0);
    if (u->vw > 0 || u->fast)
        n += !!send_cmd(c, s, "Emulation.setDeviceMetricsOverride",
                        json_pack("{s:I,s:I,s:i,s:b}", "width", (json_int_t)(u->vw > 0 ? u->vw : 1280), "height",
                                  (json_int_t)(u->vh > 0 ? u->vh : 720), "deviceScaleFactor", 1, "mobile", 0),
                        P_SETUP, id, 0);
    n += !!send_cmd(c, s, "Runtime.addBinding", json_pack("{s:s}", "name", c->cfg.binding), P_SETUP, id, 0);
    n += !!send_cmd(c, s, "Page.addScriptToEvaluateOnNewDocument", json_pack("{s:s}", "source", c->cfg.observer_js),
                    P_SETUP, id, 0);
    /* last: the page stays paused until the observer and binding are in place, and until the
     * network log records (its sockets' handshakes must not go unseen; wire_resume) */
    if (u->network && c->trace && !ll_trace_ready(c->trace))
        n++, u->await_trace = 1;
    else
        n += !!send_cmd(c, s, "Runtime.runIfWaitingForDebugger", NULL, P_SETUP, id, 0);
    u->setup_left = n;
    if (n < 7 + !!u->network + !!(u->vw > 0 || u->fast)) {
        u->setup_failed = 1;
        u->err_code = -1;
        snprintf(u->err_msg, sizeof u->err_msg, "too_many_pending");
    }
    if (n == 0)
        fail_user(c, u, -1, "too_many_pending");
}

/* ------------------------------------------------------------------ network records */

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static int sampled(struct user *u)
{
    if (u->sample >= 1.0)
        return 1;
    return (double)(xorshift(&u->rng) >> 11) / 9007199254740992.0 < u->sample;
}

/* Only the scenario's own traffic is reported: Chromium also reports data:, blob:, chrome-error://
 * (its error page and that page's data: images) and about: loads, which the target never saw. */
static int scheme_is(const char *url, const char *const *schemes)
{
    for (int i = 0; schemes[i]; i++) {
        size_t n = strlen(schemes[i]);
        if (!strncasecmp(url, schemes[i], n))
            return 1;
    }
    return 0;
}

static const char *const HTTP_SCHEMES[] = {"http://", "https://", NULL};
static const char *const WS_SCHEMES[] = {"ws://", "wss://", NULL};

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double jnum(const json_t *o, const char *k, double dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static struct http_req *req_find(ll_core *c, struct user *u, const char *id)
{
    for (unsigned i = 0; i < c->cfg.max_inflight; i++)
        if (u->reqs[i].used && !strcmp(u->reqs[i].id, id))
            return &u->reqs[i];
    return NULL;
}

static json_t *ms_or_null(double v) { return v >= 0 ? json_real(v) : json_null(); }

static void http_emit(ll_core *c, struct user *u, struct http_req *r, double t_end, double bytes, const char *error,
                      int canceled)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "type", json_string("http"));
    json_object_set_new(ev, "method", json_string(r->method));
    json_object_set_new(ev, "url", json_string(r->url));
    json_object_set_new(ev, "resource_type", json_string(r->type));
    json_object_set_new(ev, "status", r->have_resp ? json_integer(r->status) : json_null());
    json_object_set_new(ev, "duration_ms", ms_or_null(t_end >= r->t0 ? (t_end - r->t0) * 1000.0 : -1));
    json_object_set_new(ev, "ttfb_ms", ms_or_null(r->have_resp ? r->ttfb : -1));
    json_object_set_new(ev, "dns_ms", ms_or_null(r->have_resp ? r->dns : -1));
    json_object_set_new(ev, "connect_ms", ms_or_null(r->have_resp ? r->connect : -1));
    json_object_set_new(ev, "tls_ms", ms_or_null(r->have_resp ? r->tls : -1));
    json_object_set_new(ev, "bytes", json_integer((json_int_t)(bytes > 0 ? bytes : 0)));
    json_object_set_new(ev, "failed", json_boolean(error != NULL));
    json_object_set_new(ev, "error", error ? json_string(error) : json_null());
    json_object_set_new(ev, "canceled", json_boolean(canceled));
    json_object_set_new(ev, "wall_ms", json_real(r->wall * 1000.0));
    emit_event(c, u->id, ev);
    r->used = 0;
}

static void set_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void http_response(struct http_req *r, const json_t *resp)
{
    const json_t *t = json_object_get(resp, "timing");
    r->have_resp = 1;
    r->status = (long)jnum(resp, "status", 0);
    r->ttfb = r->dns = r->connect = r->tls = -1;
    if (json_is_object(t)) {
        double rt = jnum(t, "requestTime", -1), rh = jnum(t, "receiveHeadersEnd", -1);
        if (rt >= 0 && rh >= 0)
            r->ttfb = (rt - r->t0) * 1000.0 + rh;
        double a = jnum(t, "dnsStart", -1), b = jnum(t, "dnsEnd", -1);
        if (a >= 0 && b >= a)
            r->dns = b - a;
        a = jnum(t, "connectStart", -1), b = jnum(t, "connectEnd", -1);
        if (a >= 0 && b >= a)
            r->connect = b - a;
        a = jnum(t, "sslStart", -1), b = jnum(t, "sslEnd", -1);
        if (a >= 0 && b >= a)
            r->tls = b - a;
    }
}

static struct ws_conn *ws_find(struct user *u, const char *id)
{
    for (int i = 0; i < WS_CAP; i++)
        if (u->ws[i].used && !strcmp(u->ws[i].id, id))
            return &u->ws[i];
    return NULL;
}

static json_t *ws_event(struct ws_conn *w, const char *what)
{
    return json_pack("{s:s,s:s,s:s}", "type", "ws", "what", what, "url", w->url);
}

/* Payload size of a frame: text as is, binary frames arrive base64-encoded (padded or not; a
 * malformed tail never makes the size wrap around). */
static size_t frame_bytes(const json_t *resp)
{
    const char *s = json_string_value(json_object_get(resp, "payloadData"));
    size_t n = s ? json_string_length(json_object_get(resp, "payloadData")) : 0;
    if ((long)jnum(resp, "opcode", 1) != 2)
        return n;
    while (n > 0 && s[n - 1] == '=')
        n--;
    return n / 4 * 3 + (n % 4) * 3 / 4;
}

static json_t *str_or_null(const char *s)
{
    json_t *j = *s ? json_string(s) : NULL; /* NULL for invalid UTF-8 too */
    return j ? j : json_null();
}

/* ------------------------------------------------------------------ LiveView round trips (wire.h) */

/* One `liveview' event of kind `kind' for an answered push: ms, event, event_type, url, wall_ms. */
static json_t *lv_event(const char *kind, double ms, const char *event, const char *type, const char *url,
                        double wall_ms)
{
    json_t *ev = json_pack("{s:s,s:s,s:f}", "type", "liveview", "kind", kind, "ms", ms);
    json_object_set_new(ev, "event", str_or_null(event));
    json_object_set_new(ev, "event_type", str_or_null(type));
    json_t *u = url && *url ? json_string(url) : NULL; /* NULL: cut inside a character */
    if (u)
        json_object_set_new(ev, "url", u);
    if (wall_ms > 0)
        json_object_set_new(ev, "wall_ms", json_real(wall_ms));
    return ev;
}

static int wire_timing(const ll_core *c) { return c->trace && ll_trace_alive(c->trace); }

/* A push frame is remembered; the frame answering it gives the `received' event (push frame
 * handed to the page's WebSocket -> reply frame read by the page: CDP timestamps, taken in the
 * renderer) with the reply's payload size, and a record that a later tracing window turns into
 * the `wire' event (the network service's own times, wire_window). */
static void wire_frame(ll_core *c, struct user *u, struct ws_conn *w, int sent, double ts, const json_t *resp)
{
    const json_t *pd = json_object_get(resp, "payloadData");
    const char *s = json_string_value(pd);
    long op = (long)jnum(resp, "opcode", 1);
    size_t bytes = frame_bytes(resp);
    uint32_t len = bytes < LL_NETLOG_LEN_ANY ? (uint32_t)bytes : LL_NETLOG_LEN_ANY - 1;
    const char *text = op == 1 ? s : NULL;
    size_t n = text ? json_string_length(pd) : 0;
    ll_wire_push push;
    uint64_t serial = 0;
    if (!s || ts < 0 || (op != 1 && op != 2))
        return;
    if (sent) {
        ll_wire_frame_sent(&u->wire, w->ns, w->gen, ts, w->have_wall ? (w->wall_base + ts) * 1000.0 : -1, text, n, len,
                           &c->st.wire_dropped);
    } else if (ll_wire_frame_received(&u->wire, w->ns, w->gen, ts, text, n, len, &push, &serial) && push.timed) {
        if (ts < push.ts) { /* a clock that went backwards: no honest value */
            c->st.wire_dropped++;
            return;
        }
        json_t *ev = lv_event("received", (ts - push.ts) * 1000.0, push.event, push.type, u->page_url, push.wall_ms);
        json_object_set_new(ev, "bytes", json_integer((json_int_t)bytes));
        emit_event(c, u->id, ev);
        if (!w->ns || !wire_timing(c)) {
            c->st.wire_unmatched++;
            return;
        }
        ll_wire_rec evicted;
        ll_wire_rec *r = ll_wire_record(&u->wire, &push, serial, ts, u->page_url, &evicted);
        r->made_ms = now_ms(c);
        if (evicted.used) {
            c->st.wire_unmatched++;
            free(evicted.url);
        }
    }
    /* a table filling up: read out what the network service saw so far */
    if (w->ns && (u->wire.nr >= LL_WIRE_RECORDS * 3 / 4 || w->ns->dir[!sent].next - w->ns->dir[!sent].first >= LL_HIST / 2))
        ll_trace_flush(c->trace, now_ms(c));
}

/* The socket's Sec-WebSocket-Key (header names are case-insensitive), and its log source if a
 * window already showed it. */
static void ws_key(ll_core *c, struct ws_conn *w, const json_t *headers)
{
    const char *k;
    json_t *v;
    if (!w->ns)
        return;
    json_object_foreach((json_t *)headers, k, v)
    {
        const char *val = json_string_value(v);
        if (!strcasecmp(k, "Sec-WebSocket-Key") && val && strlen(val) < LL_NETLOG_KEY) {
            strcpy(w->ns->key, val);
            w->ns->mapped = ll_tracks_find(&c->tracks, w->ns->key, &w->ns->track);
        }
    }
}

/* A slot for a new socket: a free one, else one whose closed socket still waits for a window
 * (its records then give up). */
static struct ws_conn *ws_slot(ll_core *c, struct user *u)
{
    struct ws_conn *lingering = NULL;
    for (int i = 0; i < WS_CAP; i++) {
        if (!u->ws[i].used && !u->ws[i].ns)
            return &u->ws[i];
        if (!u->ws[i].used && !lingering)
            lingering = &u->ws[i];
    }
    if (lingering) {
        ll_wire_drop_records(&u->wire, lingering->gen, 0, &c->st.wire_unmatched);
        free(lingering->ns);
        lingering->ns = NULL;
    }
    return lingering;
}

/* A closed socket keeps its history while records of its pushes wait for a window. */
static void ws_closed(struct user *u, struct ws_conn *w)
{
    w->used = 0;
    if (w->ns && !ll_wire_has_records(&u->wire, w->gen)) {
        free(w->ns);
        w->ns = NULL;
    }
}

/* The socket is gone (Network.webSocketClosed, or its document replaced): the `close' event of a
 * sampled one with its totals, its pushes still awaiting a reply dropped, its slot released. */
static void ws_gone(ll_core *c, struct user *u, struct ws_conn *w)
{
    if (w->sampled) {
        json_t *ev = ws_event(w, "close");
        json_object_set_new(ev, "sent", json_integer((json_int_t)w->sent));
        json_object_set_new(ev, "received", json_integer((json_int_t)w->received));
        emit_event(c, u->id, ev);
    }
    ll_wire_forget(&u->wire, w->gen, &c->st.wire_dropped);
    ws_closed(u, w);
}

struct emit_ctx {
    ll_core *c;
    struct user *u;
};

static void emit_wire(void *ud, const ll_wire_rec *r, double ms)
{
    struct emit_ctx *e = ud;
    emit_event(e->c, e->u->id, lv_event("wire", ms, r->event, r->type, r->url, r->wall_ms));
}

/* A tracing window, complete from w->start to the moment Tracing.end was sent (end_ms, port
 * clock; off_est turns it into an earliest browser-clock end): map sockets to log sources, pair
 * each socket's frames with the network service's, emit the records both of whose frames are
 * timed, count those that no window will time. A window with data loss pairs nothing. */
static void wire_window(void *ud, const ll_netlog_window *win, double end_ms)
{
    ll_core *c = ud;
    double ce = end_ms / 1000.0 - c->off_est, cs = win->start;
    int usable = !win->loss && isfinite(cs) && isfinite(ce) && ce > cs;
    for (size_t i = 0; i < win->nhs; i++)
        ll_tracks_add(&c->tracks, win->hs[i].track, win->hs[i].key);
    for (unsigned i = 0; i < c->cfg.max_users; i++) {
        struct user *u = c->users[i];
        if (!u)
            continue;
        struct emit_ctx e = {c, u};
        for (int k = 0; k < WS_CAP; k++) {
            struct ws_conn *w = &u->ws[k];
            if (!w->ns)
                continue;
            if (!w->ns->mapped)
                w->ns->mapped = ll_tracks_find(&c->tracks, w->ns->key, &w->ns->track);
            if (usable)
                c->st.wire_unaligned += (uint64_t)ll_wsock_align(w->ns, win, cs, ce);
            ll_wire_settle(&u->wire, w->gen, w->ns, isfinite(ce) ? ce : -INFINITY, emit_wire, &e, &c->st.wire_unmatched);
            if (!w->used)
                ws_closed(u, w);
        }
    }
    wire_waits(c);
}

static void net_event(ll_core *c, struct user *u, const char *m, const json_t *p)
{
    const char *rid = jstr(p, "requestId");
    if (strlen(rid) >= ID_CAP)
        return;
    if (!strcmp(m, "Network.requestWillBeSent")) {
        struct http_req *r = req_find(c, u, rid);
        const json_t *req = json_object_get(p, "request");
        double ts = jnum(p, "timestamp", 0);
        if (r) { /* a redirect hop: report it, then follow the same id */
            const json_t *rr = json_object_get(p, "redirectResponse");
            if (json_is_object(rr))
                http_response(r, rr);
            http_emit(c, u, r, ts, 0, NULL, 0);
        } else if (!scheme_is(jstr(req, "url"), HTTP_SCHEMES) || !sampled(u)) {
            return;
        }
        for (unsigned i = 0; !r && i < c->cfg.max_inflight; i++)
            if (!u->reqs[i].used)
                r = &u->reqs[i];
        if (!r) {
            c->st.http_dropped++;
            return;
        }
        memset(r, 0, sizeof *r);
        r->used = 1;
        strcpy(r->id, rid);
        set_str(r->method, sizeof r->method, jstr(req, "method"));
        set_str(r->url, sizeof r->url, jstr(req, "url"));
        set_str(r->type, sizeof r->type, jstr(p, "type"));
        r->t0 = ts;
        r->wall = jnum(p, "wallTime", 0);
        r->ttfb = r->dns = r->connect = r->tls = -1;
    } else if (!strcmp(m, "Network.responseReceived")) {
        struct http_req *r = req_find(c, u, rid);
        if (r)
            http_response(r, json_object_get(p, "response"));
    } else if (!strcmp(m, "Network.loadingFinished")) {
        struct http_req *r = req_find(c, u, rid);
        if (r)
            http_emit(c, u, r, jnum(p, "timestamp", r->t0), jnum(p, "encodedDataLength", 0), NULL, 0);
    } else if (!strcmp(m, "Network.loadingFailed")) {
        struct http_req *r = req_find(c, u, rid);
        if (r) {
            const char *e = jstr(p, "errorText");
            http_emit(c, u, r, jnum(p, "timestamp", r->t0), 0, *e ? e : "failed",
                      json_is_true(json_object_get(p, "canceled")));
        }
    } else if (!strcmp(m, "Network.webSocketCreated")) {
        if (ws_find(u, rid) || !scheme_is(jstr(p, "url"), WS_SCHEMES))
            return;
        /* an unsampled socket is tracked too, silently: its LiveView round trips are always timed */
        int keep = sampled(u);
        struct ws_conn *w = ws_slot(c, u);
        if (!w) {
            c->st.http_dropped++;
            return;
        }
        memset(w, 0, sizeof *w);
        w->used = 1;
        w->sampled = keep;
        w->gen = ++u->ws_gen;
        w->t_hs = -1;
        strcpy(w->id, rid);
        set_str(w->url, sizeof w->url, jstr(p, "url"));
        if (c->trace && (w->ns = malloc(sizeof *w->ns)))
            ll_wsock_init(w->ns);
        if (keep)
            emit_event(c, u->id, ws_event(w, "open"));
    } else {
        struct ws_conn *w = ws_find(u, rid);
        if (!w)
            return;
        if (!strcmp(m, "Network.webSocketWillSendHandshakeRequest")) {
            w->t_hs = jnum(p, "timestamp", -1);
            double wall = jnum(p, "wallTime", -1);
            w->have_wall = w->t_hs >= 0 && wall > 0;
            w->wall_base = wall - w->t_hs;
            ws_key(c, w, json_object_get(json_object_get(p, "request"), "headers"));
        } else if (!w->sampled && strcmp(m, "Network.webSocketFrameSent") && strcmp(m, "Network.webSocketFrameReceived") &&
                   strcmp(m, "Network.webSocketClosed")) {
            return;
        } else if (!strcmp(m, "Network.webSocketHandshakeResponseReceived")) {
            json_t *ev = ws_event(w, "handshake");
            double ts = jnum(p, "timestamp", -1);
            json_object_set_new(ev, "ms", ms_or_null(w->t_hs >= 0 && ts >= w->t_hs ? (ts - w->t_hs) * 1000.0 : -1));
            json_object_set_new(ev, "status", json_integer((json_int_t)jnum(json_object_get(p, "response"), "status", 0)));
            emit_event(c, u->id, ev);
        } else if (!strcmp(m, "Network.webSocketFrameSent") || !strcmp(m, "Network.webSocketFrameReceived")) {
            int sent = !strcmp(m, "Network.webSocketFrameSent");
            const json_t *resp = json_object_get(p, "response");
            if (w->sampled) {
                json_t *ev = ws_event(w, sent ? "sent" : "received");
                if (sent)
                    w->sent++;
                else
                    w->received++;
                json_object_set_new(ev, "bytes", json_integer((json_int_t)frame_bytes(resp)));
                json_object_set_new(ev, "opcode", json_integer((json_int_t)jnum(resp, "opcode", 1)));
                emit_event(c, u->id, ev);
            }
            wire_frame(c, u, w, sent, jnum(p, "timestamp", -1), resp);
        } else if (!strcmp(m, "Network.webSocketClosed")) {
            ws_gone(c, u, w);
        }
    }
}

/* ------------------------------------------------------------------ browser -> port */

static const char *const FORWARDED[] = {"Page.lifecycleEvent",         "Page.frameNavigated",
                                        "Page.navigatedWithinDocument", "Page.loadEventFired",
                                        "Page.domContentEventFired",    "Page.javascriptDialogOpening",
                                        "Inspector.targetCrashed",      "Inspector.detached",
                                        "Runtime.exceptionThrown",      NULL};

/* A new document in the main frame: the old document's WebSockets are gone with it. Chromium
 * does not always say so (no Network.webSocketClosed for a socket its page navigated away from),
 * and a user keeps WS_CAP slots: a scenario user navigating once per iteration ran out of them
 * after 8 iterations and its later pushes got no timing at all. Its sockets are closed here
 * (ws_gone); their frames already read stay for the tracing window that times them. */
static void nav_closes_sockets(ll_core *c, struct user *u)
{
    for (int i = 0; i < WS_CAP; i++) {
        if (u->ws[i].used)
            ws_gone(c, u, &u->ws[i]);
    }
    /* closed sockets whose pushes wait for their network-side times hold their slots until a
     * window reads them (every trace_window_ms); a user opening a socket per iteration fills
     * half of them within a window: that window ends now, before a new socket has to take the
     * slot of one still waiting (its pushes would go untimed) */
    int lingering = 0;
    for (int i = 0; i < WS_CAP; i++)
        lingering += !u->ws[i].used && u->ws[i].ns;
    if (c->trace && lingering >= WS_CAP / 2)
        ll_trace_flush(c->trace, now_ms(c));
}

/* The main frame's URL, kept for the route of wire events (as the observer's `path'). */
static void page_url(ll_core *c, struct user *u, const char *m, const json_t *params)
{
    if (!strcmp(m, "Page.frameNavigated")) {
        const json_t *f = json_object_get(params, "frame");
        if (json_object_get(f, "parentId") || strlen(jstr(f, "id")) >= ID_CAP)
            return;
        nav_closes_sockets(c, u);
        strcpy(u->frame, jstr(f, "id"));
        set_str(u->page_url, sizeof u->page_url, jstr(f, "url"));
    } else if (!strcmp(m, "Page.navigatedWithinDocument") && u->frame[0] &&
               !strcmp(jstr(params, "frameId"), u->frame)) {
        set_str(u->page_url, sizeof u->page_url, jstr(params, "url"));
    }
}

/* A JavaScript dialog blocks its page until answered: every one is accepted (alert and confirm OK,
 * prompt with its default text, beforeunload leaves), as a person clicking OK, and forwarded (the
 * owner counts page.dialogs). DIALOG_LOOP dialogs within DIALOG_WINDOW_MS is a script calling them
 * in a loop (no person answers that fast); such a script never yields its renderer (a
 * Runtime.terminateExecution waits for the renderer's main thread, a same-site navigation for the
 * script), so the port crashes that renderer instead of answering (Page.crash, on its IO thread),
 * as a person kills an unresponsive page: the step in flight fails target_crashed, the next
 * navigation gets a new renderer, and the event says so (loop_stopped). */
#define DIALOG_LOOP 10
#define DIALOG_WINDOW_MS 2000.0
static void on_dialog(ll_core *c, struct user *u, const char *m, json_t *params)
{
    json_t *ev = json_pack("{s:s,s:s,s:O}", "type", "cdp", "method", m, "params", params);
    double now = now_ms(c);
    if (u->dlg_n == 0 || now - u->dlg_t0 > DIALOG_WINDOW_MS) {
        u->dlg_t0 = now;
        u->dlg_n = 0;
    }
    if (++u->dlg_n == DIALOG_LOOP) {
        send_cmd(c, u->session, "Page.crash", NULL, P_IGNORE, u->id, 0);
        json_object_set_new(ev, "loop_stopped", json_true());
    } else {
        send_cmd(c, u->session, "Page.handleJavaScriptDialog",
                 json_pack("{s:b,s:s}", "accept", 1, "promptText", jstr(params, "defaultPrompt")), P_IGNORE, u->id,
                 0);
    }
    emit_event(c, u->id, ev);
}

static void user_event(ll_core *c, struct user *u, const char *m, json_t *params)
{
    if (!strcmp(m, "Page.javascriptDialogOpening")) {
        on_dialog(c, u, m, params);
        return;
    }
    if (!strcmp(m, "Runtime.bindingCalled")) {
        if (strcmp(jstr(params, "name"), c->cfg.binding))
            return;
        const char *payload = jstr(params, "payload");
        json_t *d = json_loads(payload, JSON_DECODE_ANY, NULL);
        json_t *ev;
        if (json_is_object(d)) {
            ev = d;
        } else if (json_is_array(d)) {
            ev = json_object();
            json_object_set_new(ev, "events", d);
        } else {
            json_decref(d);
            c->st.bad_frames++;
            return;
        }
        json_object_set_new(ev, "type", json_string("observer"));
        emit_event(c, u->id, ev);
        return;
    }
    if (!strncmp(m, "Network.", 8)) {
        if (u->network) {
            double ts = jnum(params, "timestamp", -1), off = now_ms(c) / 1000.0 - ts;
            if (ts > 0 && off < c->off_est) /* how far the browser's clock can be behind ours */
                c->off_est = off;
            net_event(c, u, m, params);
        }
        return;
    }
    page_url(c, u, m, params);
    for (int i = 0; FORWARDED[i]; i++)
        if (!strcmp(m, FORWARDED[i])) {
            emit_event(c, u->id, json_pack("{s:s,s:s,s:O}", "type", "cdp", "method", m, "params", params));
            /* the renderer is gone: what was sent to the page will never be answered, nor what
             * is sent before a navigation brings a new one */
            if (!strcmp(m, "Inspector.targetCrashed")) {
                release_pending(c, u->id, 1, "target_crashed");
                u->crashed = 1;
            }
            return;
        }
}

static void root_event(ll_core *c, const char *m, json_t *params)
{
    if (!strncmp(m, "Tracing.", 8)) {
        if (c->trace)
            ll_trace_event(c->trace, m, params, now_ms(c));
        return;
    }
    if (!strcmp(m, "Target.attachedToTarget")) {
        const char *sid = jstr(params, "sessionId");
        const json_t *ti = json_object_get(params, "targetInfo");
        const char *type = jstr(ti, "type");
        struct user *u = user_by_ctx(c, jstr(ti, "browserContextId"));
        if (u && u->st == U_CREATING && !u->session[0] && (!strcmp(type, "page") || !strcmp(type, "other")) &&
            strlen(sid) < ID_CAP) {
            copy_id(u->session, sid);
            copy_id(u->target, jstr(ti, "targetId"));
            start_setup(c, u);
        } else if (json_is_true(json_object_get(params, "waitingForDebugger"))) {
            /* browser_ui omnibox targets, popups, the plain page for hidden targets: never leave
             * them paused, never route them */
            send_cmd(c, sid, "Runtime.runIfWaitingForDebugger", NULL, P_IGNORE, 0, 0);
        }
    } else if (!strcmp(m, "Target.detachedFromTarget")) {
        struct user *u = user_by_session(c, jstr(params, "sessionId"));
        if (u && u->st == U_SETUP) {
            /* the page went away while being set up: its setup commands will never be answered */
            release_pending(c, u->id, 1, "user_gone");
            u->session[0] = 0;
            fail_user(c, u, -1, "target detached during setup");
        } else if (u && u->st == U_READY) {
            emit_event(c, u->id, json_pack("{s:s,s:s,s:O}", "type", "cdp", "method", m, "params", params));
            u->st = U_GONE;
            /* commands on the dead session get no answer: fail them now, free their slots */
            release_pending(c, u->id, 1, "user_gone");
        } else if (u && u->st == U_CLOSING) {
            release_pending(c, u->id, 1, "user_gone");
        }
    }
}

/* The answer (or, for an expired command, err with code -1) to pending command p, whose slot is
 * already free. */
static void complete(ll_core *c, struct pending p, int err, long code, const char *emsg, json_t *res)
{
    struct user *u = p.user ? user_by_id(c, p.user) : NULL;
    switch (p.k) {
    case P_ERL:
        if (err)
            reply_cdp_err(c, p.erl, code, emsg);
        else if (json_is_object(res))
            reply_ok(c, p.erl, res);
        else {
            json_t *o = json_object();
            reply_ok(c, p.erl, o);
            json_decref(o);
        }
        break;
    case P_CTX:
        if (!u)
            break;
        if (err) {
            fail_user(c, u, code, emsg);
            break;
        }
        copy_id(u->ctx, jstr(res, "browserContextId"));
        {
            json_t *tp = json_pack("{s:s,s:s}", "url", "about:blank", "browserContextId", u->ctx);
            if (u->fast)
                json_object_set_new(tp, "hidden", json_true());
            if (!send_cmd(c, NULL, "Target.createTarget", tp, P_TARGET, u->id, 0))
                fail_user(c, u, -1, "too_many_pending");
        }
        break;
    case P_TARGET:
        if (!u)
            break;
        if (err && u->st == U_CREATING)
            fail_user(c, u, code, emsg);
        else if (!u->target[0])
            copy_id(u->target, jstr(res, "targetId"));
        break;
    case P_SETUP:
        if (!u)
            break;
        if (err && !u->setup_failed) {
            u->setup_failed = 1;
            u->err_code = code;
            set_str(u->err_msg, sizeof u->err_msg, emsg);
        }
        if (--u->setup_left > 0 || u->st != U_SETUP)
            break;
        if (u->setup_failed) {
            fail_user(c, u, u->err_code, u->err_msg);
        } else {
            json_t *info = user_info(u);
            u->st = U_READY;
            reply_ok(c, u->erl_req, info);
            json_decref(info);
            u->erl_req = 0;
        }
        break;
    case P_DISPOSE:
        if (p.erl) {
            json_t *o = json_null();
            reply_ok(c, p.erl, o);
        } else if (c->disposing > 0) {
            c->disposing--;
        }
        if (u)
            user_free(c, u);
        break;
    case P_TRACE:
        if (c->trace) {
            ll_trace_reply(c->trace, p.id, err, err ? NULL : res, now_ms(c));
            wire_resume(c);
        }
        break;
    case P_IGNORE:
    case P_FREE:
        break;
    }
}

static void on_reply(ll_core *c, json_t *msg, uint64_t id)
{
    struct pending *slot = &c->pend[id & (PEND_CAP - 1)];
    if (slot->k == P_FREE || slot->id != id)
        return;
    struct pending p = *slot;
    slot->k = P_FREE;
    c->npending--;
    json_t *err = json_object_get(msg, "error");
    complete(c, p, err != NULL, err ? (long)jnum(err, "code", 0) : 0, err ? jstr(err, "message") : "",
             json_object_get(msg, "result"));
}

/* ------------------------------------------------------------------ tracing windows: waits */

/* Records wait for a window. */
static int wire_busy(const ll_core *c)
{
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i] && c->users[i]->wire.nr)
            return 1;
    return 0;
}

/* Pages held paused until the network log records are let go. */
static void wire_resume(ll_core *c)
{
    if (!c->trace || !ll_trace_ready(c->trace))
        return;
    for (unsigned i = 0; i < c->cfg.max_users; i++) {
        struct user *u = c->users[i];
        if (!u || !u->await_trace)
            continue;
        u->await_trace = 0;
        if (u->st == U_SETUP && !send_cmd(c, u->session, "Runtime.runIfWaitingForDebugger", NULL, P_SETUP, u->id, 0)) {
            if (!u->setup_failed) {
                u->setup_failed = 1;
                u->err_code = -1;
                set_str(u->err_msg, sizeof u->err_msg, "too_many_pending");
            }
            if (--u->setup_left <= 0)
                fail_user(c, u, u->err_code, u->err_msg);
        }
    }
}

/* stats, close_user and EOF wait for the window ending after they asked (or give up after a
 * while, or when tracing is gone). */
static void wire_waits(ll_core *c)
{
    double now = now_ms(c);
    int alive = wire_timing(c);
#define DONE(since, max) (!alive || ll_trace_covered(c->trace, since) || now - (since) >= (max))
    for (unsigned i = 0; i < c->nwaits;) {
        if (DONE(c->waits[i].since, FLUSH_WAIT_MS)) {
            uint64_t erl = c->waits[i].erl;
            c->waits[i] = c->waits[--c->nwaits];
            stats_reply(c, erl);
        } else {
            i++;
        }
    }
    for (unsigned i = 0; i < c->cfg.max_users; i++) {
        struct user *u = c->users[i];
        if (u && u->close_wait && DONE(u->close_since, FLUSH_WAIT_MS)) {
            u->close_wait = 0;
            ll_wire_drop_records(&u->wire, 0, 1, &c->st.wire_unmatched);
            close_dispose(c, u, u->close_erl);
        }
    }
    if (c->shutdown_wait && DONE(c->shutdown_since, SHUTDOWN_WAIT_MS)) {
        c->shutdown_wait = 0;
        dispose_all(c);
    }
#undef DONE
}

static void wire_tick(ll_core *c)
{
    if (!c->trace)
        return;
    double now = now_ms(c);
    ll_trace_tick(c->trace, now, wire_busy(c));
    int alive = wire_timing(c);
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i] && c->users[i]->wire.nr) {
            if (alive)
                ll_wire_expire(&c->users[i]->wire, now - RECORD_TTL_MS, &c->st.wire_unmatched);
            else
                ll_wire_drop_records(&c->users[i]->wire, 0, 1, &c->st.wire_unmatched);
        }
    wire_resume(c);
    wire_waits(c);
}

unsigned ll_core_tick(ll_core *c)
{
    double now = now_ms(c);
    unsigned n = 0;
    for (unsigned i = 0; i < PEND_CAP && c->npending > 0; i++) {
        struct pending *slot = &c->pend[i];
        if (slot->k == P_FREE || slot->deadline > now)
            continue;
        struct pending p = *slot;
        slot->k = P_FREE;
        c->npending--;
        c->st.expired++;
        n++;
        if (p.k == P_ERL)
            reply_err(c, p.erl, "timeout", NULL);
        else
            complete(c, p, 1, -1, "timeout", NULL);
    }
    wire_tick(c);
    return n;
}

unsigned ll_core_pending_cap(void) { return PEND_CAP; }

/* HTTP-side Network events no record is made from: Chromium sends them for every request (a
 * script arrives in dozens of dataReceived chunks) and they are the most frequent messages of a
 * page load. Recognised from the start of the raw message, so they are never JSON-decoded. */
static const char *const UNUSED_EVENTS[] = {"Network.dataReceived",
                                            "Network.requestWillBeSentExtraInfo",
                                            "Network.responseReceivedExtraInfo",
                                            "Network.resourceChangedPriority",
                                            "Network.requestServedFromCache",
                                            "Network.policyUpdated",
                                            "Network.responseReceivedEarlyHints",
                                            NULL};

/* 1 when the message is an event of UNUSED_EVENTS (its name copied to method): Chromium writes
 * an event as {"method":"...",...}. Anything else, or any doubt, is decoded as usual. */
static int unused_event(const char *buf, size_t len, char method[METHOD_CAP])
{
    static const char head[] = "{\"method\":\"";
    size_t h = sizeof head - 1;
    if (len <= h || memcmp(buf, head, h) != 0)
        return 0;
    size_t n = 0;
    while (h + n < len && n < METHOD_CAP - 1 && buf[h + n] != '"' && buf[h + n] != '\\')
        n++;
    if (h + n >= len || buf[h + n] != '"')
        return 0;
    for (int i = 0; UNUSED_EVENTS[i]; i++)
        if (strlen(UNUSED_EVENTS[i]) == n && !memcmp(buf + h, UNUSED_EVENTS[i], n)) {
            memcpy(method, buf + h, n);
            method[n] = 0;
            return 1;
        }
    return 0;
}

int ll_core_from_browser(ll_core *c, const char *buf, size_t len)
{
    json_error_t jerr;
    char unused[METHOD_CAP];
    if (unused_event(buf, len, unused)) {
        c->st.cdp_in++;
        count_method(c, "in", unused);
        return 0;
    }
    json_t *msg = json_loadb(buf, len, 0, &jerr);
    c->st.cdp_in++;
    if (!json_is_object(msg)) {
        json_decref(msg);
        c->st.bad_frames++;
        return -1;
    }
    json_t *id = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
    count_method(c, "in", json_is_integer(id) ? "reply" : method);
    if (json_is_integer(id)) {
        on_reply(c, msg, (uint64_t)json_integer_value(id));
    } else if (method) {
        json_t *params = json_object_get(msg, "params");
        if (!json_is_object(params))
            params = NULL;
        json_t *empty = params ? NULL : json_object();
        const char *sid = json_string_value(json_object_get(msg, "sessionId"));
        if (sid) {
            struct user *u = user_by_session(c, sid);
            if (u && (u->st == U_READY || u->st == U_SETUP))
                user_event(c, u, method, params ? params : empty);
        } else {
            root_event(c, method, params ? params : empty);
        }
        json_decref(empty);
    }
    json_decref(msg);
    return 0;
}

/* ------------------------------------------------------------------ Erlang -> port */

static void protocol_error(ll_core *c, const char *why)
{
    c->st.bad_frames++;
    emit_event(c, 0, json_pack("{s:s,s:s}", "type", "protocol_error", "reason", why));
}

/* methods of the root session that take a browserContextId */
static const char *const CTX_METHODS[] = {"Storage.getCookies",        "Storage.setCookies",
                                          "Storage.clearCookies",      "Target.createTarget",
                                          "Target.getTargets",         "Browser.setPermission",
                                          "Browser.grantPermissions",  "Browser.resetPermissions",
                                          "Browser.setDownloadBehavior", NULL};

static int decode_call(const char *buf, int *idx, char *method, json_t **params, const char **err)
{
    const char *e = NULL;
    json_t *m = ll_etf_to_json(buf, idx, &e);
    if (!json_is_string(m) || json_string_length(m) == 0 || json_string_length(m) >= METHOD_CAP) {
        json_decref(m);
        *err = "method";
        return -1;
    }
    strcpy(method, json_string_value(m));
    json_decref(m);
    json_t *p = ll_etf_to_json(buf, idx, &e);
    if (!json_is_object(p)) {
        json_decref(p);
        *err = e ? e : "params";
        return -1;
    }
    *params = p;
    return 0;
}

static void cmd_new_user(ll_core *c, uint64_t erl, const char *buf, int *idx)
{
    const char *e = NULL;
    json_t *o = ll_etf_to_json(buf, idx, &e);
    if (!json_is_object(o)) {
        json_decref(o);
        reply_err(c, erl, "bad_command", "new_user options must be a map");
        return;
    }
    struct user tmp = {.network = 1, .sample = 1.0};
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        int ok = 1;
        if (!strcmp(k, "network"))
            ok = json_is_boolean(v), tmp.network = json_is_true(v);
        else if (!strcmp(k, "sample"))
            ok = json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) <= 1,
            tmp.sample = json_number_value(v);
        else if (!strcmp(k, "mode"))
            ok = json_is_string(v) && (!strcmp(json_string_value(v), "fast") || !strcmp(json_string_value(v), "faithful")),
            tmp.fast = ok && !strcmp(json_string_value(v), "fast");
        else if (!strcmp(k, "width") || !strcmp(k, "height")) {
            ok = json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= 10000;
            *(k[0] == 'w' ? &tmp.vw : &tmp.vh) = (long)json_integer_value(v);
        } else
            ok = 0;
        if (!ok) {
            reply_err(c, erl, "invalid_option", k);
            json_decref(o);
            return;
        }
    }
    json_decref(o);
    if (c->nusers >= c->cfg.max_users) {
        reply_err(c, erl, "too_many_users", NULL);
        return;
    }
    struct user *u = calloc(1, sizeof *u);
    if (u)
        u->reqs = calloc(c->cfg.max_inflight, sizeof *u->reqs);
    if (!u || !u->reqs) {
        free(u ? u->reqs : NULL);
        free(u);
        reply_err(c, erl, "out_of_memory", NULL);
        return;
    }
    u->id = c->next_user++;
    if (c->next_user == 0)
        c->next_user = 1;
    u->st = U_CREATING;
    u->erl_req = erl;
    u->network = tmp.network;
    u->sample = tmp.sample;
    u->fast = tmp.fast;
    u->vw = tmp.vw;
    u->vh = tmp.vh;
    u->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)u->id * 0xbf58476d1ce4e5b9ull);
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (!c->users[i]) {
            c->users[i] = u;
            c->nusers++;
            break;
        }
    if (u->fast && !c->plain_target) {
        /* Chromium accepts hidden targets only once an ordinary page exists */
        c->plain_target = 1;
        send_cmd(c, NULL, "Target.createTarget", json_pack("{s:s}", "url", "about:blank"), P_IGNORE, 0, 0);
    }
    if (!send_cmd(c, NULL, "Target.createBrowserContext", json_pack("{s:b}", "disposeOnDetach", 1), P_CTX, u->id, 0))
        fail_user(c, u, -1, "too_many_pending");
}

static void stats_reply(ll_core *c, uint64_t erl)
{
    struct rusage ru;
    ll_trace_stats ts = {0};
    getrusage(RUSAGE_SELF, &ru);
    if (c->trace)
        ll_trace_get_stats(c->trace, &ts);
    json_t *s = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "users", (json_int_t)c->nusers,
                          "pending", (json_int_t)c->npending, "cdp_in", (json_int_t)c->st.cdp_in, "cdp_out",
                          (json_int_t)c->st.cdp_out, "erl_in", (json_int_t)c->st.erl_in, "erl_out",
                          (json_int_t)c->st.erl_out, "events_dropped", (json_int_t)c->st.events_dropped, "bad_frames",
                          (json_int_t)c->st.bad_frames, "http_dropped", (json_int_t)c->st.http_dropped, "max_rss_kb",
                          (json_int_t)ru.ru_maxrss, "max_users", (json_int_t)c->cfg.max_users, "expired",
                          (json_int_t)c->st.expired, "pending_cap", (json_int_t)PEND_CAP, "wire_dropped",
                          (json_int_t)c->st.wire_dropped);
    json_object_set_new(s, "wire_unmatched", json_integer((json_int_t)c->st.wire_unmatched));
    json_object_set_new(s, "wire_unaligned", json_integer((json_int_t)c->st.wire_unaligned));
    json_object_set_new(s, "wire_trace", json_boolean(wire_timing(c)));
    json_object_set_new(s, "trace_windows", json_integer((json_int_t)ts.windows));
    json_object_set_new(s, "trace_lost", json_integer((json_int_t)ts.lost));
    json_object_set_new(s, "trace_failures", json_integer((json_int_t)ts.failures));
    json_object_set_new(s, "trace_bytes", json_integer((json_int_t)ts.bytes));
    json_object_set_new(s, "trace_blind_ms", json_integer((json_int_t)ts.blind_ms));
    json_object_set_new(s, "methods", method_counts(c));
#ifdef __GLIBC__
    /* the heap as malloc sees it: in use (a leak grows this) and free but held (fragmentation) */
    struct mallinfo2 mi = mallinfo2();
    json_object_set_new(s, "heap_used_kb", json_integer((json_int_t)((mi.uordblks + mi.hblkhd) / 1024)));
    json_object_set_new(s, "heap_free_kb", json_integer((json_int_t)(mi.fordblks / 1024)));
#endif
    reply_ok(c, erl, s);
    json_decref(s);
}

static void close_dispose(ll_core *c, struct user *u, uint64_t erl)
{
    if (!send_cmd(c, NULL, "Target.disposeBrowserContext", json_pack("{s:s}", "browserContextId", u->ctx), P_DISPOSE,
                  u->id, erl)) {
        u->st = U_READY;
        reply_err(c, erl, "too_many_pending", NULL);
    }
}

void ll_core_from_erlang(ll_core *c, const char *buf, size_t len)
{
    int idx = 0, arity = 0, version;
    unsigned long long erl = 0;
    char cmd[MAXATOMLEN_UTF8];
    c->st.erl_in++;
    if (ll_etf_validate(buf, len) || ei_decode_version(buf, &idx, &version) ||
        ei_decode_tuple_header(buf, &idx, &arity) || arity < 2 || ei_decode_ulonglong(buf, &idx, &erl) || erl == 0) {
        protocol_error(c, "frame is not {Id, Command, ...} with a positive integer Id");
        return;
    }
    if (ei_decode_atom(buf, &idx, cmd)) {
        reply_err(c, erl, "bad_command", "command must be an atom");
        return;
    }
    if (!strcmp(cmd, "new_user") && arity == 3) {
        cmd_new_user(c, erl, buf, &idx);
    } else if ((!strcmp(cmd, "call") || !strcmp(cmd, "call_browser")) && (arity == 5 || arity == 6)) {
        unsigned long uid, timeout = 0;
        char method[METHOD_CAP];
        json_t *params = NULL;
        const char *e = "user";
        if (ei_decode_ulong(buf, &idx, &uid) || uid > 0xffffffffu || decode_call(buf, &idx, method, &params, &e)) {
            reply_err(c, erl, "bad_params", e);
            return;
        }
        if (arity == 6 && (ei_decode_ulong(buf, &idx, &timeout) || timeout == 0 || timeout > 86400000ul)) {
            json_decref(params);
            reply_err(c, erl, "bad_params", "timeout");
            return;
        }
        struct user *u = uid ? user_by_id(c, (uint32_t)uid) : NULL;
        int root = cmd[4] == '_';
        if (uid && !u) {
            json_decref(params);
            reply_err(c, erl, "no_such_user", NULL);
            return;
        }
        if (!root && (!u || u->st != U_READY)) {
            json_decref(params);
            reply_err(c, erl, u && u->st == U_GONE ? "user_gone" : "user_not_ready", NULL);
            return;
        }
        if (!root && u->crashed) {
            if (strcmp(method, "Page.navigate") && strcmp(method, "Page.reload")) {
                json_decref(params);
                reply_err(c, erl, "target_crashed", NULL);
                return;
            }
            u->crashed = 0;
        }
        if (root && u && u->ctx[0] && !json_object_get(params, "browserContextId"))
            for (int i = 0; CTX_METHODS[i]; i++)
                if (!strcmp(method, CTX_METHODS[i]))
                    json_object_set_new(params, "browserContextId", json_string(u->ctx));
        if (!send_cmd_t(c, root ? NULL : u->session, method, params, P_ERL, u ? u->id : 0, erl, (unsigned)timeout))
            reply_err(c, erl, "too_many_pending", NULL);
    } else if (!strcmp(cmd, "close_user") && arity == 3) {
        unsigned long uid;
        if (ei_decode_ulong(buf, &idx, &uid) || uid > 0xffffffffu) {
            reply_err(c, erl, "bad_params", "user");
            return;
        }
        struct user *u = user_by_id(c, (uint32_t)uid);
        if (!u) {
            reply_err(c, erl, "no_such_user", NULL);
        } else if (u->st == U_CREATING || u->st == U_SETUP || u->st == U_CLOSING) {
            reply_err(c, erl, "user_busy", NULL);
        } else {
            /* nothing the user asked for is answered any more: fail it now, free the slots */
            release_pending(c, u->id, 0, "user_gone");
            u->st = U_CLOSING;
            if (wire_timing(c) && u->wire.nr) { /* its last pushes' network-side times come first */
                u->close_wait = 1;
                u->close_erl = erl;
                u->close_since = now_ms(c);
                ll_trace_flush(c->trace, u->close_since);
            } else {
                close_dispose(c, u, erl);
            }
        }
    } else if (!strcmp(cmd, "stats") && arity == 2) {
        /* with pushes waiting for their network-side times, after the window that times them */
        if (wire_timing(c) && wire_busy(c) && c->nwaits < STATS_WAITS) {
            c->waits[c->nwaits].erl = erl;
            c->waits[c->nwaits++].since = now_ms(c);
            ll_trace_flush(c->trace, now_ms(c));
        } else {
            stats_reply(c, erl);
        }
    } else {
        reply_err(c, erl, "bad_command", cmd);
    }
}

/* ------------------------------------------------------------------ lifecycle */

ll_core *ll_core_new(const ll_core_cfg *cfg)
{
    ll_core *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = *cfg;
    if (!c->cfg.max_users)
        c->cfg.max_users = 256;
    if (!c->cfg.max_inflight)
        c->cfg.max_inflight = 128;
    if (!c->cfg.cmd_timeout_ms)
        c->cfg.cmd_timeout_ms = CMD_TIMEOUT_MS;
    if (!c->cfg.binding)
        c->cfg.binding = "__live_load";
    if (!c->cfg.observer_js)
        c->cfg.observer_js = "";
    c->users = calloc(c->cfg.max_users, sizeof *c->users);
    if (!c->users) {
        free(c);
        return NULL;
    }
    c->next_user = 1;
    c->next_id = 1;
    c->off_est = INFINITY;
    return c;
}

void ll_core_free(ll_core *c)
{
    if (!c)
        return;
    c->freeing = 1; /* the loop is gone: nothing more is sent */
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i])
            user_free(c, c->users[i]);
    ll_trace_free(c->trace);
    free(c->users);
    free(c);
}

static uint64_t trace_send(void *ud, const char *method, json_t *params, unsigned timeout_ms)
{
    return send_cmd_t(ud, NULL, method, params, P_TRACE, 0, 0, timeout_ms);
}

void ll_core_start(ll_core *c)
{
    send_cmd(c, NULL, "Target.setAutoAttach",
             json_pack("{s:b,s:b,s:b}", "autoAttach", 1, "waitForDebuggerOnStart", 1, "flatten", 1), P_IGNORE, 0, 0);
    if (c->cfg.wire_trace && !c->trace) {
        ll_trace_cfg tc = {.send = trace_send, .window = wire_window, .ud = c, .period_ms = c->cfg.trace_period_ms};
        if ((c->trace = ll_trace_new(&tc)))
            ll_trace_start(c->trace, now_ms(c));
    }
}

static unsigned dispose_all(ll_core *c)
{
    for (unsigned i = 0; i < c->cfg.max_users; i++) {
        struct user *u = c->users[i];
        if (u && u->ctx[0] && u->st != U_CLOSING) {
            u->st = U_CLOSING;
            if (send_cmd(c, NULL, "Target.disposeBrowserContext", json_pack("{s:s}", "browserContextId", u->ctx),
                         P_DISPOSE, u->id, 0))
                c->disposing++;
        }
    }
    return c->disposing;
}

unsigned ll_core_shutdown(ll_core *c)
{
    if (!c->shutdown_wait && wire_timing(c) && wire_busy(c)) { /* the last window first (wire_waits) */
        c->shutdown_wait = 1;
        c->shutdown_since = now_ms(c);
        ll_trace_flush(c->trace, c->shutdown_since);
        return 1;
    }
    return c->shutdown_wait ? 1 : dispose_all(c);
}

unsigned ll_core_disposing(const ll_core *c) { return c->disposing + (unsigned)c->shutdown_wait; }

void ll_core_get_stats(const ll_core *c, ll_core_stats *s)
{
    *s = c->st;
    s->users = c->nusers;
    s->pending = c->npending;
}

void ll_core_count_dropped(ll_core *c) { c->st.events_dropped++; }
