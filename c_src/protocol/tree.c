#include "tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ll_tree_init(ll_tree *t, const char *view_id, unsigned max_depth, size_t max_html)
{
    memset(t, 0, sizeof *t);
    snprintf(t->view_id, sizeof t->view_id, "%s", view_id ? view_id : "");
    t->max_depth = max_depth ? max_depth : 64;
    t->max_html = max_html ? max_html : (8u << 20);
}

void ll_tree_reset(ll_tree *t)
{
    json_decref(t->rendered);
    t->rendered = NULL;
}

void ll_extract_free(ll_extract *x)
{
    json_decref(x->events);
    json_decref(x->reply);
    json_decref(x->title);
    memset(x, 0, sizeof *x);
}

static json_t *take(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!v)
        return NULL;
    json_incref(v);
    json_object_del(o, k);
    return v;
}

void ll_tree_extract(json_t *diff, ll_extract *x)
{
    memset(x, 0, sizeof *x);
    if (!json_is_object(diff))
        return;
    x->reply = take(diff, "r");
    x->events = take(diff, "e");
    x->title = take(diff, "t");
}

/* ------------------------------------------------------------------ merge */

typedef struct {
    ll_tree *t;
    const char *err;
} mctx;

static int fail(mctx *m, const char *why)
{
    if (!m->err)
        m->err = why;
    return -1;
}

static int has_static(json_t *o) { return json_object_get(o, "s") != NULL; }

static int merge_keyed(mctx *m, json_t *target, json_t *source, unsigned depth);

/* doMutableMerge: source's keys into target, recursing into objects without statics. */
static int do_mutable_merge(mctx *m, json_t *target, json_t *source, unsigned depth)
{
    if (depth > m->t->max_depth)
        return fail(m, "depth");
    if (json_object_get(source, "k")) {
        if (merge_keyed(m, target, source, depth))
            return -1;
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(source, k, v)
        {
            json_t *tv = json_object_get(target, k);
            if (json_is_object(v) && !has_static(v) && json_is_object(tv)) {
                if (do_mutable_merge(m, tv, v, depth + 1))
                    return -1;
            } else if (json_object_set(target, k, v)) {
                return fail(m, "memory");
            }
        }
    }
    return 0;
}

static int merge_keyed(mctx *m, json_t *target, json_t *source, unsigned depth)
{
    json_t *sk = json_object_get(source, "k");
    json_t *tk = json_object_get(target, "k");
    if (!json_is_object(sk))
        return fail(m, "keyed");
    if (!json_is_object(tk)) {
        tk = json_object();
        if (!tk || json_object_set_new(target, "k", tk))
            return fail(m, "memory");
    }
    json_t *cloned = json_object_get(sk, "km") ? json_deep_copy(tk) : NULL;
    const char *i;
    json_t *entry;
    int rc = 0;
    json_object_foreach(sk, i, entry)
    {
        if (!strcmp(i, "kc") || !strcmp(i, "km"))
            continue;
        if (json_is_array(entry)) { /* [old_idx, diff]: moved with a diff */
            json_t *old = json_array_get(entry, 0), *d = json_array_get(entry, 1);
            char key[24];
            if (!cloned || !json_is_integer(old) || !json_is_object(d)) {
                rc = fail(m, "keyed_move");
                break;
            }
            snprintf(key, sizeof key, "%lld", (long long)json_integer_value(old));
            json_t *from = json_object_get(cloned, key);
            if (!json_is_object(from)) {
                rc = fail(m, "keyed_move");
                break;
            }
            json_t *copy = json_deep_copy(from);
            if (!copy || json_object_set_new(tk, i, copy) || do_mutable_merge(m, copy, d, depth + 1)) {
                rc = fail(m, "keyed_move");
                break;
            }
        } else if (json_is_integer(entry)) { /* moved without a diff */
            char key[24];
            snprintf(key, sizeof key, "%lld", (long long)json_integer_value(entry));
            json_t *from = cloned ? json_object_get(cloned, key) : NULL;
            if (!from) {
                rc = fail(m, "keyed_move");
                break;
            }
            json_object_set_new(tk, i, json_deep_copy(from));
        } else if (json_is_object(entry)) { /* diff, same position */
            json_t *cur = json_object_get(tk, i);
            if (!json_is_object(cur)) {
                cur = json_object();
                if (!cur || json_object_set_new(tk, i, cur)) {
                    rc = fail(m, "memory");
                    break;
                }
            }
            if (do_mutable_merge(m, cur, entry, depth + 1)) {
                rc = -1;
                break;
            }
        }
    }
    json_decref(cloned);
    if (rc)
        return rc;
    json_t *skc = json_object_get(sk, "kc"), *tkc = json_object_get(tk, "kc");
    long long nkc = json_is_integer(skc) ? json_integer_value(skc) : 0;
    long long okc = json_is_integer(tkc) ? json_integer_value(tkc) : 0;
    if (nkc < 0 || nkc > 10000000)
        return fail(m, "keyed_count");
    for (long long n = nkc; n < okc; n++) {
        char key[24];
        snprintf(key, sizeof key, "%lld", n);
        json_object_del(tk, key);
    }
    json_object_set_new(tk, "kc", json_integer(nkc));
    json_t *st = json_object_get(source, "stream"), *p = json_object_get(source, "p");
    if (st)
        json_object_set(target, "stream", st);
    if (p)
        json_object_set(target, "p", p);
    return 0;
}

