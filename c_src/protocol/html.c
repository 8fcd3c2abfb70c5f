/* A fast parser for the HTML LiveView renders: a tokenizer plus the trivial tree builder, for input
 * on which the HTML5 tree construction rules reduce to "push on a start tag, pop on the matching end
 * tag". It builds gumbo's node structs (in the parse's arena), so everything downstream reads one
 * kind of DOM; anything outside that simple subset makes it answer "use the full parser" (gumbo),
 * never a different tree: implied or misnested end tags, tables, foreign content (svg, math),
 * templates, character references other than &amp; &lt; &gt; &quot; &apos; &nbsp; and numeric ones,
 * CR and NUL bytes, a `<` that does not open a tag, and the tags whose start closes or reopens
 * others (`p` before a block, nested `a` / `button` / `form` / `li` / headings, `option`...).
 * fuzz_protocol_html checks that its tree equals gumbo's on every input it accepts.
 *
 * Gumbo re-parsing the rendered HTML was half the port's CPU per event; this parser does the same
 * work for the common page in a small fraction of it, in one pass, without temporary allocations. */
#include <string.h>
#include <strings.h>

#include "dom.h"

typedef struct fnode {
    GumboNode n; /* first: a GumboNode* to an fnode is the node */
    struct fnode *first, *last, *next;
    unsigned count;
} fnode;

enum { OK = 0, FULL = 1, DEEP = -1 };

typedef struct {
    ll_dom *d;
    const char *s;
    size_t len, i;
    fnode **stack;
    unsigned depth, max_depth;
    int p_open, a_open, button_open, form_open, select_open;
    int rc;
} fp;

static void *alloc(fp *p, size_t n)
{
    void *m = ll_dom_alloc(p->d, n);
    if (!m && p->rc == OK)
        p->rc = DEEP; /* out of memory: no DOM, as for an over-deep one */
    return m;
}

static int full(fp *p)
{
    if (p->rc == OK)
        p->rc = FULL;
    return -1;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static GumboSourcePosition pos(size_t off)
{
    GumboSourcePosition sp = {0, 0, (unsigned)off};
    return sp;
}

static fnode *cur(fp *p) { return p->stack[p->depth - 1]; }

static GumboTag cur_tag(fp *p) { return p->depth > 1 ? cur(p)->n.v.element.tag : GUMBO_TAG_HTML; }

static int add_child(fp *p, fnode *c)
{
    fnode *par = cur(p);
    if (p->depth > p->max_depth) { /* the node's depth is the stack's */
        p->rc = DEEP;
        return -1;
    }
    c->n.parent = &par->n;
    c->n.index_within_parent = par->count++;
    if (par->last)
        par->last->next = c;
    else
        par->first = c;
    par->last = c;
    return 0;
}

/* children lists become gumbo vectors once an element is complete */
static int seal(fp *p, fnode *e)
{
    GumboVector *v = &e->n.v.element.children;
    v->length = v->capacity = e->count;
    v->data = NULL;
    if (!e->count)
        return 0;
    v->data = alloc(p, e->count * sizeof(void *));
    if (!v->data)
        return -1;
    unsigned k = 0;
    for (fnode *c = e->first; c; c = c->next)
        v->data[k++] = c;
    return 0;
}

/* ------------------------------------------------------------------ character references */

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One reference at s[0] == '&' (n bytes available): bytes consumed and UTF-8 written to o, or 0
 * when it is not one the fast path decodes the way the tokenizer would. */
static size_t charref(const char *s, size_t n, char *o, size_t *olen)
{
    static const struct {
        const char *name;
        const char *utf8;
    } named[] = {{"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"}, {"nbsp;", "\xc2\xa0"}};
    if (n >= 2 && s[1] == '#') {
        size_t k = 2;
        unsigned long cp = 0;
        int hex = k < n && (s[k] == 'x' || s[k] == 'X'), digits = 0;
        if (hex)
            k++;
        for (; k < n && digits < 8; k++, digits++) {
            char c = s[k];
            int v = c >= '0' && c <= '9' ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : -1;
            if (v < 0)
                break;
            cp = cp * (hex ? 16 : 10) + (unsigned long)v;
        }
        if (!digits || k >= n || s[k] != ';')
            return 0;
        /* what the tokenizer replaces or reports: leave it to gumbo */
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (cp < 0x20 && cp != '\t' && cp != '\n') ||
            (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
            return 0;
        *olen = put_utf8(o, cp);
        return k + 1;
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t l = strlen(named[i].name);
        if (n > l && !memcmp(s + 1, named[i].name, l)) {
            *olen = strlen(named[i].utf8);
            memcpy(o, named[i].utf8, *olen);
            return l + 1;
        }
    }
    return 0;
}

/* s[0..n) with its references decoded, NUL-terminated, in the arena; NULL (rc set) otherwise */
static char *decode(fp *p, const char *s, size_t n)
{
    char *o = alloc(p, n + 1);
    if (!o)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '&') {
            size_t ol = 0, used = charref(s + i, n - i, o + w, &ol);
            if (!used) {
                full(p);
                return NULL;
            }
            i += used;
            w += ol;
        } else if (c == '\0' || c == '\r') {
            full(p);
            return NULL;
        } else {
            o[w++] = c;
            i++;
        }
    }
    o[w] = 0;
    return o;
}

