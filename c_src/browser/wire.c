#include "wire.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

/* ------------------------------------------------------------------ frame head reader */

/* A string that must fit, or null when allowed (*is_null set then). */
static int scan_field(ll_scan *p, char *out, size_t cap, int *is_null)
{
    ll_scan_ws(p);
    out[0] = 0;
    if (is_null) {
        *is_null = 0;
        if (p->end - p->s >= 4 && !memcmp(p->s, "null", 4)) {
            p->s += 4;
            *is_null = 1;
            return 0;
        }
    }
    return ll_scan_string(p, out, cap, 0) == 0 ? 0 : -1;
}

/* The payload object's top-level "type" and "event" strings; anything else is skipped. */
static void scan_push_payload(ll_scan *p, ll_phx_head *h)
{
    if (ll_scan_expect(p, '{'))
        return;
    ll_scan_ws(p);
    if (p->s < p->end && *p->s == '}')
        return;
    for (;;) {
        char key[8];
        ll_scan_ws(p);
        int k = ll_scan_string(p, key, sizeof key, 0);
        if (k < 0 || ll_scan_expect(p, ':'))
            return;
        ll_scan_ws(p);
        int is_str = p->s < p->end && *p->s == '"';
        if (k == 0 && is_str && !strcmp(key, "type")) {
            int r = ll_scan_string(p, h->push_type, sizeof h->push_type, 0);
            if (r < 0)
                return;
            h->push_type_ok = r == 0;
        } else if (k == 0 && is_str && !strcmp(key, "event")) {
            int r = ll_scan_string(p, h->push_event, sizeof h->push_event, 1);
            if (r < 0)
                return;
            h->push_event_ok = h->push_event[0] != 0;
        } else if (ll_scan_skip(p)) {
            return;
        }
        if (h->push_type_ok && h->push_event_ok)
            return;
        ll_scan_ws(p);
        if (p->s >= p->end || *p->s != ',')
            return;
        p->s++;
    }
}

int ll_phx_head_parse(const char *s, size_t n, ll_phx_head *h, int with_payload)
{
    memset(h, 0, sizeof *h);
    if (!s)
        return -1;
    ll_scan p = {s, s + n};
    if (ll_scan_expect(&p, '[') || scan_field(&p, h->join_ref, sizeof h->join_ref, &h->join_ref_null) ||
        ll_scan_expect(&p, ',') || scan_field(&p, h->ref, sizeof h->ref, &h->ref_null) || ll_scan_expect(&p, ',') ||
        scan_field(&p, h->topic, sizeof h->topic, NULL) || ll_scan_expect(&p, ',') ||
        scan_field(&p, h->event, sizeof h->event, NULL) || ll_scan_expect(&p, ','))
        return -1;
    if (with_payload && !strcmp(h->event, "event"))
        scan_push_payload(&p, h);
    return 0;
}

/* ------------------------------------------------------------------ pending pushes */

static void drop(ll_wire *w, ll_wire_push *e, uint64_t *dropped)
{
    e->used = 0;
    w->n--;
    if (dropped && e->timed)
        (*dropped)++;
}

int ll_wire_sent(ll_wire *w, uint32_t socket, double ts, double wall_ms, uint64_t serial, const char *frame, size_t n,
                 uint64_t *dropped)
{
    ll_phx_head h;
    if (ll_phx_head_parse(frame, n, &h, 1) || h.ref_null || !h.ref[0])
        return 0;
    ll_wire_push *slot = NULL, *oldest = NULL;
    for (int i = 0; i < LL_WIRE_PENDING; i++) {
        ll_wire_push *e = &w->p[i];
        if (e->used && e->ts < ts - LL_WIRE_TTL_S)
            drop(w, e, dropped);
        if (!e->used) {
            if (!slot)
                slot = e;
        } else if (!oldest || e->ts < oldest->ts) {
            oldest = e;
        }
    }
    if (!slot) {
        drop(w, oldest, dropped);
        slot = oldest;
    }
    memset(slot, 0, sizeof *slot);
    slot->used = 1;
    slot->timed = !strcmp(h.event, "event") && !strncmp(h.topic, "lv:", 3);
    slot->socket = socket;
    slot->serial = serial;
    slot->ts = ts;
    slot->wall_ms = wall_ms;
    memcpy(slot->join_ref, h.join_ref, sizeof slot->join_ref);
    memcpy(slot->ref, h.ref, sizeof slot->ref);
    memcpy(slot->topic, h.topic, sizeof slot->topic);
    if (h.push_type_ok)
        memcpy(slot->type, h.push_type, sizeof slot->type);
    if (h.push_event_ok)
        memcpy(slot->event, h.push_event, sizeof slot->event);
    w->n++;
    return 1;
}

