#include "patch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { M_STREAM, M_APPEND, M_PREPEND, M_IGNORE };

typedef struct {
    char *id, *tag, *html;
    char *ref; /* the stream it was inserted by (data-phx-stream), NULL if none */
} kid;

typedef struct {
    kid *v;
    size_t n, cap;
} kids;

typedef struct {
    char *id;
    int mode, seen;
    int existing; /* 0: the element was added with this rendering (no morph: its children come as
                     rendered, each placed by its own insert) */
    int prune;    /* after a join: kept children the next rendering lacks go (data-phx-prune) */
    kids k;
    char *inner;  /* ignore: the children of the first rendering */
    json_t *attrs; /* ignore: the attributes the element has, [[name, value], ...] */
} box;

struct ll_patch {
    box *b;
    size_t n, cap;
};

/* one insert of a stream, as the client's streamInserts holds it */
typedef struct {
    char ref[64];
    long long at;
    json_t *limit; /* borrowed: null or an integer */
    int has_limit, reset, update_only, found;
} insert;

typedef struct {
    ll_patch *p;
    int v020;
    json_t *inserts;  /* id -> [ref, at, limit, reset, update_only] */
    kids restored;    /* 1.x: removed children that are inserted again in this patch */
    size_t max_html, bytes;
    int over;
} run;

static char *dupn(const char *s) { return strdup(s ? s : ""); }

static void kid_free(kid *k)
{
    free(k->id);
    free(k->tag);
    free(k->html);
    free(k->ref);
    memset(k, 0, sizeof *k);
}

static void kids_free(kids *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        kid_free(&ks->v[i]);
    free(ks->v);
    memset(ks, 0, sizeof *ks);
}

static int kids_insert(kids *ks, size_t at, kid *k)
{
    if (ks->n == ks->cap) {
        size_t c = ks->cap ? ks->cap * 2 : 8;
        kid *nv = realloc(ks->v, c * sizeof *nv);
        if (!nv)
            return -1;
        ks->v = nv;
        ks->cap = c;
    }
    if (at > ks->n)
        at = ks->n;
    memmove(ks->v + at + 1, ks->v + at, (ks->n - at) * sizeof *ks->v);
    ks->v[at] = *k;
    ks->n++;
    memset(k, 0, sizeof *k);
    return 0;
}

static kid kids_take(kids *ks, size_t i)
{
    kid k = ks->v[i];
    memmove(ks->v + i, ks->v + i + 1, (ks->n - i - 1) * sizeof *ks->v);
    ks->n--;
    return k;
}

static long kids_find(const kids *ks, const char *id)
{
    for (size_t i = 0; i < ks->n; i++)
        if (!strcmp(ks->v[i].id, id))
            return (long)i;
    return -1;
}

/* moves child i to position `before` (an index in the list as it is, n = the end) */
static size_t kids_move(kids *ks, size_t i, size_t before)
{
    kid k = kids_take(ks, i);
    if (before > i)
        before--;
    kids_insert(ks, before, &k); /* cannot fail: the slot was just freed */
    return before;
}

static void box_free(box *b)
{
    free(b->id);
    kids_free(&b->k);
    free(b->inner);
    json_decref(b->attrs);
    memset(b, 0, sizeof *b);
}

ll_patch *ll_patch_new(void) { return calloc(1, sizeof(ll_patch)); }

void ll_patch_clear(ll_patch *p)
{
    for (size_t i = 0; p && i < p->n; i++)
        box_free(&p->b[i]);
    if (p)
        p->n = 0;
}

void ll_patch_free(ll_patch *p)
{
    ll_patch_clear(p);
    if (p)
        free(p->b);
    free(p);
}

size_t ll_patch_count(const ll_patch *p) { return p ? p->n : 0; }


static box *find_box(ll_patch *p, const char *id)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->b[i].id, id))
            return &p->b[i];
    return NULL;
}