/* ------------------------------------------------------------------ nodes */

static int text(fp *p, size_t start, size_t end, int keep_raw)
{
    if (end <= start)
        return 0;
    fnode *t = alloc(p, sizeof *t);
    if (!t)
        return -1;
    memset(t, 0, sizeof *t);
    int ws = 1;
    for (size_t i = start; i < end && ws; i++)
        ws = is_ws(p->s[i]);
    t->n.type = ws ? GUMBO_NODE_WHITESPACE : GUMBO_NODE_TEXT;
    if (keep_raw) {
        char *o = alloc(p, end - start + 1);
        if (!o)
            return -1;
        memcpy(o, p->s + start, end - start);
        o[end - start] = 0;
        for (size_t i = 0; i < end - start; i++)
            if (o[i] == '\0' || o[i] == '\r')
                return full(p);
        t->n.v.text.text = o;
    } else if (!(t->n.v.text.text = decode(p, p->s + start, end - start))) {
        return -1;
    }
    t->n.v.text.original_text.data = p->s + start;
    t->n.v.text.original_text.length = end - start;
    t->n.v.text.start_pos = pos(start);
    return add_child(p, t);
}

static int comment(fp *p)
{
    size_t st = p->i + 4;
    if (st < p->len && (p->s[st] == '>' || (p->s[st] == '-' && st + 1 < p->len && p->s[st + 1] == '>')))
        return full(p); /* <!--> and <!---> end at once */
    const char *e = NULL;
    for (size_t k = st; k + 3 <= p->len; k++) {
        if (p->s[k] == '-' && p->s[k + 1] == '-') {
            if (p->s[k + 2] == '>') {
                e = p->s + k;
                break;
            }
            if (p->s[k + 2] == '!')
                return full(p); /* --!> also ends a comment */
        }
        if (p->s[k] == '\0' || p->s[k] == '\r')
            return full(p);
    }
    if (!e)
        return full(p);
    size_t n = (size_t)(e - (p->s + st));
    fnode *c = alloc(p, sizeof *c);
    char *o = alloc(p, n + 1);
    if (!c || !o)
        return -1;
    memset(c, 0, sizeof *c);
    memcpy(o, p->s + st, n);
    o[n] = 0;
    c->n.type = GUMBO_NODE_COMMENT;
    c->n.v.text.text = o;
    c->n.v.text.original_text.data = p->s + p->i;
    c->n.v.text.original_text.length = n + 7;
    c->n.v.text.start_pos = pos(p->i);
    p->i = st + n + 3;
    return add_child(p, c);
}

static int is_void(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_AREA: case GUMBO_TAG_BR: case GUMBO_TAG_EMBED: case GUMBO_TAG_IMG: case GUMBO_TAG_WBR:
    case GUMBO_TAG_INPUT: case GUMBO_TAG_PARAM: case GUMBO_TAG_SOURCE: case GUMBO_TAG_TRACK: case GUMBO_TAG_HR:
    case GUMBO_TAG_LINK: case GUMBO_TAG_META:
        return 1;
    default:
        return 0;
    }
}

/* tags whose start tag does more than push (or whose content the tokenizer reads differently),
 * unless handled below */
