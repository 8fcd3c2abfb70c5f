/* Unit tests of the protocol port's pure cores: the rendered tree against fixtures produced by the
 * real phoenix_live_view rendered.js (tests/protocol_fixtures.json, regenerate with
 * `node test/js/protocol_fixtures.js`), selectors, DOM text/HTML, form serialisation, URLs and
 * cookies, the page shell, and hostile input (bounded, an error, never a crash). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dom.h"
#include "page.h"
#include "tree.h"
#include "url.h"

static int fails, checks;

#define CHECK(c)                                                                                                   \
    do {                                                                                                           \
        checks++;                                                                                                  \
        if (!(c)) {                                                                                                \
            fails++;                                                                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);                                  \
        }                                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                                            \
    do {                                                                                                           \
        checks++;                                                                                                  \
        const char *a_ = (a), *b_ = (b);                                                                           \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                                                        \
            fails++;                                                                                               \
            fprintf(stderr, "%s:%d: got\n  %s\nwant\n  %s\n", __FILE__, __LINE__, a_ ? a_ : "(null)",              \
                    b_ ? b_ : "(null)");                                                                           \
        }                                                                                                          \
    } while (0)

/* the JS client's magic ids are a DOM-patching aid, not page content */
static void strip_magic(char *s)
{
    char *p;
    while ((p = strstr(s, " data-phx-id=\""))) {
        char *e = strchr(p + 14, '"');
        if (!e)
            return;
        memmove(p, e + 1, strlen(e + 1) + 1);
    }
}

static void test_fixtures(const char *path)
{
    json_error_t err;
    json_t *all = json_load_file(path, 0, &err);
    CHECK(json_is_array(all));
    size_t i, j;
    json_t *c, *st;
    int cases = 0;
    json_array_foreach(all, i, c)
    {
        ll_tree t;
        ll_tree_init(&t, "phx-F1", 64, 1 << 20);
        json_array_foreach(json_object_get(c, "steps"), j, st)
        {
            const char *e = NULL;
            json_t *diff = json_deep_copy(json_object_get(st, "diff"));
            ll_extract x;
            ll_tree_extract(diff, &x);
            ll_extract_free(&x);
            int rc = ll_tree_merge(&t, diff, &e);
            CHECK(rc == 0);
            size_t len;
            char *html = ll_tree_render(&t, &len, &e);
            char *want = strdup(json_string_value(json_object_get(st, "html")));
            strip_magic(want);
            if (!html || strcmp(html, want))
                fprintf(stderr, "fixture %s (%s) step %zu\n", json_string_value(json_object_get(c, "name")),
                        json_string_value(json_object_get(c, "version")), j);
            CHECK_STR(html, want);
            free(html);
            free(want);
        }
        ll_tree_reset(&t);
        cases++;
    }
    CHECK(cases >= 16);
    json_decref(all);
}

static void test_tree_hostile(void)
{
    ll_tree t;
    const char *e = NULL;
    size_t len;
    /* statics that are not a list */
    ll_tree_init(&t, "v", 16, 4096);
    CHECK(ll_tree_merge(&t, json_loads("{\"s\": 5, \"0\": \"x\"}", 0, NULL), &e) == 0);
    CHECK(ll_tree_render(&t, &len, &e) == NULL);
    ll_tree_reset(&t);
    /* nesting over the cap */
    char deep[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "{\"s\":[\"<b>\",\"</b>\"],\"0\":");
    strcat(deep, "\"x\"");
    for (int i = 0; i < 40; i++)
        strcat(deep, "}");
    CHECK(ll_tree_merge(&t, json_loads(deep, 0, NULL), &e) == 0);
    e = NULL;
    CHECK(ll_tree_render(&t, &len, &e) == NULL && e && !strcmp(e, "depth"));
    ll_tree_reset(&t);
    /* a component that renders itself */
    CHECK(ll_tree_merge(&t, json_loads("{\"s\":[\"\",\"\"],\"0\":1,\"c\":{\"1\":{\"s\":[\"<p>\",\"</p>\"],\"0\":1}}}", 0, NULL),
                        &e) == 0);
    CHECK(ll_tree_render(&t, &len, &e) == NULL);
    ll_tree_reset(&t);
    /* a component sharing the statics of itself */
    e = NULL;
    CHECK(ll_tree_merge(&t, json_loads("{\"s\":[\"\",\"\"],\"0\":1,\"c\":{\"1\":{\"s\":1}}}", 0, NULL), &e) == -1);
    ll_tree_reset(&t);
    /* HTML over the cap */
    ll_tree_init(&t, "v", 16, 64);
    CHECK(ll_tree_merge(&t, json_loads("{\"s\":[\"0123456789012345678901234567890123456789\",\"0123456789012345678901234567890123456789\"],\"0\":\"\"}", 0, NULL), &e) == 0);
    CHECK(ll_tree_render(&t, &len, &e) == NULL && !strcmp(e, "html_too_large"));
    ll_tree_reset(&t);
    /* a move in a keyed diff without km, and a non-object diff */
    CHECK(ll_tree_merge(&t, json_loads("{\"s\":[\"\",\"\"],\"0\":{\"s\":[\"a\"],\"k\":{\"kc\":1,\"0\":{}}}}", 0, NULL), &e) == 0);
    CHECK(ll_tree_merge(&t, json_loads("{\"0\":{\"k\":{\"kc\":1,\"0\":[5,{}]}}}", 0, NULL), &e) == -1);
    CHECK(ll_tree_merge(&t, json_loads("[1]", 0, NULL), &e) == -1);
    ll_tree_reset(&t);
}