static box *new_box(ll_patch *p, const char *id, int mode)
{
    if (p->n == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 4;
        box *nb = realloc(p->b, c * sizeof *nb);
        if (!nb)
            return NULL;
        p->b = nb;
        p->cap = c;
    }
    box *b = &p->b[p->n++];
    memset(b, 0, sizeof *b);
    b->id = dupn(id);
    b->mode = mode;
    return b;
}

static int mode_of(const GumboNode *el);
static json_t *attrs_of(const GumboNode *el);

/* the containers of the page the server rendered (dead render), as the join patch finds them */
static void seed(ll_patch *p, const GumboNode *n, int v020)
{
    if (n->type != GUMBO_NODE_ELEMENT)
        return;
    int mode = mode_of(n);
    const char *id = ll_attr(n, "id");
    if (mode >= 0 && id && *id && !find_box(p, id)) {
        box *b = new_box(p, id, mode);
        if (!b)
            return;
        b->existing = 1;
        if (mode == M_IGNORE) {
            ll_str h;
            ll_str_init(&h, 1 << 24);
            ll_inner_html(n, &h);
            b->inner = h.s ? h.s : dupn("");
            b->attrs = attrs_of(n);
        } else if (mode != M_STREAM) { /* the join empties stream containers */
            b->prune = 1;
            const GumboVector *ch = &n->v.element.children;
            for (unsigned i = 0; i < ch->length; i++) {
                const GumboNode *c = ch->data[i];
                const char *cid = ll_attr(c, "id");
                if (c->type != GUMBO_NODE_ELEMENT || !cid || !*cid)
                    continue;
                char tb[64];
                ll_str h;
                ll_str_init(&h, 1 << 24);
                ll_outer_html(c, &h);
                kid k = {dupn(cid), dupn(ll_tag_name(c, tb, sizeof tb)), h.s ? h.s : dupn(""), NULL};
                if (kids_insert(&b->k, b->k.n, &k))
                    kid_free(&k);
            }
        }
        return;
    }
    const GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        seed(p, ch->data[i], v020);
}

/* Every join patch (markPrunableContentForRemoval, and 1.x's own clearing): stream containers
 * are emptied, the children of append/prepend containers are kept only if the joined rendering
 * has them; ignored containers keep what they have. */
void ll_patch_join(ll_patch *p, const GumboNode *dead, int v020)
{
    if (!p)
        return;
    if (dead) { /* the first join of a page: the DOM is the server's HTML */
        ll_patch_clear(p);
        const GumboVector *ch = &dead->v.element.children;
        for (unsigned i = 0; i < ch->length; i++)
            seed(p, ch->data[i], v020);
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->b[i].mode == M_STREAM)
            kids_free(&p->b[i].k);
        else if (p->b[i].mode != M_IGNORE)
            p->b[i].prune = 1;
    }
}

/* ------------------------------------------------------------------ streams */

static void ref_string(json_t *ref, char *out, size_t cap)
{
    if (json_is_string(ref))
        snprintf(out, cap, "%s", json_string_value(ref));
    else if (json_is_integer(ref))
        snprintf(out, cap, "%lld", (long long)json_integer_value(ref));
    else
        snprintf(out, cap, "?");
}

static int get_insert(run *r, const char *id, insert *ins)
{
    memset(ins, 0, sizeof *ins);
    json_t *e = json_object_get(r->inserts, id);
    if (!e)
        return 0;
    snprintf(ins->ref, sizeof ins->ref, "%s", json_string_value(json_array_get(e, 0)));
    ins->at = json_integer_value(json_array_get(e, 1));
    ins->limit = json_array_get(e, 2);
    ins->has_limit = json_is_integer(ins->limit);
    ins->reset = json_is_true(json_array_get(e, 3));
    ins->update_only = json_is_true(json_array_get(e, 4));
    ins->found = 1;
    return 1;
}