static int needs_full(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_HTML: case GUMBO_TAG_HEAD: case GUMBO_TAG_BODY: case GUMBO_TAG_FRAMESET: case GUMBO_TAG_FRAME:
    case GUMBO_TAG_TABLE: case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP: case GUMBO_TAG_COL: case GUMBO_TAG_TBODY:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH:
    case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_SVG: case GUMBO_TAG_MATH: case GUMBO_TAG_PLAINTEXT: case GUMBO_TAG_XMP:
    case GUMBO_TAG_IFRAME: case GUMBO_TAG_NOEMBED: case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_IMAGE: case GUMBO_TAG_ISINDEX: case GUMBO_TAG_KEYGEN: case GUMBO_TAG_NOBR: case GUMBO_TAG_RB:
    case GUMBO_TAG_RP: case GUMBO_TAG_RT: case GUMBO_TAG_RTC: case GUMBO_TAG_LISTING: case GUMBO_TAG_APPLET:
    case GUMBO_TAG_MARQUEE: case GUMBO_TAG_OBJECT: case GUMBO_TAG_MENUITEM: case GUMBO_TAG_BASE:
    case GUMBO_TAG_BASEFONT: case GUMBO_TAG_BGSOUND: case GUMBO_TAG_DATALIST:
        return 1;
    default:
        return 0;
    }
}

/* a start tag that closes an open <p> */
static int closes_p(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_CENTER: case GUMBO_TAG_DETAILS: case GUMBO_TAG_DIR: case GUMBO_TAG_DIV: case GUMBO_TAG_DL:
    case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_HEADER: case GUMBO_TAG_HGROUP: case GUMBO_TAG_MAIN: case GUMBO_TAG_MENU: case GUMBO_TAG_NAV:
    case GUMBO_TAG_OL: case GUMBO_TAG_P: case GUMBO_TAG_SECTION: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_UL:
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
    case GUMBO_TAG_PRE: case GUMBO_TAG_LISTING: case GUMBO_TAG_FORM: case GUMBO_TAG_LI: case GUMBO_TAG_DD:
    case GUMBO_TAG_DT: case GUMBO_TAG_PLAINTEXT: case GUMBO_TAG_TABLE: case GUMBO_TAG_HR: case GUMBO_TAG_XMP:
        return 1;
    default:
        return 0;
    }
}

static int heading(GumboTag t) { return t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6; }

/* an open element of tag `want` above the nearest `stop` ones: the start tag would close it */
static int open_before(fp *p, GumboTag want1, GumboTag want2, GumboTag stop1, GumboTag stop2, GumboTag stop3)
{
    for (unsigned k = p->depth - 1; k >= 1; k--) {
        GumboTag t = p->stack[k]->n.v.element.tag;
        if (t == want1 || t == want2)
            return 1;
        if (t == stop1 || t == stop2 || t == stop3)
            return 0;
    }
    return 0;
}

/* the tree builder's rules for a start tag: 0 = push (or insert, for a void one), -1 = not simple */
static int start_rules(fp *p, GumboTag t)
{
    GumboTag c = cur_tag(p);
    if (needs_full(t))
        return -1;
    if (p->select_open) { /* "in select": only options and groups, properly nested */
        if (t == GUMBO_TAG_OPTION && (c == GUMBO_TAG_SELECT || c == GUMBO_TAG_OPTGROUP))
            return 0;
        if (t == GUMBO_TAG_OPTGROUP && c == GUMBO_TAG_SELECT)
            return 0;
        return -1;
    }
    if (p->p_open && closes_p(t))
        return -1;
    switch (t) {
    case GUMBO_TAG_LI:
        return open_before(p, GUMBO_TAG_LI, GUMBO_TAG_LI, GUMBO_TAG_UL, GUMBO_TAG_OL, GUMBO_TAG_MENU) ? -1 : 0;
    case GUMBO_TAG_DD: case GUMBO_TAG_DT:
        return open_before(p, GUMBO_TAG_DD, GUMBO_TAG_DT, GUMBO_TAG_DL, GUMBO_TAG_DL, GUMBO_TAG_DL) ? -1 : 0;
    case GUMBO_TAG_A:
        return p->a_open ? -1 : 0;
    case GUMBO_TAG_BUTTON:
        return p->button_open ? -1 : 0;
    case GUMBO_TAG_FORM:
        return p->form_open ? -1 : 0;
    case GUMBO_TAG_SELECT:
        return 0;
    case GUMBO_TAG_OPTION: case GUMBO_TAG_OPTGROUP:
        return c == GUMBO_TAG_OPTION ? -1 : 0;
    default:
        return heading(t) && heading(c) ? -1 : 0;
    }
}

