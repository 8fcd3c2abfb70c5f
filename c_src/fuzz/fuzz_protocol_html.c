/* libFuzzer: hostile pages and selectors. Input: selector, NUL, HTML. The page goes through the
 * shell parser (csrf, container) and the DOM; the selector through the parser and matching; the
 * first match through every extraction, click metadata and, if it is in a form, serialisation.
 * The HTML also goes through the fast fragment parser (html.c): whenever it accepts an input, its
 * tree must be gumbo's, node for node (abort otherwise). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dom.h"
#include "page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int visit(GumboNode *n, void *ud)
{
    int *count = ud;
    (void)n;
    return ++*count > 64;
}

static int has_form_end(const char *html, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++)
        if (html[i] == '<' && html[i + 1] == '/' && !strncasecmp(html + i + 2, "form", 4))
            return 1;
    return 0;
}

static void same_as_gumbo(const char *html, size_t len)
{
    ll_dom a, b;
    /* gumbo 0.10 moves text that ends a form out of it ("<form><input>y</form>" puts "y" after the
     * form; browsers keep it inside): the fast parser does what browsers do, so no comparison */
    if (has_form_end(html, len))
        return;
    if (ll_html_parse_simple(&a, html, len, GUMBO_TAG_DIV, 32) != 0)
        return;
    if (ll_dom_parse_fragment_full(&b, html, len, GUMBO_TAG_DIV, 32) != 0) {
        fprintf(stderr, "fast parser accepted what gumbo refuses\n");
        abort();
    }
    ll_str x, y;
    ll_str_init(&x, 1 << 22);
    ll_str_init(&y, 1 << 22);
    ll_dom_dump(a.out->root, &x);
    ll_dom_dump(b.out->root, &y);
    if (x.len != y.len || (x.len && memcmp(x.s, y.s, x.len))) {
        fprintf(stderr, "fast parser tree differs from gumbo's\n fast  %s\n gumbo %s\n", x.s, y.s);
        abort();
    }
    ll_str_free(&x);
    ll_str_free(&y);
    ll_dom_free(&a);
    ll_dom_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, 0, size);
    if (!nul)
        return 0;
    const char *html = nul + 1;
    size_t hl = size - (size_t)(html - in);
    same_as_gumbo(html, hl);
    ll_shell sh;
    if (ll_shell_parse(html, hl, 32, &sh) == 0)
        ll_shell_free(&sh);
    const char *err;
    ll_sel *s = ll_sel_parse(in, &err);
    ll_dom d;
    if (s && ll_dom_parse(&d, html, hl, 32) == 0) {
        int count = 0;
        ll_dom_query_all(&d, s, visit, &count);
        GumboNode *el = ll_dom_query(&d, s);
        if (el) {
            ll_str b;
            ll_str_init(&b, 1 << 16);
            ll_inner_text(el, &b);
            ll_text_content(el, &b);
            ll_outer_html(el, &b);
            ll_str_free(&b);
            json_t *fs = json_object();
            ll_field_set_value(fs, el, "v");
            ll_field_set_checked(fs, el, 1);
            ll_field_mark_used(fs, el);
            json_t *vals = json_pack("[s]", "x");
            ll_field_set_selected(fs, el, vals);
            json_decref(vals);
            json_decref(ll_extract_meta(fs, el));
            GumboNode *form = ll_form_of(&d, el);
            if (form) {
                ll_str f;
                ll_str_init(&f, 1 << 16);
                ll_serialize_form(&d, fs, form, el, NULL, 1, &f);
                ll_field_mark_form_submitted(fs, form);
                ll_serialize_form(&d, fs, form, NULL, "q", 0, &f);
                ll_str_free(&f);
            }
            json_decref(fs);
        }
        ll_dom_free(&d);
    }
    ll_sel_free(s);
    return 0;
}
