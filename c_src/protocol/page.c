#include "page.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ shell */

typedef struct {
    GumboNode *csrf, *main, *first;
    json_t *track; /* the join's _track_static: every [phx-track-static] element's src or href */
} shell_scan;

static void scan(GumboNode *n, shell_scan *s, unsigned depth)
{
    if (n->type != GUMBO_NODE_ELEMENT || depth > 512)
        return;
    if (!s->csrf && n->v.element.tag == GUMBO_TAG_META) {
        const char *nm = ll_attr(n, "name");
        if (nm && !strcmp(nm, "csrf-token"))
            s->csrf = n;
    }
    if (ll_attr(n, "phx-track-static") && json_array_size(s->track) < 64) {
        const char *u = ll_attr(n, "src") ? ll_attr(n, "src") : ll_attr(n, "href");
        if (u) {
            if (!s->track)
                s->track = json_array();
            json_array_append_new(s->track, json_string(u));
        }
    }
    if (ll_attr(n, "data-phx-session")) {
        if (!s->first)
            s->first = n;
        if (!s->main && ll_attr(n, "data-phx-main"))
            s->main = n;
        return; /* nested views are the server's business */
    }
    GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        scan(ch->data[i], s, depth + 1);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int ll_shell_parse(const char *html, size_t len, unsigned max_depth, ll_shell *sh)
{
    memset(sh, 0, sizeof *sh);
    ll_dom d;
    if (ll_dom_parse(&d, html, len, max_depth))
        return -1;
    shell_scan s = {0};
    scan(d.out->root, &s, 0);
    sh->track_static = s.track;
    GumboNode *c = s.main ? s.main : s.first;
    int rc = 0;
    if (!c || !ll_attr(c, "id") || !*ll_attr(c, "id")) {
        rc = -1;
    } else if (!s.csrf || !ll_attr(s.csrf, "content")) {
        rc = -2;
    } else {
        const GumboElement *e = &c->v.element;
        sh->csrf = strdup(ll_attr(s.csrf, "content"));
        sh->id = strdup(ll_attr(c, "id"));
        sh->session = strdup(ll_attr(c, "data-phx-session"));
        const char *st = ll_attr(c, "data-phx-static");
        sh->static_ = st && *st ? strdup(st) : NULL;
        sh->main = ll_attr(c, "data-phx-main") != NULL;
        sh->prefix_len = e->start_pos.offset + e->original_tag.length;
        sh->suffix_off = e->original_end_tag.length ? e->end_pos.offset : len;
        if (sh->prefix_len > len || sh->suffix_off > len || sh->suffix_off < sh->prefix_len || !e->original_tag.length)
            rc = -1;
        if (!sh->csrf || !sh->id || !sh->session)
            rc = -1;
    }
    (void)dup_or_null;
    ll_dom_free(&d);
    if (rc)
        ll_shell_free(sh);
    return rc;
}

void ll_shell_free(ll_shell *sh)
{
    free(sh->csrf);
    free(sh->id);
    free(sh->session);
    free(sh->static_);
    free(sh->title);
    json_decref(sh->track_static);
    memset(sh, 0, sizeof *sh);
}

/* ------------------------------------------------------------------ field state */

static int checkable(const GumboNode *el)
{
    const char *t = ll_attr(el, "type");
    return ll_is_tag(el, GUMBO_TAG_INPUT) && t && (!strcasecmp(t, "checkbox") || !strcasecmp(t, "radio"));
}

/* key of an element in the field state: its id, else name (+ value for checkables) */
static void key_of(const GumboNode *el, ll_str *k)
{
    const char *id = ll_attr(el, "id");
    if (id && *id) {
        ll_str_adds(k, "#");
        ll_str_adds(k, id);
        return;
    }
    const char *nm = ll_attr(el, "name");
    ll_str_adds(k, "n:");
    ll_str_adds(k, nm ? nm : "");
    if (checkable(el)) {
        const char *v = ll_attr(el, "value");
        ll_str_adds(k, "=");
        ll_str_adds(k, v ? v : "on");
    }
}

static json_t *section(json_t *fs, const char *name)
{
    json_t *s = json_object_get(fs, name);
    if (!s) {
        s = json_object();
        json_object_set_new(fs, name, s);
    }
    return s;
}

static const char *rendered_value(const GumboNode *el, ll_str *scratch)
{
    if (ll_is_tag(el, GUMBO_TAG_TEXTAREA)) {
        ll_text_content(el, scratch);
        return scratch->s ? scratch->s : "";
    }
    const char *v = ll_attr(el, "value");
    return v ? v : "";
}

static int focused(json_t *fs, const GumboNode *el)
{
    const char *f = json_string_value(json_object_get(fs, "f")), *id = ll_attr(el, "id");
    return f && id && !strcmp(f, id);
}

/* an override is kept while the server keeps rendering what it rendered when it was set, and
 * always on the focused field (the client never patches the value of a focused input) */
static json_t *override(json_t *fs, const char *sec, const GumboNode *el, const char *rendered)
{
    ll_str k;
    ll_str_init(&k, 4096);
    key_of(el, &k);
    json_t *o = k.s ? json_object_get(json_object_get(fs, sec), k.s) : NULL;
    if (o && !focused(fs, el) &&
        strcmp(json_string_value(json_array_get(o, 1)) ? json_string_value(json_array_get(o, 1)) : "", rendered)) {
        json_object_del(json_object_get(fs, sec), k.s);
        o = NULL;
    }
    ll_str_free(&k);
    return json_array_get(o, 0);
}

const char *ll_field_value(json_t *fs, const GumboNode *el, ll_str *scratch)
{
    const char *r = rendered_value(el, scratch);
    json_t *o = override(fs, "v", el, r);
    if (json_is_string(o))
        return json_string_value(o);
    if (checkable(el) && !ll_attr(el, "value"))
        return "on";
    return r;
}

int ll_field_checked(json_t *fs, const GumboNode *el)
{
    const char *r = ll_attr(el, "checked") ? "1" : "0";
    json_t *o = override(fs, "c", el, r);
    if (o)
        return json_is_true(o);
    return r[0] == '1';
}

static void set(json_t *fs, const char *sec, const GumboNode *el, json_t *v, const char *rendered)
{
    ll_str k;
    ll_str_init(&k, 4096);
    key_of(el, &k);
    if (k.s)
        json_object_set_new(section(fs, sec), k.s, json_pack("[os]", v, rendered));
    else
        json_decref(v);
    ll_str_free(&k);
}

void ll_field_set_value(json_t *fs, const GumboNode *el, const char *v)
{
    ll_str sc;
    ll_str_init(&sc, 1 << 20);
    set(fs, "v", el, json_string(v), rendered_value(el, &sc));
    ll_str_free(&sc);
}

/* radios of the same name in the same form: checking one unchecks the others */
void ll_field_set_checked(json_t *fs, const GumboNode *el, int on)
{
    set(fs, "c", el, json_boolean(on), ll_attr(el, "checked") ? "1" : "0");
}

static const char *option_value(const GumboNode *o, ll_str *sc)
{
    const char *v = ll_attr(o, "value");
    if (v)
        return v;
    ll_text_content(o, sc);
    return sc->s ? sc->s : "";
}

typedef int (*opt_fn)(const GumboNode *opt, void *ud);

static void each_option(const GumboNode *n, opt_fn f, void *ud)
{
    if (n->type != GUMBO_NODE_ELEMENT)
        return;
    const GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++) {
        const GumboNode *c = ch->data[i];
        if (ll_is_tag(c, GUMBO_TAG_OPTION))
            f(c, ud);
        else if (ll_is_tag(c, GUMBO_TAG_OPTGROUP))
            each_option(c, f, ud);
    }
}

