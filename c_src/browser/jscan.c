#include "jscan.h"

#include <string.h>

void ll_scan_ws(ll_scan *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int hex4(const char *s, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* Appends code point cp as UTF-8 when it fits whole (cap counts the NUL). */
static int put_cp(char *out, size_t cap, size_t *len, unsigned cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80)
        b[0] = (char)cp, k = 1;
    else if (cp < 0x800)
        b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f)), b[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
    else
        b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f)), b[2] = (char)(0x80 | (cp >> 6 & 0x3f)),
        b[3] = (char)(0x80 | (cp & 0x3f)), k = 4;
    if (*len + k >= cap)
        return -1;
    memcpy(out + *len, b, k);
    *len += k;
    return 0;
}

int ll_scan_string(ll_scan *p, char *out, size_t cap, int cut)
{
    size_t len = 0;
    int st = 0;
    if (p->s >= p->end || *p->s != '"')
        return -1;
    p->s++;
    while (p->s < p->end) {
        unsigned char ch = (unsigned char)*p->s;
        if (ch == '"') {
            p->s++;
            if (st && !cut)
                len = 0;
            out[len] = 0;
            return st;
        }
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            if (p->end - p->s < 2)
                return -1;
            char e = p->s[1];
            unsigned cp;
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char map[] = "\"\\/\b\f\n\r\t";
                cp = (unsigned char)map[simple - "\"\\/bfnrt"];
                p->s += 2;
            } else if (e == 'u' && p->end - p->s >= 6 && !hex4(p->s + 2, &cp)) {
                p->s += 6;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned lo;
                    if (p->end - p->s >= 6 && p->s[0] == '\\' && p->s[1] == 'u' && !hex4(p->s + 2, &lo) &&
                        lo >= 0xdc00 && lo <= 0xdfff) {
                        p->s += 6;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    } else {
                        st = 1, cut = 0; /* a lone surrogate: no usable text */
                        continue;
                    }
                } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
                    st = 1, cut = 0;
                    continue;
                }
            } else {
                return -1;
            }
            if (!st && put_cp(out, cap, &len, cp))
                st = 1;
            continue;
        }
        /* a raw character: its UTF-8 sequence whole, or not at all */
        size_t k = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
        if ((size_t)(p->end - p->s) < k)
            return -1;
        if (!st && len + k < cap) {
            memcpy(out + len, p->s, k);
            len += k;
        } else {
            st = 1;
        }
        p->s += k;
    }
    return -1;
}

int ll_scan_skip(ll_scan *p)
{
    long depth = 0;
    ll_scan_ws(p);
    while (p->s < p->end) {
        char ch = *p->s;
        if (ch == '"') {
            char none[1];
            if (ll_scan_string(p, none, sizeof none, 0) < 0)
                return -1;
            if (!depth)
                return 0;
            continue;
        }
        if (ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ']' || ch == '}') {
            if (!depth)
                return 0; /* the end of the enclosing container */
            if (!--depth) {
                p->s++;
                return 0;
            }
        } else if (ch == ',' && !depth) {
            return 0;
        }
        p->s++;
    }
    return -1;
}

int ll_scan_expect(ll_scan *p, char ch)
{
    ll_scan_ws(p);
    if (p->s >= p->end || *p->s != ch)
        return -1;
    p->s++;
    return 0;
}