int ll_wire_received(ll_wire *w, uint32_t socket, const char *frame, size_t n, ll_wire_push *out)
{
    ll_phx_head h;
    if (!w->n || ll_phx_head_parse(frame, n, &h, 0) || h.ref_null || strcmp(h.event, "phx_reply"))
        return 0;
    for (int i = 0; i < LL_WIRE_PENDING; i++) {
        ll_wire_push *e = &w->p[i];
        if (e->used && e->socket == socket && !strcmp(e->ref, h.ref) && !strcmp(e->join_ref, h.join_ref) &&
            !strcmp(e->topic, h.topic)) {
            *out = *e;
            drop(w, e, NULL);
            return 1;
        }
    }
    return 0;
}

void ll_wire_forget(ll_wire *w, uint32_t socket, uint64_t *dropped)
{
    for (int i = 0; i < LL_WIRE_PENDING && w->n; i++)
        if (w->p[i].used && w->p[i].socket == socket)
            drop(w, &w->p[i], dropped);
}

/* ------------------------------------------------------------------ records */

ll_wire_rec *ll_wire_record(ll_wire *w, const ll_wire_push *push, uint64_t reply, double reply_ts, const char *url,
                            ll_wire_rec *evicted)
{
    ll_wire_rec *slot = NULL, *oldest = NULL;
    evicted->used = 0;
    for (int i = 0; i < LL_WIRE_RECORDS; i++) {
        ll_wire_rec *r = &w->r[i];
        if (!r->used) {
            if (!slot)
                slot = r;
        } else if (!oldest || r->reply_ts < oldest->reply_ts) {
            oldest = r;
        }
    }
    if (!slot) {
        *evicted = *oldest;
        oldest->used = 0;
        oldest->url = NULL;
        w->nr--;
        slot = oldest;
    }
    memset(slot, 0, sizeof *slot);
    slot->used = 1;
    slot->socket = push->socket;
    slot->push = push->serial;
    slot->reply = reply;
    slot->push_ts = push->ts;
    slot->reply_ts = reply_ts;
    slot->net_push = slot->net_reply = NAN;
    slot->wall_ms = push->wall_ms;
    memcpy(slot->type, push->type, sizeof slot->type);
    memcpy(slot->event, push->event, sizeof slot->event);
    slot->url = url && *url ? strdup(url) : NULL;
    w->nr++;
    return slot;
}

void ll_wire_rec_free(ll_wire *w, ll_wire_rec *r)
{
    free(r->url);
    r->url = NULL;
    if (r->used && w && w->nr)
        w->nr--;
    r->used = 0;
}

/* ------------------------------------------------------------------ network-side times */

void ll_hist_init(ll_hist *h)
{
    memset(h, 0, sizeof *h);
    h->settled = -INFINITY;
}

static ll_hframe *at(ll_hist *h, uint64_t serial) { return &h->f[serial % LL_HIST]; }

/* The oldest frame goes: a ghost when a later window could still hold its network time. */
static void forget_oldest(ll_hist *h)
{
    ll_hframe *f = at(h, h->first);
    if (isnan(f->net) && f->ub >= h->settled - LL_WIRE_EPS)
        h->ghosts++;
    h->first++;
}

