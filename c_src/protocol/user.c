#define _GNU_SOURCE /* memmem */
#include "user.h"

#include <ei.h>
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "dom.h"
#include "etf.h"
#include "page.h"
#include "patch.h"
#include "tree.h"
#include "url.h"

#define MAX_PUSHES 8
#define MAX_REDIRECTS 10
#define WS_OUT_MAX (1u << 20)
#define URL_MAX 4096

enum { ACT_NONE, ACT_WAIT };
enum { PUSH_PENDING, PUSH_DONE, PUSH_LOST };
enum { NAV_NONE, NAV_HTTP, NAV_DONE, NAV_FAILED };

typedef struct {
    int ref;
    char type[12];
    char event[64];
    double t0;        /* pushed (the action's time) */
    double t_wire;    /* its frame written to the socket (0 until then) */
    double wall_wire; /* the same, wall clock */
    unsigned qseq;    /* its frame's number in the user's outgoing queue */
    int state, handed, nav; /* nav: 0 event, 1 live_patch, 2 live_redirect */
} push_t;

#define FRAMES_MAX 64 /* frame sizes held per direction before the batch leaves */
#define EVENTS_MAX 32 /* events held before they leave */

/* A user's events wait here, already in the external term format, and leave as one
 * {0, U, [Event, ...]} frame: before the user's next action answer (so the context records every
 * event of the step it is in), when EVENTS_MAX / FRAMES_MAX are reached, and on the port's 1 s
 * tick. WebSocket frames are not events one by one: their sizes leave as one
 * #{type => ws, what => frames, sent => [Bytes], received => [Bytes]} per batch. */
typedef struct {
    ei_x_buff x; /* the events, one after the other (no version byte); x.buff NULL when empty */
    int n;
    unsigned *frames[2]; /* 0 sent, 1 received (allocated as used) */
    unsigned nframes[2];
    double frames_wall; /* wall clock of the batch's first frame */
} pending;

typedef struct user {
    unsigned id;
    int alive;
    char *base;
    char *url; /* never NULL (strings allocated as used: per-user memory is what the page needs) */
    char route[256];
    json_t *jar;
    /* HTTP */
    struct lws *http;
    ll_str body;
    int status, redirects, nav_state;
    char *location;
    char nav_error[256];
    double t_get, t_ttfb, t_nav0;
    int nav_live; /* kind of the navigation being timed: 0 none, 1 patch, 2 redirect */
    /* page */
    char *html; /* last dead render */
    ll_shell shell;
    int is_lv;
    /* WebSocket / channel */
    struct lws *ws;
    int ws_open;
    ll_buf ws_out;
    ll_str ws_in;
    int ref, join_ref, joined, joining, mounts, v1, join_failures, rejoin_is_reconnect;
    char topic[160];
    char *redirect_url; /* live_redirect join */
    double t_ws;
    /* rendered page: the tree is rendered after every diff (as the JS client does; the DOM patch
     * of phx-update containers needs each rendering), the HTML parsed only when an action reads
     * the page, once per rendering */
    ll_tree tree;
    ll_patch *patch;      /* what phx-update containers keep across renderings */
    char *frag_html;      /* the view's content as the page has it (NULL before the join) */
    size_t frag_len;
    char *frag_src;       /* the HTML frag_dom was parsed from, when it was updated in place since */
    char *cur_html;       /* the whole page (dead render shell + frag_html), made on demand */
    size_t cur_len;
    int dom_valid;
    ll_dom dom;           /* a page without a rendered tree (dead render), parsed whole */
    ll_dom page_dom;      /* the dead render without the view's content, parsed once per page */
    char *page_src;       /* the HTML page_dom points into */
    ll_dom frag_dom;      /* frag_html parsed and spliced into page_dom; points into frag_html */
    GumboNode *container; /* in page_dom */
    int page_valid, frag_valid;
    json_t *fields;
    push_t pushes[MAX_PUSHES];
    unsigned npush_total;
    unsigned qseq, wseq; /* frames queued / written on the WebSocket */
    pending ev;
    double dl_at;  /* the waiting action's deadline (monotonic ms), when dl_idx >= 0 */
    int dl_idx;    /* its place in the deadline heap, -1 when none */
    /* the one action in progress */
    long long act_id;
    json_t *act;
    int act_phase;
    int act_push, act_push_state; /* the push the action waits for (submit_form) and what became of it */
} user;

static struct {
    ll_users_cfg cfg;
    user **users;
    unsigned *free_ids, nfree;
    unsigned live;
    unsigned long long frames_in, frames_out, bytes_in, bytes_out, dropped, joins, pushes, errors;
    char *wbuf;
    size_t wcap;
} U;

#define HB_SLOTS 30
static lws_sorted_usec_list_t sul_hb_tick;
static void heartbeat_tick(lws_sorted_usec_list_t *sul);

