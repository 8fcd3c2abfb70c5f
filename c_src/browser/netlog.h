/* Chromium's network log as the Tracing domain hands it over: one tracing window of the `netlog'
 * category in perfetto's protobuf trace format (Tracing.start with a perfettoConfig, transferMode
 * ReturnAsStream). Only what the LiveView wire timing needs is read (guides/events.md, "Three
 * timings per event"):
 *   - WEBSOCKET_SENT_FRAME_HEADER / WEBSOCKET_RECV_FRAME_HEADER: the network service's own time of
 *     each frame it writes or reads, with opcode, payload_length, final and reserved1 (compressed);
 *     the frames of one message (continuations) are merged into one message;
 *   - HTTP_TRANSACTION_SEND_REQUEST_HEADERS carrying a Sec-WebSocket-Key: which log source (track)
 *     is which page socket (CDP's webSocketWillSendHandshakeRequest shows the same key);
 *   - the tracing service's all_data_sources_started event: from then on the window is complete.
 * Timestamps are turned into seconds of CLOCK_MONOTONIC, the clock of CDP's Network timestamps
 * (through the trace's clock snapshots: incremental per-sequence clocks, BOOTTIME).
 *
 * The bytes come from the browser and are not trusted: every length is checked against its
 * enclosing message, varints are at most 10 bytes, the arrays have caps, interned names are only
 * looked up on sequences whose incremental state is intact. Anything that could hide a frame — a
 * dropped packet, a broken sequence, a cap reached, malformed bytes — sets `loss', and the caller
 * then trusts nothing of the window. Pure C, no I/O: C tests and a fuzz target drive it. */
#ifndef LL_NETLOG_H
#define LL_NETLOG_H

#include <stddef.h>
#include <stdint.h>

#define LL_NETLOG_KEY 32                /* a Sec-WebSocket-Key (24 base64 characters) and its NUL */
#define LL_NETLOG_LEN_ANY UINT32_MAX    /* a message whose payload size the log does not give */
#define LL_NETLOG_MAX_MSGS (1u << 18)   /* WebSocket messages per window */
#define LL_NETLOG_MAX_HS 4096           /* WebSocket handshakes per window */

typedef struct {
    uint64_t track; /* the socket's log source; stable while the network service process lives */
    char key[LL_NETLOG_KEY];
} ll_netlog_hs;

typedef struct {
    uint64_t track;
    double ts;      /* the message's first frame header, s (CLOCK_MONOTONIC) */
    uint32_t len;   /* payload bytes of the whole message, or LL_NETLOG_LEN_ANY (compressed, cut) */
    uint32_t order; /* position in the log, for a stable sort */
    uint8_t sent;   /* 1: written by the browser, 0: read */
} ll_netlog_msg;

typedef struct {
    double start;      /* all data sources recording since (s, CLOCK_MONOTONIC); +inf when not said */
    int loss;          /* something may be missing: trust nothing of this window */
    ll_netlog_hs *hs;  /* handshakes, in log order */
    size_t nhs;
    ll_netlog_msg *msg; /* data messages (text, binary), sorted by track, direction, time */
    size_t nmsg;
    uint64_t packets, events; /* trace packets; frame and handshake events read */
    size_t cap_hs, cap_msg;   /* allocated */
} ll_netlog_window;

void ll_netlog_init(ll_netlog_window *w);
/* Reads one window (the whole stream). Returns 0, or -1 when the bytes are malformed (then
 * w->loss is set; what was read before stays). */
int ll_netlog_parse(ll_netlog_window *w, const uint8_t *buf, size_t n);
void ll_netlog_free(ll_netlog_window *w);

/* Standard base64, padding optional, no blanks: bytes written to out (room for n / 4 * 3 + 3), or
 * -1 for a character outside the alphabet or a dangling single character. */
long ll_base64_decode(const char *in, size_t n, uint8_t *out);

/* The perfettoConfig of Tracing.start, base64 (malloc'd): the track_event data source with only
 * the `netlog' category, enabled only in the processes `pids' (producer names
 * "org.chromium-<pid>": the network service, and the browser for an in-process network service;
 * renderers are left out, whose late stop acknowledgements stall every Tracing.end by 5 s), one
 * ring buffer of buffer_kb. */
char *ll_netlog_config(const long *pids, size_t npids, unsigned buffer_kb);

#endif
