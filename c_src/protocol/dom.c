#include "dom.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ strings */

void ll_str_init(ll_str *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void ll_str_free(ll_str *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

void ll_str_add(ll_str *b, const char *p, size_t n)
{
    if (b->over)
        return;
    if (b->len + n + 1 > b->max) {
        b->over = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->len + n + 1)
            c *= 2;
        char *ns = realloc(b->s, c);
        if (!ns) {
            b->over = 1;
            return;
        }
        b->s = ns;
        b->cap = c;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = 0;
}

void ll_str_adds(ll_str *b, const char *p) { ll_str_add(b, p, strlen(p)); }

void ll_str_json(ll_str *b, const char *p)
{
    static const char hex[] = "0123456789abcdef";
    ll_str_add(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            ll_str_add(b, e, 2);
        } else if (*c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15]};
            ll_str_add(b, e, 6);
        } else {
            ll_str_add(b, (const char *)c, 1);
        }
    }
    ll_str_add(b, "\"", 1);
}

void ll_str_urlenc(ll_str *b, const char *p)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        if (isalnum(*c) || *c == '*' || *c == '-' || *c == '.' || *c == '_') {
            ll_str_add(b, (const char *)c, 1);
        } else if (*c == ' ') {
            ll_str_add(b, "+", 1);
        } else {
            char e[3] = {'%', hex[*c >> 4], hex[*c & 15]};
            ll_str_add(b, e, 3);
        }
    }
}

/* ------------------------------------------------------------------ selectors */

#define MAX_ALTS 16
#define MAX_PARTS 16
#define MAX_SIMPLE 16

enum { S_TAG, S_ANY, S_ID, S_CLASS, S_ATTR, S_NTH, S_FIRST, S_LAST, S_NOT };

typedef struct compound compound;
typedef struct {
    int kind;
    char *name, *value;
    char op; /* 0 = presence, '=', '~', '^', '$', '*' */
    int a, b;
    compound *neg;
} simple;

struct compound {
    simple s[MAX_SIMPLE];
    int n;
    char comb; /* combinator between this compound and the one to its left: ' ' or '>' */
};

typedef struct {
    compound *parts[MAX_PARTS]; /* allocated as parsed: a selector costs what it uses */
    int n;
} complex_sel;

struct ll_sel {
    complex_sel *alts[MAX_ALTS];
    int n;
};

static void free_compound(compound *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->s[i].name);
        free(c->s[i].value);
        if (c->s[i].neg) {
            free_compound(c->s[i].neg);
            free(c->s[i].neg);
        }
    }
}

void ll_sel_free(ll_sel *s)
{
    if (!s)
        return;
    for (int a = 0; a < s->n; a++) {
        if (!s->alts[a])
            continue;
        for (int p = 0; p < s->alts[a]->n; p++) {
            free_compound(s->alts[a]->parts[p]);
            free(s->alts[a]->parts[p]);
        }
        free(s->alts[a]);
    }
    free(s);
}

typedef struct {
    const char *p;
    const char *err;
} pstate;

static int ident_char(char c) { return isalnum((unsigned char)c) || c == '-' || c == '_' || (unsigned char)c >= 0x80; }

static char *ident(pstate *ps)
{
    const char *st = ps->p;
    while (ident_char(*ps->p) || (*ps->p == '\\' && ps->p[1] && ps->p++))
        ps->p++;
    if (ps->p == st)
        return NULL;
    /* unescape backslashes */
    char *r = malloc((size_t)(ps->p - st) + 1), *w = r;
    if (!r)
        return NULL;
    for (const char *c = st; c < ps->p; c++) {
        if (*c == '\\')
            c++;
        *w++ = *c;
    }
    *w = 0;
    return r;
}

static char *value(pstate *ps)
{
    if (*ps->p == '"' || *ps->p == '\'') {
        char q = *ps->p++;
        const char *st = ps->p;
        while (*ps->p && *ps->p != q)
            ps->p++;
        if (*ps->p != q)
            return NULL;
        char *r = strndup(st, (size_t)(ps->p - st));
        ps->p++;
        return r;
    }
    return ident(ps);
}

static void skip_ws(pstate *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n')
        ps->p++;
}