static void count_open(fp *p, GumboTag t, int d)
{
    switch (t) {
    case GUMBO_TAG_P: p->p_open += d; break;
    case GUMBO_TAG_A: p->a_open += d; break;
    case GUMBO_TAG_BUTTON: p->button_open += d; break;
    case GUMBO_TAG_FORM: p->form_open += d; break;
    case GUMBO_TAG_SELECT: p->select_open += d; break;
    default: break;
    }
}

/* raw text of script/style, or escapable raw text of textarea/title, up to its end tag; the end
 * tag itself is consumed and the element popped */
static int raw_content(fp *p, fnode *e, const char *name, int escapable)
{
    size_t nl = strlen(name), st = p->i, k = st;
    for (; k + 2 + nl <= p->len; k++) {
        if (p->s[k] == '<' && p->s[k + 1] == '/' && !strncasecmp(p->s + k + 2, name, nl) &&
            (k + 2 + nl == p->len || is_ws(p->s[k + 2 + nl]) || p->s[k + 2 + nl] == '>' || p->s[k + 2 + nl] == '/'))
            break;
    }
    if (k + 2 + nl > p->len)
        return full(p); /* unterminated */
    size_t close = k + 2 + nl;
    if (close >= p->len || p->s[close] != '>')
        return full(p);
    if (e->n.v.element.tag == GUMBO_TAG_SCRIPT) {
        for (size_t j = st; j + 4 <= k; j++)
            if (!memcmp(p->s + j, "<!--", 4))
                return full(p); /* script data escape states */
    }
    size_t from = st;
    if (e->n.v.element.tag == GUMBO_TAG_TEXTAREA && from < k && p->s[from] == '\n')
        from++; /* a newline right after <textarea> is dropped */
    p->depth++; /* the element is the parent of its text */
    p->stack[p->depth - 1] = e;
    int rc = text(p, from, k, !escapable);
    p->depth--;
    if (rc)
        return -1;
    e->n.v.element.end_pos = pos(k);
    e->n.v.element.original_end_tag.data = p->s + k;
    e->n.v.element.original_end_tag.length = close + 1 - k;
    p->i = close + 1;
    return seal(p, e);
}