static const char *PAGE =
    "<!DOCTYPE html><html><head><meta name=\"csrf-token\" content=\"tok&amp;1\"><title>T</title></head><body>"
    "<div id=\"phx-F1\" data-phx-main data-phx-session=\"SESS\" data-phx-static=\"ST\"><p>dead</p></div>"
    "<script>x</script></body></html>";

static void test_shell(void)
{
    ll_shell sh;
    CHECK(ll_shell_parse(PAGE, strlen(PAGE), 64, &sh) == 0);
    CHECK_STR(sh.csrf, "tok&1");
    CHECK_STR(sh.id, "phx-F1");
    CHECK_STR(sh.session, "SESS");
    CHECK_STR(sh.static_, "ST");
    CHECK(sh.main == 1);
    CHECK(!strncmp(PAGE + sh.prefix_len, "<p>dead</p>", 11));
    CHECK(!strncmp(PAGE + sh.suffix_off, "</div><script>", 14));
    ll_shell_free(&sh);
    const char *dead = "<html><head><meta name=\"csrf-token\" content=\"x\"></head><body><p>no view</p></body></html>";
    CHECK(ll_shell_parse(dead, strlen(dead), 64, &sh) == -1);
    const char *nocsrf = "<div id=\"a\" data-phx-session=\"s\"></div>";
    CHECK(ll_shell_parse(nocsrf, strlen(nocsrf), 64, &sh) == -2);
}

static const char *DOC =
    "<html><body><main id=\"m\" class=\"page big\">"
    "<ul id=\"items\"><li id=\"item-1\" data-x=\"y\">one</li><li id=\"item-2\" class=\"odd\">two <b>bold</b></li>"
    "<li id=\"item-3\" hidden>three</li></ul>"
    "<button id=\"inc\" phx-click=\"inc\" phx-value-id=\"7\" phx-value-kind=\"a b\">+</button>"
    "<form id=\"f\" phx-change=\"validate\" phx-submit=\"save\">"
    "<input id=\"q\" name=\"q\" value=\"hello world\"><input type=\"hidden\" name=\"h\" value=\"1\">"
    "<select id=\"kind\" name=\"kind\"><option value=\"all\">All</option><option value=\"books\" selected>Books</option></select>"
    "<input type=\"hidden\" name=\"exact\" value=\"false\"><input id=\"exact\" type=\"checkbox\" name=\"exact\" value=\"true\">"
    "<textarea id=\"t\" name=\"t\">text &amp; more</textarea>"
    "<input id=\"dis\" name=\"dis\" value=\"d\" disabled>"
    "<button id=\"go\" name=\"go\" value=\"1\" type=\"submit\">Go</button></form>"
    "<p id=\"s\" style=\"display: none\">x</p>"
    "</main></body></html>";

static GumboNode *q(ll_dom *d, const char *sel)
{
    const char *err;
    ll_sel *s = ll_sel_parse(sel, &err);
    if (!s) {
        fprintf(stderr, "selector %s: %s\n", sel, err);
        return NULL;
    }
    GumboNode *n = ll_dom_query(d, s);
    ll_sel_free(s);
    return n;
}

static const char *id_of(ll_dom *d, const char *sel)
{
    GumboNode *n = q(d, sel);
    return n ? ll_attr(n, "id") : "(none)";
}