static void set_str(char **d, const char *src)
{
    char *n = strdup(src);
    if (n) {
        free(*d);
        *d = n;
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ to Erlang */

static void send_term(long long id, const char *status, json_t *value, int is_event, unsigned uid)
{
    ei_x_buff x;
    if (ei_x_new_with_version(&x))
        return;
    int bad = 0;
    if (is_event) {
        bad = ei_x_encode_tuple_header(&x, 3) || ei_x_encode_long(&x, 0) || ei_x_encode_ulong(&x, uid) ||
              ll_json_to_etf(&x, value);
    } else {
        bad = ei_x_encode_tuple_header(&x, 3) || ei_x_encode_longlong(&x, id) || ei_x_encode_atom(&x, status) ||
              (value ? ll_json_to_etf(&x, value) : ei_x_encode_atom(&x, "null"));
    }
    if (bad) {
        ei_x_free(&x);
        if (!is_event) { /* never leave a caller without an answer */
            ei_x_new_with_version(&x);
            ei_x_encode_tuple_header(&x, 3);
            ei_x_encode_longlong(&x, id);
            ei_x_encode_atom(&x, "error");
            ei_x_encode_map_header(&x, 1);
            ei_x_encode_binary(&x, "reason", 6);
            ei_x_encode_binary(&x, "encode", 6);
        } else {
            return;
        }
    }
    U.cfg.to_erlang(x.buff, (size_t)x.index, is_event);
    ei_x_free(&x);
}

static void reply_ok(long long id, json_t *v)
{
    send_term(id, "ok", v, 0, 0);
    json_decref(v);
}

static void reply_err(long long id, const char *reason, json_t *extra)
{
    json_t *m = extra ? extra : json_object();
    json_object_set_new(m, "reason", json_string(reason));
    send_term(id, "error", m, 0, 0);
    json_decref(m);
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ events (see `pending`) */

static void flush_events(user *u);

static void ekey(ei_x_buff *x, const char *k) { ei_x_encode_binary(x, k, (long)strlen(k)); }
static void ekv_s(ei_x_buff *x, const char *k, const char *v)
{
    ekey(x, k);
    ei_x_encode_binary(x, v, (long)strlen(v));
}
static void ekv_d(ei_x_buff *x, const char *k, double v)
{
    ekey(x, k);
    ei_x_encode_double(x, v);
}

static ei_x_buff *pend(user *u)
{
    if (!u->ev.x.buff && ei_x_new(&u->ev.x))
        return NULL;
    return &u->ev.x;
}

static void pended(user *u)
{
    if (++u->ev.n >= EVENTS_MAX)
        flush_events(u);
}

/* every event carries when it happened (wall-clock ms), so metrics are bucketed at that time */
static void event(user *u, json_t *ev)
{
    json_object_set_new(ev, "connection", json_string("protocol"));
    if (json_object_get(ev, "events"))
        json_object_set_new(ev, "time_origin", json_real(wall_ms()));
    else
        json_object_set_new(ev, "wall_ms", json_real(wall_ms()));
    ei_x_buff *x = pend(u);
    int before = x ? x->index : 0;
    if (x && ll_json_to_etf(x, ev) == 0)
        pended(u);
    else if (x)
        x->index = before;
    json_decref(ev);
}

static void observer(user *u, json_t *e)
{
    json_object_set_new(e, "t", json_real(0));
    event(u, json_pack("{s:s,s:s,s:[o]}", "type", "observer", "path", u->route, "events", e));
}

/* the answered push: its observer `event' (push -> reply applied) and its `wire' event (frame
 * written -> reply frame received, and the reply's size), encoded directly: one of each per event */
static void push_events(user *u, const push_t *p, double t_applied, double t_frame, size_t reply_bytes)
{
    ei_x_buff *x = pend(u);
    if (!x)
        return;
    double wall = wall_ms();
    ei_x_encode_map_header(x, 5);
    ekv_s(x, "type", "observer");
    ekv_s(x, "path", u->route);
    ekv_s(x, "connection", "protocol");
    ekv_d(x, "time_origin", wall);
    ekey(x, "events");
    ei_x_encode_list_header(x, 1);
    ei_x_encode_map_header(x, 5);
    ekv_s(x, "kind", p->nav ? "navigation" : "event");
    ekv_d(x, "ms", t_applied - p->t0);
    if (p->nav) {
        ekv_s(x, "nav", "patch");
        ekv_s(x, "event", p->event);
    } else {
        ekv_s(x, "event", p->event);
        ekv_s(x, "type", p->type);
    }
    ekv_d(x, "t", 0);
    ei_x_encode_empty_list(x);
    pended(u);
    if (p->t_wire <= 0 || !(x = pend(u)))
        return;
    ei_x_encode_map_header(x, 9);
    ekv_s(x, "type", "liveview");
    ekv_s(x, "kind", "wire");
    ekv_s(x, "event", p->event);
    ekv_s(x, "event_type", p->type);
    ekv_d(x, "ms", t_frame - p->t_wire);
    ekey(x, "bytes");
    ei_x_encode_ulong(x, (unsigned long)reply_bytes);
    ekv_s(x, "route", u->route);
    ekv_d(x, "wall_ms", p->wall_wire);
    ekv_s(x, "connection", "protocol");
    pended(u);
}

static void frame_seen(user *u, int dir, size_t bytes)
{
    pending *e = &u->ev;
    if (!e->frames[dir] && !(e->frames[dir] = malloc(FRAMES_MAX * sizeof(unsigned))))
        return;
    if (!e->nframes[0] && !e->nframes[1])
        e->frames_wall = wall_ms();
    e->frames[dir][e->nframes[dir]++] = bytes > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned)bytes;
    if (e->nframes[dir] == FRAMES_MAX)
        flush_events(u);
}

static void encode_sizes(ei_x_buff *x, const unsigned *v, unsigned n)
{
    if (n) {
        ei_x_encode_list_header(x, n);
        for (unsigned i = 0; i < n; i++)
            ei_x_encode_ulong(x, v[i]);
    }
    ei_x_encode_empty_list(x);
}

static void flush_events(user *u)
{
    pending *e = &u->ev;
    int frames = e->nframes[0] || e->nframes[1];
    if (!e->n && !frames)
        return;
    ei_x_buff x;
    if (ei_x_new_with_version(&x) == 0) {
        ei_x_encode_tuple_header(&x, 3);
        ei_x_encode_long(&x, 0);
        ei_x_encode_ulong(&x, u->id);
        ei_x_encode_list_header(&x, e->n + frames);
        if (frames) {
            ei_x_encode_map_header(&x, 6);
            ekv_s(&x, "type", "ws");
            ekv_s(&x, "what", "frames");
            ekey(&x, "sent");
            encode_sizes(&x, e->frames[0], e->nframes[0]);
            ekey(&x, "received");
            encode_sizes(&x, e->frames[1], e->nframes[1]);
            ekv_d(&x, "wall_ms", e->frames_wall);
            ekv_s(&x, "connection", "protocol");
        }
        if (e->n)
            ei_x_append_buf(&x, e->x.buff, e->x.index);
        ei_x_encode_empty_list(&x);
        U.cfg.to_erlang(x.buff, (size_t)x.index, 1);
        ei_x_free(&x);
    }
    if (e->x.buff)
        ei_x_free(&e->x);
    free(e->frames[0]);
    free(e->frames[1]);
    memset(e, 0, sizeof *e);
}

void ll_users_count_dropped(void) { U.dropped++; }

/* ------------------------------------------------------------------ action deadlines
 * One binary heap of the users whose action waits, by deadline, and one lws timer for the
 * earliest: lws keeps its timers in a sorted list, and a timer per waiting action cost an O(n)
 * insert per event with thousands of users waiting. */
static struct {
    user **h;
    unsigned n;
    lws_sorted_usec_list_t sul;
} DL;

static void deadline_reached(user *u);

static void dl_put(unsigned i, user *u)
{
    DL.h[i] = u;
    u->dl_idx = (int)i;
}

static void dl_up(unsigned i)
{
    user *u = DL.h[i];
    while (i > 0 && DL.h[(i - 1) / 2]->dl_at > u->dl_at) {
        dl_put(i, DL.h[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    dl_put(i, u);
}

static void dl_down(unsigned i)
{
    user *u = DL.h[i];
    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= DL.n)
            break;
        if (c + 1 < DL.n && DL.h[c + 1]->dl_at < DL.h[c]->dl_at)
            c++;
        if (DL.h[c]->dl_at >= u->dl_at)
            break;
        dl_put(i, DL.h[c]);
        i = c;
    }
    dl_put(i, u);
}

static void dl_fire(lws_sorted_usec_list_t *sul);

static void dl_arm(void)
{
    if (!DL.n) {
        lws_sul_cancel(&DL.sul);
        return;
    }
    double ms = DL.h[0]->dl_at - now_ms();
    lws_sul_schedule(U.cfg.ctx, 0, &DL.sul, dl_fire, ms > 0 ? (lws_usec_t)(ms * 1000) : 0);
}

static void dl_del(user *u)
{
    if (u->dl_idx < 0)
        return;
    unsigned i = (unsigned)u->dl_idx, was_first = i == 0;
    u->dl_idx = -1;
    if (--DL.n > i) {
        dl_put(i, DL.h[DL.n]);
        dl_up(i);
        dl_down((unsigned)DL.h[i]->dl_idx);
    }
    if (was_first)
        dl_arm();
}

static void dl_set(user *u, double at)
{
    dl_del(u);
    u->dl_at = at;
    dl_put(DL.n++, u);
    dl_up(DL.n - 1);
    if (u->dl_idx == 0)
        dl_arm();
}

static void dl_fire(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    double now = now_ms();
    while (DL.n && DL.h[0]->dl_at <= now + 0.5) {
        user *u = DL.h[0];
        dl_del(u);
        deadline_reached(u);
    }
    dl_arm();
}

/* ------------------------------------------------------------------ user table */

int ll_users_init(const ll_users_cfg *cfg)
{
    memset(&U, 0, sizeof U);
    U.cfg = *cfg;
    U.users = calloc(cfg->max_users + 1, sizeof *U.users);
    U.free_ids = malloc(cfg->max_users * sizeof *U.free_ids);
    if (!U.users || !U.free_ids)
        return -1;
    for (unsigned i = 0; i < cfg->max_users; i++)
        U.free_ids[i] = cfg->max_users - i; /* pop gives 1 first */
    U.nfree = cfg->max_users;
    DL.h = calloc(cfg->max_users + 1, sizeof *DL.h);
    if (!DL.h)
        return -1;
    lws_sul_schedule(U.cfg.ctx, 0, &sul_hb_tick, heartbeat_tick, (lws_usec_t)U.cfg.heartbeat_ms * LWS_US_PER_MS / HB_SLOTS);
    return 0;
}

static user *lookup(unsigned long id)
{
    if (id == 0 || id > U.cfg.max_users)
        return NULL;
    user *u = U.users[id];
    return u && u->alive ? u : NULL;
}

static void drop_frag(user *u)
{
    if (u->frag_valid) {
        ll_dom_splice(u->container, &u->frag_dom); /* swap back before freeing either */
        ll_dom_free(&u->frag_dom);
    }
    u->frag_valid = 0;
    free(u->frag_src);
    u->frag_src = NULL;
    if (u->dom_valid)
        ll_dom_free(&u->dom);
    u->dom_valid = 0;
}

/* the view's content changed: the DOM and the whole-page HTML made from the old one go */
static void set_frag(user *u, char *html, size_t len)
{
    drop_frag(u); /* before the HTML it points into */
    free(u->frag_html);
    u->frag_html = html;
    u->frag_len = len;
    free(u->cur_html);
    u->cur_html = NULL;
}

static void drop_dom(user *u)
{
    drop_frag(u);
    if (u->page_valid)
        ll_dom_free(&u->page_dom);
    u->page_valid = 0;
    free(u->page_src);
    u->page_src = NULL;
    u->container = NULL;
}

static void detach(struct lws **w)
{
    if (*w) {
        lws_set_opaque_user_data(*w, NULL);
        lws_set_timeout(*w, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        *w = NULL;
    }
}

static void close_ws(user *u)
{
    detach(&u->ws);
    u->ws_open = u->joined = u->joining = 0;
    ll_buf_free(&u->ws_out);
    ll_str_free(&u->ws_in);
    u->qseq = u->wseq = 0;
}

static void forget_page(user *u)
{
    close_ws(u);
    drop_dom(u);
    ll_tree_reset(&u->tree);
    ll_patch_clear(u->patch);
    set_frag(u, NULL, 0);
    free(u->html);
    u->html = NULL;
    ll_shell_free(&u->shell);
    u->is_lv = 0;
    json_decref(u->fields);
    u->fields = json_object();
    memset(u->pushes, 0, sizeof u->pushes);
}

static void dl_del(user *u);

static void free_user(user *u)
{
    forget_page(u);
    flush_events(u);
    ll_patch_free(u->patch);
    detach(&u->http);
    ll_str_free(&u->body);
    dl_del(u);
    json_decref(u->act);
    json_decref(u->jar);
    json_decref(u->fields);
    free(u->base);
    free(u->url);
    free(u->location);
    free(u->redirect_url);
    U.users[u->id] = NULL;
    U.free_ids[U.nfree++] = u->id;
    U.live--;
    free(u);
}

void ll_users_shutdown(void)
{
    lws_sul_cancel(&sul_hb_tick);
    lws_sul_cancel(&DL.sul);
    for (unsigned i = 1; U.users && i <= U.cfg.max_users; i++)
        if (U.users[i])
            free_user(U.users[i]);
}

static void free_selectors(void);

void ll_users_free(void)
{
    free_selectors();
    free(U.users);
    free(U.free_ids);
    free(DL.h);
    DL.h = NULL;
    free(U.wbuf);
    U.users = NULL;
}

/* ------------------------------------------------------------------ channel frames */

static int ws_write_frames(user *u, struct lws *wsi);

static unsigned ws_queue_text(user *u, const char *s, size_t n);

/* queues a frame; its number in the queue (0 when it did not fit) */
static unsigned ws_queue(user *u, json_t *frame)
{
    char *s = json_dumps(frame, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(frame);
    if (!s)
        return 0;
    unsigned seq = ws_queue_text(u, s, strlen(s));
    free(s);
    return seq;
}

static unsigned ws_queue_text(user *u, const char *s, size_t n)
{
    unsigned seq = 0;
    if (!u->ws_out.max)
        ll_buf_init(&u->ws_out, WS_OUT_MAX);
    if (ll_packet4_put(&u->ws_out, s, n) == 0) {
        seq = ++u->qseq;
        /* written at once when the socket has nothing pending: asking lws for a writeable
         * callback toggles POLLOUT on the socket, four epoll_ctl calls per frame */
        if (u->ws && u->ws_open && !lws_partial_buffered(u->ws)) {
            if (ws_write_frames(u, u->ws) < 0)
                lws_set_timeout(u->ws, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        } else if (u->ws) {
            lws_callback_on_writable(u->ws);
        }
    }
    return seq;
}

static int next_ref(user *u) { return ++u->ref; }

static json_t *ref_str(int r)
{
    char b[16];
    snprintf(b, sizeof b, "%d", r);
    return json_string(b);
}

/* Heartbeats: one timer for the port ticks every second and beats for the users whose id falls in
 * that second's slot, so each open socket beats every 30 s without a timer per user (lws keeps
 * timers in a sorted list: one per user would cost O(users) per insert). */
static unsigned hb_slot;

static void heartbeat_tick(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    for (unsigned id = 1; id <= U.cfg.max_users; id++) /* events held for a second at most */
        if (U.users[id])
            flush_events(U.users[id]);
    hb_slot = (hb_slot + 1) % HB_SLOTS;
    for (unsigned id = hb_slot + 1; id <= U.cfg.max_users; id += HB_SLOTS) {
        user *u = U.users[id];
        if (u && u->ws_open)
            ws_queue(u, json_pack("[n,o,s,s,{}]", ref_str(next_ref(u)), "phoenix", "heartbeat"));
    }
    lws_sul_schedule(U.cfg.ctx, 0, &sul_hb_tick, heartbeat_tick, (lws_usec_t)U.cfg.heartbeat_ms * LWS_US_PER_MS / HB_SLOTS);
}

static void send_join(user *u)
{
    u->join_ref = next_ref(u);
    u->joining = 1;
    json_t *params = json_pack("{s:s,s:i}", "_csrf_token", u->shell.csrf, "_mounts", u->mounts);
    json_object_set_new(params, "_mount_attempts", json_integer(u->mounts));
    /* as connectParams: only when the page has [phx-track-static] elements, their absolute URLs */
    if (json_array_size(u->shell.track_static)) {
        json_t *track = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(u->shell.track_static, i, v)
        {
            char abs[URL_MAX];
            if (!ll_url_resolve(u->url, json_string_value(v), abs, sizeof abs))
                json_array_append_new(track, json_string(abs));
        }
        json_object_set_new(params, "_track_static", track);
    }
    json_t *payload = json_pack("{s:o,s:s,s:o}", "params", params, "session", u->shell.session, "static",
                                u->shell.static_ ? json_string(u->shell.static_) : json_null());
    if (u->redirect_url[0])
        json_object_set_new(payload, "redirect", json_string(u->redirect_url));
    else
        json_object_set_new(payload, "url", json_string(u->url));
    json_object_set_new(payload, "sticky", json_false());
    snprintf(u->topic, sizeof u->topic, "lv:%s", u->shell.id);
    ws_queue(u, json_pack("[o,o,s,s,o]", ref_str(u->join_ref), ref_str(u->join_ref), u->topic, "phx_join", payload));
}

static int ws_connect(user *u);
static void start_get(user *u, const char *url);
static void settle(user *u);

/* ------------------------------------------------------------------ the rendered page */

/* the dead render, parsed once per page; the container the view's content goes into. Its dead
 * content is left out (the rendered tree replaces it): half the page's nodes, and memory */
static int page(user *u, const char **err)
{
    if (u->page_valid)
        return 0;
    size_t hl = strlen(u->html), pre = u->shell.prefix_len, suf = hl - u->shell.suffix_off;
    char *src = malloc(pre + suf + 1);
    if (!src) {
        *err = "memory";
        return -1;
    }
    memcpy(src, u->html, pre);
    memcpy(src + pre, u->html + u->shell.suffix_off, suf);
    src[pre + suf] = 0;
    if (ll_dom_parse(&u->page_dom, src, pre + suf, U.cfg.max_depth)) {
        free(src);
        *err = "dom_too_deep";
        return -1;
    }
    u->page_src = src;
    u->page_valid = 1;
    u->container = ll_by_id(&u->page_dom, u->shell.id);
    if (!u->container) {
        *err = "no_container";
        return -1;
    }
    return 0;
}

static int parse_frag(user *u, ll_dom *d, const char **err)
{
    if (ll_dom_parse_fragment(d, u->frag_html, u->frag_len, u->container->v.element.tag, U.cfg.max_depth)) {
        *err = "dom_too_deep";
        return -1;
    }
    return 0;
}

/* the parsed view's content becomes the page's (spliced into the dead render's container) */
static void show_frag(user *u, ll_dom *d)
{
    ll_field_focus_patch(u->fields, d, !u->v1);
    u->frag_dom = *d;
    ll_dom_splice(u->container, &u->frag_dom);
    u->frag_valid = 1;
}

/* Renders the tree after a merge. A page with phx-update containers (or a rendering that consumed
 * streams) is parsed and patched at once: what the containers keep depends on every rendering. */
static int rerender(user *u, const char **err)
{
    size_t rl;
    json_t *streams = NULL;
    char *r = ll_tree_render(&u->tree, &rl, &streams, err);
    if (!r)
        return -1;
    int containers = json_array_size(streams) || ll_patch_count(u->patch) || memmem(r, rl, "phx-update", 10);
    int patched_text = 0;
    if (!containers && u->frag_valid && u->frag_html && u->frag_dom.simple) {
        ll_dom_splice(u->container, &u->frag_dom); /* the fragment's nodes back under its root */
        patched_text = ll_dom_patch_text(&u->frag_dom, u->frag_html, u->frag_len, r, rl) == 0;
        ll_dom_splice(u->container, &u->frag_dom);
    }
    if (patched_text) {
        /* only a text changed: the DOM is updated in place, no parse (the counter's click) */
        if (u->frag_src)
            free(u->frag_html);
        else
            u->frag_src = u->frag_html; /* what the DOM points into stays */
        u->frag_html = r;
        u->frag_len = rl;
        free(u->cur_html);
        u->cur_html = NULL;
        json_decref(streams);
        return 0;
    }
    set_frag(u, r, rl);
    int rc = 0;
    if (containers) {
        char *patched = NULL;
        size_t pl = 0;
        ll_dom d;
        if (page(u, err) || parse_frag(u, &d, err)) {
            rc = -1;
        } else if (ll_patch_apply(u->patch, &d, streams, !u->v1, U.cfg.max_message * 4, &patched, &pl)) {
            ll_dom_free(&d);
            *err = "html_too_large";
            rc = -1;
        } else if (patched) {
            ll_dom_free(&d);
            set_frag(u, patched, pl); /* parsed when an action reads it */
        } else {
            show_frag(u, &d);
        }
    }
    json_decref(streams);
    return rc;
}

static int apply_diff(user *u, json_t *diff, const char **err)
{
    ll_extract x;
    ll_tree_extract(diff, &x);
    if (json_is_string(x.title)) {
        free(u->shell.title);
        u->shell.title = strdup(json_string_value(x.title));
    }
    ll_extract_free(&x);
    if (ll_tree_merge(&u->tree, json_incref(diff), err))
        return -1;
    return rerender(u, err);
}

/* The current page: the dead render's shell with the view's content inside the container. */
static const char *current_html(user *u, size_t *len, const char **err)
{
    if (u->cur_html) {
        *len = u->cur_len;
        return u->cur_html;
    }
    if (!u->html) {
        *err = "no_page";
        return NULL;
    }
    size_t hl = strlen(u->html);
    if (!u->frag_html) {
        u->cur_html = strdup(u->html);
        u->cur_len = hl;
        *len = hl;
        return u->cur_html;
    }
    size_t pre = u->shell.prefix_len, suf = hl - u->shell.suffix_off, rl = u->frag_len;
    char *h = malloc(pre + rl + suf + 1);
    if (!h) {
        *err = "memory";
        return NULL;
    }
    memcpy(h, u->html, pre);
    memcpy(h + pre, u->frag_html, rl);
    memcpy(h + pre + rl, u->html + u->shell.suffix_off, suf);
    h[pre + rl + suf] = 0;
    u->cur_html = h;
    u->cur_len = pre + rl + suf;
    *len = u->cur_len;
    return h;
}

static ll_dom *dom(user *u, const char **err)
{
    if (u->frag_html && u->html) {
        if (page(u, err))
            return NULL;
        if (!u->frag_valid) {
            ll_dom d;
            if (parse_frag(u, &d, err))
                return NULL;
            show_frag(u, &d);
        }
        return &u->page_dom;
    }
    if (u->dom_valid)
        return &u->dom;
    size_t len;
    const char *h = current_html(u, &len, err);
    if (!h)
        return NULL;
    if (ll_dom_parse(&u->dom, h, len, U.cfg.max_depth)) {
        *err = "dom_too_deep";
        return NULL;
    }
    u->dom_valid = 1;
    return &u->dom;
}

/* Parsed selectors, shared by every user of the port (a scenario repeats the same few). */
#define SEL_CACHE 256
static struct {
    char *key;
    ll_sel *sel;
} sel_cache[SEL_CACHE];

static ll_sel *selector(const char *src, const char **err)
{
    unsigned h = 5381;
    for (const char *p = src; *p; p++)
        h = h * 33 + (unsigned char)*p;
    h %= SEL_CACHE;
    if (sel_cache[h].key && !strcmp(sel_cache[h].key, src))
        return sel_cache[h].sel;
    ll_sel *s = ll_sel_parse(src, err);
    if (!s)
        return NULL;
    char *k = strdup(src);
    if (!k) {
        ll_sel_free(s);
        *err = "memory";
        return NULL;
    }
    free(sel_cache[h].key);
    ll_sel_free(sel_cache[h].sel);
    sel_cache[h].key = k;
    sel_cache[h].sel = s;
    return s;
}

static void free_selectors(void)
{
    for (int i = 0; i < SEL_CACHE; i++) {
        free(sel_cache[i].key);
        ll_sel_free(sel_cache[i].sel);
        sel_cache[i].key = NULL;
        sel_cache[i].sel = NULL;
    }
}

/* ------------------------------------------------------------------ pushes */

static push_t *push_slot(user *u)
{
    push_t *best = NULL;
    for (int i = 0; i < MAX_PUSHES; i++) {
        push_t *p = &u->pushes[i];
        if (!p->ref)
            return p;
        if (p->state != PUSH_PENDING && (!best || p->ref < best->ref))
            best = p;
    }
    return best;
}

/* settles a push; the action waiting for that very push (by ref) learns its outcome */
static void push_settle(user *u, push_t *p, int state)
{
    p->state = state;
    if (u->act && p->ref == u->act_push)
        u->act_push_state = state;
}

static const char *uint_str(char *buf, unsigned v)
{
    char *e = buf + 23;
    *e = 0;
    do
        *--e = (char)('0' + v % 10);
    while (v /= 10);
    return e;
}

/* JSON text of a value (compact), appended */
static void add_json(ll_str *b, json_t *v)
{
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    ll_str_adds(b, t ? t : "null");
    free(t);
}

/* queues a push: its ref, or 0 when every slot still waits for a reply. payload: the push's JSON
 * text (the frame is written as text: building it as JSON objects cost more than the rest of a
 * click) */
static int push_text(user *u, const char *type, const char *evname, ll_str *payload, int nav)
{
    push_t *p = push_slot(u);
    if (!p || payload->over) {
        ll_str_free(payload);
        return 0;
    }
    memset(p, 0, sizeof *p);
    p->ref = next_ref(u);
    snprintf(p->type, sizeof p->type, "%s", type);
    snprintf(p->event, sizeof p->event, "%s", evname);
    p->t0 = now_ms();
    p->nav = nav;
    U.pushes++;
    p->qseq = u->qseq + 1; /* known before the frame is queued: it may be written at once */
    char num[24];
    ll_str f;
    ll_str_init(&f, WS_OUT_MAX);
    ll_str_add(&f, "[\"", 2);
    ll_str_adds(&f, uint_str(num, (unsigned)u->join_ref));
    ll_str_add(&f, "\",\"", 3);
    ll_str_adds(&f, uint_str(num, (unsigned)p->ref));
    ll_str_add(&f, "\",", 2);
    ll_str_json(&f, u->topic);
    ll_str_adds(&f, nav ? ",\"live_patch\"," : ",\"event\",");
    ll_str_add(&f, payload->s ? payload->s : "{}", payload->s ? payload->len : 2);
    ll_str_add(&f, "]", 1);
    ll_str_free(payload);
    if (f.over || !ws_queue_text(u, f.s, f.len))
        p->qseq = 0;
    ll_str_free(&f);
    return p->ref;
}

static int push(user *u, const char *type, const char *evname, json_t *payload, int nav)
{
    ll_str b;
    ll_str_init(&b, WS_OUT_MAX);
    add_json(&b, payload);
    json_decref(payload);
    return push_text(u, type, evname, &b, nav);
}

static int push_event(user *u, const char *type, const char *evname, json_t *value, json_t *cid, json_t *meta)
{
    ll_str b;
    ll_str_init(&b, WS_OUT_MAX);
    ll_str_adds(&b, "{\"type\":");
    ll_str_json(&b, type);
    ll_str_adds(&b, ",\"event\":");
    ll_str_json(&b, evname);
    ll_str_adds(&b, ",\"value\":");
    add_json(&b, value);
    if (meta) {
        ll_str_adds(&b, ",\"meta\":");
        add_json(&b, meta);
    }
    int form = !strcmp(type, "form");
    if (form)
        ll_str_adds(&b, ",\"uploads\":{}");
    ll_str_adds(&b, ",\"cid\":");
    add_json(&b, cid);
    ll_str_add(&b, "}", 1);
    const char *kind = form ? (meta && json_object_get(meta, "_target") ? "change" : "submit") : type;
    json_decref(value);
    json_decref(meta);
    json_decref(cid);
    return push_text(u, kind, evname, &b, 0);
}

static void nav_event(user *u, const char *kind, double t0)
{
    observer(u, json_pack("{s:s,s:f,s:s}", "kind", "navigation", "ms", now_ms() - t0, "nav", kind));
}

/* a URL from the server (live_patch / live_redirect / redirect "to") */
static int set_url(user *u, const char *to)
{
    char abs[URL_MAX];
    if (ll_url_resolve(u->url, to, abs, sizeof abs))
        return -1;
    set_str(&u->url, abs);
    ll_url_route(u->url, u->route, sizeof u->route);
    return 0;
}

static void live_redirect(user *u, const char *to, double t0)
{
    if (set_url(u, to))
        return;
    if (u->joined)
        ws_queue(u, json_pack("[o,o,s,s,{}]", ref_str(u->join_ref), ref_str(next_ref(u)), u->topic, "phx_leave"));
    u->joined = 0;
    set_str(&u->redirect_url, u->url);
    u->mounts = 0;
    u->t_nav0 = t0;
    u->nav_live = 2;
    ll_tree_reset(&u->tree);
    ll_patch_clear(u->patch); /* the new view replaces the container */
    json_decref(u->fields);
    u->fields = json_object();
    set_frag(u, NULL, 0);
    send_join(u);
}

static void full_redirect(user *u, const char *to)
{
    char abs[URL_MAX];
    if (ll_url_resolve(u->url, to, abs, sizeof abs))
        return;
    start_get(u, abs);
}

/* navigation instructions in a reply or a server push: 1 if one was followed */
static int navigation(user *u, json_t *resp, double t0)
{
    json_t *lp = json_object_get(resp, "live_patch"), *lr = json_object_get(resp, "live_redirect"),
           *rd = json_object_get(resp, "redirect");
    const char *to;
    if ((to = json_string_value(json_object_get(lp, "to")))) {
        set_url(u, to);
        nav_event(u, "patch", t0);
        return 1;
    }
    if ((to = json_string_value(json_object_get(lr, "to")))) {
        live_redirect(u, to, t0);
        return 1;
    }
    if ((to = json_string_value(json_object_get(rd, "to")))) {
        full_redirect(u, to);
        return 1;
    }
    return 0;
}

static void lv_error(user *u, const char *what)
{
    U.errors++;
    observer(u, json_pack("{s:s,s:s,s:s}", "kind", "lv_error", "error", what, "view", u->shell.id ? u->shell.id : ""));
}

static void on_join_reply(user *u, json_t *payload)
{
    const char *status = json_string_value(json_object_get(payload, "status"));
    json_t *resp = json_object_get(payload, "response");
    u->joining = 0;
    if (!status || strcmp(status, "ok")) {
        const char *reason = json_string_value(json_object_get(resp, "reason"));
        lv_error(u, reason ? reason : "join");
        if (navigation(u, resp, now_ms()))
            return;
        if (reason && (!strcmp(reason, "stale") || !strcmp(reason, "unauthorized")) && ++u->join_failures <= 3) {
            start_get(u, u->url); /* the JS client reloads the page */
            return;
        }
        u->join_failures = 99;
        settle(u);
        return;
    }
    /* every 1.x server says its version; LiveView before 0.20.16 does not */
    const char *vsn = json_string_value(json_object_get(resp, "liveview_version"));
    u->v1 = vsn && strncmp(vsn, "0.", 2);
    json_t *rendered = json_object_get(resp, "rendered");
    const char *err = NULL;
    ll_tree_reset(&u->tree);
    ll_tree_init(&u->tree, u->shell.id, U.cfg.max_depth, U.cfg.max_message * 4);
    /* the join patch starts from the server's HTML on a page's first join, from the current DOM on
     * a rejoin; a live redirect's new view starts empty (its containers were cleared) */
    int first = !u->rejoin_is_reconnect && u->nav_live != 2 && !u->frag_html;
    ll_dom dead;
    /* (the dead content is parsed only when it has containers to start from) */
    if (first && strstr(u->html, "phx-update") && page(u, &err) == 0 &&
        ll_dom_parse_fragment(&dead, u->html + u->shell.prefix_len, u->shell.suffix_off - u->shell.prefix_len,
                              u->container->v.element.tag, U.cfg.max_depth) == 0) {
        ll_patch_join(u->patch, dead.out->root, !u->v1);
        ll_dom_free(&dead);
    } else {
        ll_patch_join(u->patch, NULL, !u->v1);
    }
    err = NULL;
    if (!json_is_object(rendered) || apply_diff(u, rendered, &err)) {
        lv_error(u, err ? err : "bad_rendered");
        close_ws(u);
        u->join_failures = 99;
        settle(u);
        return;
    }
    u->joined = 1;
    u->join_failures = 0;
    U.joins++;
    u->mounts++;
    double t = now_ms();
    if (u->nav_live == 2) {
        nav_event(u, "redirect", u->t_nav0);
        u->nav_live = 0;
        set_str(&u->redirect_url, "");
    } else if (u->rejoin_is_reconnect) {
        observer(u, json_pack("{s:s,s:f}", "kind", "reconnect", "ms", t - u->t_nav0));
    } else {
        observer(u, json_pack("{s:s,s:f,s:s}", "kind", "connect", "ms", t - u->t_get, "transport", "websocket"));
    }
    u->rejoin_is_reconnect = 0;
    settle(u);
}

static void on_push_reply(user *u, push_t *p, json_t *payload, double t_frame, size_t bytes)
{
    const char *status = json_string_value(json_object_get(payload, "status"));
    json_t *resp = json_object_get(payload, "response");
    if (!status || strcmp(status, "ok")) {
        push_settle(u, p, PUSH_LOST);
        lv_error(u, "event_error");
        settle(u);
        return;
    }
    json_t *diff = json_object_get(resp, "diff");
    const char *err = NULL;
    if (json_is_object(diff) && apply_diff(u, diff, &err)) {
        push_settle(u, p, PUSH_LOST);
        lv_error(u, err);
        close_ws(u);
        settle(u);
        return;
    }
    push_settle(u, p, PUSH_DONE); /* the reply's diff is applied: what the next action reads */
    if (p->nav && json_is_true(json_object_get(resp, "link_redirect"))) {
        live_redirect(u, u->url, p->t0); /* timed at the new view's join */
    } else {
        push_events(u, p, now_ms(), t_frame, bytes);
        if (!p->nav)
            navigation(u, resp, p->t0);
    }
    settle(u);
}

static void on_frame(user *u, const char *text, size_t len)
{
    double t_frame = now_ms();
    U.frames_in++;
    U.bytes_in += len;
    frame_seen(u, 1, len);
    json_error_t jerr;
    json_t *m = json_loadb(text, len, 0, &jerr); /* a repeated key: the last wins, as in JSON.parse */
    if (!json_is_array(m) || json_array_size(m) != 5) {
        json_decref(m);
        lv_error(u, "bad_frame");
        close_ws(u);
        settle(u);
        return;
    }
    const char *ref = json_string_value(json_array_get(m, 1)), *topic = json_string_value(json_array_get(m, 2)),
               *ev = json_string_value(json_array_get(m, 3));
    json_t *payload = json_array_get(m, 4);
    int r = ref ? atoi(ref) : 0;
    if (!ev || !topic) {
        json_decref(m);
        return;
    }
    if (!strcmp(ev, "phx_reply")) {
        if (r && r == u->join_ref && u->joining && !strcmp(topic, u->topic)) {
            on_join_reply(u, payload);
        } else {
            for (int i = 0; i < MAX_PUSHES; i++)
                if (u->pushes[i].ref == r && r && u->pushes[i].state == PUSH_PENDING) {
                    on_push_reply(u, &u->pushes[i], payload, t_frame, len);
                    break;
                }
        }
    } else if (strcmp(topic, u->topic)) {
        /* heartbeat replies and other topics: nothing to do */
    } else if (!strcmp(ev, "diff")) {
        const char *err = NULL;
        if (u->joined && apply_diff(u, payload, &err)) {
            lv_error(u, err);
            close_ws(u);
        }
        settle(u);
    } else if (!strcmp(ev, "phx_error")) {
        lv_error(u, "phx_error");
        for (int i = 0; i < MAX_PUSHES; i++)
            if (u->pushes[i].ref && u->pushes[i].state == PUSH_PENDING)
                push_settle(u, &u->pushes[i], PUSH_LOST);
        u->joined = 0;
        u->t_nav0 = now_ms();
        u->rejoin_is_reconnect = 1;
        observer(u, json_pack("{s:s}", "kind", "disconnect"));
        if (u->ws_open)
            send_join(u); /* the JS client rejoins the view (after a back-off) */
        settle(u);
    } else if (!strcmp(ev, "phx_close")) {
        u->joined = 0;
        settle(u);
    } else if (!strcmp(ev, "live_patch") || !strcmp(ev, "live_redirect") || !strcmp(ev, "redirect")) {
        json_t *wrap = json_object();
        json_object_set(wrap, ev, payload);
        navigation(u, wrap, now_ms());
        json_decref(wrap);
        settle(u);
    }
    json_decref(m);
}

/* ------------------------------------------------------------------ lws: WebSocket */

static int ws_connect(user *u)
{
    ll_url b;
    if (ll_url_parse(u->url, &b))
        return -1;
    char path[URL_MAX + 256];
    ll_str enc;
    ll_str_init(&enc, 8192);
    ll_str_urlenc(&enc, u->shell.csrf);
    snprintf(path, sizeof path, "/live/websocket?_csrf_token=%s&vsn=2.0.0", enc.s ? enc.s : "");
    ll_str_free(&enc);
    char host[300];
    snprintf(host, sizeof host, "%s:%d", b.host, b.port);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = U.cfg.ctx;
    ci.address = b.host;
    ci.port = b.port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.ssl_connection = strcasecmp(b.scheme, "https") ? 0 : LCCSCF_USE_SSL;
    ci.local_protocol_name = "ll-ws";
    ci.opaque_user_data = u;
    ci.pwsi = &u->ws;
    ll_buf_free(&u->ws_out);
    ll_buf_init(&u->ws_out, WS_OUT_MAX);
    ll_str_free(&u->ws_in);
    ll_str_init(&u->ws_in, U.cfg.max_message);
    u->t_ws = now_ms();
    event(u, json_pack("{s:s,s:s,s:s}", "type", "ws", "what", "open", "route", "/live/websocket"));
    return lws_client_connect_via_info(&ci) ? 0 : -1;
}

/* writes queued frames until the queue is empty or lws had to buffer one (then the writeable
 * callback continues); -1 when the connection failed */
static int ws_write_frames(user *u, struct lws *wsi)
{
    const char *f;
    size_t n;
    while (ll_packet4_next(&u->ws_out, WS_OUT_MAX, &f, &n) == 1) {
        if (U.wcap < LWS_PRE + n) {
            char *nb = realloc(U.wbuf, LWS_PRE + n);
            if (!nb)
                return -1;
            U.wbuf = nb;
            U.wcap = LWS_PRE + n;
        }
        memcpy(U.wbuf + LWS_PRE, f, n);
        ll_buf_consume(&u->ws_out, n + 4);
        if (lws_write(wsi, (unsigned char *)U.wbuf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
            return -1;
        U.frames_out++;
        U.bytes_out += n;
        u->wseq++;
        for (int i = 0; i < MAX_PUSHES; i++)
            if (u->pushes[i].ref && u->pushes[i].qseq == u->wseq && u->pushes[i].t_wire <= 0) {
                u->pushes[i].t_wire = now_ms();
                u->pushes[i].wall_wire = wall_ms();
            }
        frame_seen(u, 0, n);
        if (lws_partial_buffered(wsi)) {
            if (ll_buf_unread(&u->ws_out))
                lws_callback_on_writable(wsi);
            return 0;
        }
    }
    ll_buf_free(&u->ws_out); /* empty: an idle user keeps no queue (the cap stays) */
    return 0;
}

static void store_cookies(user *u, struct lws *wsi)
{
    char buf[4096];
    for (int i = 0; i < 32; i++) {
        int n = lws_hdr_copy_fragment(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_SET_COOKIE, i);
        if (n <= 0)
            break;
        ll_jar_store(u->jar, buf);
    }
}

int ll_user_cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user_, void *in, size_t len)
{
    (void)user_;
    user *u = lws_get_opaque_user_data(wsi);
    if (!u)
        return reason == LWS_CALLBACK_CLIENT_WRITEABLE || reason == LWS_CALLBACK_CLIENT_RECEIVE ? -1 : 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = (unsigned char **)in, *end = (*p) + len;
        char c[8192];
        if (json_object_size(u->jar) && !ll_jar_header(u->jar, c, sizeof c) &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_COOKIE, (unsigned char *)c, (int)strlen(c), p, end))
            return -1;
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        u->ws = NULL;
        u->ws_open = u->joined = u->joining = 0;
        lv_error(u, "websocket_connect");
        u->join_failures = 99;
        settle(u);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        u->ws_open = 1;
        event(u, json_pack("{s:s,s:s,s:f,s:i}", "type", "ws", "what", "handshake", "ms", now_ms() - u->t_ws, "status",
                           101));
        send_join(u);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        ll_str_add(&u->ws_in, in, len);
        if (u->ws_in.over) {
            lv_error(u, "message_too_large");
            u->ws = NULL;
            u->ws_open = u->joined = u->joining = 0;
            lws_set_opaque_user_data(wsi, NULL);
            settle(u);
            return -1;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            size_t n = u->ws_in.len;
            char *s = u->ws_in.s;
            u->ws_in.s = NULL;
            u->ws_in.len = u->ws_in.cap = 0;
            if (s)
                on_frame(u, s, n);
            free(s);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return ws_write_frames(u, wsi) < 0 ? -1 : 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        u->ws = NULL;
        u->ws_open = u->joined = u->joining = 0;
        event(u, json_pack("{s:s,s:s}", "type", "ws", "what", "close"));
        settle(u);
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ lws: HTTP */

static void http_event(user *u, int failed, const char *error)
{
    double t = now_ms();
    json_t *e = json_pack("{s:s,s:s,s:s,s:f,s:I,s:b}", "type", "http", "method", "GET", "url", u->url, "duration_ms",
                          t - u->t_get, "bytes", (json_int_t)u->body.len, "failed", failed);
    json_object_set_new(e, "route", json_string(u->route));
    json_object_set_new(e, "status", u->status ? json_integer(u->status) : json_null());
    json_object_set_new(e, "ttfb_ms", u->t_ttfb > 0 ? json_real(u->t_ttfb - u->t_get) : json_null());
    json_object_set_new(e, "error", error ? json_string(error) : json_null());
    json_object_set_new(e, "resource_type", json_string("Document"));
    event(u, e);
}

static void start_get(user *u, const char *url)
{
    ll_url b;
    forget_page(u);
    detach(&u->http);
    u->nav_state = NAV_HTTP;
    u->status = 0;
    u->t_ttfb = 0;
    set_str(&u->location, "");
    ll_str_free(&u->body);
    ll_str_init(&u->body, U.cfg.max_message);
    set_str(&u->url, url);
    ll_url_route(u->url, u->route, sizeof u->route);
    if (!u->redirects)
        u->t_get = now_ms();
    if (ll_url_parse(url, &b)) {
        u->nav_state = NAV_FAILED;
        snprintf(u->nav_error, sizeof u->nav_error, "invalid URL");
        settle(u);
        return;
    }
    char host[300];
    snprintf(host, sizeof host, "%s:%d", b.host, b.port);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = U.cfg.ctx;
    ci.address = b.host;
    ci.port = b.port;
    ci.path = b.path;
    ci.host = host;
    ci.method = "GET";
    ci.ssl_connection = (strcasecmp(b.scheme, "https") ? 0 : LCCSCF_USE_SSL) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    ci.local_protocol_name = "ll-http";
    ci.opaque_user_data = u;
    ci.pwsi = &u->http;
    if (!lws_client_connect_via_info(&ci)) {
        u->nav_state = NAV_FAILED;
        snprintf(u->nav_error, sizeof u->nav_error, "net::ERR_CONNECTION_FAILED");
        settle(u);
    }
}

static void http_done(user *u)
{
    u->http = NULL;
    if (u->status >= 300 && u->status < 400 && u->location[0]) {
        http_event(u, 0, NULL);
        char abs[URL_MAX];
        if (++u->redirects > MAX_REDIRECTS || ll_url_resolve(u->url, u->location, abs, sizeof abs)) {
            u->nav_state = NAV_FAILED;
            snprintf(u->nav_error, sizeof u->nav_error, "net::ERR_TOO_MANY_REDIRECTS");
            u->redirects = 0;
            settle(u);
            return;
        }
        start_get(u, abs);
        return;
    }
    u->redirects = 0;
    if (u->body.over) {
        http_event(u, 1, "body_too_large");
        u->nav_state = NAV_FAILED;
        snprintf(u->nav_error, sizeof u->nav_error, "response body above the cap");
        settle(u);
        return;
    }
    http_event(u, 0, NULL);
    if (u->status >= 400) {
        u->nav_state = NAV_FAILED;
        snprintf(u->nav_error, sizeof u->nav_error, "HTTP %d", u->status);
        settle(u);
        return;
    }
    u->html = u->body.s ? u->body.s : strdup("");
    u->body.s = NULL;
    u->body.len = u->body.cap = 0;
    u->nav_state = NAV_DONE;
    int r = ll_shell_parse(u->html, strlen(u->html), U.cfg.max_depth, &u->shell);
    u->is_lv = r == 0;
    if (u->is_lv && ws_connect(u)) {
        lv_error(u, "websocket_connect");
        u->join_failures = 99;
    }
    settle(u);
}

int ll_user_cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user_, void *in, size_t len)
{
    (void)user_;
    user *u = lws_get_opaque_user_data(wsi);
    if (!u)
        return reason == LWS_CALLBACK_RECEIVE_CLIENT_HTTP || reason == LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ ? -1 : 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = (unsigned char **)in, *end = (*p) + len;
        char c[8192];
        if (json_object_size(u->jar) && !ll_jar_header(u->jar, c, sizeof c) &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_COOKIE, (unsigned char *)c, (int)strlen(c), p, end))
            return -1;
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ACCEPT, (unsigned char *)"text/html", 9, p, end))
            return -1;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        u->status = (int)lws_http_client_http_response(wsi);
        u->t_ttfb = now_ms();
        store_cookies(u, wsi);
        {
            char loc[URL_MAX];
            set_str(&u->location, lws_hdr_copy(wsi, loc, sizeof loc, WSI_TOKEN_HTTP_LOCATION) > 0 ? loc : "");
        }
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        ll_str_add(&u->body, in, len);
        return u->body.over ? -1 : 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buffer[8192 + LWS_PRE];
        char *px = buffer + LWS_PRE;
        int lenx = sizeof buffer - LWS_PRE;
        return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        lws_set_opaque_user_data(wsi, NULL);
        http_done(u);
        return -1; /* one request per connection */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        u->http = NULL;
        u->redirects = 0;
        u->nav_state = NAV_FAILED;
        snprintf(u->nav_error, sizeof u->nav_error, "%s",
                 u->body.over ? "response body above the cap" : "net::ERR_CONNECTION_REFUSED");
        http_event(u, 1, u->nav_error);
        settle(u);
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (u->http == wsi) { /* closed before completion */
            u->http = NULL;
            u->redirects = 0;
            if (u->nav_state == NAV_HTTP) {
                if (u->status && !u->body.over) {
                    http_done(u); /* close-delimited body */
                    return 0;
                }
                u->nav_state = NAV_FAILED;
                snprintf(u->nav_error, sizeof u->nav_error, "%s",
                         u->body.over ? "response body above the cap" : "net::ERR_CONNECTION_CLOSED");
                http_event(u, 1, u->nav_error);
                settle(u);
            }
        }
        return 0;
    default:
        return 0;
    }
}

#include "actions.inc"