static int start_tag(fp *p)
{
    size_t st = p->i, k = st + 1;
    while (k < p->len && !is_ws(p->s[k]) && p->s[k] != '/' && p->s[k] != '>') {
        if (p->s[k] == '\0' || p->s[k] == '\r')
            return full(p);
        k++;
    }
    size_t nlen = k - st - 1;
    char lname[32];
    GumboTag t = GUMBO_TAG_UNKNOWN;
    if (nlen < sizeof lname) {
        for (size_t j = 0; j < nlen; j++)
            lname[j] = lower(p->s[st + 1 + j]);
        t = gumbo_tagn_enum(lname, (unsigned)nlen);
    }
    if (start_rules(p, t))
        return full(p);
    /* attributes */
    GumboAttribute *attrs[64];
    unsigned na = 0;
    int self_closing = 0;
    for (;;) {
        int sep = 0;
        while (k < p->len && is_ws(p->s[k]))
            k++, sep = 1;
        if (k >= p->len)
            return full(p);
        char c = p->s[k];
        if (c == '>')
            break;
        if (c == '/') {
            if (k + 1 < p->len && p->s[k + 1] == '>') {
                self_closing = 1;
                k++;
                break;
            }
            return full(p);
        }
        if (!sep || c == '=' || c == '"' || c == '\'' || c == '<')
            return full(p);
        size_t an = k;
        while (k < p->len && !is_ws(p->s[k]) && p->s[k] != '/' && p->s[k] != '>' && p->s[k] != '=') {
            char x = p->s[k];
            if (x == '"' || x == '\'' || x == '<' || x == '\0' || x == '\r')
                return full(p);
            k++;
        }
        size_t anl = k - an;
        size_t vs = k, ve = k, vq = 0;
        while (k < p->len && is_ws(p->s[k]))
            k++;
        if (k < p->len && p->s[k] == '=') {
            k++;
            while (k < p->len && is_ws(p->s[k]))
                k++;
            if (k >= p->len)
                return full(p);
            char q = p->s[k];
            if (q == '"' || q == '\'') {
                vq = 1;
                vs = ++k;
                while (k < p->len && p->s[k] != q)
                    k++;
                if (k >= p->len)
                    return full(p);
                ve = k++;
                if (k < p->len && !is_ws(p->s[k]) && p->s[k] != '>' && p->s[k] != '/')
                    return full(p); /* no space after the value */
            } else {
                if (q == '>')
                    return full(p); /* a missing value */
                vs = k;
                while (k < p->len && !is_ws(p->s[k]) && p->s[k] != '>') {
                    char x = p->s[k];
                    if (x == '"' || x == '\'' || x == '<' || x == '=' || x == '`')
                        return full(p);
                    k++;
                }
                ve = k;
            }
        } else {
            k = vs; /* no value: the whitespace belongs to the next attribute */
            vs = ve = an + anl;
        }
        /* a repeated attribute: the spec keeps the first, gumbo 0.10 also garbles the next name */
        for (unsigned j = 0; j < na; j++)
            if (strlen(attrs[j]->name) == anl && !strncasecmp(attrs[j]->name, p->s + an, anl))
                return full(p);
        if (na >= sizeof attrs / sizeof attrs[0])
            return full(p);
        GumboAttribute *a = alloc(p, sizeof *a);
        char *nm = alloc(p, anl + 1);
        if (!a || !nm)
            return -1;
        for (size_t j = 0; j < anl; j++)
            nm[j] = lower(p->s[an + j]);
        nm[anl] = 0;
        memset(a, 0, sizeof *a);
        a->attr_namespace = GUMBO_ATTR_NAMESPACE_NONE;
        a->name = nm;
        a->original_name.data = p->s + an;
        a->original_name.length = anl;
        if (!(a->value = decode(p, p->s + vs, ve - vs)))
            return -1;
        a->original_value.data = p->s + vs - vq;
        a->original_value.length = ve - vs + 2 * vq;
        a->name_start = pos(an);
        a->name_end = pos(an + anl);
        a->value_start = pos(vs - vq);
        a->value_end = pos(ve + vq);
        attrs[na++] = a;
    }
    /* k at '>' */
    fnode *e = alloc(p, sizeof *e);
    if (!e)
        return -1;
    memset(e, 0, sizeof *e);
    e->n.type = GUMBO_NODE_ELEMENT;
    GumboElement *el = &e->n.v.element;
    el->tag = t;
    el->tag_namespace = GUMBO_NAMESPACE_HTML;
    el->original_tag.data = p->s + st;
    el->original_tag.length = k + 1 - st;
    el->start_pos = pos(st);
    el->attributes.length = el->attributes.capacity = na;
    if (na) {
        el->attributes.data = alloc(p, na * sizeof(void *));
        if (!el->attributes.data)
            return -1;
        memcpy(el->attributes.data, attrs, na * sizeof(void *));
    }
    p->i = k + 1;
    if (add_child(p, e))
        return -1;
    (void)self_closing; /* ignored on HTML elements that are not void, as the tree builder does */
    if (is_void(t)) {
        el->end_pos = pos(p->i);
        return 0;
    }
    switch (t) {
    case GUMBO_TAG_SCRIPT: return raw_content(p, e, "script", 0);
    case GUMBO_TAG_STYLE: return raw_content(p, e, "style", 0);
    case GUMBO_TAG_TEXTAREA: return p->select_open ? full(p) : raw_content(p, e, "textarea", 1);
    case GUMBO_TAG_TITLE: return raw_content(p, e, "title", 1);
    default: break;
    }
    p->stack[p->depth++] = e;
    count_open(p, t, 1);
    if (t == GUMBO_TAG_PRE && p->i < p->len && p->s[p->i] == '\n')
        p->i++; /* a newline right after <pre> is dropped */
    return 0;
}