static void test_selectors(void)
{
    ll_dom d;
    CHECK(ll_dom_parse(&d, DOC, strlen(DOC), 64) == 0);
    CHECK_STR(id_of(&d, "#inc"), "inc");
    CHECK_STR(id_of(&d, "li.odd"), "item-2");
    CHECK_STR(id_of(&d, ".page.big > ul li:nth-child(3)"), "item-3");
    CHECK_STR(id_of(&d, "[data-x=\"y\"]"), "item-1");
    CHECK_STR(id_of(&d, "[data-x=y]"), "item-1");
    CHECK_STR(id_of(&d, "#items > li:not(#item-1)"), "item-2");
    CHECK_STR(id_of(&d, "li:last-child"), "item-3");
    CHECK_STR(id_of(&d, "li:first-child"), "item-1");
    CHECK_STR(id_of(&d, "li:nth-child(2n+1):not([data-x])"), "item-3");
    CHECK_STR(id_of(&d, "li:nth-child(even)"), "item-2");
    CHECK_STR(id_of(&d, "main button[phx-click^=in]"), "inc");
    CHECK_STR(id_of(&d, "nope, #q"), "q");
    CHECK_STR(id_of(&d, "[id$=\"-2\"]"), "item-2");
    CHECK_STR(id_of(&d, "[class~=big]"), "m");
    CHECK_STR(id_of(&d, "[id*=tem-3]"), "item-3");
    CHECK_STR(id_of(&d, "FORM#f > INPUT[name=q]"), "q");
    CHECK(q(&d, "ul > b") == NULL);
    CHECK(q(&d, "ul b") != NULL && ll_is_tag(q(&d, "ul b"), GUMBO_TAG_B));
    const char *err;
    const char *bad[] = {"", "#", "a >", "a ~ b", "::x", "[x", ":hover", "a,,b", "[x=\"unterminated]", ":nth-child(x)", NULL};
    for (int i = 0; bad[i]; i++) {
        ll_sel *s = ll_sel_parse(bad[i], &err);
        if (s)
            fprintf(stderr, "accepted bad selector %s\n", bad[i]);
        CHECK(s == NULL);
        ll_sel_free(s);
    }
    ll_dom_free(&d);
}

static void test_text(void)
{
    ll_dom d;
    CHECK(ll_dom_parse(&d, DOC, strlen(DOC), 64) == 0);
    ll_str b;
    ll_str_init(&b, 1 << 16);
    ll_inner_text(q(&d, "#items"), &b);
    CHECK_STR(b.s, "one\ntwo bold");
    ll_str_free(&b);
    ll_str_init(&b, 1 << 16);
    ll_text_content(q(&d, "#items"), &b);
    CHECK_STR(b.s, "onetwo boldthree");
    ll_str_free(&b);
    ll_str_init(&b, 1 << 16);
    ll_inner_html(q(&d, "#item-2"), &b);
    CHECK_STR(b.s, "two <b>bold</b>");
    ll_str_free(&b);
    ll_str_init(&b, 1 << 16);
    ll_outer_html(q(&d, "#t"), &b);
    CHECK_STR(b.s, "<textarea id=\"t\" name=\"t\">text &amp; more</textarea>");
    ll_str_free(&b);
    CHECK(ll_visible(q(&d, "#inc")));
    CHECK(!ll_visible(q(&d, "#item-3")));
    CHECK(!ll_visible(q(&d, "#s")));
    CHECK(!ll_visible(q(&d, "input[type=hidden]")));
    ll_str_init(&b, 8);
    ll_str_adds(&b, "0123456789");
    CHECK(b.over && b.len == 0);
    ll_str_free(&b);
    ll_dom_free(&d);
}

static void test_forms(void)
{
    ll_dom d;
    CHECK(ll_dom_parse(&d, DOC, strlen(DOC), 64) == 0);
    json_t *fs = json_object();
    GumboNode *form = q(&d, "#f");
    ll_str b;
    /* LiveView 1.x: untouched fields get _unused_ keys, hidden ones never do */
    ll_field_set_value(fs, q(&d, "#q"), "a&b c");
    ll_field_mark_used(fs, q(&d, "#q"));
    ll_str_init(&b, 1 << 16);
    ll_serialize_form(&d, fs, form, NULL, NULL, 1, &b);
    CHECK_STR(b.s, "q=a%26b+c&h=1&_unused_kind=&kind=books&_unused_exact=&exact=false&_unused_t=&t=text+%26+more");
    ll_str_free(&b);
    /* 0.20: no _unused_; a checked box and a new selection; the submitter is included */
    ll_field_set_checked(fs, q(&d, "#exact"), 1);
    json_t *vals = json_pack("[s]", "All");
    CHECK(ll_field_set_selected(fs, q(&d, "#kind"), vals) == 0);
    json_decref(vals);
    vals = json_pack("[s]", "nope");
    CHECK(ll_field_set_selected(fs, q(&d, "#kind"), vals) == -1);
    json_decref(vals);
    ll_str_init(&b, 1 << 16);
    ll_serialize_form(&d, fs, form, q(&d, "#go"), NULL, 0, &b);
    CHECK_STR(b.s, "q=a%26b+c&h=1&kind=all&exact=false&exact=true&t=text+%26+more&go=1");
    ll_str_free(&b);
    ll_str_init(&b, 1 << 16);
    ll_serialize_form(&d, fs, form, NULL, "q", 0, &b);
    CHECK_STR(b.s, "q=a%26b+c");
    ll_str_free(&b);
    /* the override lasts while the server renders what it rendered when the user typed */
    ll_str sc;
    ll_str_init(&sc, 1 << 16);
    CHECK_STR(ll_field_value(fs, q(&d, "#q"), &sc), "a&b c");
    ll_str_free(&sc);
    /* extractMeta */
    json_t *m = ll_extract_meta(fs, q(&d, "#inc"));
    char *s = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK_STR(s, "{\"id\":\"7\",\"kind\":\"a b\",\"value\":\"\"}");
    free(s);
    json_decref(m);
    m = ll_extract_meta(fs, q(&d, "#item-1"));
    s = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK_STR(s, "{\"value\":0}");
    free(s);
    json_decref(m);
    json_decref(fs);
    ll_dom_free(&d);
}