/* removeStreamChildElement: 1.x keeps a child that this patch inserts again, to restore it */
static void remove_kid(run *r, kids *ks, size_t i)
{
    kid k = kids_take(ks, i);
    if (!r->v020 && json_object_get(r->inserts, k.id)) {
        long j = kids_find(&r->restored, k.id);
        if (j >= 0)
            kid_free(&r->restored.v[j]), kids_take(&r->restored, (size_t)j);
        if (kids_insert(&r->restored, r->restored.n, &k) == 0)
            return;
    }
    kid_free(&k);
}

/* the removals a stream asks for before the morph: a reset drops the children it inserted, deletes
 * drop children by id, anywhere on the page */
static void pre_morph(run *r, json_t *stream)
{
    char ref[64];
    ref_string(json_array_get(stream, 0), ref, sizeof ref);
    json_t *ins = json_array_get(stream, 1), *dels = json_array_get(stream, 2);
    int has_reset = json_array_size(stream) >= 4; /* the client tests `reset !== undefined` */
    json_t *reset = json_array_get(stream, 3);
    int reset_flag = has_reset && !json_is_false(reset) && !json_is_null(reset);
    size_t i;
    json_t *e;
    if (json_is_array(ins)) { /* 1.x: [[id, at, limit, update_only], ...] */
        json_array_foreach(ins, i, e)
        {
            const char *id = json_string_value(json_array_get(e, 0));
            if (id)
                json_object_set_new(r->inserts, id,
                                    json_pack("[s,I,O,b,b]", ref, json_integer_value(json_array_get(e, 1)),
                                              json_array_get(e, 2) ? json_array_get(e, 2) : json_null(), reset_flag,
                                              json_is_true(json_array_get(e, 3))));
        }
    } else if (json_is_object(ins)) { /* 0.20: {id: [at, limit]} */
        const char *id;
        json_object_foreach(ins, id, e)
        {
            json_object_set_new(r->inserts, id,
                                json_pack("[s,I,O,b,b]", ref, json_integer_value(json_array_get(e, 0)),
                                          json_array_get(e, 1) ? json_array_get(e, 1) : json_null(), reset_flag, 0));
        }
    }
    for (size_t b = 0; b < r->p->n; b++) {
        kids *ks = &r->p->b[b].k;
        if (!has_reset)
            break;
        for (size_t k = 0; k < ks->n;) {
            int mine = ks->v[k].ref && !strcmp(ks->v[k].ref, ref);
            /* 0.20 keeps the children this diff inserts again; 1.x removes them to restore them */
            if (mine && !(r->v020 && json_object_get(ins, ks->v[k].id))) {
                remove_kid(r, ks, k);
                continue;
            }
            k++;
        }
    }
    json_array_foreach(dels, i, e)
    {
        const char *id = json_string_value(e);
        if (!id)
            continue;
        for (size_t b = 0; b < r->p->n; b++) {
            long k = kids_find(&r->p->b[b].k, id);
            if (k >= 0) {
                remove_kid(r, &r->p->b[b].k, (size_t)k);
                break;
            }
        }
    }
}

/* maybeLimitStream (1.x): after a new or reset child is placed */
static void limit_v1(run *r, kids *ks, const insert *ins)
{
    if (!ins->has_limit)
        return;
    long long lim = json_integer_value(ins->limit), n = (long long)ks->n;
    if (lim < 0 && n > -lim) {
        for (long long c = n + lim; c > 0; c--)
            remove_kid(r, ks, 0);
    } else if (lim >= 0 && n > lim) {
        while ((long long)ks->n > lim)
            remove_kid(r, ks, (size_t)lim);
    }
}

/* maybeReOrderStream: the child at i goes where its insert says; returns its new index */
static size_t reorder(kids *ks, size_t i, long long at)
{
    if (at == 0)
        return kids_move(ks, i, 0);
    if (at > 0) {
        size_t n = ks->n;
        if ((size_t)at >= n - 1)
            return kids_move(ks, i, n);
        size_t sib = (size_t)at;
        return kids_move(ks, i, i > sib ? sib : sib + 1);
    }
    return i;
}

