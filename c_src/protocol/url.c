#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ll_url_parse(const char *s, ll_url *u)
{
    memset(u, 0, sizeof *u);
    const char *p = strstr(s, "://");
    if (!p || p - s >= (long)sizeof u->scheme)
        return -1;
    memcpy(u->scheme, s, (size_t)(p - s));
    if (strcasecmp(u->scheme, "http") && strcasecmp(u->scheme, "https"))
        return -1;
    u->port = strcasecmp(u->scheme, "https") ? 80 : 443;
    p += 3;
    const char *h = p;
    while (*p && *p != '/' && *p != ':' && *p != '?' && *p != '#')
        p++;
    if (p == h || (size_t)(p - h) >= sizeof u->host)
        return -1;
    memcpy(u->host, h, (size_t)(p - h));
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535)
            return -1;
        u->port = (int)port;
        p = end;
    }
    const char *hash = strchr(p, '#');
    size_t n = hash ? (size_t)(hash - p) : strlen(p);
    if (n + 2 > sizeof u->path)
        return -1;
    if (*p != '/')
        u->path[0] = '/', memcpy(u->path + 1, p, n), u->path[n + 1] = 0;
    else
        memcpy(u->path, p, n), u->path[n] = 0;
    return 0;
}

int ll_url_resolve(const char *base, const char *ref, char *out, size_t cap)
{
    if (strstr(ref, "://")) {
        ll_url u;
        if (ll_url_parse(ref, &u))
            return -1;
        return snprintf(out, cap, "%s", ref) >= (int)cap ? -1 : 0;
    }
    ll_url b;
    if (!base || ll_url_parse(base, &b))
        return -1;
    char origin[300];
    int dflt = (b.port == 80 && !strcasecmp(b.scheme, "http")) || (b.port == 443 && !strcasecmp(b.scheme, "https"));
    if (dflt)
        snprintf(origin, sizeof origin, "%s://%s", b.scheme, b.host);
    else
        snprintf(origin, sizeof origin, "%s://%s:%d", b.scheme, b.host, b.port);
    int n;
    if (ref[0] == '/' && ref[1] == '/')
        n = snprintf(out, cap, "%s:%s", b.scheme, ref);
    else if (ref[0] == '/')
        n = snprintf(out, cap, "%s%s", origin, ref);
    else if (ref[0] == '?') {
        char *q = strchr(b.path, '?');
        if (q)
            *q = 0;
        n = snprintf(out, cap, "%s%s%s", origin, b.path, ref);
    } else if (ref[0] == 0 || ref[0] == '#') {
        n = snprintf(out, cap, "%s%s", origin, b.path);
    } else {
        char *q = strchr(b.path, '?');
        if (q)
            *q = 0;
        char *slash = strrchr(b.path, '/');
        if (slash)
            slash[1] = 0;
        n = snprintf(out, cap, "%s%s%s", origin, b.path, ref);
    }
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void ll_url_route(const char *url, char *out, size_t cap)
{
    ll_url u;
    if (ll_url_parse(url, &u)) {
        snprintf(out, cap, "%s", "/");
        return;
    }
    char *q = strchr(u.path, '?');
    if (q)
        *q = 0;
    snprintf(out, cap, "%s", u.path);
}

void ll_jar_store(json_t *jar, const char *sc)
{
    const char *semi = strchr(sc, ';');
    size_t first = semi ? (size_t)(semi - sc) : strlen(sc);
    const char *eq = memchr(sc, '=', first);
    if (!eq || eq == sc || first > 4096)
        return;
    char name[256], val[4096];
    const char *ns = sc;
    while (*ns == ' ')
        ns++;
    size_t nl = (size_t)(eq - ns);
    while (nl && ns[nl - 1] == ' ')
        nl--;
    if (!nl || nl >= sizeof name)
        return;
    memcpy(name, ns, nl);
    name[nl] = 0;
    size_t vl = first - (size_t)(eq + 1 - sc);
    memcpy(val, eq + 1, vl);
    val[vl] = 0;
    int del = 0;
    for (const char *p = semi; p && *p; p = strchr(p + 1, ';')) {
        const char *a = p + 1;
        while (*a == ' ')
            a++;
        if (!strncasecmp(a, "max-age=", 8) && atol(a + 8) <= 0)
            del = 1;
    }
    if (del)
        json_object_del(jar, name);
    else
        json_object_set_new(jar, name, json_string(val));
}

int ll_jar_header(json_t *jar, char *out, size_t cap)
{
    size_t len = 0;
    const char *k;
    json_t *v;
    out[0] = 0;
    json_object_foreach(jar, k, v)
    {
        int n = snprintf(out + len, cap - len, "%s%s=%s", len ? "; " : "", k, json_string_value(v));
        if (n < 0 || (size_t)n >= cap - len)
            return -1;
        len += (size_t)n;
    }
    return 0;
}