static void test_urls(void)
{
    char out[512];
    CHECK(ll_url_resolve("http://127.0.0.1:4000/nav?page=1", "/counter", out, sizeof out) == 0);
    CHECK_STR(out, "http://127.0.0.1:4000/counter");
    CHECK(ll_url_resolve("http://h:4000/a/b?x=1", "c?y=2", out, sizeof out) == 0);
    CHECK_STR(out, "http://h:4000/a/c?y=2");
    CHECK(ll_url_resolve("http://h:4000/nav?page=1", "?page=2", out, sizeof out) == 0);
    CHECK_STR(out, "http://h:4000/nav?page=2");
    CHECK(ll_url_resolve("http://h/a", "https://other/x", out, sizeof out) == 0);
    CHECK_STR(out, "https://other/x");
    CHECK(ll_url_resolve("http://h/a", "//cdn/x", out, sizeof out) == 0);
    CHECK_STR(out, "http://cdn/x");
    CHECK(ll_url_resolve(NULL, "/x", out, sizeof out) == -1);
    CHECK(ll_url_resolve("ftp://h/", "/x", out, sizeof out) == -1);
    ll_url u;
    CHECK(ll_url_parse("http://h:99999/", &u) == -1);
    CHECK(ll_url_parse("http://h:81/p?q#f", &u) == 0 && u.port == 81 && !strcmp(u.path, "/p?q"));
    ll_url_route("http://h/nav?page=2", out, sizeof out);
    CHECK_STR(out, "/nav");
    json_t *jar = json_object();
    ll_jar_store(jar, "_app_key=SFMy; path=/; HttpOnly; SameSite=Lax");
    ll_jar_store(jar, "b=2");
    CHECK(ll_jar_header(jar, out, sizeof out) == 0);
    CHECK_STR(out, "_app_key=SFMy; b=2");
    ll_jar_store(jar, "b=; Max-Age=0");
    ll_jar_store(jar, "=novalue");
    ll_jar_store(jar, "noequals");
    CHECK(ll_jar_header(jar, out, sizeof out) == 0);
    CHECK_STR(out, "_app_key=SFMy");
    CHECK(ll_jar_header(jar, out, 5) == -1);
    json_decref(jar);
}

static void test_dom_hostile(void)
{
    ll_dom d;
    char *deep = malloc(200 * 5 + 1);
    deep[0] = 0;
    for (int i = 0; i < 200; i++)
        strcat(deep, "<div>");
    CHECK(ll_dom_parse(&d, deep, strlen(deep), 64) == -1);
    free(deep);
    const char *junk = "\x00\xff<<>>&&&#xffffff;<a href=\"x";
    CHECK(ll_dom_parse(&d, junk, 24, 64) == 0);
    ll_dom_free(&d);
    const char *err;
    char longsel[2000];
    memset(longsel, 'a', sizeof longsel - 1);
    longsel[sizeof longsel - 1] = 0;
    CHECK(ll_sel_parse(longsel, &err) == NULL && !strcmp(err, "too_long"));
    char many[600] = "";
    for (int i = 0; i < 20; i++)
        strcat(many, "a ");
    strcat(many, "a");
    CHECK(ll_sel_parse(many, &err) == NULL && !strcmp(err, "too_complex"));
}

int main(int argc, char **argv)
{
    const char *fixtures = argc > 1 ? argv[1] : "tests/protocol_fixtures.json";
    if (getenv("PROTOCOL_FIXTURES"))
        fixtures = getenv("PROTOCOL_FIXTURES");
    test_fixtures(fixtures);
    test_tree_hostile();
    test_shell();
    test_selectors();
    test_text();
    test_forms();
    test_urls();
    test_dom_hostile();
    printf("test_protocol: %d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}
