#include "core.h"

#include <ctype.h>
#include <ei.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "etf.h"

#define ID_CAP 64          /* CDP ids (context, target, session) are 32 hex chars today */
#define PEND_CAP 4096      /* in-flight CDP commands (power of two) */
#define URL_CAP 1024       /* URL kept per HTTP record */
#define WS_CAP 8           /* tracked WebSockets per user */
#define METHOD_CAP 128     /* CDP method names from Erlang */
#define CMD_TIMEOUT_MS 120000u /* default deadline of a CDP command */

enum ustate { U_CREATING, U_SETUP, U_READY, U_CLOSING, U_GONE };
enum pkind { P_FREE, P_IGNORE, P_ERL, P_CTX, P_TARGET, P_SETUP, P_DISPOSE };

struct http_req {
    int used, have_resp;
    char id[ID_CAP], method[16], type[24];
    char url[URL_CAP];
    double t0, wall, ttfb, dns, connect, tls;
    long status;
};

struct ws_conn {
    int used;
    char id[ID_CAP], url[URL_CAP];
    double t_hs;
    uint64_t sent, received;
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

struct ll_core {
    ll_core_cfg cfg;
    struct user **users; /* max_users slots, NULL = free */
    unsigned nusers;
    uint32_t next_user;
    uint64_t next_id;
    struct pending pend[PEND_CAP];
    unsigned npending, disposing;
    int plain_target, freeing;
    ll_core_stats st;
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

/* Forgets the user: its pending commands are failed (user_gone) and their slots freed. */
static void user_free(ll_core *c, struct user *u)
{
    release_pending(c, u->id, 0, "user_gone");
    for (unsigned i = 0; i < c->cfg.max_users; i++)
        if (c->users[i] == u) {
            c->users[i] = NULL;
            c->nusers--;
        }
    free(u->reqs);
    free(u);
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
    /* last: the page stays paused until the observer and binding are in place */
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
        if (ws_find(u, rid) || !scheme_is(jstr(p, "url"), WS_SCHEMES) || !sampled(u))
            return;
        for (int i = 0; i < WS_CAP; i++)
            if (!u->ws[i].used) {
                struct ws_conn *w = &u->ws[i];
                memset(w, 0, sizeof *w);
                w->used = 1;
                w->t_hs = -1;
                strcpy(w->id, rid);
                set_str(w->url, sizeof w->url, jstr(p, "url"));
                emit_event(c, u->id, ws_event(w, "open"));
                return;
            }
        c->st.http_dropped++;
    } else {
        struct ws_conn *w = ws_find(u, rid);
        if (!w)
            return;
        if (!strcmp(m, "Network.webSocketWillSendHandshakeRequest")) {
            w->t_hs = jnum(p, "timestamp", -1);
        } else if (!strcmp(m, "Network.webSocketHandshakeResponseReceived")) {
            json_t *ev = ws_event(w, "handshake");
            double ts = jnum(p, "timestamp", -1);
            json_object_set_new(ev, "ms", ms_or_null(w->t_hs >= 0 && ts >= w->t_hs ? (ts - w->t_hs) * 1000.0 : -1));
            json_object_set_new(ev, "status", json_integer((json_int_t)jnum(json_object_get(p, "response"), "status", 0)));
            emit_event(c, u->id, ev);
        } else if (!strcmp(m, "Network.webSocketFrameSent") || !strcmp(m, "Network.webSocketFrameReceived")) {
            int sent = !strcmp(m, "Network.webSocketFrameSent");
            const json_t *resp = json_object_get(p, "response");
            json_t *ev = ws_event(w, sent ? "sent" : "received");
            if (sent)
                w->sent++;
            else
                w->received++;
            json_object_set_new(ev, "bytes", json_integer((json_int_t)frame_bytes(resp)));
            json_object_set_new(ev, "opcode", json_integer((json_int_t)jnum(resp, "opcode", 1)));
            emit_event(c, u->id, ev);
        } else if (!strcmp(m, "Network.webSocketClosed")) {
            json_t *ev = ws_event(w, "close");
            json_object_set_new(ev, "sent", json_integer((json_int_t)w->sent));
            json_object_set_new(ev, "received", json_integer((json_int_t)w->received));
            emit_event(c, u->id, ev);
            w->used = 0;
        }
    }
}

/* ------------------------------------------------------------------ browser -> port */

static const char *const FORWARDED[] = {"Page.lifecycleEvent",         "Page.frameNavigated",
                                        "Page.navigatedWithinDocument", "Page.loadEventFired",
                                        "Page.domContentEventFired",    "Page.javascriptDialogOpening",
                                        "Inspector.targetCrashed",      "Inspector.detached",
                                        "Runtime.exceptionThrown",      NULL};

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
        if (u->network)
            net_event(c, u, m, params);
        return;
    }
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
    return n;
}

unsigned ll_core_pending_cap(void) { return PEND_CAP; }

int ll_core_from_browser(ll_core *c, const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(buf, len, 0, &jerr);
    c->st.cdp_in++;
    if (!json_is_object(msg)) {
        json_decref(msg);
        c->st.bad_frames++;
        return -1;
    }
    json_t *id = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
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
            if (!send_cmd(c, NULL, "Target.disposeBrowserContext", json_pack("{s:s}", "browserContextId", u->ctx),
                          P_DISPOSE, u->id, erl)) {
                u->st = U_READY;
                reply_err(c, erl, "too_many_pending", NULL);
            }
        }
    } else if (!strcmp(cmd, "stats") && arity == 2) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        json_t *s = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "users", (json_int_t)c->nusers,
                              "pending", (json_int_t)c->npending, "cdp_in", (json_int_t)c->st.cdp_in, "cdp_out",
                              (json_int_t)c->st.cdp_out, "erl_in", (json_int_t)c->st.erl_in, "erl_out",
                              (json_int_t)c->st.erl_out, "events_dropped", (json_int_t)c->st.events_dropped,
                              "bad_frames", (json_int_t)c->st.bad_frames, "http_dropped",
                              (json_int_t)c->st.http_dropped, "max_rss_kb", (json_int_t)ru.ru_maxrss, "max_users",
                              (json_int_t)c->cfg.max_users, "expired", (json_int_t)c->st.expired, "pending_cap",
                              (json_int_t)PEND_CAP);
        reply_ok(c, erl, s);
        json_decref(s);
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
    free(c->users);
    free(c);
}

void ll_core_start(ll_core *c)
{
    send_cmd(c, NULL, "Target.setAutoAttach",
             json_pack("{s:b,s:b,s:b}", "autoAttach", 1, "waitForDebuggerOnStart", 1, "flatten", 1), P_IGNORE, 0, 0);
}

unsigned ll_core_shutdown(ll_core *c)
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

unsigned ll_core_disposing(const ll_core *c) { return c->disposing; }

void ll_core_get_stats(const ll_core *c, ll_core_stats *s)
{
    *s = c->st;
    s->users = c->nusers;
    s->pending = c->npending;
}

void ll_core_count_dropped(ll_core *c) { c->st.events_dropped++; }