static int end_tag(fp *p)
{
    size_t st = p->i, k = st + 2;
    if (k >= p->len || !is_alpha(p->s[k]))
        return full(p);
    while (k < p->len && !is_ws(p->s[k]) && p->s[k] != '/' && p->s[k] != '>')
        k++;
    size_t nlen = k - st - 2;
    while (k < p->len && is_ws(p->s[k]))
        k++;
    if (k >= p->len || p->s[k] != '>' || p->depth <= 1)
        return full(p);
    fnode *e = cur(p);
    GumboStringPiece nm = e->n.v.element.original_tag;
    gumbo_tag_from_original_text(&nm);
    if (nm.length != nlen || strncasecmp(nm.data, p->s + st + 2, nlen))
        return full(p); /* not the current node: implied or misnested end tags */
    e->n.v.element.end_pos = pos(st);
    e->n.v.element.original_end_tag.data = p->s + st;
    e->n.v.element.original_end_tag.length = k + 1 - st;
    count_open(p, e->n.v.element.tag, -1);
    p->depth--;
    p->i = k + 1;
    return seal(p, e);
}

/* Input the tokenizer reads byte for byte as we do: valid UTF-8 without NUL, CR, other C0 or C1
 * controls and noncharacters (gumbo replaces or reports those). One pass, mostly ASCII. */
static int input_ok(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\f') || c == 0x7F)
                return 0;
            i++;
            continue;
        }
        unsigned long cp;
        size_t n;
        if (c >= 0xC2 && c <= 0xDF)
            cp = c & 0x1F, n = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            cp = c & 0x0F, n = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            cp = c & 0x07, n = 4;
        else
            return 0;
        if (i + n > len)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF) ||
            cp <= 0x9F || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
            return 0;
        i += n;
    }
    return 1;
}

/* ------------------------------------------------------------------ incremental updates */

typedef struct {
    size_t from, to; /* the changed range of the old HTML */
    GumboNode *hit;
    long delta;
} tfind;

static void find_text(GumboNode *n, tfind *f)
{
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE) {
        size_t st = n->v.text.start_pos.offset, en = st + n->v.text.original_text.length;
        if (!f->hit && st <= f->from && f->to <= en)
            f->hit = n;
        return;
    }
    if (n->type != GUMBO_NODE_ELEMENT)
        return;
    GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        find_text(ch->data[i], f);
}

static void shift_text(GumboNode *n, size_t after, long delta)
{
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_COMMENT) {
        if (n->v.text.start_pos.offset > after)
            n->v.text.start_pos.offset = (unsigned)((long)n->v.text.start_pos.offset + delta);
        return;
    }
    if (n->type != GUMBO_NODE_ELEMENT)
        return;
    GumboVector *ch = &n->v.element.children;
    for (unsigned i = 0; i < ch->length; i++)
        shift_text(ch->data[i], after, delta);
}

int ll_dom_patch_text(ll_dom *d, const char *old, size_t oldlen, const char *nw, size_t newlen)
{
    if (!d->simple || !d->out)
        return -1;
    size_t pre = 0, min = oldlen < newlen ? oldlen : newlen;
    while (pre < min && old[pre] == nw[pre])
        pre++;
    if (pre == oldlen && pre == newlen)
        return 0; /* the same HTML */
    size_t suf = 0;
    while (suf < min - pre && old[oldlen - 1 - suf] == nw[newlen - 1 - suf])
        suf++;
    tfind f = {pre, oldlen - suf, NULL, (long)newlen - (long)oldlen};
    find_text(d->out->root, &f);
    if (!f.hit)
        return -1;
    GumboNode *t = f.hit, *par = t->parent;
    GumboTag pt = par && par->type == GUMBO_NODE_ELEMENT ? par->v.element.tag : GUMBO_TAG_UNKNOWN;
    if (pt == GUMBO_TAG_SCRIPT || pt == GUMBO_TAG_STYLE || pt == GUMBO_TAG_TEXTAREA || pt == GUMBO_TAG_TITLE ||
        pt == GUMBO_TAG_PRE)
        return -1; /* raw text and dropped leading newlines: parse */
    size_t st = t->v.text.start_pos.offset;
    long nl = (long)t->v.text.original_text.length + f.delta;
    if (nl <= 0 || st + (size_t)nl > newlen)
        return -1; /* the text goes away: another tree */
    const char *ns = nw + st;
    if (!input_ok(ns, (size_t)nl) || memchr(ns, '<', (size_t)nl) || memchr(ns, '&', (size_t)nl))
        return -1;
    char *o = ll_dom_alloc(d, (size_t)nl + 1);
    if (!o)
        return -1;
    memcpy(o, ns, (size_t)nl);
    o[nl] = 0;
    int ws = 1;
    for (long i = 0; i < nl && ws; i++)
        ws = is_ws(o[i]);
    t->type = ws ? GUMBO_NODE_WHITESPACE : GUMBO_NODE_TEXT;
    t->v.text.text = o;
    t->v.text.original_text.length = (size_t)nl;
    shift_text(d->out->root, st, f.delta);
    return 0;
}

