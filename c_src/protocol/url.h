/* URLs and cookies for the protocol user, pure. */
#ifndef LL_URL_H
#define LL_URL_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    char scheme[8];  /* http | https */
    char host[256];
    int port;
    char path[4096]; /* path + query, starts with '/' */
} ll_url;

/* Parses an absolute http(s) URL. 0 = ok. */
int ll_url_parse(const char *s, ll_url *u);
/* Resolves ref against base (absolute, scheme-relative, absolute-path, relative, query-only).
 * Writes an absolute URL to out. 0 = ok. */
int ll_url_resolve(const char *base, const char *ref, char *out, size_t cap);
/* The path part of a URL (no query), into out. */
void ll_url_route(const char *url, char *out, size_t cap);

/* Cookie jar: JSON object name -> value (one origin per user; attributes ignored except that
 * Max-Age=0 / an expired Expires deletes). */
void ll_jar_store(json_t *jar, const char *set_cookie);
/* "a=1; b=2" into out (cap bytes); 0 = ok, -1 = too long. */
int ll_jar_header(json_t *jar, char *out, size_t cap);

#endif
