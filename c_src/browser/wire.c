#include "wire.h"

#include <string.h>

/* ------------------------------------------------------------------ frame head reader */

struct scan {
    const char *s, *end;
};

static void skip_ws(struct scan *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int hex4(const char *s, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* Appends code point cp as UTF-8 when it fits whole (cap counts the NUL). */
static int put_cp(char *out, size_t cap, size_t *len, unsigned cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80)
        b[0] = (char)cp, k = 1;
    else if (cp < 0x800)
        b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f)), b[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
    else
        b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f)), b[2] = (char)(0x80 | (cp >> 6 & 0x3f)),
        b[3] = (char)(0x80 | (cp & 0x3f)), k = 4;
    if (*len + k >= cap)
        return -1;
    memcpy(out + *len, b, k);
    *len += k;
    return 0;
}

/* A JSON string at p->s (which must be '"'), decoded into out (cap bytes with the NUL). Returns 0
 * when it fitted; 1 when it was consumed but did not fit, or held \u0000 or a lone surrogate (out
 * is then "" — or, with cut, the longest prefix of whole characters); -1 when it is malformed or
 * unterminated within the input. */
static int scan_string(struct scan *p, char *out, size_t cap, int cut)
{
    size_t len = 0;
    int st = 0;
    if (p->s >= p->end || *p->s != '"')
        return -1;
    p->s++;
    while (p->s < p->end) {
        unsigned char ch = (unsigned char)*p->s;
        if (ch == '"') {
            p->s++;
            if (st && !cut)
                len = 0;
            out[len] = 0;
            return st;
        }
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            if (p->end - p->s < 2)
                return -1;
            char e = p->s[1];
            unsigned cp;
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char map[] = "\"\\/\b\f\n\r\t";
                cp = (unsigned char)map[simple - "\"\\/bfnrt"];
                p->s += 2;
            } else if (e == 'u' && p->end - p->s >= 6 && !hex4(p->s + 2, &cp)) {
                p->s += 6;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned lo;
                    if (p->end - p->s >= 6 && p->s[0] == '\\' && p->s[1] == 'u' && !hex4(p->s + 2, &lo) &&
                        lo >= 0xdc00 && lo <= 0xdfff) {
                        p->s += 6;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    } else {
                        st = 1, cut = 0; /* a lone surrogate: no usable text */
                        continue;
                    }
                } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
                    st = 1, cut = 0;
                    continue;
                }
            } else {
                return -1;
            }
            if (!st && put_cp(out, cap, &len, cp))
                st = 1;
            continue;
        }
        /* a raw character: its UTF-8 sequence whole, or not at all */
        size_t k = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
        if ((size_t)(p->end - p->s) < k)
            return -1;
        if (!st && len + k < cap) {
            memcpy(out + len, p->s, k);
            len += k;
        } else {
            st = 1;
        }
        p->s += k;
    }
    return -1;
}

/* Skips one JSON value (no recursion: bracket depth is a counter). The input is not validated,
 * only walked; the walk always ends within the input. Returns 0 or -1 (ran out of input). */
static int skip_value(struct scan *p)
{
    long depth = 0;
    skip_ws(p);
    while (p->s < p->end) {
        char ch = *p->s;
        if (ch == '"') {
            char none[1];
            if (scan_string(p, none, sizeof none, 0) < 0)
                return -1;
            if (!depth)
                return 0;
            continue;
        }
        if (ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ']' || ch == '}') {
            if (!depth)
                return 0; /* the end of the enclosing container */
            if (!--depth) {
                p->s++;
                return 0;
            }
        } else if (ch == ',' && !depth) {
            return 0;
        }
        p->s++;
    }
    return -1;
}

static int expect(struct scan *p, char ch)
{
    skip_ws(p);
    if (p->s >= p->end || *p->s != ch)
        return -1;
    p->s++;
    return 0;
}

/* A string that must fit, or null when allowed (*is_null set then). */
static int scan_field(struct scan *p, char *out, size_t cap, int *is_null)
{
    skip_ws(p);
    out[0] = 0;
    if (is_null) {
        *is_null = 0;
        if (p->end - p->s >= 4 && !memcmp(p->s, "null", 4)) {
            p->s += 4;
            *is_null = 1;
            return 0;
        }
    }
    return scan_string(p, out, cap, 0) == 0 ? 0 : -1;
}

/* The payload object's top-level "type" and "event" strings; anything else is skipped. */
static void scan_push_payload(struct scan *p, ll_phx_head *h)
{
    if (expect(p, '{'))
        return;
    skip_ws(p);
    if (p->s < p->end && *p->s == '}')
        return;
    for (;;) {
        char key[8];
        skip_ws(p);
        int k = scan_string(p, key, sizeof key, 0);
        if (k < 0 || expect(p, ':'))
            return;
        skip_ws(p);
        int is_str = p->s < p->end && *p->s == '"';
        if (k == 0 && is_str && !strcmp(key, "type")) {
            int r = scan_string(p, h->push_type, sizeof h->push_type, 0);
            if (r < 0)
                return;
            h->push_type_ok = r == 0;
        } else if (k == 0 && is_str && !strcmp(key, "event")) {
            int r = scan_string(p, h->push_event, sizeof h->push_event, 1);
            if (r < 0)
                return;
            h->push_event_ok = h->push_event[0] != 0;
        } else if (skip_value(p)) {
            return;
        }
        if (h->push_type_ok && h->push_event_ok)
            return;
        skip_ws(p);
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
    struct scan p = {s, s + n};
    if (expect(&p, '[') || scan_field(&p, h->join_ref, sizeof h->join_ref, &h->join_ref_null) ||
        expect(&p, ',') || scan_field(&p, h->ref, sizeof h->ref, &h->ref_null) || expect(&p, ',') ||
        scan_field(&p, h->topic, sizeof h->topic, NULL) || expect(&p, ',') ||
        scan_field(&p, h->event, sizeof h->event, NULL) || expect(&p, ','))
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