static int parse_nth(pstate *ps, simple *s)
{
    skip_ws(ps);
    if (!strncasecmp(ps->p, "odd", 3)) {
        s->a = 2, s->b = 1, ps->p += 3;
    } else if (!strncasecmp(ps->p, "even", 4)) {
        s->a = 2, s->b = 0, ps->p += 4;
    } else {
        char *end;
        long a = 0, b = 0;
        int sign = 1;
        const char *q = ps->p;
        if (*q == '-' && q[1] == 'n')
            sign = -1, q++;
        else if (*q == '+' && q[1] == 'n')
            q++;
        if (*q == 'n') {
            a = sign, q++;
        } else {
            long v = strtol(q, &end, 10);
            if (end == q)
                return -1;
            q = end;
            if (*q == 'n')
                a = v, q++;
            else
                b = v;
        }
        if (a != 0 || *q == ' ' || *q == '+' || *q == '-') {
            while (*q == ' ')
                q++;
            if (*q == '+' || *q == '-') {
                int sg = *q == '-' ? -1 : 1;
                q++;
                while (*q == ' ')
                    q++;
                long v = strtol(q, &end, 10);
                if (end == q)
                    return -1;
                b = sg * v;
                q = end;
            }
        }
        if (a > 100000 || a < -100000 || b > 100000 || b < -100000)
            return -1;
        s->a = (int)a, s->b = (int)b;
        ps->p = q;
    }
    skip_ws(ps);
    if (*ps->p != ')')
        return -1;
    ps->p++;
    return 0;
}

static int parse_compound(pstate *ps, compound *c, int depth);

static int parse_simple_inner(pstate *ps, compound *c, int depth);

static int parse_simple(pstate *ps, compound *c, int depth)
{
    int n0 = c->n;
    int r = parse_simple_inner(ps, c, depth);
    if (r && c->n == n0 && n0 < MAX_SIMPLE) { /* the slot was not committed: free what it holds */
        free(c->s[n0].name);
        free(c->s[n0].value);
        c->s[n0].name = c->s[n0].value = NULL;
    }
    return r;
}

static int parse_simple_inner(pstate *ps, compound *c, int depth)
{
    if (c->n >= MAX_SIMPLE) {
        ps->err = "too_complex";
        return -1;
    }
    simple *s = &c->s[c->n];
    memset(s, 0, sizeof *s);
    char ch = *ps->p;
    if (ch == '#' || ch == '.') {
        ps->p++;
        s->kind = ch == '#' ? S_ID : S_CLASS;
        if (!(s->name = ident(ps)))
            return -1;
    } else if (ch == '[') {
        ps->p++;
        skip_ws(ps);
        s->kind = S_ATTR;
        if (!(s->name = ident(ps)))
            return -1;
        for (char *q = s->name; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        skip_ws(ps);
        if (*ps->p == '=') {
            s->op = '=', ps->p++;
        } else if (strchr("~^$*", *ps->p) && *ps->p && ps->p[1] == '=') {
            s->op = *ps->p, ps->p += 2;
        }
        if (s->op) {
            skip_ws(ps);
            if (!(s->value = value(ps)))
                return -1;
            skip_ws(ps);
        }
        if (*ps->p != ']')
            return -1;
        ps->p++;
    } else if (ch == ':') {
        ps->p++;
        if (!strncmp(ps->p, "nth-child(", 10)) {
            ps->p += 10;
            s->kind = S_NTH;
            if (parse_nth(ps, s))
                return -1;
        } else if (!strncmp(ps->p, "first-child", 11)) {
            ps->p += 11, s->kind = S_FIRST;
        } else if (!strncmp(ps->p, "last-child", 10)) {
            ps->p += 10, s->kind = S_LAST;
        } else if (!strncmp(ps->p, "not(", 4)) {
            if (depth > 2)
                return -1;
            ps->p += 4;
            skip_ws(ps);
            s->kind = S_NOT;
            if (!(s->neg = calloc(1, sizeof *s->neg)))
                return -1;
            c->n++; /* owned now, freed with c even on error */
            if (parse_compound(ps, s->neg, depth + 1))
                return -1;
            skip_ws(ps);
            if (*ps->p != ')')
                return -1;
            ps->p++;
            return 0;
        } else {
            return -1;
        }
    } else if (ch == '*') {
        ps->p++;
        s->kind = S_ANY;
    } else if (ident_char(ch)) {
        s->kind = S_TAG;
        if (!(s->name = ident(ps)))
            return -1;
        for (char *q = s->name; *q; q++)
            *q = (char)tolower((unsigned char)*q);
    } else {
        return -1;
    }
    c->n++;
    return 0;
}

static int parse_compound(pstate *ps, compound *c, int depth)
{
    while (*ps->p && !strchr(" \t\n>,)", *ps->p))
        if (parse_simple(ps, c, depth))
            return -1;
    return c->n ? 0 : -1;
}

ll_sel *ll_sel_parse(const char *src, const char **err)
{
    size_t len = strlen(src);
    if (len > LL_SEL_MAX_LEN) {
        *err = "too_long";
        return NULL;
    }
    ll_sel *s = calloc(1, sizeof *s);
    if (!s) {
        *err = "memory";
        return NULL;
    }
    pstate ps = {src, NULL};
    skip_ws(&ps);
    if (!*ps.p) {
        free(s);
        *err = "empty";
        return NULL;
    }
    for (;;) {
        if (s->n >= MAX_ALTS)
            goto too_complex;
        complex_sel *cx = s->alts[s->n++] = calloc(1, sizeof *cx);
        if (!cx)
            goto syntax;
        char comb = 0;
        for (;;) {
            skip_ws(&ps);
            if (cx->n >= MAX_PARTS)
                goto too_complex;
            compound *c = cx->parts[cx->n++] = calloc(1, sizeof *c);
            if (!c)
                goto syntax;
            c->comb = comb;
            if (parse_compound(&ps, c, 0))
                goto syntax;
            const char *before = ps.p;
            skip_ws(&ps);
            if (*ps.p == '>') {
                comb = '>';
                ps.p++;
            } else if (*ps.p == ',' || !*ps.p) {
                break;
            } else if (ps.p != before) {
                comb = ' ';
            } else {
                goto syntax;
            }
        }
        if (!*ps.p)
            break;
        ps.p++; /* ',' */
    }
    return s;
too_complex:
    ll_sel_free(s);
    *err = "too_complex";
    return NULL;
syntax:
    ll_sel_free(s);
    *err = ps.err ? ps.err : "syntax";
    return NULL;
}

const char *ll_attr(const GumboNode *n, const char *name)
{
    if (!n || n->type != GUMBO_NODE_ELEMENT)
        return NULL;
    GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, name);
    return a ? a->value : NULL;
}

