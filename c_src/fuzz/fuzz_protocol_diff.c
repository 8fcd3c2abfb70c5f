/* libFuzzer: hostile server diffs. The input is newline-separated JSON documents: the first is the
 * join's "rendered", the others are diffs. Each is extracted, merged and rendered, the HTML parsed
 * and queried, as the port does for every frame. Any outcome but a crash, a leak or UB is fine. */
#include <jansson.h>
#include <stdint.h>
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
    ll_tree_reset(&t);
    return 0;
}
