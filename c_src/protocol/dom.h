/* The page as a DOM (gumbo's HTML5 parser), the CSS selector subset the protocol backend
 * supports, and what the actions read from the DOM: text, HTML, attributes, form fields.
 *
 * SELECTORS (documented in guides/protocol.md): lists `a, b`; combinators descendant ` ` and
 * child `>`; compounds of `tag` / `*`, `#id`, `.class`, `[attr]`, `[attr=v]` `[attr~=v]`
 * `[attr^=v]` `[attr$=v]` `[attr*=v]` (v quoted or bare), `:nth-child(An+B | odd | even)`,
 * `:first-child`, `:last-child`, `:not(compound)`. Anything else is an invalid selector.
 * Bounded: 1024 bytes, 16 compounds per alternative, 16 alternatives, 16 simple parts per
 * compound. Pure: no I/O. */
#ifndef LL_DOM_H
#define LL_DOM_H

#include <gumbo.h>
#include <stddef.h>

#define LL_SEL_MAX_LEN 1024

typedef struct ll_sel ll_sel;

/* NULL with *err set ("empty", "too_long", "syntax", "too_complex", "memory"). */
ll_sel *ll_sel_parse(const char *s, const char **err);
void ll_sel_free(ll_sel *s);
int ll_sel_matches(const ll_sel *s, const GumboNode *n);

typedef struct ll_arena ll_arena;
typedef struct {
    GumboOutput *out;
    ll_arena *arena; /* every gumbo allocation of this parse, freed at once */
    int simple;      /* built by the fast parser: its text nodes know their exact source range */
    size_t arena_hint; /* first arena chunk for ll_dom_alloc (the fast parser sizes it to its input) */
} ll_dom;

/* 0 = ok; -1 when gumbo fails or the document nests deeper than max_depth. */
int ll_dom_parse(ll_dom *d, const char *html, size_t len, unsigned max_depth);
void ll_dom_free(ll_dom *d);
/* Parses html as the content of an element of tag context (the LiveView container): the fast
 * parser when the input is in its subset, else gumbo. The DOM points into html: keep it as long. */
int ll_dom_parse_fragment(ll_dom *d, const char *html, size_t len, GumboTag context, unsigned max_depth);
/* The same with gumbo only. */
int ll_dom_parse_fragment_full(ll_dom *d, const char *html, size_t len, GumboTag context, unsigned max_depth);
/* The fast parser alone (html.c): 0 = parsed (gumbo's tree for this input), 1 = the input needs the
 * full HTML5 tree builder (nothing allocated), -1 = nesting deeper than max_depth or no memory. */
int ll_html_parse_simple(ll_dom *d, const char *html, size_t len, GumboTag context, unsigned max_depth);
/* Incremental update of a fast-parsed fragment: when the new HTML differs from the one d was
 * parsed from (or last updated to) only inside one text node, that node's text is replaced and 0
 * returned; -1 when a parse is needed. The DOM keeps pointing into the HTML it was parsed from. */
int ll_dom_patch_text(ll_dom *d, const char *old, size_t oldlen, const char *nw, size_t newlen);
/* Sets (value NULL: removes) an attribute of an element of d, allocating in d's arena (a fragment
 * DOM: both parsers give it one). 0 = ok. */
int ll_dom_set_attr(ll_dom *d, GumboNode *el, const char *name, const char *value);
/* Memory of one parse (its arena, freed by ll_dom_free); NULL when out of memory. */
void *ll_dom_alloc(ll_dom *d, size_t n);
/* Swaps the container's children with the fragment's: the page DOM shows the fragment. Calling it
 * again with the same pair swaps back (do that before freeing either). */
void ll_dom_splice(GumboNode *container, ll_dom *frag);
/* First element in document order matching s (NULL if none). */
GumboNode *ll_dom_query(const ll_dom *d, const ll_sel *s);
/* Calls f for every element matching s in document order until f returns non-zero. */
void ll_dom_query_all(const ll_dom *d, const ll_sel *s, int (*f)(GumboNode *, void *), void *ud);

const char *ll_attr(const GumboNode *n, const char *name);
int ll_is_tag(const GumboNode *n, GumboTag t);
/* Closest ancestor-or-self element carrying attribute name (NULL if none). */
GumboNode *ll_closest_attr(GumboNode *n, const char *name);
GumboNode *ll_closest_tag(GumboNode *n, GumboTag t);
/* Element with this id anywhere in the document. */
GumboNode *ll_by_id(const ll_dom *d, const char *id);

/* Growing string with a hard cap. */
typedef struct {
    char *s;
    size_t len, cap, max;
    int over;
} ll_str;
void ll_str_init(ll_str *b, size_t max);
void ll_str_free(ll_str *b);
void ll_str_add(ll_str *b, const char *p, size_t n);
void ll_str_adds(ll_str *b, const char *p);
/* A JSON string (quoted; ", \ and control characters escaped; UTF-8 passes through). */
void ll_str_json(ll_str *b, const char *p);
/* application/x-www-form-urlencoded component (URLSearchParams: space = '+'). */
void ll_str_urlenc(ll_str *b, const char *p);

void ll_text_content(const GumboNode *n, ll_str *b);
/* innerText without layout: script/style/template skipped, whitespace runs collapsed, block
 * elements and <br> as line breaks, trimmed. */
void ll_inner_text(const GumboNode *n, ll_str *b);
/* Serialises the children (inner) or the node itself (outer) as HTML. */
void ll_inner_html(const GumboNode *n, ll_str *b);
void ll_outer_html(const GumboNode *n, ll_str *b);
/* HTML serialisation with a hook: called for every element, it returns 1 when it wrote the
 * element itself (the DOM patch writes the children containers keep). */
typedef int (*ll_html_hook)(const GumboNode *el, ll_str *b, void *ud);
void ll_html_serialize_children(const GumboNode *n, ll_str *b, ll_html_hook hook, void *ud);
void ll_html_start_tag(const GumboNode *el, ll_str *b);
void ll_html_end_tag(const GumboNode *el, ll_str *b);
void ll_html_attr(ll_str *b, const char *name, const char *value);
int ll_html_is_void(const GumboNode *el);
const char *ll_tag_name(const GumboNode *n, char *buf, size_t cap);
/* Every node with its type, tag, attributes and text, for comparing two parses. */
void ll_dom_dump(const GumboNode *n, ll_str *b);
/* Visible without layout: attached, not <input type=hidden>, no ancestor-or-self with the hidden
 * attribute or an inline style of display:none / visibility:hidden, not in <head>/<template>. */
int ll_visible(const GumboNode *n);

#endif