int ll_is_tag(const GumboNode *n, GumboTag t) { return n && n->type == GUMBO_NODE_ELEMENT && n->v.element.tag == t; }

static const char *tag_name(const GumboNode *n, char *buf, size_t cap)
{
    if (n->v.element.tag != GUMBO_TAG_UNKNOWN)
        return gumbo_normalized_tagname(n->v.element.tag);
    GumboStringPiece p = n->v.element.original_tag;
    gumbo_tag_from_original_text(&p);
    size_t l = p.length < cap - 1 ? p.length : cap - 1;
    for (size_t i = 0; i < l; i++)
        buf[i] = (char)tolower((unsigned char)p.data[i]);
    buf[l] = 0;
    return buf;
}

static int word_in(const char *list, const char *w)
{
    size_t wl = strlen(w);
    if (!wl)
        return 0;
    for (const char *p = list; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        const char *st = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if ((size_t)(p - st) == wl && !strncmp(st, w, wl))
            return 1;
    }
    return 0;
}

/* position among element siblings: 1-based index and count */
static void sibling_pos(const GumboNode *n, int *idx, int *count)
{
    *idx = 0, *count = 0;
    const GumboNode *parent = n->parent;
    if (!parent || (parent->type != GUMBO_NODE_ELEMENT && parent->type != GUMBO_NODE_DOCUMENT)) {
        *idx = *count = 1;
        return;
    }
    const GumboVector *ch =
        parent->type == GUMBO_NODE_ELEMENT ? &parent->v.element.children : &parent->v.document.children;
    for (unsigned i = 0; i < ch->length; i++) {
        const GumboNode *c = ch->data[i];
        if (c->type != GUMBO_NODE_ELEMENT)
            continue;
        (*count)++;
        if (c == n)
            *idx = *count;
    }
}

static int match_compound(const compound *c, const GumboNode *n);

