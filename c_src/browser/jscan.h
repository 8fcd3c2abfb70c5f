/* A bounded walk over untrusted JSON text, for the few readers that only need a handful of
 * fields out of a larger document (the head of a LiveView frame, the params of a network-log
 * event): nothing is allocated, nothing is read past `end', strings are decoded into fixed
 * buffers. Not a validator: it walks what it is told to walk and says when the text stops making
 * sense (-1). */
#ifndef LL_JSCAN_H
#define LL_JSCAN_H

#include <stddef.h>

typedef struct {
    const char *s, *end;
} ll_scan;

void ll_scan_ws(ll_scan *p);
/* 0 and past `ch' (after blanks), or -1 */
int ll_scan_expect(ll_scan *p, char ch);
/* A JSON string at p->s (which must be '"'), decoded into out (cap bytes with the NUL). Returns 0
 * when it fitted; 1 when it was consumed but did not fit, or held \u0000 or a lone surrogate (out
 * is then "" — or, with cut, the longest prefix of whole characters); -1 when it is malformed or
 * unterminated within the input. */
int ll_scan_string(ll_scan *p, char *out, size_t cap, int cut);
/* Skips one value (no recursion: bracket depth is a counter); stops before a ',' or the closing
 * bracket of the enclosing container. 0, or -1 when the input ran out. */
int ll_scan_skip(ll_scan *p);

#endif
