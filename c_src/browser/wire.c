#include "wire.h"

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
    if (dropped)
        (*dropped)++;
}

int ll_wire_sent(ll_wire *w, uint32_t socket, double ts, double wall_ms, const char *frame, size_t n,
                 uint64_t *dropped)
{
    ll_phx_head h;
    if (ll_phx_head_parse(frame, n, &h, 1) || h.ref_null || !h.ref[0] || strcmp(h.event, "event") ||
        strncmp(h.topic, "lv:", 3))
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
    slot->socket = socket;
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
