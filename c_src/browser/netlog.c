#include "netlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jscan.h"

/* ------------------------------------------------------------------ protobuf walk */

typedef struct {
    const uint8_t *p, *end;
} pb;

typedef struct {
    uint32_t num;
    int wt;         /* 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
    uint64_t v;     /* varint value */
    const uint8_t *data; /* length-delimited bytes */
    size_t len;
} pbf;

static int pb_varint(pb *b, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 10; i++) {
        if (b->p >= b->end)
            return -1;
        uint8_t x = *b->p++;
        *v |= (uint64_t)(x & 0x7f) << (7 * i);
        if (!(x & 0x80))
            return 0;
    }
    return -1;
}

/* The next field of b: 1 (f filled), 0 at the end, -1 malformed (groups, lengths past the end). */
static int pb_next(pb *b, pbf *f)
{
    uint64_t key;
    if (b->p >= b->end)
        return 0;
    if (pb_varint(b, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    f->v = 0;
    f->data = NULL;
    f->len = 0;
    switch (f->wt) {
    case 0:
        return pb_varint(b, &f->v) ? -1 : 1;
    case 1:
    case 5: {
        size_t k = f->wt == 1 ? 8 : 4;
        if ((size_t)(b->end - b->p) < k)
            return -1;
        b->p += k;
        return 1;
    }
    case 2: {
        uint64_t n;
        if (pb_varint(b, &n) || n > (uint64_t)(b->end - b->p))
            return -1;
        f->data = b->p;
        f->len = (size_t)n;
        b->p += n;
        return 1;
    }
    default:
        return -1;
    }
}

static pb pb_of(const pbf *f) { return (pb){f->data, f->data + f->len}; }

static int pb_str_is(const pbf *f, const char *s)
{
    size_t n = strlen(s);
    return f->wt == 2 && f->len == n && !memcmp(f->data, s, n);
}

/* ------------------------------------------------------------------ sequences */

enum { EV_SENT, EV_RECV, EV_HS, EV_N };
static const char *const EV_NAMES[EV_N] = {"WEBSOCKET_SENT_FRAME_HEADER", "WEBSOCKET_RECV_FRAME_HEADER",
                                           "HTTP_TRANSACTION_SEND_REQUEST_HEADERS"};

#define SEQ_MAX 128
#define OPEN_MAX 256
#define CLOCK_MONOTONIC_ID 3
#define CLOCK_BOOTTIME_ID 6
#define TRACE_CLOCK_DEFAULT CLOCK_BOOTTIME_ID

typedef struct {
    uint32_t id;
    int valid;                /* incremental state (interned names) intact */
    uint32_t clock;           /* default timestamp clock of the sequence, 0 = trace default */
    uint64_t name_iid[EV_N];  /* interned iids of the three event names, 0 unknown */
    uint64_t params_iid;      /* interned iid of the debug annotation name "params" */
    int inc;                  /* an incremental clock is defined on this sequence */
    uint32_t inc_id;
    uint64_t inc_value;       /* its current value (units) */
    uint64_t inc_ref;         /* its value at the snapshot */
    double inc_mono;          /* CLOCK_MONOTONIC ns at the snapshot */
    double inc_unit;          /* ns per unit */
} seq;

typedef struct {
    uint64_t track;
    uint8_t sent;
    size_t msg; /* index of the message its continuation frames extend */
} open_msg;

typedef struct {
    ll_netlog_window *w;
    seq seqs[SEQ_MAX];
    size_t nseq;
    int have_boot;
    double boot_minus_mono; /* ns */
    open_msg open[OPEN_MAX];
    size_t nopen;
    uint32_t order;
} parser;

static seq *seq_get(parser *ps, uint32_t id)
{
    for (size_t i = 0; i < ps->nseq; i++)
        if (ps->seqs[i].id == id)
            return &ps->seqs[i];
    if (ps->nseq == SEQ_MAX)
        return NULL;
    seq *s = &ps->seqs[ps->nseq++];
    memset(s, 0, sizeof *s);
    s->id = id;
    return s;
}

static void seq_clear_interned(seq *s)
{
    memset(s->name_iid, 0, sizeof s->name_iid);
    s->params_iid = 0;
    s->valid = 1;
}

/* ClockSnapshot: BOOTTIME - MONOTONIC (trace-wide), and an incremental clock of this sequence. */
static int clock_snapshot(parser *ps, seq *s, const pbf *f)
{
    struct {
        uint64_t id, ts, unit;
        int inc;
    } c[16];
    size_t n = 0;
    int have_mono = 0, have_boot = 0;
    uint64_t mono = 0, boot = 0;
    pb b = pb_of(f);
    pbf x;
    int r;
    while ((r = pb_next(&b, &x)) == 1) {
        if (x.num != 1 || x.wt != 2)
            continue;
        pb cb = pb_of(&x);
        pbf y;
        uint64_t id = 0, ts = 0, unit = 1;
        int inc = 0, rr;
        while ((rr = pb_next(&cb, &y)) == 1) {
            if (y.wt != 0)
                continue;
            if (y.num == 1)
                id = y.v;
            else if (y.num == 2)
                ts = y.v;
            else if (y.num == 3)
                inc = y.v != 0;
            else if (y.num == 4)
                unit = y.v ? y.v : 1;
        }
        if (rr < 0)
            return -1;
        if (id == CLOCK_MONOTONIC_ID)
            have_mono = 1, mono = ts;
        else if (id == CLOCK_BOOTTIME_ID)
            have_boot = 1, boot = ts;
        if (n < sizeof c / sizeof c[0])
            c[n].id = id, c[n].ts = ts, c[n].unit = unit, c[n].inc = inc, n++;
    }
    if (r < 0)
        return -1;
    if (have_mono && have_boot) {
        ps->have_boot = 1;
        ps->boot_minus_mono = (double)boot - (double)mono;
    }
    double ref_mono = have_mono ? (double)mono : have_boot && ps->have_boot ? (double)boot - ps->boot_minus_mono : NAN;
    for (size_t i = 0; i < n && s; i++)
        if (c[i].inc && !isnan(ref_mono)) {
            s->inc = 1;
            s->inc_id = (uint32_t)c[i].id;
            s->inc_value = s->inc_ref = c[i].ts;
            s->inc_mono = ref_mono;
            s->inc_unit = (double)c[i].unit;
        }
    return 0;
}

static int interned(seq *s, const pbf *f)
{
    pb b = pb_of(f);
    pbf x;
    int r;
    while ((r = pb_next(&b, &x)) == 1) {
        if ((x.num != 2 && x.num != 3) || x.wt != 2) /* event_names, debug_annotation_names */
            continue;
        pb eb = pb_of(&x);
        pbf y, name = {0};
        uint64_t iid = 0;
        int rr;
        while ((rr = pb_next(&eb, &y)) == 1) {
            if (y.num == 1 && y.wt == 0)
                iid = y.v;
            else if (y.num == 2 && y.wt == 2)
                name = y;
        }
        if (rr < 0)
            return -1;
        if (!iid || !name.data)
            continue;
        if (x.num == 2) {
            for (int k = 0; k < EV_N; k++) {
                if (pb_str_is(&name, EV_NAMES[k]))
                    s->name_iid[k] = iid;
                else if (s->name_iid[k] == iid) /* the iid now names something else */
                    s->name_iid[k] = 0;
            }
        } else if (pb_str_is(&name, "params")) {
            s->params_iid = iid;
        } else if (s->params_iid == iid) {
            s->params_iid = 0;
        }
    }
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ event params (JSON text) */

/* An unsigned integer, also written as a float with a zero fraction ("126.0"). */
static int scan_uint(ll_scan *p, uint64_t *v)
{
    const char *s = p->s;
    *v = 0;
    if (s >= p->end || *s < '0' || *s > '9')
        return -1;
    while (s < p->end && *s >= '0' && *s <= '9') {
        if (*v > 0xffffffffull)
            return -1;
        *v = *v * 10 + (uint64_t)(*s++ - '0');
    }
    if (s < p->end && *s == '.') {
        s++;
        while (s < p->end && *s == '0')
            s++;
    }
    if (s < p->end && ((*s >= '0' && *s <= '9') || *s == 'e' || *s == 'E' || *s == '.'))
        return -1;
    p->s = s;
    return 0;
}

static int scan_bool(ll_scan *p, int *v)
{
    if (p->end - p->s >= 4 && !memcmp(p->s, "true", 4)) {
        p->s += 4, *v = 1;
        return 0;
    }
    if (p->end - p->s >= 5 && !memcmp(p->s, "false", 5)) {
        p->s += 5, *v = 0;
        return 0;
    }
    return -1;
}

typedef struct {
    int has_opcode, final, compressed, has_len;
    uint64_t opcode, len;
    char key[LL_NETLOG_KEY];
} params;

/* "Sec-WebSocket-Key: <base64>" among the request's header lines */
static void header_key(const char *line, char *key)
{
    static const char name[] = "sec-websocket-key:";
    if (strncasecmp(line, name, sizeof name - 1))
        return;
    const char *v = line + sizeof name - 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = 0;
    while (v[n] && n < LL_NETLOG_KEY - 1 &&
           ((v[n] >= 'A' && v[n] <= 'Z') || (v[n] >= 'a' && v[n] <= 'z') || (v[n] >= '0' && v[n] <= '9') ||
            v[n] == '+' || v[n] == '/' || v[n] == '='))
        n++;
    if (n == 0 || v[n]) /* empty, too long or not base64: not a key we could compare */
        return;
    memcpy(key, v, n);
    key[n] = 0;
}

static void read_params(const uint8_t *json, size_t n, params *pr)
{
    ll_scan p = {(const char *)json, (const char *)json + n};
    if (ll_scan_expect(&p, '{'))
        return;
    ll_scan_ws(&p);
    if (p.s < p.end && *p.s == '}')
        return;
    for (;;) {
        char k[24];
        ll_scan_ws(&p);
        int kr = ll_scan_string(&p, k, sizeof k, 0);
        if (kr < 0 || ll_scan_expect(&p, ':'))
            return;
        ll_scan_ws(&p);
        if (kr == 0 && !strcmp(k, "opcode")) {
            if (scan_uint(&p, &pr->opcode))
                return;
            pr->has_opcode = 1;
        } else if (kr == 0 && !strcmp(k, "payload_length")) {
            if (scan_uint(&p, &pr->len))
                return;
            pr->has_len = 1;
        } else if (kr == 0 && !strcmp(k, "final")) {
            if (scan_bool(&p, &pr->final))
                return;
        } else if (kr == 0 && !strcmp(k, "reserved1")) {
            if (scan_bool(&p, &pr->compressed))
                return;
        } else if (kr == 0 && !strcmp(k, "headers") && p.s < p.end && *p.s == '[') {
            p.s++;
            for (;;) {
                char line[512];
                ll_scan_ws(&p);
                if (p.s < p.end && *p.s == ']') {
                    p.s++;
                    break;
                }
                if (p.s < p.end && *p.s == '"') {
                    int lr = ll_scan_string(&p, line, sizeof line, 1);
                    if (lr < 0)
                        return;
                    if (!pr->key[0])
                        header_key(line, pr->key);
                } else if (ll_scan_skip(&p)) {
                    return;
                }
                ll_scan_ws(&p);
                if (p.s < p.end && *p.s == ',')
                    p.s++;
                else if (!(p.s < p.end && *p.s == ']'))
                    return;
            }
        } else if (ll_scan_skip(&p)) {
            return;
        }
        ll_scan_ws(&p);
        if (p.s >= p.end || *p.s != ',')
            return;
        p.s++;
    }
}

/* ------------------------------------------------------------------ events */

static void add_hs(parser *ps, uint64_t track, const char *key)
{
    ll_netlog_window *w = ps->w;
    if (w->nhs == w->cap_hs) {
        size_t cap = w->cap_hs ? w->cap_hs * 2 : 16;
        ll_netlog_hs *n = cap <= LL_NETLOG_MAX_HS ? realloc(w->hs, cap * sizeof *n) : NULL;
        if (!n) {
            w->loss = 1;
            return;
        }
        w->hs = n, w->cap_hs = cap;
    }
    ll_netlog_hs *h = &w->hs[w->nhs++];
    h->track = track;
    memcpy(h->key, key, LL_NETLOG_KEY);
}

static size_t add_msg(parser *ps, uint64_t track, int sent, double ts, uint32_t len)
{
    ll_netlog_window *w = ps->w;
    if (w->nmsg == w->cap_msg) {
        size_t cap = w->cap_msg ? w->cap_msg * 2 : 64;
        ll_netlog_msg *n = cap <= LL_NETLOG_MAX_MSGS ? realloc(w->msg, cap * sizeof *n) : NULL;
        if (!n) {
            w->loss = 1;
            return (size_t)-1;
        }
        w->msg = n, w->cap_msg = cap;
    }
    ll_netlog_msg *m = &w->msg[w->nmsg];
    m->track = track, m->sent = (uint8_t)sent, m->ts = ts, m->len = len, m->order = ps->order++;
    return w->nmsg++;
}

static open_msg *open_find(parser *ps, uint64_t track, int sent)
{
    for (size_t i = 0; i < ps->nopen; i++)
        if (ps->open[i].track == track && ps->open[i].sent == sent)
            return &ps->open[i];
    return NULL;
}

static void open_close(parser *ps, open_msg *o) { *o = ps->open[--ps->nopen]; }

/* One frame header: a data frame starts a message, continuations extend the open one, control
 * frames (ping, pong, close) are not messages. */
static void frame(parser *ps, uint64_t track, int sent, double ts, const params *pr)
{
    ll_netlog_window *w = ps->w;
    open_msg *o = open_find(ps, track, sent);
    uint32_t len = pr->has_len && pr->len < LL_NETLOG_LEN_ANY ? (uint32_t)pr->len : LL_NETLOG_LEN_ANY;
    if (!pr->has_opcode)
        return;
    if (pr->opcode == 0) { /* a continuation: of a message begun in this window, or of none we saw */
        if (!o)
            return;
        ll_netlog_msg *m = &w->msg[o->msg];
        if (len == LL_NETLOG_LEN_ANY || m->len == LL_NETLOG_LEN_ANY || (uint64_t)m->len + len >= LL_NETLOG_LEN_ANY)
            m->len = LL_NETLOG_LEN_ANY;
        else
            m->len += len;
        if (pr->final)
            open_close(ps, o);
        return;
    }
    if (pr->opcode != 1 && pr->opcode != 2)
        return;
    if (o) { /* the previous message never ended: its size is unknown */
        w->msg[o->msg].len = LL_NETLOG_LEN_ANY;
        open_close(ps, o);
    }
    size_t i = add_msg(ps, track, sent, ts, pr->compressed ? LL_NETLOG_LEN_ANY : len);
    if (i == (size_t)-1 || pr->final)
        return;
    if (ps->nopen == OPEN_MAX) {
        w->msg[i].len = LL_NETLOG_LEN_ANY;
        return;
    }
    ps->open[ps->nopen++] = (open_msg){.track = track, .sent = (uint8_t)sent, .msg = i};
}

static int track_event(parser *ps, seq *s, const pbf *f, double mono_ns, int have_ts)
{
    pb b = pb_of(f);
    pbf x;
    int r, kind = -1, have_track = 0;
    uint64_t track = 0;
    pbf ann[8];
    size_t nann = 0;
    while ((r = pb_next(&b, &x)) == 1) {
        if (x.num == 10 && x.wt == 0) { /* name_iid */
            for (int k = 0; k < EV_N; k++)
                if (s->name_iid[k] && s->name_iid[k] == x.v)
                    kind = k;
        } else if (x.num == 23 && x.wt == 2) { /* name */
            for (int k = 0; k < EV_N; k++)
                if (pb_str_is(&x, EV_NAMES[k]))
                    kind = k;
        } else if (x.num == 11 && x.wt == 0) { /* track_uuid */
            track = x.v, have_track = 1;
        } else if (x.num == 4 && x.wt == 2 && nann < sizeof ann / sizeof ann[0]) { /* debug_annotations */
            ann[nann++] = x;
        }
    }
    if (r < 0)
        return -1;
    if (kind < 0)
        return 0;
    ps->w->events++;
    if (!have_track || !have_ts) { /* ours, but not placeable: a frame may be missing */
        ps->w->loss = 1;
        return 0;
    }
    params pr;
    memset(&pr, 0, sizeof pr);
    for (size_t i = 0; i < nann; i++) {
        pb ab = pb_of(&ann[i]);
        pbf y, json = {0};
        int is_params = 0, rr;
        while ((rr = pb_next(&ab, &y)) == 1) {
            if (y.num == 1 && y.wt == 0) /* name_iid */
                is_params = s->params_iid && y.v == s->params_iid;
            else if (y.num == 10 && y.wt == 2) /* name */
                is_params = pb_str_is(&y, "params");
            else if (y.num == 9 && y.wt == 2) /* legacy_json_value */
                json = y;
        }
        if (rr < 0)
            return -1;
        if (is_params && json.data)
            read_params(json.data, json.len, &pr);
    }
    double ts = mono_ns / 1e9;
    if (kind == EV_HS) {
        if (pr.key[0])
            add_hs(ps, track, pr.key);
    } else {
        frame(ps, track, kind == EV_SENT, ts, &pr);
    }
    return 0;
}

/* A timestamp of clock `clock' in CLOCK_MONOTONIC ns; 0 when it cannot be placed. */
static int to_mono(parser *ps, seq *s, uint32_t clock, uint64_t ts, double *out)
{
    if (clock == CLOCK_MONOTONIC_ID) {
        *out = (double)ts;
        return 1;
    }
    if (clock == CLOCK_BOOTTIME_ID && ps->have_boot) {
        *out = (double)ts - ps->boot_minus_mono;
        return 1;
    }
    if (s && s->inc && clock == s->inc_id) {
        s->inc_value += ts;
        *out = s->inc_mono + (double)(s->inc_value - s->inc_ref) * s->inc_unit;
        return 1;
    }
    return 0;
}

static int packet(parser *ps, const pbf *pf)
{
    pb b = pb_of(pf);
    pbf x, defaults = {0}, intern = {0}, snap = {0}, te = {0}, svc = {0};
    uint64_t ts = 0, seq_id = 0, flags = 0, clock = 0;
    int have_ts = 0, cleared = 0, dropped = 0, first = 0, r;
    while ((r = pb_next(&b, &x)) == 1) {
        if (x.wt == 0) {
            switch (x.num) {
            case 8: ts = x.v, have_ts = 1; break;
            case 58: clock = x.v; break;
            case 10: seq_id = x.v; break;
            case 13: flags = x.v; break;
            case 41: cleared = x.v != 0; break;
            case 42: dropped = x.v != 0; break;
            case 87: first = x.v != 0; break;
            default: break;
            }
        } else if (x.wt == 2) {
            switch (x.num) {
            case 59: defaults = x; break;
            case 12: intern = x; break;
            case 6: snap = x; break;
            case 11: te = x; break;
            case 69: svc = x; break;
            default: break;
            }
        }
    }
    if (r < 0)
        return -1;
    ps->w->packets++;
    seq *s = seq_get(ps, (uint32_t)seq_id);
    if (!s) { /* more sequences than we track: their events would be missing */
        ps->w->loss = 1;
        return 0;
    }
    if (first) {
        uint32_t id = s->id;
        memset(s, 0, sizeof *s);
        s->id = id;
    } else if (dropped) {
        ps->w->loss = 1;
        s->valid = 0;
    }
    if ((flags & 1) || cleared) {
        seq_clear_interned(s);
        s->inc = 0;
    }
    if (defaults.data) {
        pb db = pb_of(&defaults);
        pbf y;
        int rr;
        while ((rr = pb_next(&db, &y)) == 1)
            if (y.num == 58 && y.wt == 0)
                s->clock = (uint32_t)y.v;
        if (rr < 0)
            return -1;
    }
    if (snap.data && clock_snapshot(ps, s, &snap))
        return -1;
    if ((flags & 2) && !s->valid) { /* needs interned state this sequence lost */
        if (te.data)
            ps->w->loss = 1;
        return 0;
    }
    if (intern.data && interned(s, &intern))
        return -1;
    uint32_t ck = clock ? (uint32_t)clock : s->clock ? s->clock : TRACE_CLOCK_DEFAULT;
    double mono = 0;
    int placed = have_ts && to_mono(ps, s, ck, ts, &mono);
    if (svc.data) {
        pb sb = pb_of(&svc);
        pbf y;
        int rr;
        while ((rr = pb_next(&sb, &y)) == 1)
            if (y.num == 1 && y.wt == 0 && y.v && placed && isinf(ps->w->start)) /* all_data_sources_started */
                ps->w->start = mono / 1e9;
        if (rr < 0)
            return -1;
    }
    if (te.data)
        return track_event(ps, s, &te, mono, placed);
    return 0;
}

static int msg_cmp(const void *a, const void *b)
{
    const ll_netlog_msg *x = a, *y = b;
    if (x->track != y->track)
        return x->track < y->track ? -1 : 1;
    if (x->sent != y->sent)
        return x->sent < y->sent ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void ll_netlog_init(ll_netlog_window *w)
{
    memset(w, 0, sizeof *w);
    w->start = INFINITY;
}

int ll_netlog_parse(ll_netlog_window *w, const uint8_t *buf, size_t n)
{
    parser *ps = calloc(1, sizeof *ps);
    int rc = 0;
    if (!ps) {
        w->loss = 1;
        return -1;
    }
    ps->w = w;
    pb b = {buf, buf + n};
    pbf x;
    int r;
    while ((r = pb_next(&b, &x)) == 1) {
        if (x.num != 1 || x.wt != 2) /* Trace.packet */
            continue;
        if (packet(ps, &x)) {
            rc = -1;
            break;
        }
    }
    if (r < 0)
        rc = -1;
    for (size_t i = 0; i < ps->nopen; i++) /* messages still open at the end: size unknown */
        w->msg[ps->open[i].msg].len = LL_NETLOG_LEN_ANY;
    if (rc)
        w->loss = 1;
    if (w->nmsg > 1)
        qsort(w->msg, w->nmsg, sizeof *w->msg, msg_cmp);
    free(ps);
    return rc;
}

void ll_netlog_free(ll_netlog_window *w)
{
    free(w->hs);
    free(w->msg);
    ll_netlog_init(w);
}

/* ------------------------------------------------------------------ base64 */

static int b64v(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long ll_base64_decode(const char *in, size_t n, uint8_t *out)
{
    while (n > 0 && in[n - 1] == '=')
        n--;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64v((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (n % 4 == 1)
        return -1;
    return (long)o;
}

static char *base64_encode(const uint8_t *in, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        *o++ = A[v >> 18 & 63];
        *o++ = A[v >> 12 & 63];
        *o++ = i + 1 < n ? A[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? A[v & 63] : '=';
    }
    *o = 0;
    return out;
}

/* ------------------------------------------------------------------ trace config */

typedef struct {
    uint8_t b[2048];
    size_t n;
    int overflow;
} pw;

static void pw_varint(pw *w, uint64_t v)
{
    do {
        if (w->n >= sizeof w->b) {
            w->overflow = 1;
            return;
        }
        w->b[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void pw_uint(pw *w, uint32_t num, uint64_t v)
{
    pw_varint(w, (uint64_t)num << 3);
    pw_varint(w, v);
}

static void pw_bytes(pw *w, uint32_t num, const void *p, size_t n)
{
    pw_varint(w, (uint64_t)num << 3 | 2);
    pw_varint(w, n);
    if (w->n + n > sizeof w->b) {
        w->overflow = 1;
        return;
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void pw_msg(pw *w, uint32_t num, const pw *m) { pw_bytes(w, num, m->b, m->n); }

char *ll_netlog_config(const long *pids, size_t npids, unsigned buffer_kb)
{
    static const char chrome[] =
        "{\"record_mode\":\"record-continuously\",\"included_categories\":[\"netlog\"],\"excluded_categories\":[\"*\"]}";
    pw buffer = {0}, tec = {0}, cc = {0}, dsc = {0}, ds = {0}, cfg = {0};
    pw_uint(&buffer, 1, buffer_kb); /* size_kb */
    pw_uint(&buffer, 4, 1);         /* fill_policy RING_BUFFER */
    pw_bytes(&tec, 1, "*", 1);      /* disabled_categories */
    pw_bytes(&tec, 2, "netlog", 6); /* enabled_categories */
    pw_bytes(&cc, 1, chrome, sizeof chrome - 1);
    pw_bytes(&dsc, 1, "track_event", 11);
    pw_uint(&dsc, 2, 0);      /* target_buffer */
    pw_msg(&dsc, 113, &tec);  /* track_event_config */
    pw_msg(&dsc, 101, &cc);   /* chrome_config */
    pw_msg(&ds, 1, &dsc);
    for (size_t i = 0; i < npids; i++) {
        char name[40];
        int k = snprintf(name, sizeof name, "org.chromium-%ld", pids[i]);
        pw_bytes(&ds, 2, name, (size_t)k); /* producer_name_filter */
    }
    pw_msg(&cfg, 1, &buffer);
    pw_msg(&cfg, 2, &ds);
    if (buffer.overflow || tec.overflow || cc.overflow || dsc.overflow || ds.overflow || cfg.overflow)
        return NULL;
    return base64_encode(cfg.b, cfg.n);
}
