/* LiveView round trips from a page's WebSocket frames.
 *
 * CDP side (Network.webSocketFrameSent / webSocketFrameReceived, timestamps taken in the page's
 * renderer): a push `[join_ref, ref, topic, event, payload]` is remembered until the frame
 * `[join_ref, ref, topic, "phx_reply", ...]` of the same socket answers it. Only the head of a frame
 * is read (the four leading strings, and for a push the payload's top-level `type` and `event`),
 * never a whole diff. Every push with a ref is remembered (its reply bounds when the network
 * service can have written it); LiveView "event" pushes on lv:* topics are the timed ones.
 *
 * Network side (netlog.h): every data frame of a socket, in order, is kept in a history per
 * direction with the interval its network-service time must lie in (sent: from the page's send to
 * the page's reading of its reply; received: from its push's send to the page's reading). A
 * tracing window that recorded every frame between cs and ce gives the socket's network messages
 * in that interval, in order; they are the consecutive CDP frames of some offset. Every offset is
 * tried: a pair must agree in payload size (unless the log does not know it) and lie in the
 * frame's interval, a frame left before the window must be able to precede cs, one left after it
 * able to follow ce. When exactly one offset fits, its pairs are certain; otherwise nothing is
 * paired (dropped and counted by the caller, never guessed). A frame whose network time fell in
 * the gap between two windows is one left before or after the window, never a shifted pair. A timed push whose push and reply
 * frames are both paired gives the wire round trip from the network service's own times.
 *
 * Frame content and the log are untrusted: the reader never reads past the given length, copies
 * only into fixed buffers, and a frame that does not start like a Phoenix V2 message is simply not
 * matched. Tables are bounded per user: the oldest push gives way when the pending table is full,
 * a push unanswered for LL_WIRE_TTL_S (frame clock) is forgotten; a full history forgets its
 * oldest frame and counts it as a ghost that may still show up in a window (ghosts only widen the
 * offsets tried). Pure C, no I/O: core.c feeds it, C tests and fuzz targets drive it directly. */
#ifndef LL_WIRE_H
#define LL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "netlog.h"

#define LL_WIRE_PENDING 32 /* pushes awaiting their reply, per user */
#define LL_WIRE_RECORDS 64 /* answered timed pushes awaiting their network-side times, per user */
#define LL_HIST 256        /* frames kept per socket and direction until their network time is settled */
#define LL_WIRE_EPS 50e-6  /* clock slack (s) when comparing CDP and network-log times (both CLOCK_MONOTONIC) */
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
    int timed;           /* a LiveView "event" push (lv:* topic): its round trip is reported */
    uint32_t socket;     /* the user's socket generation the push went out on */
    uint64_t serial;     /* its frame in the socket's sent history */
    double ts, wall_ms;  /* frame timestamp (s, browser's monotonic clock); wall clock ms, < 0 unknown */
    char join_ref[LL_PHX_REF], ref[LL_PHX_REF], topic[LL_PHX_TOPIC];
    char type[LL_PHX_TYPE], event[LL_PHX_EVENT]; /* "" when the push did not say */
} ll_wire_push;

/* An answered timed push waiting for the network side to time its two frames. */
typedef struct {
    int used;
    uint32_t socket;
    uint64_t push, reply;       /* serials in the socket's sent and received histories */
    double push_ts, reply_ts;   /* CDP timestamps (s) */
    double net_push, net_reply; /* network-service timestamps (s) once known, NAN before */
    double wall_ms;             /* when the push left (ms since the epoch), < 0 unknown */
    double made_ms;             /* when the record was made (caller's clock), for its expiry */
    char type[LL_PHX_TYPE], event[LL_PHX_EVENT];
    char *url;                  /* the page's URL when the reply came (malloc'd), or NULL */
} ll_wire_rec;

typedef struct {
    ll_wire_push p[LL_WIRE_PENDING];
    unsigned n;
    ll_wire_rec r[LL_WIRE_RECORDS];
    unsigned nr;
} ll_wire;

/* A text frame the page sent on `socket' at ts (its frame `serial' in the socket's sent history):
 * remembered when it is a push with a ref. Pushes older than LL_WIRE_TTL_S, or the oldest one
 * when the table is full, are forgotten (timed ones counted in *dropped). Returns 1 when
 * remembered. */
int ll_wire_sent(ll_wire *w, uint32_t socket, double ts, double wall_ms, uint64_t serial, const char *frame, size_t n,
                 uint64_t *dropped);
/* A text frame the page received on `socket': when it is the phx_reply to a remembered push
 * (same socket, join_ref, ref and topic), copies that push to *out, forgets it and returns 1. */
int ll_wire_received(ll_wire *w, uint32_t socket, const char *frame, size_t n, ll_wire_push *out);
/* Forgets the pushes of a socket that closed (timed ones counted in *dropped). */
void ll_wire_forget(ll_wire *w, uint32_t socket, uint64_t *dropped);