/* cloneMerge: a fresh object, target's keys overlaid with source's, recursing. */
static json_t *clone_merge(mctx *m, json_t *target, json_t *source, unsigned depth)
{
    if (depth > m->t->max_depth) {
        fail(m, "depth");
        return NULL;
    }
    json_t *merged;
    if (json_object_get(source, "k")) {
        merged = json_deep_copy(target);
        if (!merged || merge_keyed(m, merged, source, depth)) {
            json_decref(merged);
            fail(m, "keyed");
            return NULL;
        }
        return merged;
    }
    merged = json_copy(target);
    if (!merged || json_object_update(merged, source)) {
        json_decref(merged);
        fail(m, "memory");
        return NULL;
    }
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(merged, tmp, k, v)
    {
        json_t *sv = json_object_get(source, k), *tv = json_object_get(target, k);
        json_t *sub = NULL;
        if (json_is_object(sv) && !has_static(sv) && json_is_object(tv)) {
            sub = clone_merge(m, tv, sv, depth + 1);
        } else if (!sv && json_is_object(tv)) {
            json_t *empty = json_object();
            sub = empty ? clone_merge(m, tv, empty, depth + 1) : NULL;
            json_decref(empty);
        } else {
            continue;
        }
        if (!sub || json_object_set_new(merged, k, sub)) {
            json_decref(merged);
            return NULL;
        }
    }
    return merged;
}

/* cachedFindComponent: a component's new tree, resolving shared statics ("s": cid > 0 from the
 * same diff, < 0 from the old components). Returns a new reference or NULL. */
static json_t *find_component(mctx *m, const char *cid, json_t *cdiff, json_t *oldc, json_t *newc, json_t *cache,
                              unsigned depth)
{
    json_t *hit = json_object_get(cache, cid);
    if (hit)
        return json_incref(hit);
    if (depth > m->t->max_depth) {
        fail(m, "component_depth");
        return NULL;
    }
    if (!json_is_object(cdiff)) {
        fail(m, "component");
        return NULL;
    }
    json_t *scid = json_object_get(cdiff, "s"), *ndiff;
    if (json_is_integer(scid)) {
        long long s = json_integer_value(scid);
        char key[24];
        json_t *tdiff;
        snprintf(key, sizeof key, "%lld", s > 0 ? s : -s);
        if (s > 0) {
            tdiff = find_component(m, key, json_object_get(newc, key), oldc, newc, cache, depth + 1);
        } else {
            tdiff = json_incref(json_object_get(oldc, key));
        }
        if (!json_is_object(tdiff)) {
            json_decref(tdiff);
            fail(m, "component_statics");
            return NULL;
        }
        json_t *stat = json_object_get(tdiff, "s");
        ndiff = clone_merge(m, tdiff, cdiff, depth + 1);
        if (ndiff && stat)
            json_object_set(ndiff, "s", stat);
        json_decref(tdiff);
    } else {
        json_t *old = json_object_get(oldc, cid);
        if (scid || !json_is_object(old))
            ndiff = json_incref(cdiff);
        else
            ndiff = clone_merge(m, old, cdiff, depth + 1);
    }
    if (!ndiff)
        return NULL;
    json_object_set(cache, cid, ndiff);
    return ndiff;
}