uint64_t ll_hist_add(ll_hist *h, double ts, double lb, double ub, uint32_t len)
{
    if (h->next - h->first == LL_HIST)
        forget_oldest(h);
    ll_hframe *f = at(h, h->next);
    *f = (ll_hframe){.ts = ts, .lb = lb, .ub = ub, .net = NAN, .len = len};
    return h->next++;
}

ll_hframe *ll_hist_get(ll_hist *h, uint64_t serial)
{
    return serial >= h->first && serial < h->next ? at(h, serial) : NULL;
}

/* Does offset o fit: net[j] is frame o + j (frames -ghosts..-1 are the ghosts, frames past the
 * last held one are frames the page has not reported yet: neither is constrained)? */
static int fits(ll_hist *h, long o, const ll_netlog_msg *net, long k, double cs, double ce)
{
    long m = (long)(h->next - h->first);
    for (long i = 0; i < m; i++) {
        const ll_hframe *f = at(h, h->first + (uint64_t)i);
        if (i < o) { /* its network time is before the window */
            if (isnan(f->net) && f->lb > cs + LL_WIRE_EPS)
                return 0;
        } else if (i < o + k) {
            const ll_netlog_msg *n = &net[i - o];
            if (!isnan(f->net) || (n->len != LL_NETLOG_LEN_ANY && n->len != f->len) || n->ts < f->lb - LL_WIRE_EPS ||
                n->ts > f->ub + LL_WIRE_EPS)
                return 0;
        } else if (!isnan(f->net) || f->ub < ce - LL_WIRE_EPS) { /* it must come after the window */
            return 0;
        }
    }
    return 1;
}

void ll_hist_trim(ll_hist *h, double ce)
{
    uint64_t last = h->first;
    int any = 0;
    for (uint64_t s = h->first; s < h->next; s++)
        if (!isnan(at(h, s)->net))
            last = s, any = 1;
    if (any) {
        h->first = last + 1;
        h->ghosts = 0;
    }
    while (h->first < h->next && at(h, h->first)->ub < ce - LL_WIRE_EPS)
        h->first++;
    if (ce > h->settled)
        h->settled = ce;
}