/* An answered timed push awaiting its network-side times; takes a copy of url. When the table is
 * full the oldest record gives way (returned in *evicted, which the caller counts and frees with
 * ll_wire_rec_free). Returns the record. */
ll_wire_rec *ll_wire_record(ll_wire *w, const ll_wire_push *push, uint64_t reply, double reply_ts, const char *url,
                            ll_wire_rec *evicted);
void ll_wire_rec_free(ll_wire *w, ll_wire_rec *r);

/* ------------------------------------------------------------------ network-side times */

typedef struct {
    double ts;      /* CDP timestamp (s) */
    double lb, ub;  /* where the network service's time of this frame can lie (s, +-inf: unbounded) */
    double net;     /* the network service's time once certain, NAN before */
    uint32_t len;   /* payload bytes */
} ll_hframe;

/* One socket direction's frames in order; serials count from the socket's first frame. */
typedef struct {
    ll_hframe f[LL_HIST];
    uint64_t first, next; /* held: first <= serial < next, at f[serial % LL_HIST] */
    unsigned ghosts;      /* frames forgotten (full) while they could still appear in a window */
    double settled;       /* end of the last window aligned: nothing older can appear again */
} ll_hist;

void ll_hist_init(ll_hist *h);
/* Appends a frame; returns its serial. */
uint64_t ll_hist_add(ll_hist *h, double ts, double lb, double ub, uint32_t len);
/* The frame of `serial', or NULL when no longer held. */
ll_hframe *ll_hist_get(ll_hist *h, uint64_t serial);
/* The network messages `net' (k of them, in order, all of this socket and direction) of a window
 * complete between cs and ce: 1 when exactly one offset fits (its pairs get their `net' time), 0
 * when several fit (nothing paired), -1 when none does (the window missed frames or the
 * mapping is wrong: nothing paired). */
int ll_hist_align(ll_hist *h, const ll_netlog_msg *net, size_t k, double cs, double ce);
/* After the window ending at ce has been read out: forgets the frames no later window can hold
 * (those before a paired one, and those whose network time had to be before ce). */
void ll_hist_trim(ll_hist *h, double ce);

/* ------------------------------------------------------------------ one socket, both sides */

typedef struct {
    ll_hist dir[2];          /* [0] received, [1] sent */
    char key[LL_NETLOG_KEY]; /* the Sec-WebSocket-Key of its handshake (CDP), "" unknown */
    uint64_t track;          /* its network-log source, once a window showed the same key */
    int mapped;
} ll_wsock;

void ll_wsock_init(ll_wsock *s);
/* A data frame of the socket (payload `len' bytes). Sent: remembered in the pending table when
 * it is a push. Received: when it answers a remembered push, *out is that push and 1 is returned
 * (the push's frame is then known to have left before ts, the reply's after the push). s may be
 * NULL (network-side timing off). */
void ll_wire_frame_sent(ll_wire *w, ll_wsock *s, uint32_t socket, double ts, double wall_ms, const char *text,
                        size_t n, uint32_t len, uint64_t *dropped);
int ll_wire_frame_received(ll_wire *w, ll_wsock *s, uint32_t socket, double ts, const char *text, size_t n,
                           uint32_t len, ll_wire_push *out, uint64_t *reply_serial);
/* Aligns the socket's two directions with window `w' (complete between cs and ce; its messages
 * sorted by track). Returns how many directions could not be aligned (0..2); 0 when unmapped. */
int ll_wsock_align(ll_wsock *s, const ll_netlog_window *w, double cs, double ce);

/* What became of a record after a window. */
typedef void (*ll_wire_emit_fn)(void *ud, const ll_wire_rec *r, double ms);
/* The records of `socket' whose two frames now have network times are emitted (ms = reply -
 * push) and forgotten; those whose reply came before ce without both times never will: counted
 * in *unmatched and forgotten. s NULL: every record of the socket is unmatched. Then the
 * socket's histories forget what no later window can hold. */
void ll_wire_settle(ll_wire *w, uint32_t socket, ll_wsock *s, double ce, ll_wire_emit_fn emit, void *ud,
                    uint64_t *unmatched);
/* Records of `socket' (any socket when all), forgotten and counted in *unmatched. */
void ll_wire_drop_records(ll_wire *w, uint32_t socket, int all, uint64_t *unmatched);
int ll_wire_has_records(const ll_wire *w, uint32_t socket);
/* Records made before `before' (caller's clock), forgotten and counted in *unmatched. */
void ll_wire_expire(ll_wire *w, double before, uint64_t *unmatched);

/* Which log source is which socket: the handshakes of recent windows (the page may report its
 * handshake after the window that logged it was read out). Bounded ring. */
#define LL_TRACKS 1024
typedef struct {
    uint64_t track[LL_TRACKS];
    char key[LL_TRACKS][LL_NETLOG_KEY];
    unsigned next, n;
} ll_tracks;

void ll_tracks_add(ll_tracks *t, uint64_t track, const char *key);
/* 1 and *track when a handshake with this key was logged */
int ll_tracks_find(const ll_tracks *t, const char *key, uint64_t *track);

#endif