typedef struct {
    ll_str s;
    int count;
    const GumboNode *first;
} rendered_sel;

static int collect_rendered(const GumboNode *o, void *ud)
{
    rendered_sel *r = ud;
    if (!r->first)
        r->first = o;
    if (ll_attr(o, "selected")) {
        ll_str sc;
        ll_str_init(&sc, 1 << 16);
        ll_str_adds(&r->s, option_value(o, &sc));
        ll_str_add(&r->s, "\n", 1);
        ll_str_free(&sc);
        r->count++;
    }
    return 0;
}

int ll_option_selected(json_t *fs, const GumboNode *select, const GumboNode *option)
{
    rendered_sel r = {{0}, 0, NULL};
    ll_str_init(&r.s, 1 << 20);
    each_option(select, collect_rendered, &r);
    json_t *o = override(fs, "s", select, r.s.s ? r.s.s : "");
    ll_str_free(&r.s);
    ll_str sc;
    ll_str_init(&sc, 1 << 16);
    const char *ov = option_value(option, &sc);
    int res;
    if (json_is_array(o)) {
        res = 0;
        size_t i;
        json_t *v;
        json_array_foreach(o, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), ov)) res = 1;
    } else if (ll_attr(option, "selected")) {
        res = 1;
    } else {
        /* a single select without a selected option shows its first option */
        res = !r.count && !ll_attr(select, "multiple") && r.first == option;
    }
    ll_str_free(&sc);
    return res;
}