/* addChild: where a new child of a stream container goes */
static size_t add_position(const run *r, const kids *ks, const insert *ins)
{
    if (!ins->found)
        return ks->n;
    if (ins->at == 0)
        return 0;
    if (ins->at == -1) {
        /* 1.x: before the first child that no stream inserted, when the last one is such a child */
        if (!r->v020 && ks->n && !ks->v[ks->n - 1].ref)
            for (size_t k = 0; k < ks->n; k++)
                if (!ks->v[k].ref)
                    return k;
        return ks->n;
    }
    return ins->at > 0 && (size_t)ins->at < ks->n ? (size_t)ins->at : ks->n;
}

/* the 0.20 limit, applied in addChild: children this patch inserts are not removed */
static void limit_v020(run *r, kids *ks, const insert *ins)
{
    if (!ins->has_limit)
        return;
    long long lim = json_integer_value(ins->limit), n = (long long)ks->n;
    if (!lim)
        return;
    long long from = 0, to = 0;
    if (lim < 0 && n > -lim)
        from = 0, to = n + lim;
    else if (lim > 0 && n > lim)
        from = lim, to = n;
    char **ids = calloc((size_t)(to - from) + 1, sizeof *ids);
    if (!ids)
        return;
    for (long long k = from; k < to; k++)
        ids[k - from] = ks->v[k].id;
    for (long long k = 0; k < to - from; k++) {
        if (json_object_get(r->inserts, ids[k]))
            continue;
        long j = kids_find(ks, ids[k]);
        if (j >= 0)
            remove_kid(r, ks, (size_t)j);
    }
    free(ids);
}

static void set_ref(kid *k, const insert *ins)
{
    if (!ins->found)
        return;
    free(k->ref);
    k->ref = strdup(ins->ref);
}

/* a rendered child of a stream container, in the morph's order */
static void stream_child(run *r, kids *ks, kid *c)
{
    insert ins;
    get_insert(r, c->id, &ins);
    long at = kids_find(ks, c->id);
    if (at >= 0 && !strcmp(ks->v[at].tag, c->tag)) { /* morphed in place */
        kid *k = &ks->v[at];
        free(k->html);
        k->html = c->html;
        c->html = NULL;
        set_ref(k, &ins);
        kid_free(c);
        if (!ins.found)
            return;
        if (r->v020) {
            reorder(ks, (size_t)at, ins.at);
        } else if (ins.reset) {
            reorder(ks, (size_t)at, ins.at);
            limit_v1(r, ks, &ins);
        }
        return;
    }
    if (!r->v020) {
        long j = kids_find(&r->restored, c->id);
        int restoring = j >= 0;
        if (restoring) /* the kept element, morphed to the new content */
            kid_free(&r->restored.v[j]), kids_take(&r->restored, (size_t)j);
        if (ins.found && ins.update_only && !restoring) {
            kid_free(c);
            return;
        }
    }
    set_ref(c, &ins);
    size_t pos = add_position(r, ks, &ins);
    char *id = strdup(c->id);
    if (!id || kids_insert(ks, pos, c)) {
        free(id);
        kid_free(c);
        return;
    }
    if (r->v020) {
        limit_v020(r, ks, &ins);
        long now = kids_find(ks, id);
        if (now >= 0 && ins.found)
            reorder(ks, (size_t)now, ins.at);
    } else if (ins.found) {
        size_t now = reorder(ks, pos, ins.at);
        (void)now;
        limit_v1(r, ks, &ins);
    }
    free(id);
}

/* ------------------------------------------------------------------ containers */

static int mode_of(const GumboNode *el)
{
    const char *u = ll_attr(el, "phx-update");
    const char *d = ll_attr(el, "data-phx-update");
    if (u && !strcmp(u, "stream"))
        return M_STREAM;
    if (u && !strcmp(u, "append"))
        return M_APPEND;
    if (u && !strcmp(u, "prepend"))
        return M_PREPEND;
    if ((u && !strcmp(u, "ignore")) || (d && !strcmp(d, "ignore")))
        return M_IGNORE;
    return -1;
}