static int match_simple(const simple *s, const GumboNode *n)
{
    char tb[64];
    switch (s->kind) {
    case S_ANY:
        return 1;
    case S_TAG:
        return !strcmp(tag_name(n, tb, sizeof tb), s->name);
    case S_ID: {
        const char *id = ll_attr(n, "id");
        return id && !strcmp(id, s->name);
    }
    case S_CLASS: {
        const char *cl = ll_attr(n, "class");
        return cl && word_in(cl, s->name);
    }
    case S_ATTR: {
        const char *v = ll_attr(n, s->name);
        if (!v)
            return 0;
        size_t vl = strlen(v), sl = s->value ? strlen(s->value) : 0;
        switch (s->op) {
        case 0:
            return 1;
        case '=':
            return !strcmp(v, s->value);
        case '~':
            return word_in(v, s->value);
        case '^':
            return sl && !strncmp(v, s->value, sl);
        case '$':
            return sl && vl >= sl && !strcmp(v + vl - sl, s->value);
        case '*':
            return sl && strstr(v, s->value) != NULL;
        }
        return 0;
    }
    case S_NTH: {
        int idx, cnt;
        sibling_pos(n, &idx, &cnt);
        if (s->a == 0)
            return idx == s->b;
        int d = idx - s->b;
        return d % s->a == 0 && d / s->a >= 0;
    }
    case S_FIRST: {
        int idx, cnt;
        sibling_pos(n, &idx, &cnt);
        return idx == 1;
    }
    case S_LAST: {
        int idx, cnt;
        sibling_pos(n, &idx, &cnt);
        return idx == cnt;
    }
    case S_NOT:
        return !match_compound(s->neg, n);
    }
    return 0;
}

static int match_compound(const compound *c, const GumboNode *n)
{
    if (!n || n->type != GUMBO_NODE_ELEMENT)
        return 0;
    for (int i = 0; i < c->n; i++)
        if (!match_simple(&c->s[i], n))
            return 0;
    return 1;
}

static int match_from(const complex_sel *cx, int part, const GumboNode *n)
{
    if (!match_compound(cx->parts[part], n))
        return 0;
    if (part == 0)
        return 1;
    const GumboNode *p = n->parent;
    if (cx->parts[part]->comb == '>')
        return p && p->type == GUMBO_NODE_ELEMENT && match_from(cx, part - 1, p);
    for (; p && p->type == GUMBO_NODE_ELEMENT; p = p->parent)
        if (match_from(cx, part - 1, p))
            return 1;
    return 0;
}