typedef struct {
    json_t *want, *found;
} sel_match;

static int match_option(const GumboNode *o, void *ud)
{
    sel_match *m = ud;
    ll_str sc, lb;
    ll_str_init(&sc, 1 << 16);
    ll_str_init(&lb, 1 << 16);
    const char *v = option_value(o, &sc);
    ll_text_content(o, &lb);
    size_t i;
    json_t *w;
    json_array_foreach(m->want, i, w)
    {
        const char *ws = json_string_value(w);
        if (ws && (!strcmp(ws, v) || (lb.s && !strcmp(ws, lb.s))))
            json_array_append_new(m->found, json_string(v));
    }
    ll_str_free(&sc);
    ll_str_free(&lb);
    return 0;
}

int ll_field_set_selected(json_t *fs, const GumboNode *select, json_t *values)
{
    sel_match m = {values, json_array()};
    each_option(select, match_option, &m);
    if (json_array_size(m.found) < json_array_size(values)) {
        json_decref(m.found);
        return -1;
    }
    rendered_sel r = {{0}, 0, NULL};
    ll_str_init(&r.s, 1 << 20);
    each_option(select, collect_rendered, &r);
    set(fs, "s", select, m.found, r.s.s ? r.s.s : "");
    ll_str_free(&r.s);
    return 0;
}

int ll_form_associated(const GumboNode *el)
{
    const char *t = ll_attr(el, "type");
    if (ll_is_tag(el, GUMBO_TAG_SELECT) || ll_is_tag(el, GUMBO_TAG_TEXTAREA))
        return 1;
    return ll_is_tag(el, GUMBO_TAG_INPUT) && !(t && !strcasecmp(t, "button"));
}

void ll_field_focus(json_t *fs, const GumboNode *el)
{
    json_object_del(fs, "f");
    json_object_del(fs, "fa");
    const char *id = el ? ll_attr(el, "id") : NULL;
    if (!id || !*id)
        return;
    json_object_set_new(fs, "f", json_string(id));
    const char *v = ll_attr(el, "value");
    json_object_set_new(fs, "fa", v ? json_string(v) : json_null());
}

/* the value attribute as the client leaves it on the focused input after a patch: 0.20 never
 * touches it (mergeFocusedInput), 1.x takes the new one when the field's value equals it */
void ll_field_focus_patch(json_t *fs, ll_dom *d, int v020)
{
    const char *f = json_string_value(json_object_get(fs, "f"));
    json_t *fa = json_object_get(fs, "fa");
    GumboNode *el = f && fa ? ll_by_id(d, f) : NULL;
    const char *t = ll_attr(el, "type");
    if (!el || !ll_form_associated(el) || (t && !strcasecmp(t, "hidden")) || ll_is_tag(el, GUMBO_TAG_SELECT))
        return;
    const char *now = ll_attr(el, "value");
    if (!v020 && ll_attr(el, "phx-patch-focused"))
        return; /* opted in: patched like any element */
    if (!v020) {
        ll_str sc;
        ll_str_init(&sc, 1 << 20);
        const char *prop = ll_field_value(fs, el, &sc);
        int same = now && prop && !strcmp(prop, now);
        ll_str_free(&sc);
        if (same) {
            json_object_set_new(fs, "fa", json_string(now));
            return;
        }
    }
    const char *want = json_string_value(fa);
    if ((!want && !now) || (want && now && !strcmp(want, now)))
        return;
    ll_dom_set_attr(d, el, "value", want);
}

void ll_field_mark_used(json_t *fs, const GumboNode *el)
{
    const char *nm = ll_attr(el, "name");
    if (nm)
        json_object_set_new(section(fs, "u"), nm, json_true());
}