static int context_ok(GumboTag c)
{
    switch (c) {
    case GUMBO_TAG_SELECT: case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_TR: case GUMBO_TAG_TBODY:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP: case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_HEAD: case GUMBO_TAG_HTML: case GUMBO_TAG_FRAMESET: case GUMBO_TAG_TITLE:
    case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_STYLE: case GUMBO_TAG_XMP: case GUMBO_TAG_IFRAME: case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_SCRIPT: case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_PLAINTEXT:
    case GUMBO_TAG_SVG: case GUMBO_TAG_MATH: case GUMBO_TAG_FORM:
        return 0;
    default:
        return 1;
    }
}

int ll_html_parse_simple(ll_dom *d, const char *html, size_t len, GumboTag context, unsigned max_depth)
{
    d->out = NULL;
    d->arena = NULL;
    d->simple = 0;
    d->arena_hint = 1024 + len * 24; /* about what its nodes take: one chunk for the common page */
    if (!context_ok(context) || !input_ok(html, len))
        return FULL;
    fp p;
    memset(&p, 0, sizeof p);
    p.d = d;
    p.s = html;
    p.len = len;
    p.max_depth = max_depth;
    p.stack = alloc(&p, (max_depth + 2) * sizeof *p.stack);
    GumboOutput *out = alloc(&p, sizeof *out);
    fnode *root = alloc(&p, sizeof *root);
    GumboNode *doc = alloc(&p, sizeof *doc);
    if (!p.stack || !out || !root || !doc) {
        ll_dom_free(d);
        return DEEP;
    }
    memset(out, 0, sizeof *out);
    memset(root, 0, sizeof *root);
    memset(doc, 0, sizeof *doc);
    doc->type = GUMBO_NODE_DOCUMENT;
    root->n.type = GUMBO_NODE_ELEMENT;
    root->n.parent = doc;
    root->n.v.element.tag = GUMBO_TAG_HTML;
    root->n.v.element.tag_namespace = GUMBO_NAMESPACE_HTML;
    p.stack[0] = root;
    p.depth = 1;
    while (p.i < len && p.rc == OK) {
        size_t lt = p.i;
        while (lt < len && html[lt] != '<')
            lt++;
        if (lt > p.i) {
            if (text(&p, p.i, lt, 0))
                break;
            p.i = lt;
            continue;
        }
        /* html[p.i] == '<' */
        if (p.i + 1 >= len) {
            full(&p);
            break;
        }
        char c = html[p.i + 1];
        int rc;
        if (is_alpha(c))
            rc = start_tag(&p);
        else if (c == '/')
            rc = end_tag(&p);
        else if (c == '!' && p.i + 3 < len && html[p.i + 2] == '-' && html[p.i + 3] == '-')
            rc = comment(&p);
        else
            rc = full(&p);
        if (rc)
            break;
    }
    /* elements still open at the end are complete as they are */
    while (p.rc == OK && p.depth > 1) {
        fnode *e = cur(&p);
        e->n.v.element.end_pos = pos(len);
        p.depth--;
        if (seal(&p, e))
            break;
    }
    if (p.rc == OK && seal(&p, root) == 0) {
        doc->v.document.children.data = alloc(&p, sizeof(void *));
        if (doc->v.document.children.data) {
            doc->v.document.children.data[0] = root;
            doc->v.document.children.length = doc->v.document.children.capacity = 1;
        }
    }
    if (p.rc != OK) {
        ll_dom_free(d);
        return p.rc;
    }
    out->document = doc;
    out->root = &root->n;
    d->out = out;
    d->simple = 1;
    return OK;
}