int ll_sel_matches(const ll_sel *s, const GumboNode *n)
{
    for (int a = 0; a < s->n; a++)
        if (match_from(s->alts[a], s->alts[a]->n - 1, n))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ DOM */

/* Gumbo allocates per node, attribute and string (malloc was a quarter of the port's CPU): a bump
 * arena per parse makes each allocation a pointer increment and the destroy one free per chunk.
 * Used for the rendered tree's fragment (re-parsed after every diff, short-lived) by both parsers;
 * the page shell, parsed once per page and kept, uses malloc so its temporaries do not stay
 * allocated. */
struct ll_arena {
    struct ll_arena *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

typedef struct {
    ll_arena *head;
    size_t first; /* size of the first chunk */
} arena_owner;

static void *arena_alloc(void *ud, size_t n)
{
    arena_owner *o = ud;
    n = (n + 15) & ~(size_t)15;
    ll_arena *a = o->head;
    if (!a || a->used + n > a->cap) {
        size_t cap = a ? (o->first > 8192 ? o->first / 2 : a->cap * 2) : o->first;
        if (cap > 65536)
            cap = 65536;
        if (cap < n)
            cap = n;
        ll_arena *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a;
        o->head = a = c;
    }
    void *p = a->data + a->used;
    a->used += n;
    return p;
}

static void arena_free(void *ud, void *p)
{
    (void)ud, (void)p;
}

static void arena_release(ll_arena *a)
{
    while (a) {
        ll_arena *n = a->next;
        free(a);
        a = n;
    }
}

int ll_dom_set_attr(ll_dom *d, GumboNode *el, const char *name, const char *value)
{
    GumboVector *at = &el->v.element.attributes;
    for (unsigned i = 0; i < at->length; i++) {
        GumboAttribute *a = at->data[i];
        if (strcasecmp(a->name, name))
            continue;
        if (!value) {
            memmove(at->data + i, at->data + i + 1, (at->length - i - 1) * sizeof(void *));
            at->length--;
            return 0;
        }
        char *v = ll_dom_alloc(d, strlen(value) + 1);
        if (!v)
            return -1;
        strcpy(v, value);
        a->value = v;
        return 0;
    }
    if (!value)
        return 0;
    GumboAttribute *a = ll_dom_alloc(d, sizeof *a);
    char *n = ll_dom_alloc(d, strlen(name) + 1), *v = ll_dom_alloc(d, strlen(value) + 1);
    void **data = ll_dom_alloc(d, (at->length + 1) * sizeof(void *));
    if (!a || !n || !v || !data)
        return -1;
    memset(a, 0, sizeof *a);
    strcpy(n, name);
    strcpy(v, value);
    a->name = n;
    a->value = v;
    if (at->length)
        memcpy(data, at->data, at->length * sizeof(void *));
    data[at->length] = a;
    at->data = data;
    at->length++;
    at->capacity = at->length;
    return 0;
}

void *ll_dom_alloc(ll_dom *d, size_t n)
{
    if (!d->arena) {
        arena_owner *own = calloc(1, sizeof *own);
        if (!own)
            return NULL;
        own->first = d->arena_hint > 1024 ? d->arena_hint : 1024;
        d->arena = (ll_arena *)own; /* the owner record heads the chain: see ll_dom_free */
    }
    return arena_alloc(d->arena, n);
}

static GumboOutput *parse(ll_dom *d, const GumboOptions *base, const char *html, size_t len, int use_arena)
{
    GumboOptions o = *base;
    d->out = NULL;
    d->arena = NULL;
    d->simple = 0;
    d->arena_hint = 0;
    if (!use_arena) { /* malloc: temporaries are freed, what stays is what the tree needs */
        d->out = gumbo_parse_with_options(&o, html, len);
        return d->out;
    }
    arena_owner *own = calloc(1, sizeof *own);
    if (!own)
        return NULL;
    own->first = 8192;
    o.allocator = arena_alloc;
    o.deallocator = arena_free;
    o.userdata = own;
    d->out = gumbo_parse_with_options(&o, html, len);
    d->arena = (ll_arena *)own;
    return d->out;
}

static unsigned depth_of(const GumboNode *n, unsigned d, unsigned max)
{
    if (d > max)
        return d;
    unsigned m = d;
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE) {
        const GumboVector *ch = &n->v.element.children;
        for (unsigned i = 0; i < ch->length && m <= max; i++) {
            unsigned x = depth_of(ch->data[i], d + 1, max);
            if (x > m)
                m = x;
        }
    }
    return m;
}

int ll_dom_parse(ll_dom *d, const char *html, size_t len, unsigned max_depth)
{
    GumboOptions o = kGumboDefaultOptions;
    o.max_errors = 0;
    o.stop_on_first_error = false;
    if (!parse(d, &o, html, len, 0)) {
        ll_dom_free(d);
        return -1;
    }
    if (depth_of(d->out->root, 0, max_depth) > max_depth) {
        ll_dom_free(d);
        return -1;
    }
    return 0;
}

int ll_dom_parse_fragment(ll_dom *d, const char *html, size_t len, GumboTag context, unsigned max_depth)
{
    int fast = ll_html_parse_simple(d, html, len, context, max_depth);
    if (fast <= 0)
        return fast;
    return ll_dom_parse_fragment_full(d, html, len, context, max_depth);
}

int ll_dom_parse_fragment_full(ll_dom *d, const char *html, size_t len, GumboTag context, unsigned max_depth)
{
    GumboOptions o = kGumboDefaultOptions;
    o.max_errors = 0;
    o.fragment_context = context;
    if (!parse(d, &o, html, len, 1)) {
        ll_dom_free(d);
        return -1;
    }
    if (depth_of(d->out->root, 0, max_depth) > max_depth) {
        ll_dom_free(d);
        return -1;
    }
    return 0;
}

void ll_dom_splice(GumboNode *container, ll_dom *frag)
{
    GumboVector *a = &container->v.element.children, *b = &frag->out->root->v.element.children;
    GumboVector t = *a;
    *a = *b;
    *b = t;
    for (unsigned i = 0; i < a->length; i++) {
        GumboNode *c = a->data[i];
        c->parent = container;
        c->index_within_parent = i;
    }
    for (unsigned i = 0; i < b->length; i++)
        ((GumboNode *)b->data[i])->parent = frag->out->root;
}

void ll_dom_free(ll_dom *d)
{
    /* gumbo's destroy would only call the no-op deallocator: drop the chunks instead */
    arena_owner *own = (arena_owner *)d->arena;
    if (own) {
        arena_release(own->head);
        free(own);
    } else if (d->out) {
        gumbo_destroy_output(&kGumboDefaultOptions, d->out);
    }
    d->out = NULL;
    d->arena = NULL;
}

typedef int (*visit_fn)(GumboNode *, void *);

/* pre-order walk without recursion limits problems: depth was checked at parse time */
static int walk(GumboNode *n, visit_fn f, void *ud)
{
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE)
        return 0;
    if (f(n, ud))
        return 1;
    GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        if (walk(ch->data[i], f, ud))
            return 1;
    return 0;
}

