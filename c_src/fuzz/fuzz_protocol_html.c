/* libFuzzer: hostile pages and selectors. Input: selector, NUL, HTML. The page goes through the
 * shell parser (csrf, container) and the DOM; the selector through the parser and matching; the
 * first match through every extraction, click metadata and, if it is in a form, serialisation. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dom.h"
#include "page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int visit(GumboNode *n, void *ud)
{
    int *count = ud;
    (void)n;
    return ++*count > 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, 0, size);
    if (!nul)
        return 0;
    const char *html = nul + 1;
    size_t hl = size - (size_t)(html - in);
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