/* the rendered children that count: elements with an id, serialised */
static int rendered_kids(run *r, const GumboNode *el, kids *out)
{
    const GumboVector *ch = &el->v.element.children;
    for (unsigned i = 0; i < ch->length; i++) {
        const GumboNode *c = ch->data[i];
        const char *id = ll_attr(c, "id");
        if (c->type != GUMBO_NODE_ELEMENT || !id || !*id)
            continue;
        char tb[64];
        ll_str h;
        ll_str_init(&h, r->max_html);
        ll_outer_html(c, &h);
        if (h.over) {
            ll_str_free(&h);
            r->over = 1;
            return -1;
        }
        kid k = {dupn(id), dupn(ll_tag_name(c, tb, sizeof tb)), h.s ? h.s : dupn(""), NULL};
        if (kids_insert(out, out->n, &k)) {
            kid_free(&k);
            return -1;
        }
    }
    return 0;
}

static json_t *attrs_of(const GumboNode *el)
{
    json_t *a = json_array();
    const GumboVector *at = &el->v.element.attributes;
    for (unsigned i = 0; i < at->length; i++) {
        const GumboAttribute *x = at->data[i];
        json_array_append_new(a, json_pack("[ss]", x->name, x->value));
    }
    return a;
}

/* mergeAttrs(from, to, {isIgnored: true}): only data-* attributes follow the new rendering */
static void merge_ignored_attrs(json_t *kept, const GumboNode *el)
{
    size_t i;
    json_t *pair;
    for (i = 0; i < json_array_size(kept);) {
        const char *n = json_string_value(json_array_get(json_array_get(kept, i), 0));
        if (!strncmp(n, "data-", 5) && !ll_attr(el, n))
            json_array_remove(kept, i);
        else
            i++;
    }
    const GumboVector *at = &el->v.element.attributes;
    for (unsigned k = 0; k < at->length; k++) {
        const GumboAttribute *x = at->data[k];
        if (strncmp(x->name, "data-", 5))
            continue;
        int done = 0;
        json_array_foreach(kept, i, pair)
        {
            if (!strcmp(json_string_value(json_array_get(pair, 0)), x->name)) {
                json_array_set_new(pair, 1, json_string(x->value));
                done = 1;
                break;
            }
        }
        if (!done)
            json_array_append_new(kept, json_pack("[ss]", x->name, x->value));
    }
}

static void update_box(run *r, box *b, const GumboNode *el)
{
    if (b->mode == M_IGNORE) {
        if (!b->attrs) {
            ll_str h;
            ll_str_init(&h, r->max_html);
            ll_inner_html(el, &h);
            r->over |= h.over;
            b->inner = h.s ? h.s : dupn("");
            b->attrs = attrs_of(el);
        } else {
            merge_ignored_attrs(b->attrs, el);
        }
        return;
    }
    kids fresh = {0};
    if (rendered_kids(r, el, &fresh)) {
        kids_free(&fresh);
        return;
    }
    if (b->mode == M_STREAM && !b->existing) {
        /* an added container: its children as rendered, then each one placed by its insert */
        for (size_t i = 0; i < fresh.n; i++) {
            insert ins;
            get_insert(r, fresh.v[i].id, &ins);
            set_ref(&fresh.v[i], &ins);
            char *id = strdup(fresh.v[i].id);
            if (!id || kids_insert(&b->k, b->k.n, &fresh.v[i])) {
                free(id);
                continue;
            }
            long at = kids_find(&b->k, id);
            free(id);
            if (!ins.found || at < 0)
                continue;
            reorder(&b->k, (size_t)at, ins.at);
            if (!r->v020)
                limit_v1(r, &b->k, &ins);
        }
    } else if (b->mode == M_STREAM) {
        for (size_t i = 0; i < fresh.n; i++)
            stream_child(r, &b->k, &fresh.v[i]);
    } else { /* append / prepend: kept children in their order, updated; new ones after / before */
        if (b->prune) {
            for (size_t i = 0; i < b->k.n;) {
                if (kids_find(&fresh, b->k.v[i].id) < 0) {
                    kid k = kids_take(&b->k, i);
                    kid_free(&k);
                    continue;
                }
                i++;
            }
        }
        size_t added = 0;
        for (size_t i = 0; i < fresh.n; i++) {
            long at = kids_find(&b->k, fresh.v[i].id);
            if (at >= 0) {
                free(b->k.v[at].html);
                b->k.v[at].html = fresh.v[i].html;
                fresh.v[i].html = NULL;
                kid_free(&fresh.v[i]);
            } else {
                size_t pos = b->mode == M_APPEND ? b->k.n : added++;
                kids_insert(&b->k, pos, &fresh.v[i]);
            }
        }
    }
    for (size_t i = 0; i < fresh.n; i++)
        kid_free(&fresh.v[i]);
    free(fresh.v);
}