typedef struct {
    const ll_sel *s;
    GumboNode *hit;
    int (*f)(GumboNode *, void *);
    void *ud;
} qstate;

static int q_first(GumboNode *n, void *ud)
{
    qstate *q = ud;
    if (ll_sel_matches(q->s, n)) {
        q->hit = n;
        return 1;
    }
    return 0;
}

static int q_all(GumboNode *n, void *ud)
{
    qstate *q = ud;
    return ll_sel_matches(q->s, n) ? q->f(n, q->ud) : 0;
}

GumboNode *ll_dom_query(const ll_dom *d, const ll_sel *s)
{
    qstate q = {s, NULL, NULL, NULL};
    if (d->out)
        walk(d->out->root, q_first, &q);
    return q.hit;
}

void ll_dom_query_all(const ll_dom *d, const ll_sel *s, int (*f)(GumboNode *, void *), void *ud)
{
    qstate q = {s, NULL, f, ud};
    if (d->out)
        walk(d->out->root, q_all, &q);
}

static int by_id(GumboNode *n, void *ud)
{
    void **a = ud;
    const char *id = ll_attr(n, "id");
    if (id && !strcmp(id, a[0])) {
        a[1] = n;
        return 1;
    }
    return 0;
}

GumboNode *ll_by_id(const ll_dom *d, const char *id)
{
    void *a[2] = {(void *)id, NULL};
    if (d->out)
        walk(d->out->root, by_id, a);
    return a[1];
}

GumboNode *ll_closest_attr(GumboNode *n, const char *name)
{
    for (; n && n->type == GUMBO_NODE_ELEMENT; n = n->parent)
        if (ll_attr(n, name))
            return n;
    return NULL;
}

GumboNode *ll_closest_tag(GumboNode *n, GumboTag t)
{
    for (; n && n->type == GUMBO_NODE_ELEMENT; n = n->parent)
        if (n->v.element.tag == t)
            return n;
    return NULL;
}

/* ------------------------------------------------------------------ text and HTML */

void ll_text_content(const GumboNode *n, ll_str *b)
{
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
        ll_str_adds(b, n->v.text.text);
        return;
    }
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE)
        return;
    const GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        ll_text_content(ch->data[i], b);
}

static int is_block(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_DIV: case GUMBO_TAG_P: case GUMBO_TAG_LI: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
    case GUMBO_TAG_H6: case GUMBO_TAG_TR: case GUMBO_TAG_TABLE: case GUMBO_TAG_SECTION: case GUMBO_TAG_MAIN:
    case GUMBO_TAG_ARTICLE: case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER: case GUMBO_TAG_NAV: case GUMBO_TAG_FORM:
    case GUMBO_TAG_PRE: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
    case GUMBO_TAG_BODY: case GUMBO_TAG_ASIDE: case GUMBO_TAG_FIELDSET:
        return 1;
    default:
        return 0;
    }
}

static void inner_text_rec(const GumboNode *n, ll_str *b, int *space)
{
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
        for (const char *p = n->v.text.text; *p; p++) {
            if (isspace((unsigned char)*p)) {
                *space = 1;
            } else {
                if (*space && b->len && b->s[b->len - 1] != '\n')
                    ll_str_add(b, " ", 1);
                *space = 0;
                ll_str_add(b, p, 1);
            }
        }
        return;
    }
    if (n->type != GUMBO_NODE_ELEMENT)
        return;
    GumboTag t = n->v.element.tag;
    if (t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_TEMPLATE || t == GUMBO_TAG_HEAD ||
        !ll_visible(n))
        return;
    if (t == GUMBO_TAG_BR) {
        ll_str_add(b, "\n", 1);
        *space = 0;
        return;
    }
    int block = is_block(t);
    if (block && b->len && b->s[b->len - 1] != '\n') {
        ll_str_add(b, "\n", 1);
        *space = 0;
    }
    const GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        inner_text_rec(ch->data[i], b, space);
    if (block && b->len && b->s[b->len - 1] != '\n') {
        ll_str_add(b, "\n", 1);
        *space = 0;
    }
}