/* ------------------------------------------------------------------ forms */

typedef struct {
    const ll_dom *d;
    json_t *fs;
    GumboNode *form, *submitter;
    const char *form_id;
    const char *only;
    int unused;
    ll_str *out;
    json_t *unused_keys, *hidden_only;
    int pass; /* 0: collect used/hidden per key, 1: emit */
} ser;

static int listed(const GumboNode *n)
{
    return ll_is_tag(n, GUMBO_TAG_INPUT) || ll_is_tag(n, GUMBO_TAG_SELECT) || ll_is_tag(n, GUMBO_TAG_TEXTAREA) ||
           ll_is_tag(n, GUMBO_TAG_BUTTON);
}

static int disabled(const GumboNode *n)
{
    for (const GumboNode *p = n; p && p->type == GUMBO_NODE_ELEMENT; p = p->parent)
        if ((p == n || ll_is_tag(p, GUMBO_TAG_FIELDSET)) && ll_attr(p, "disabled"))
            return 1;
    return 0;
}

static void emit(ser *s, const char *k, const char *v)
{
    if (s->only && strcmp(k, s->only))
        return;
    json_t *u = json_object_get(s->unused_keys, k);
    if (s->unused && json_is_true(u) && !json_is_true(json_object_get(s->hidden_only, k)) &&
        !(s->submitter && ll_attr(s->submitter, "name") && !strcmp(ll_attr(s->submitter, "name"), k))) {
        if (s->out->len)
            ll_str_add(s->out, "&", 1);
        /* prependFormDataKey: foo[bar] -> _unused_foo[bar] */
        ll_str_adds(s->out, "_unused_");
        ll_str_urlenc(s->out, k);
        ll_str_add(s->out, "=", 1);
    }
    if (s->out->len)
        ll_str_add(s->out, "&", 1);
    ll_str_urlenc(s->out, k);
    ll_str_add(s->out, "=", 1);
    ll_str_urlenc(s->out, v);
}

static int emit_option(const GumboNode *o, void *ud)
{
    void **a = ud;
    ser *s = a[0];
    const GumboNode *select = a[1];
    if (ll_option_selected(s->fs, select, o) && !ll_attr(o, "disabled")) {
        ll_str sc;
        ll_str_init(&sc, 1 << 16);
        emit(s, ll_attr(select, "name"), option_value(o, &sc));
        ll_str_free(&sc);
    }
    return 0;
}

static int in_form(ser *s, GumboNode *n)
{
    const char *f = ll_attr(n, "form");
    if (f)
        return s->form_id && !strcmp(f, s->form_id);
    return ll_closest_tag(n, GUMBO_TAG_FORM) == s->form;
}

static int ser_visit(GumboNode *n, void *ud)
{
    ser *s = ud;
    if (!listed(n) || !in_form(s, n))
        return 0;
    const char *name = ll_attr(n, "name");
    if (!name || !*name)
        return 0;
    const char *type = ll_attr(n, "type");
    if (s->pass == 0) {
        json_t *used = json_object_get(json_object_get(s->fs, "u"), name);
        int hidden = ll_is_tag(n, GUMBO_TAG_INPUT) && type && !strcasecmp(type, "hidden");
        int skip = ll_attr(n, "phx-no-unused-field") != NULL;
        json_t *cur = json_object_get(s->unused_keys, name);
        json_object_set_new(s->unused_keys, name, json_boolean((!cur || json_is_true(cur)) && !used && !skip));
        json_t *ch = json_object_get(s->hidden_only, name);
        json_object_set_new(s->hidden_only, name, json_boolean((!ch || json_is_true(ch)) && hidden));
        return 0;
    }
    if (disabled(n))
        return 0;
    ll_str sc;
    ll_str_init(&sc, 1 << 20);
    if (ll_is_tag(n, GUMBO_TAG_BUTTON) || (ll_is_tag(n, GUMBO_TAG_INPUT) && type &&
                                            (!strcasecmp(type, "submit") || !strcasecmp(type, "image") ||
                                             !strcasecmp(type, "button") || !strcasecmp(type, "reset")))) {
        if (n == s->submitter)
            emit(s, name, ll_field_value(s->fs, n, &sc));
    } else if (ll_is_tag(n, GUMBO_TAG_INPUT) && type && !strcasecmp(type, "file")) {
        /* files are not form data for LiveView */
    } else if (checkable(n)) {
        if (ll_field_checked(s->fs, n))
            emit(s, name, ll_field_value(s->fs, n, &sc));
    } else if (ll_is_tag(n, GUMBO_TAG_SELECT)) {
        void *a[2] = {s, n};
        each_option(n, emit_option, a);
    } else {
        emit(s, name, ll_field_value(s->fs, n, &sc));
    }
    ll_str_free(&sc);
    return 0;
}