int ll_hist_align(ll_hist *h, const ll_netlog_msg *net, size_t k, double cs, double ce)
{
    long m = (long)(h->next - h->first), found = 0;
    int nfound = 0;
    for (long o = -(long)h->ghosts; o <= m && nfound < 2; o++)
        if (fits(h, o, net, (long)k, cs, ce))
            found = o, nfound++;
    if (nfound == 1)
        for (long j = 0; j < (long)k; j++)
            if (found + j >= 0 && found + j < m)
                at(h, h->first + (uint64_t)(found + j))->net = net[j].ts;
    return nfound == 1 ? 1 : nfound == 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ one socket, both sides */

void ll_wsock_init(ll_wsock *s)
{
    memset(s, 0, sizeof *s);
    ll_hist_init(&s->dir[0]);
    ll_hist_init(&s->dir[1]);
}

void ll_wire_frame_sent(ll_wire *w, ll_wsock *s, uint32_t socket, double ts, double wall_ms, const char *text,
                        size_t n, uint32_t len, uint64_t *dropped)
{
    uint64_t serial = s ? ll_hist_add(&s->dir[1], ts, ts, INFINITY, len) : 0;
    if (text)
        ll_wire_sent(w, socket, ts, wall_ms, serial, text, n, dropped);
}

int ll_wire_frame_received(ll_wire *w, ll_wsock *s, uint32_t socket, double ts, const char *text, size_t n,
                           uint32_t len, ll_wire_push *out, uint64_t *reply_serial)
{
    int answered = text && ll_wire_received(w, socket, text, n, out);
    if (s) {
        *reply_serial = ll_hist_add(&s->dir[0], ts, answered ? out->ts : -INFINITY, ts, len);
        ll_hframe *p = answered ? ll_hist_get(&s->dir[1], out->serial) : NULL;
        if (p && ts < p->ub)
            p->ub = ts;
    }
    return answered;
}

/* The window's messages of one track and direction: a run of the sorted array. */
static const ll_netlog_msg *run(const ll_netlog_window *w, uint64_t track, int sent, size_t *k)
{
    size_t lo = 0, hi = w->nmsg;
    while (lo < hi) { /* first message with (track, sent) >= the one asked */
        size_t mid = lo + (hi - lo) / 2;
        const ll_netlog_msg *m = &w->msg[mid];
        if (m->track < track || (m->track == track && m->sent < sent))
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t e = lo;
    while (e < w->nmsg && w->msg[e].track == track && w->msg[e].sent == sent)
        e++;
    *k = e - lo;
    return *k ? &w->msg[lo] : NULL;
}

int ll_wsock_align(ll_wsock *s, const ll_netlog_window *w, double cs, double ce)
{
    int bad = 0;
    if (!s->mapped)
        return 0;
    for (int d = 0; d < 2; d++) {
        size_t k;
        const ll_netlog_msg *m = run(w, s->track, d, &k);
        if (ll_hist_align(&s->dir[d], m, k, cs, ce) != 1)
            bad++;
    }
    return bad;
}

void ll_wire_settle(ll_wire *w, uint32_t socket, ll_wsock *s, double ce, ll_wire_emit_fn emit, void *ud,
                    uint64_t *unmatched)
{
    for (int i = 0; i < LL_WIRE_RECORDS && w->nr; i++) {
        ll_wire_rec *r = &w->r[i];
        if (!r->used || r->socket != socket)
            continue;
        ll_hframe *p = s ? ll_hist_get(&s->dir[1], r->push) : NULL;
        ll_hframe *q = s ? ll_hist_get(&s->dir[0], r->reply) : NULL;
        if (p && !isnan(p->net)) /* kept: the frame leaves the history once settled */
            r->net_push = p->net;
        if (q && !isnan(q->net))
            r->net_reply = q->net;
        if (!isnan(r->net_push) && !isnan(r->net_reply) && r->net_reply >= r->net_push) {
            emit(ud, r, (r->net_reply - r->net_push) * 1000.0);
            ll_wire_rec_free(w, r);
        } else if (!s || r->reply_ts <= ce + LL_WIRE_EPS) {
            (*unmatched)++;
            ll_wire_rec_free(w, r);
        }
    }
    if (s) {
        ll_hist_trim(&s->dir[0], ce);
        ll_hist_trim(&s->dir[1], ce);
    }
}

void ll_wire_drop_records(ll_wire *w, uint32_t socket, int all, uint64_t *unmatched)
{
    for (int i = 0; i < LL_WIRE_RECORDS && w->nr; i++)
        if (w->r[i].used && (all || w->r[i].socket == socket)) {
            (*unmatched)++;
            ll_wire_rec_free(w, &w->r[i]);
        }
}

void ll_wire_expire(ll_wire *w, double before, uint64_t *unmatched)
{
    for (int i = 0; i < LL_WIRE_RECORDS && w->nr; i++)
        if (w->r[i].used && w->r[i].made_ms < before) {
            (*unmatched)++;
            ll_wire_rec_free(w, &w->r[i]);
        }
}

int ll_wire_has_records(const ll_wire *w, uint32_t socket)
{
    for (int i = 0; i < LL_WIRE_RECORDS && w->nr; i++)
        if (w->r[i].used && w->r[i].socket == socket)
            return 1;
    return 0;
}

void ll_tracks_add(ll_tracks *t, uint64_t track, const char *key)
{
    uint64_t old;
    size_t n = strnlen(key, LL_NETLOG_KEY);
    if (!n || n == LL_NETLOG_KEY || ll_tracks_find(t, key, &old))
        return;
    t->track[t->next] = track;
    memcpy(t->key[t->next], key, n + 1);
    t->next = (t->next + 1) % LL_TRACKS;
    if (t->n < LL_TRACKS)
        t->n++;
}

int ll_tracks_find(const ll_tracks *t, const char *key, uint64_t *track)
{
    if (!key[0])
        return 0;
    for (unsigned i = 0; i < t->n; i++)
        if (!strcmp(t->key[i], key)) {
            *track = t->track[i];
            return 1;
        }
    return 0;
}