void ll_inner_text(const GumboNode *n, ll_str *b)
{
    int space = 0;
    size_t start = b->len;
    if (n->type == GUMBO_NODE_ELEMENT) {
        const GumboVector *ch = &n->v.element.children;
        for (unsigned i = 0; i < ch->length; i++)
            inner_text_rec(ch->data[i], b, &space);
    }
    while (b->len > start && (b->s[b->len - 1] == '\n' || b->s[b->len - 1] == ' '))
        b->s[--b->len] = 0;
    size_t lead = 0;
    while (start + lead < b->len && b->s[start + lead] == '\n')
        lead++;
    if (lead) {
        memmove(b->s + start, b->s + start + lead, b->len - start - lead + 1);
        b->len -= lead;
    }
}

static void escape(ll_str *b, const char *s, int attr)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': ll_str_adds(b, "&amp;"); break;
        case '<': if (attr) ll_str_add(b, p, 1); else ll_str_adds(b, "&lt;"); break;
        case '>': if (attr) ll_str_add(b, p, 1); else ll_str_adds(b, "&gt;"); break;
        case '"': if (attr) ll_str_adds(b, "&quot;"); else ll_str_add(b, p, 1); break;
        case '\xc2':
            if ((unsigned char)p[1] == 0xa0) { ll_str_adds(b, "&nbsp;"); p++; break; }
            /* fall through */
        default: ll_str_add(b, p, 1);
        }
    }
}

static int is_void(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_AREA: case GUMBO_TAG_BASE: case GUMBO_TAG_BR: case GUMBO_TAG_COL: case GUMBO_TAG_EMBED:
    case GUMBO_TAG_HR: case GUMBO_TAG_IMG: case GUMBO_TAG_INPUT: case GUMBO_TAG_LINK: case GUMBO_TAG_META:
    case GUMBO_TAG_SOURCE: case GUMBO_TAG_TRACK: case GUMBO_TAG_WBR: case GUMBO_TAG_PARAM:
        return 1;
    default:
        return 0;
    }
}

const char *ll_tag_name(const GumboNode *n, char *buf, size_t cap) { return tag_name(n, buf, cap); }

void ll_html_attr(ll_str *b, const char *name, const char *value)
{
    ll_str_add(b, " ", 1);
    ll_str_adds(b, name);
    ll_str_adds(b, "=\"");
    escape(b, value, 1);
    ll_str_add(b, "\"", 1);
}

static void html_rec(const GumboNode *n, ll_str *b, int raw, ll_html_hook hook, void *ud);

static void children_rec(const GumboNode *n, ll_str *b, ll_html_hook hook, void *ud)
{
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE && n->type != GUMBO_NODE_DOCUMENT)
        return;
    const GumboVector *ch = n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children : &n->v.element.children;
    GumboTag t = n->type == GUMBO_NODE_DOCUMENT ? GUMBO_TAG_UNKNOWN : n->v.element.tag;
    int raw = t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_XMP || t == GUMBO_TAG_NOSCRIPT ||
              t == GUMBO_TAG_IFRAME || t == GUMBO_TAG_NOEMBED || t == GUMBO_TAG_NOFRAMES || t == GUMBO_TAG_PLAINTEXT;
    /* the serialisation algorithm: a leading newline of pre/textarea/listing content is doubled, as
     * the parser drops the first one */
    if ((t == GUMBO_TAG_PRE || t == GUMBO_TAG_TEXTAREA || t == GUMBO_TAG_LISTING) && ch->length) {
        const GumboNode *f = ch->data[0];
        if ((f->type == GUMBO_NODE_TEXT || f->type == GUMBO_NODE_WHITESPACE) && f->v.text.text[0] == '\n')
            ll_str_add(b, "\n", 1);
    }
    for (unsigned i = 0; i < ch->length; i++)
        html_rec(ch->data[i], b, raw, hook, ud);
}

void ll_html_start_tag(const GumboNode *n, ll_str *b)
{
    char tb[64];
    ll_str_add(b, "<", 1);
    ll_str_adds(b, tag_name(n, tb, sizeof tb));
    const GumboVector *at = &n->v.element.attributes;
    for (unsigned i = 0; i < at->length; i++) {
        const GumboAttribute *a = at->data[i];
        ll_html_attr(b, a->name, a->value);
    }
    ll_str_add(b, ">", 1);
}