int ll_tree_merge(ll_tree *t, json_t *diff, const char **err)
{
    mctx m = {t, NULL};
    int rc = 0;
    if (!json_is_object(diff)) {
        json_decref(diff);
        *err = "diff_not_object";
        return -1;
    }
    json_t *newc = take(diff, "c");
    if (newc && !json_is_object(newc)) {
        rc = fail(&m, "components");
        goto out;
    }
    if (!t->rendered)
        t->rendered = json_object();
    if (!t->rendered) {
        rc = fail(&m, "memory");
        goto out;
    }
    if (has_static(diff)) { /* mutableMerge: a new fingerprint replaces the tree */
        json_decref(t->rendered); /* components go too: rendered.js starts "c" afresh */
        t->rendered = json_incref(diff);
    } else if (do_mutable_merge(&m, t->rendered, diff, 0)) {
        rc = -1;
        goto out;
    }
    json_t *oldc = json_object_get(t->rendered, "c");
    if (!json_is_object(oldc)) {
        oldc = json_object();
        json_object_set_new(t->rendered, "c", oldc);
    }
    if (newc) {
        json_t *cache = json_object(), *fresh = json_object();
        const char *cid;
        json_t *cv;
        json_object_foreach(newc, cid, cv)
        {
            json_t *n = find_component(&m, cid, cv, oldc, newc, cache, 0);
            if (!n) {
                rc = -1;
                break;
            }
            json_object_set_new(fresh, cid, n);
        }
        if (!rc)
            json_object_update(oldc, fresh);
        json_decref(cache);
        json_decref(fresh);
    }
out:
    json_decref(newc);
    json_decref(diff);
    if (rc)
        *err = m.err ? m.err : "merge";
    return rc;
}

/* ------------------------------------------------------------------ render */

typedef struct {
    ll_tree *t;
    char *buf;
    size_t len, cap;
    json_t *components;
    json_t *streams; /* what the rendering consumed, for the DOM patch (NULL: not wanted) */
    const char *err;
} rctx;

static int rfail(rctx *r, const char *why)
{
    if (!r->err)
        r->err = why;
    return -1;
}

static int out(rctx *r, const char *s, size_t n)
{
    if (r->len + n + 1 > r->t->max_html)
        return rfail(r, "html_too_large");
    if (r->len + n + 1 > r->cap) {
        size_t c = r->cap ? r->cap : 4096;
        while (c < r->len + n + 1)
            c *= 2;
        char *nb = realloc(r->buf, c);
        if (!nb)
            return rfail(r, "memory");
        r->buf = nb;
        r->cap = c;
    }
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len] = 0;
    return 0;
}

static int out_json_string(rctx *r, json_t *s)
{
    return out(r, json_string_value(s), json_string_length(s));
}

static int to_buffer(rctx *r, json_t *node, json_t *templates, unsigned depth);

/* templateStatic: "s" as a list, or an index into templates. Borrowed reference or NULL. */
static json_t *statics_of(json_t *s, json_t *templates)
{
    if (json_is_integer(s)) {
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(s));
        return json_object_get(templates, key);
    }
    return s;
}

static int component(rctx *r, long long cid, unsigned depth);

static int dynamic(rctx *r, json_t *v, json_t *templates, unsigned depth)
{
    if (json_is_integer(v))
        return component(r, json_integer_value(v), depth + 1);
    if (json_is_object(v))
        return to_buffer(r, v, templates, depth + 1);
    if (json_is_string(v))
        return out_json_string(r, v);
    return 0; /* null/false/true render nothing (the server never sends them) */
}

/* decimal digits of v into key (NUL-terminated); snprintf was a tenth of rendering */
static void key_of(char *key, unsigned long long v)
{
    char t[24];
    int n = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 23);
    for (int i = 0; i < n; i++)
        key[i] = t[n - 1 - i];
    key[n] = 0;
}

static int dynamics(rctx *r, json_t *row, json_t *statics, json_t *templates, unsigned depth)
{
    size_t n = json_array_size(statics);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(statics, i);
        if (!json_is_string(s))
            return rfail(r, "static_not_string");
        if (out_json_string(r, s))
            return -1;
        if (i + 1 < n) {
            json_t *d;
            if (json_is_array(row)) { /* 0.20 comprehension row */
                d = json_array_get(row, i);
            } else {
                char key[24];
                key_of(key, i);
                d = json_object_get(row, key);
            }
            if (d && dynamic(r, d, templates, depth))
                return -1;
        }
    }
    return 0;
}

/* rendered.js: a stream with rows, deletes or a reset is handed to the DOM patch and its rows are
 * forgotten (the DOM keeps them) */
static void consume_stream(rctx *r, json_t *node, int has_rows, const char *rows_key)
{
    json_t *st = json_object_get(node, "stream");
    if (!json_is_array(st))
        return;
    json_t *deletes = json_array_get(st, 2), *reset = json_array_get(st, 3);
    if (has_rows || json_array_size(deletes) > 0 || json_is_true(reset)) {
        if (r->streams)
            json_array_append(r->streams, st);
        json_object_del(node, "stream");
        if (!strcmp(rows_key, "k")) {
            json_t *k = json_object();
            json_object_set_new(k, "kc", json_integer(0));
            json_object_set_new(node, "k", k);
        } else {
            json_object_set_new(node, "d", json_array());
        }
    }
}

