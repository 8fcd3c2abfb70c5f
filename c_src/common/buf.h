/* Bounded byte queue and the two framings the port reads: {packet,4} (Erlang) and NUL-terminated
 * JSON (Chromium's --remote-debugging-pipe). Every buffer has a hard cap: appending past it fails
 * instead of growing, so a peer cannot make us allocate without bound. */
#ifndef LL_BUF_H
#define LL_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t off;   /* first unread byte */
    size_t len;   /* bytes in use, from data[0] (so unread = len - off) */
    size_t cap;   /* allocated */
    size_t max;   /* hard cap on unread bytes */
} ll_buf;

void ll_buf_init(ll_buf *b, size_t max);
void ll_buf_free(ll_buf *b);
/* 0 on success, -1 when the unread part would exceed b->max (nothing appended). */
int ll_buf_append(ll_buf *b, const void *p, size_t n);
/* Reserve room for n more bytes and return the write position (NULL over cap); commit with
 * ll_buf_commit. Lets read(2) go straight into the buffer. */
char *ll_buf_reserve(ll_buf *b, size_t n);
void ll_buf_commit(ll_buf *b, size_t n);
static inline size_t ll_buf_unread(const ll_buf *b) { return b->len - b->off; }
static inline const char *ll_buf_head(const ll_buf *b) { return b->data + b->off; }
void ll_buf_consume(ll_buf *b, size_t n);

/* {packet,4}: 1 = a frame of *len bytes at *frame (consume 4 + *len after use), 0 = need more,
 * -1 = announced length above max_frame. */
int ll_packet4_next(const ll_buf *b, size_t max_frame, const char **frame, size_t *len);
/* Append one {packet,4} frame (length prefix + payload). -1 over cap. */
int ll_packet4_put(ll_buf *b, const void *p, size_t n);

/* NUL-terminated messages: 1 = message at *msg of *len bytes (consume *len + 1), 0 = need more
 * (*scanned remembers how far we looked so a large message is not rescanned), -1 = more than
 * max_msg bytes without a terminator. */
int ll_nul_next(const ll_buf *b, size_t max_msg, size_t *scanned, const char **msg, size_t *len);

#endif
