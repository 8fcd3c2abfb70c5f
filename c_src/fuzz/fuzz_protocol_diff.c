/* libFuzzer: hostile server diffs. The input is newline-separated JSON documents: the first is the
 * join's "rendered", the others are diffs. Each is extracted, merged and rendered, the HTML parsed
 * and queried, as the port does for every frame. Any outcome but a crash, a leak or UB is fine,
 * except one: a rendering the port updates in place (ll_dom_patch_text) must give the tree a
 * fresh parse gives (abort otherwise). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dom.h"
#include "tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *SELECTORS[] = {"#count", "li:nth-child(2n+1)", "[data-phx-component]", "div > p:not(.x)", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_tree t;
    ll_tree_init(&t, "phx-F", 32, 1 << 20);
    const char *p = (const char *)data, *end = p + size;
    int n = 0;
    ll_dom prev = {0};
    char *prev_html = NULL, *prev_src = NULL;
    size_t prev_len = 0;
    while (p < end && n < 16) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_t *diff = json_loadb(p, len, 0, NULL);
        p += len + 1;
        n++;
        if (!diff)
            continue;
        ll_extract x;
        ll_tree_extract(diff, &x);
        ll_extract_free(&x);
        const char *err = NULL;
        if (ll_tree_merge(&t, diff, &err))
            continue;
        size_t hl;
        char *html = ll_tree_render(&t, &hl, NULL, &err);
        if (!html)
            continue;
        if (prev.out && ll_dom_patch_text(&prev, prev_html, prev_len, html, hl) == 0) {
            ll_dom fresh;
            if (ll_dom_parse_fragment(&fresh, html, hl, GUMBO_TAG_DIV, 32) == 0) {
                ll_str x, y;
                ll_str_init(&x, 1 << 22);
                ll_str_init(&y, 1 << 22);
                ll_dom_dump(prev.out->root, &x);
                ll_dom_dump(fresh.out->root, &y);
                if (x.len != y.len || (x.len && memcmp(x.s, y.s, x.len))) {
                    fprintf(stderr, "text update differs from a parse\n %s\n %s\n", x.s, y.s);
                    abort();
                }
                ll_str_free(&x);
                ll_str_free(&y);
                ll_dom_free(&fresh);
            }
            if (!prev_src)
                prev_src = prev_html;
            else
                free(prev_html);
            prev_html = strdup(html);
            prev_len = hl;
        } else {
            if (prev.out)
                ll_dom_free(&prev);
            free(prev_html);
            free(prev_src);
            prev_src = NULL;
            prev_html = strdup(html);
            prev_len = hl;
            if (!prev_html || ll_dom_parse_fragment(&prev, prev_html, hl, GUMBO_TAG_DIV, 32))
                prev.out = NULL;
        }
        ll_dom d;
        if (ll_dom_parse(&d, html, hl, 32) == 0) {
            for (int i = 0; SELECTORS[i]; i++) {
                ll_sel *s = ll_sel_parse(SELECTORS[i], &err);
                GumboNode *el = s ? ll_dom_query(&d, s) : NULL;
                if (el) {
                    ll_str b;
                    ll_str_init(&b, 1 << 16);
                    ll_inner_text(el, &b);
                    ll_inner_html(el, &b);
                    ll_str_free(&b);
                }
                ll_sel_free(s);
            }
            ll_dom_free(&d);
        }
        free(html);
    }
    if (prev.out)
        ll_dom_free(&prev);
    free(prev_html);
    free(prev_src);
    ll_tree_reset(&t);
    return 0;
}