static int to_buffer(rctx *r, json_t *node, json_t *templates, unsigned depth)
{
    if (depth > r->t->max_depth)
        return rfail(r, "depth");
    json_t *k = json_object_get(node, "k");
    if (json_is_object(k)) { /* 1.x keyed comprehension */
        json_t *keyed_templates = templates ? templates : json_object_get(node, "p");
        json_incref(keyed_templates);
        json_t *statics = statics_of(json_object_get(node, "s"), templates);
        if (!json_is_array(statics)) {
            json_decref(keyed_templates);
            return rfail(r, "statics");
        }
        json_object_set(node, "s", statics);
        json_object_del(node, "p");
        json_t *kc = json_object_get(k, "kc");
        long long n = json_is_integer(kc) ? json_integer_value(kc) : 0;
        int rc = 0;
        for (long long i = 0; i < n && !rc; i++) {
            char key[24];
            key_of(key, (unsigned long long)i);
            json_t *row = json_object_get(k, key);
            if (!json_is_object(row)) {
                rc = rfail(r, "keyed_row");
                break;
            }
            rc = dynamics(r, row, statics, keyed_templates, depth + 1);
        }
        json_decref(keyed_templates);
        if (!rc)
            consume_stream(r, node, n > 0, "k");
        return rc;
    }
    json_t *p = json_object_get(node, "p");
    json_t *own = NULL;
    if (json_is_object(p) && !json_is_array(json_object_get(node, "d"))) { /* 1.x: templates on any node */
        own = json_incref(p);
        templates = own;
        json_object_del(node, "p");
    }
    json_t *statics = statics_of(json_object_get(node, "s"), templates);
    if (!json_is_array(statics)) {
        json_decref(own);
        return rfail(r, "statics");
    }
    json_object_set(node, "s", statics);
    int rc = 0;
    json_t *d = json_object_get(node, "d");
    if (json_is_array(d)) { /* 0.20 comprehension: rows of dynamics, statics shared */
        json_t *comp_templates = templates ? templates : json_object_get(node, "p");
        size_t nd = json_array_size(d);
        for (size_t i = 0; i < nd && !rc; i++) {
            json_t *row = json_array_get(d, i);
            if (!json_is_array(row))
                rc = rfail(r, "comprehension_row");
            else
                rc = dynamics(r, row, statics, comp_templates, depth + 1);
        }
        if (!rc)
            consume_stream(r, node, nd > 0, "d");
    } else {
        rc = dynamics(r, node, statics, templates, depth);
    }
    json_decref(own);
    return rc;
}

/* A component: its HTML with data-phx-component (and data-phx-view in 1.x) on its root tag. */
static int component(rctx *r, long long cid, unsigned depth)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", cid);
    json_t *c = json_object_get(r->components, key);
    if (!json_is_object(c))
        return rfail(r, "missing_component");
    if (depth > r->t->max_depth)
        return rfail(r, "depth");
    size_t start = r->len;
    if (to_buffer(r, c, NULL, depth + 1))
        return -1;
    /* inject the attributes after the first tag name */
    char *p = r->buf ? memchr(r->buf + start, '<', r->len - start) : NULL;
    if (!p)
        return 0;
    size_t at = (size_t)(p - r->buf) + 1;
    while (at < r->len && r->buf[at] != ' ' && r->buf[at] != '>' && r->buf[at] != '/' && r->buf[at] != '\n' &&
           r->buf[at] != '\t' && r->buf[at] != '\r')
        at++;
    char attrs[256];
    int an = snprintf(attrs, sizeof attrs, " data-phx-component=\"%lld\" data-phx-view=\"%s\"", cid, r->t->view_id);
    if (an <= 0 || (size_t)an >= sizeof attrs)
        return rfail(r, "view_id");
    size_t tail = r->len - at;
    if (out(r, attrs, (size_t)an))
        return -1;
    memmove(r->buf + at + (size_t)an, r->buf + at, tail);
    memcpy(r->buf + at, attrs, (size_t)an);
    return 0;
}

char *ll_tree_render(ll_tree *t, size_t *len, json_t **streams, const char **err)
{
    rctx r = {t, NULL, 0, 0, NULL, streams ? json_array() : NULL, NULL};
    if (streams)
        *streams = NULL;
    if (!t->rendered) {
        json_decref(r.streams);
        *err = "no_tree";
        return NULL;
    }
    r.components = json_object_get(t->rendered, "c");
    if (out(&r, "", 0) || to_buffer(&r, t->rendered, NULL, 0)) {
        free(r.buf);
        json_decref(r.streams);
        *err = r.err ? r.err : "render";
        return NULL;
    }
    *len = r.len;
    if (streams)
        *streams = r.streams;
    return r.buf;
}