static int walk_all(GumboNode *n, int (*f)(GumboNode *, void *), void *ud)
{
    if (n->type != GUMBO_NODE_ELEMENT)
        return 0;
    if (f(n, ud))
        return 1;
    GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        if (walk_all(ch->data[i], f, ud))
            return 1;
    return 0;
}

GumboNode *ll_form_of(const ll_dom *d, GumboNode *el)
{
    if (ll_is_tag(el, GUMBO_TAG_FORM))
        return el;
    const char *f = ll_attr(el, "form");
    if (f) {
        GumboNode *n = ll_by_id(d, f);
        return ll_is_tag(n, GUMBO_TAG_FORM) ? n : NULL;
    }
    return ll_closest_tag(el, GUMBO_TAG_FORM);
}

void ll_serialize_form(const ll_dom *d, json_t *fs, GumboNode *form, GumboNode *submitter, const char *only_name,
                       int unused, ll_str *out)
{
    ser s = {d, fs, form, submitter, ll_attr(form, "id"), only_name, unused, out, json_object(), json_object(), 0};
    if (ll_attr(form, "phx-no-unused-field"))
        s.unused = 0;
    walk_all(d->out->root, ser_visit, &s);
    s.pass = 1;
    walk_all(d->out->root, ser_visit, &s);
    json_decref(s.unused_keys);
    json_decref(s.hidden_only);
}

static int mark_visit(GumboNode *n, void *ud)
{
    void **a = ud;
    ser *s = a[0];
    if (listed(n) && in_form(s, n))
        ll_field_mark_used(s->fs, n);
    return 0;
}

void ll_field_mark_form_submitted(json_t *fs, const GumboNode *form)
{
    const GumboNode *root = form;
    while (root->parent)
        root = root->parent;
    ser s = {NULL, fs, (GumboNode *)form, NULL, ll_attr(form, "id"), NULL, 0, NULL, NULL, NULL, 0};
    void *a[1] = {&s};
    walk_all((GumboNode *)root, mark_visit, a);
}

json_t *ll_extract_meta(json_t *fs, const GumboNode *el)
{
    json_t *meta = json_object();
    const GumboVector *at = &el->v.element.attributes;
    for (unsigned i = 0; i < at->length; i++) {
        const GumboAttribute *a = at->data[i];
        if (!strncmp(a->name, "phx-value-", 10))
            json_object_set_new(meta, a->name + 10, json_string(a->value));
    }
    /* el.value: buttons, inputs, selects, textareas, options (li.value is a number, 0 by default) */
    GumboTag t = el->v.element.tag;
    ll_str sc;
    ll_str_init(&sc, 1 << 20);
    if (t == GUMBO_TAG_BUTTON || t == GUMBO_TAG_INPUT || t == GUMBO_TAG_TEXTAREA || t == GUMBO_TAG_OPTION ||
        t == GUMBO_TAG_DATA || t == GUMBO_TAG_OUTPUT || t == GUMBO_TAG_PARAM) {
        if (!(checkable(el) && !ll_field_checked(fs, el)))
            json_object_set_new(meta, "value", json_string(t == GUMBO_TAG_OPTION ? option_value(el, &sc)
                                                                                  : ll_field_value(fs, el, &sc)));
    } else if (t == GUMBO_TAG_LI) {
        const char *v = ll_attr(el, "value");
        json_object_set_new(meta, "value", json_integer(v ? atoi(v) : 0));
    } else if (t == GUMBO_TAG_SELECT) {
        /* select.value = first selected option's value */
        rendered_sel r = {{0}, 0, NULL};
        ll_str_init(&r.s, 1 << 20);
        each_option(el, collect_rendered, &r);
        json_object_set_new(meta, "value", json_string(""));
        ll_str_free(&r.s);
    }
    ll_str_free(&sc);
    return meta;
}
