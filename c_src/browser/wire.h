/* LiveView wire round trips from a page's WebSocket frames (CDP Network.webSocketFrameSent /
 * webSocketFrameReceived): a push `[join_ref, ref, "lv:...", "event", {type, event, ...}]` is
 * remembered until the frame `[join_ref, ref, topic, "phx_reply", ...]` of the same socket answers
 * it; the two frame timestamps give the round trip. Only the head of a frame is read (the four
 * leading strings, and for a push the payload's top-level `type` and `event`), never a whole diff.
 *
 * Frame content is untrusted (the page and the server write it): the reader never reads past the
 * given length, copies only into fixed buffers, and a frame that does not start like a Phoenix V2
 * message is simply not matched. The table of pending pushes is bounded per user: the oldest push
 * gives way when it is full, and a push unanswered for LL_WIRE_TTL_S (frame clock) is forgotten.
 * Pure C, no I/O: core.c feeds it, C tests and a fuzz target drive it directly. */
#ifndef LL_WIRE_H
#define LL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define LL_WIRE_PENDING 32 /* pushes awaiting their reply, per user */
#define LL_WIRE_TTL_S 60.0 /* a push unanswered this long (seconds, frame clock) is forgotten */
#define LL_PHX_REF 24      /* join_ref, ref: Phoenix sends decimal counters */
#define LL_PHX_TOPIC 128   /* the demo target and Phoenix cap topics near that */
#define LL_PHX_EVENT 128   /* frame event and the push's event name (names are capped at 64 chars later) */
#define LL_PHX_TYPE 24     /* click, form, keyup, hook, ... */

/* The head of a Phoenix V2 frame. A string that does not fit is "" with its *_ok flag 0. */
typedef struct {
    char join_ref[LL_PHX_REF], ref[LL_PHX_REF], topic[LL_PHX_TOPIC], event[LL_PHX_EVENT];
    /* payload.type and payload.event of an "event" push (read only when asked); the name is cut at
     * a character boundary when longer than its buffer */
    char push_type[LL_PHX_TYPE], push_event[LL_PHX_EVENT];
    int join_ref_null, ref_null, push_type_ok, push_event_ok;
} ll_phx_head;

/* Reads `[join_ref, ref, topic, event,` (join_ref and ref: string or null; topic and event:
 * strings that fit) from the first n bytes of s; with with_payload and event "event", also the
 * payload object's top-level "type" and "event" strings. Returns 0, or -1 when s does not start
 * like that. */
int ll_phx_head_parse(const char *s, size_t n, ll_phx_head *h, int with_payload);

typedef struct {
    int used;
    uint32_t socket;     /* the user's socket generation the push went out on */
    double ts, wall_ms;  /* frame timestamp (s, browser's monotonic clock); wall clock ms, < 0 unknown */
    char join_ref[LL_PHX_REF], ref[LL_PHX_REF], topic[LL_PHX_TOPIC];
    char type[LL_PHX_TYPE], event[LL_PHX_EVENT]; /* "" when the push did not say */
} ll_wire_push;

typedef struct {
    ll_wire_push p[LL_WIRE_PENDING];
    unsigned n;
} ll_wire;

/* A text frame the page sent on `socket' at ts: remembered when it is a LiveView "event" push
 * with a ref. Pushes older than LL_WIRE_TTL_S, or the oldest one when the table is full, are
 * forgotten and counted in *dropped. Returns 1 when remembered. */
int ll_wire_sent(ll_wire *w, uint32_t socket, double ts, double wall_ms, const char *frame, size_t n,
                 uint64_t *dropped);
/* A text frame the page received on `socket': when it is the phx_reply to a remembered push
 * (same socket, join_ref, ref and topic), copies that push to *out, forgets it and returns 1. */
int ll_wire_received(ll_wire *w, uint32_t socket, const char *frame, size_t n, ll_wire_push *out);
/* Forgets the pushes of a socket that closed (counted in *dropped). */
void ll_wire_forget(ll_wire *w, uint32_t socket, uint64_t *dropped);

#endif