/* finds the containers in document order (not inside another one) and updates their boxes */
static void visit(run *r, const GumboNode *n)
{
    if (n->type != GUMBO_NODE_ELEMENT)
        return;
    int mode = mode_of(n);
    const char *id = ll_attr(n, "id");
    if (mode >= 0 && id && *id) {
        box *b = find_box(r->p, id);
        if (b && b->mode != mode) { /* another kind of container now: start afresh */
            box_free(b);
            b->id = dupn(id);
            b->mode = mode;
        }
        if (!b)
            b = new_box(r->p, id, mode);
        if (b) {
            b->seen = 1;
            update_box(r, b, n);
            b->existing = 1;
            b->prune = 0;
        }
        return;
    }
    const GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        visit(r, ch->data[i]);
}

static int write_box(const GumboNode *el, ll_str *out, void *ud)
{
    run *r = ud;
    const char *id = ll_attr(el, "id");
    box *b = id && mode_of(el) >= 0 ? find_box(r->p, id) : NULL;
    if (!b)
        return 0;
    char tb[64];
    if (b->mode == M_IGNORE) {
        ll_str_add(out, "<", 1);
        ll_str_adds(out, ll_tag_name(el, tb, sizeof tb));
        size_t i;
        json_t *pair;
        json_array_foreach(b->attrs, i, pair)
        ll_html_attr(out, json_string_value(json_array_get(pair, 0)), json_string_value(json_array_get(pair, 1)));
        ll_str_add(out, ">", 1);
        ll_str_adds(out, b->inner);
    } else {
        ll_html_start_tag(el, out);
        for (size_t i = 0; i < b->k.n; i++)
            ll_str_adds(out, b->k.v[i].html);
    }
    ll_html_end_tag(el, out);
    return 1;
}

int ll_patch_apply(ll_patch *p, const ll_dom *rendered, json_t *streams, int v020, size_t max_html, char **html,
                   size_t *len)
{
    *html = NULL;
    *len = 0;
    run r = {p, v020, json_object(), {0}, max_html, 0, 0};
    size_t i;
    json_t *st;
    json_array_foreach(streams, i, st) pre_morph(&r, st);
    for (i = 0; i < p->n; i++)
        p->b[i].seen = 0;
    const GumboNode *root = rendered->out->root;
    const GumboVector *ch = &root->v.element.children;
    for (unsigned k = 0; k < ch->length; k++)
        visit(&r, ch->data[k]);
    /* containers no longer on the page are gone with their children */
    for (i = 0; i < p->n;) {
        if (!p->b[i].seen) {
            box_free(&p->b[i]);
            p->b[i] = p->b[--p->n];
            continue;
        }
        i++;
    }
    kids_free(&r.restored);
    json_decref(r.inserts);
    if (r.over)
        return -1;
    if (!p->n)
        return 0;
    ll_str out;
    ll_str_init(&out, max_html);
    ll_html_serialize_children(root, &out, write_box, &r);
    if (out.over) {
        ll_str_free(&out);
        return -1;
    }
    *len = out.len;
    *html = out.s ? out.s : dupn("");
    return 0;
}