void ll_html_end_tag(const GumboNode *n, ll_str *b)
{
    char tb[64];
    if (ll_html_is_void(n))
        return;
    ll_str_adds(b, "</");
    ll_str_adds(b, tag_name(n, tb, sizeof tb));
    ll_str_add(b, ">", 1);
}

int ll_html_is_void(const GumboNode *n) { return is_void(n->v.element.tag); }

static void html_rec(const GumboNode *n, ll_str *b, int raw, ll_html_hook hook, void *ud)
{
    switch (n->type) {
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_WHITESPACE:
        if (raw)
            ll_str_adds(b, n->v.text.text);
        else
            escape(b, n->v.text.text, 0);
        return;
    case GUMBO_NODE_CDATA:
        ll_str_adds(b, n->v.text.text);
        return;
    case GUMBO_NODE_COMMENT:
        ll_str_adds(b, "<!--");
        ll_str_adds(b, n->v.text.text);
        ll_str_adds(b, "-->");
        return;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
        if (hook && hook(n, b, ud))
            return;
        ll_html_start_tag(n, b);
        if (is_void(n->v.element.tag))
            return;
        children_rec(n, b, hook, ud);
        ll_html_end_tag(n, b);
        return;
    default:
        return;
    }
}

void ll_inner_html(const GumboNode *n, ll_str *b) { children_rec(n, b, NULL, NULL); }

void ll_outer_html(const GumboNode *n, ll_str *b) { html_rec(n, b, 0, NULL, NULL); }

void ll_html_serialize_children(const GumboNode *n, ll_str *b, ll_html_hook hook, void *ud)
{
    children_rec(n, b, hook, ud);
}

void ll_dom_dump(const GumboNode *n, ll_str *b)
{
    char tb[64];
    switch (n->type) {
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE: {
        ll_str_adds(b, n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML ? "<" : "<ns:");
        ll_str_adds(b, tag_name(n, tb, sizeof tb));
        const GumboVector *at = &n->v.element.attributes;
        for (unsigned i = 0; i < at->length; i++) {
            const GumboAttribute *a = at->data[i];
            ll_str_add(b, " ", 1);
            ll_str_adds(b, a->name);
            ll_str_add(b, "=[", 2);
            ll_str_adds(b, a->value);
            ll_str_add(b, "]", 1);
        }
        ll_str_add(b, ">", 1);
        const GumboVector *ch = &n->v.element.children;
        for (unsigned i = 0; i < ch->length; i++)
            ll_dom_dump(ch->data[i], b);
        ll_str_adds(b, "</>");
        return;
    }
    case GUMBO_NODE_TEXT: ll_str_adds(b, "T["); break;
    case GUMBO_NODE_WHITESPACE: ll_str_adds(b, "W["); break;
    case GUMBO_NODE_COMMENT: ll_str_adds(b, "C["); break;
    case GUMBO_NODE_CDATA: ll_str_adds(b, "D["); break;
    default: ll_str_adds(b, "?["); return;
    }
    ll_str_adds(b, n->v.text.text);
    ll_str_add(b, "]", 1);
}

static int hidden_style(const char *st)
{
    if (!st)
        return 0;
    char norm[512];
    size_t j = 0;
    for (const char *p = st; *p && j < sizeof norm - 1; p++)
        if (!isspace((unsigned char)*p))
            norm[j++] = (char)tolower((unsigned char)*p);
    norm[j] = 0;
    return strstr(norm, "display:none") || strstr(norm, "visibility:hidden");
}

int ll_visible(const GumboNode *n)
{
    if (!n || n->type != GUMBO_NODE_ELEMENT)
        return 0;
    if (n->v.element.tag == GUMBO_TAG_INPUT) {
        const char *t = ll_attr(n, "type");
        if (t && !strcasecmp(t, "hidden"))
            return 0;
    }
    for (const GumboNode *p = n; p && p->type == GUMBO_NODE_ELEMENT; p = p->parent) {
        GumboTag t = p->v.element.tag;
        if (t == GUMBO_TAG_HEAD || t == GUMBO_TAG_TEMPLATE || t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE)
            return 0;
        if (ll_attr(p, "hidden") || hidden_style(ll_attr(p, "style")))
            return 0;
    }
    return 1;
}
