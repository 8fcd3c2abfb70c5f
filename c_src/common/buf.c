#include "buf.h"

#include <stdlib.h>
#include <string.h>

void ll_buf_init(ll_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void ll_buf_free(ll_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

char *ll_buf_reserve(ll_buf *b, size_t n)
{
    size_t unread = b->len - b->off;
    if (n > b->max || unread > b->max - n)
        return NULL;
    if (b->off > 0 && (b->off >= b->cap / 2 || b->len + n > b->cap)) {
        memmove(b->data, b->data + b->off, unread);
        b->len = unread;
        b->off = 0;
    }
    if (b->len + n > b->cap) {
        size_t want = b->cap ? b->cap : 4096;
        while (want < b->len + n)
            want *= 2;
        char *p = realloc(b->data, want);
        if (!p)
            return NULL;
        b->data = p;
        b->cap = want;
    }
    return b->data + b->len;
}

void ll_buf_commit(ll_buf *b, size_t n) { b->len += n; }

int ll_buf_append(ll_buf *b, const void *p, size_t n)
{
    if (n == 0) /* nothing to add (and no NULL + 0 on a buffer never allocated) */
        return 0;
    char *w = ll_buf_reserve(b, n);
    if (!w)
        return -1;
    if (n)
        memcpy(w, p, n);
    b->len += n;
    return 0;
}

void ll_buf_consume(ll_buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len) {
        b->off = b->len = 0;
        /* give memory back after a burst, keep a small buffer for the common case */
        if (b->cap > 256u << 10) {
            free(b->data);
            b->data = NULL;
            b->cap = 0;
        }
    }
}

int ll_packet4_next(const ll_buf *b, size_t max_frame, const char **frame, size_t *len)
{
    size_t unread = ll_buf_unread(b);
    if (unread < 4)
        return 0;
    const unsigned char *h = (const unsigned char *)ll_buf_head(b);
    size_t n = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
    if (n > max_frame)
        return -1;
    if (unread - 4 < n)
        return 0;
    *frame = (const char *)h + 4;
    *len = n;
    return 1;
}

int ll_packet4_put(ll_buf *b, const void *p, size_t n)
{
    if (n > 0xffffffffu)
        return -1;
    unsigned char h[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                          (unsigned char)n};
    char *w = ll_buf_reserve(b, n + 4);
    if (!w)
        return -1;
    memcpy(w, h, 4);
    if (n)
        memcpy(w + 4, p, n);
    b->len += n + 4;
    return 0;
}

int ll_nul_next(const ll_buf *b, size_t max_msg, size_t *scanned, const char **msg, size_t *len)
{
    size_t unread = ll_buf_unread(b);
    if (unread == 0) { /* also: a buffer never allocated has no head to point into */
        *scanned = 0;
        return 0;
    }
    const char *h = ll_buf_head(b);
    if (*scanned > unread)
        *scanned = 0;
    const char *z = memchr(h + *scanned, 0, unread - *scanned);
    if (!z) {
        *scanned = unread;
        return unread > max_msg ? -1 : 0;
    }
    size_t n = (size_t)(z - h);
    if (n > max_msg)
        return -1;
    *scanned = 0;
    *msg = h;
    *len = n;
    return 1;
}
