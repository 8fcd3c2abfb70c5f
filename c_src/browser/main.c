/* live_load_browser — the port program between live_load (Erlang) and a headless Chromium.
 *
 * ONE THREAD, ONE EVENT LOOP (libwebsockets). Erlang's stdin/stdout and Chromium's pipe fds are
 * adopted into the lws loop as raw file descriptors; in endpoint mode the DevTools WebSocket is an
 * lws client connection in the same loop. Logs go to stderr only: stdout belongs to the protocol.
 *
 * USAGE (argv, built by live_load_browser.erl)
 *   live_load_browser [--chromium PATH] [--arg FLAG]... [--no-default-args] [--headful] [--endpoint URL]
 *                     [--max-users N] [--max-frame BYTES] [--binding NAME] [--chromium-log PATH]
 *                     [--user-data-dir DIR]
 *   Without --endpoint: launches PATH (default /usr/bin/chromium) with --remote-debugging-pipe
 *   (fd 3 = commands to the browser, fd 4 = replies/events, NUL-terminated JSON), the profile DIR
 *   (made and, should the port be killed, removed by the Erlang owner; a fresh mkdtemp dir in
 *   $TMPDIR without it), the default flags below (unless --no-default-args) and every --arg.
 *   With --endpoint ws://host:port/devtools/browser/<id> connects to that DevTools WebSocket;
 *   with --endpoint http://host:port it first GETs /json/version for webSocketDebuggerUrl.
 *
 * ERLANG <-> PORT: {packet,4} frames, each one external term (term_to_binary), max --max-frame
 * bytes (default 16 MiB) in either direction.
 *
 *   Erlang -> port (Id: positive integer chosen by Erlang, echoed in the reply)
 *     {Id, new_user, Opts}            Opts: #{network => boolean(), sample => 0.0..1.0,
 *                                           mode => faithful | fast, width => W, height => H}
 *         creates a BrowserContext and one page, paused (auto-attach waitForDebuggerOnStart), runs
 *         Page.enable, Page.setLifecycleEventsEnabled, Runtime.enable, Network.enable (network),
 *         Emulation.setFocusEmulationEnabled, Emulation.setDeviceMetricsOverride (viewport or fast),
 *         Runtime.addBinding(binding), Page.addScriptToEvaluateOnNewDocument(observer.js), then
 *         Runtime.runIfWaitingForDebugger. fast = hidden target (no painting).
 *         -> {Id, ok, #{<<"user">> => U, <<"target_id">>, <<"browser_context_id">>, <<"session_id">> => binary()}}
 *     {Id, call, U, Method :: binary(), Params :: map()}      CDP command on the user's page session
 *     {Id, call, U, Method, Params, TimeoutMs}  the same with its deadline (default 120 s)
 *     {Id, call_browser, U, Method, Params[, TimeoutMs]}  on the root session; U = 0 for none, else
 *         browserContextId is added to the Storage.*Cookies / Target.createTarget / Browser.*
 *         permission and download methods when absent
 *         -> {Id, ok, Result :: map()} | {Id, error, {cdp, Code, Message :: binary()}}
 *         A command past its deadline is answered {Id, error, timeout}; after Inspector.targetCrashed
 *         the page's commands in flight, and those sent before a Page.navigate or Page.reload (which
 *         bring a new renderer), are answered {Id, error, target_crashed}; commands on a page session
 *         that detaches (dispose, crash) are answered {Id, error, user_gone}, and so is every
 *         pending command of a user when it is closed; their slots are free again at once.
 *     {Id, close_user, U}             Target.disposeBrowserContext  -> {Id, ok, null}
 *     {Id, stats}                     -> {Id, ok, #{<<"users">>, <<"pending">>, <<"cdp_in">>, ...,
 *                                           <<"wire_dropped">> (LiveView pushes never answered),
 *                                           <<"heap_used_kb">>, <<"heap_free_kb">> (glibc: malloc's
 *                                           view, in use and free but held)}}
 *   Errors: {Id, error, R}, R = no_such_user | user_not_ready | user_gone | user_busy |
 *     too_many_users | too_many_pending (4096 commands in flight, or the queue to the browser
 *     full) | timeout | out_of_memory | result_too_deep | result_too_large (the reply is above
 *     --max-frame: the port goes on) |
 *     {invalid_option, Key :: binary()} | {bad_params, What :: binary()} |
 *     {bad_command, What :: binary()} | {cdp, Code, Message}.
 *   Terms <-> JSON: see common/etf.h (map = object with binary keys, list = array, binary = string,
 *     true/false/null atoms).
 *
 *   Port -> Erlang, unsolicited (id 0): {0, U, Event :: map()}
 *     #{<<"type">> => <<"observer">>, ...}  one Runtime.bindingCalled of the binding: the payload
 *         JSON object with type added, or #{<<"events">> => Array} when the payload is an array
 *     #{<<"type">> => <<"http">>, method, url (raw, <=1 KiB; route templates are made in Erlang),
 *         resource_type, status (int|null), duration_ms, ttfb_ms (request start -> response headers),
 *         dns_ms, connect_ms, tls_ms (float|null), bytes (encoded), failed, error (binary|null),
 *         canceled, wall_ms}      one finished/failed http(s) request (Network.*), when network is on;
 *         Chromium's own loads (data:, blob:, about:, chrome-error://: its error page) are not reported
 *     #{<<"type">> => <<"ws">>, what => open|handshake|sent|received|close, url (raw, ws(s) only),
 *         ms+status (handshake), bytes+opcode (frames: one event = one frame),
 *         sent+received (close: the socket's totals, not to be added to the frame events)}
 *     #{<<"type">> => <<"liveview">>, kind => wire, event, event_type (binary|null: the push's
 *         payload event and type), ms (push frame -> its phx_reply frame, from the two frame
 *         timestamps), bytes (the reply frame's payload), url (the page's, when known), wall_ms}
 *         one per answered LiveView "event" push (lv:* topic, matched by socket, join_ref, ref and
 *         topic; wire.h), whatever the network sampling; none with network off
 *     #{<<"type">> => <<"cdp">>, method, params}  Page.lifecycleEvent, Page.frameNavigated,
 *         Page.navigatedWithinDocument, Page.loadEventFired, Page.domContentEventFired,
 *         Page.javascriptDialogOpening, Inspector.targetCrashed, Inspector.detached,
 *         Runtime.exceptionThrown, Target.detachedFromTarget; a JavaScript dialog is accepted by the
 *         port itself (Page.handleJavaScriptDialog accept, a prompt with its default text)
 *     {0, 0, #{<<"type">> => <<"protocol_error">>, reason}} for a frame without a readable Id.
 *     {0, 0, #{<<"type">> => <<"browser_launched">>, <<"pid">> => Pid}} once, after launching Chromium:
 *         its pid is also its process group, which the owner kills should this port be killed.
 *   Network sampling: with sample < 1 each request/WebSocket is reported with that probability
 *   (an unsampled WebSocket still gives its wire events).
 *
 * READING: each fd is read 64 KiB at a time, frames parsed after every read, at most 1 MiB per
 *   wakeup, so a burst of valid frames never exceeds a buffer and neither fd starves the other.
 * CAPS: Erlang frames --max-frame; CDP messages 64 MiB; out queue to Erlang 256 MiB (events are
 *   dropped and counted above it, replies never); out queue to the browser 256 MiB (commands get
 *   too_many_pending); 4096 CDP commands in flight; --max-users users (default 256); 128 in-flight
 *   HTTP requests, 8 WebSockets and 32 LiveView pushes awaiting their reply tracked per user.
 * EXIT: EOF on stdin -> dispose every context, close the browser, kill its process group, remove
 *   the user-data-dir, exit 0. Browser gone -> exit 3. Oversized frame from Erlang -> exit 2.
 *   The browser gets PR_SET_PDEATHSIG so it cannot outlive the port.
 */
#define _GNU_SOURCE
#include <ei.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "core.h"

extern const char ll_observer_js[];

#define CDP_MSG_MAX (64u << 20)
#define OUT_MAX (256u << 20)
#define MAX_ARGS 64
#define SHUTDOWN_GRACE_US (3 * LWS_US_PER_SEC)
#define TICK_US (250 * LWS_US_PER_MS)
#define READ_CHUNK 65536
#define READS_PER_WAKEUP 16 /* 1 MiB from one fd, then the other fd gets its turn */

static const char *const DEFAULT_ARGS[] = {
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-startup-window",
    "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding", "--disable-ipc-flooding-protection", "--disable-back-forward-cache",
    "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--disable-auto-reload", /* an error page reloading itself would be traffic the scenario never made */
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,"
    "SpareRendererForSitePerProcess,Translate,OptimizationHints,MediaRouter,PaintHolding",
    NULL};

static struct {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    ll_core *core;
    /* Erlang side */
    struct lws *w_in, *w_out;
    ll_buf in, out;
    size_t max_frame;
    /* browser side: pipe (fds) or WebSocket */
    struct lws *w_cdp_rd, *w_cdp_wr, *w_ws, *w_http;
    ll_buf cdp_in, cdp_out;
    size_t cdp_scanned;
    int ws_mode, ws_connected;
    char http_body[65536];
    size_t http_len;
    /* launched browser */
    pid_t pid;
    char udd[256];
    /* lifecycle */
    int done, exit_code, shutting;
    lws_sorted_usec_list_t sul_deadline, sul_tick, sul_rearm;
} g;

static void finish(int code)
{
    if (!g.done) {
        g.done = 1;
        g.exit_code = code;
    }
}

/* ------------------------------------------------------------------ core callbacks */

/* A reply above --max-frame (a page_content of a 20 MB DOM) cannot reach Erlang: its request is
 * answered {Id, error, result_too_large} instead, and the port and its other users go on.
 * Returns -1 when the reply has no readable Id or the answer does not fit either. */
static int reply_too_large(const char *etf)
{
    int idx = 0, ver, arity;
    unsigned long long id;
    if (ei_decode_version(etf, &idx, &ver) || ei_decode_tuple_header(etf, &idx, &arity) || arity != 3 ||
        ei_decode_ulonglong(etf, &idx, &id))
        return -1;
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_ulonglong(&x, id);
    ei_x_encode_atom(&x, "error");
    ei_x_encode_atom(&x, "result_too_large");
    int r = ll_packet4_put(&g.out, x.buff, (size_t)x.index);
    ei_x_free(&x);
    return r;
}

static void to_erlang(void *ud, const char *etf, size_t len, int is_event)
{
    (void)ud;
    if (len > g.max_frame || ll_packet4_put(&g.out, etf, len)) {
        if (is_event) {
            ll_core_count_dropped(g.core);
            return;
        }
        if (len > g.max_frame && reply_too_large(etf) == 0) {
            lwsl_warn("reply of %zu bytes above --max-frame: answered result_too_large\n", len);
            if (g.w_out)
                lws_callback_on_writable(g.w_out);
            return;
        }
        lwsl_err("reply of %zu bytes does not fit the queue to Erlang; exiting\n", len);
        finish(4);
        return;
    }
    if (g.w_out)
        lws_callback_on_writable(g.w_out);
}

static int to_browser(void *ud, const char *json, size_t len)
{
    (void)ud;
    int r;
    if (g.ws_mode) /* length-prefixed so the writer knows message boundaries */
        r = ll_packet4_put(&g.cdp_out, json, len);
    else
        r = ll_buf_append(&g.cdp_out, json, len) || ll_buf_append(&g.cdp_out, "", 1);
    if (r) /* the core answers the command too_many_pending */
        return -1;
    if (g.ws_mode && g.w_ws && g.ws_connected)
        lws_callback_on_writable(g.w_ws);
    else if (!g.ws_mode && g.w_cdp_wr)
        lws_callback_on_writable(g.w_cdp_wr);
    return 0;
}

static void maybe_finish_shutdown(void)
{
    if (g.shutting && ll_core_disposing(g.core) == 0)
        finish(0);
}

/* Pending CDP commands past their deadline are answered timeout and their slots freed. */
static void tick_cb(lws_sorted_usec_list_t *sul)
{
    ll_core_tick(g.core);
    maybe_finish_shutdown();
    lws_sul_schedule(g.ctx, 0, sul, tick_cb, TICK_US);
}

static void deadline_cb(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    lwsl_warn("context disposal did not finish in time\n");
    finish(0);
}

static void begin_shutdown(void)
{
    if (g.shutting)
        return;
    g.shutting = 1;
    if (ll_core_shutdown(g.core) == 0 || (g.ws_mode && !g.ws_connected)) {
        finish(0);
        return;
    }
    lws_sul_schedule(g.ctx, 0, &g.sul_deadline, deadline_cb, SHUTDOWN_GRACE_US);
}

/* ------------------------------------------------------------------ fd reading / writing */

/* Reads at most READS_PER_WAKEUP chunks from fd and hands every complete frame on after each chunk
 * (parse returns -1 for a frame above its cap), so the buffer holds at most one partial frame plus
 * one chunk whatever the peer sends, and a busy fd cannot starve the other one (poll is
 * level-triggered: what is left is read on the next wakeup). 1 = fine, 0 = EOF, -1 = read error,
 * -2 = oversized frame. */
static int read_frames(int fd, ll_buf *b, int (*parse)(void))
{
    for (int i = 0; i < READS_PER_WAKEUP; i++) {
        char *w = ll_buf_reserve(b, READ_CHUNK);
        if (!w)
            return -2;
        ssize_t n = read(fd, w, READ_CHUNK);
        if (n > 0) {
            ll_buf_commit(b, (size_t)n);
            if (parse() < 0)
                return -2;
            if (n < READ_CHUNK)
                return 1;
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    }
    return 1;
}

static int erlang_frames(void)
{
    const char *f;
    size_t n;
    int k;
    while (!g.done && (k = ll_packet4_next(&g.in, g.max_frame, &f, &n)) == 1) {
        ll_core_from_erlang(g.core, f, n);
        ll_buf_consume(&g.in, n + 4);
    }
    return g.done ? 0 : k;
}

static int on_erlang_readable(int fd)
{
    int r = read_frames(fd, &g.in, erlang_frames);
    if (g.done)
        return 0;
    if (r == -2) {
        lwsl_err("frame from Erlang above --max-frame (%zu bytes); exiting\n", g.max_frame);
        finish(2);
        return -1;
    }
    if (r <= 0) {
        begin_shutdown();
        return -1; /* lws closes our end of stdin */
    }
    return 0;
}

static int browser_frames(void)
{
    const char *m;
    size_t n;
    int k;
    while (!g.done && (k = ll_nul_next(&g.cdp_in, CDP_MSG_MAX, &g.cdp_scanned, &m, &n)) == 1) {
        ll_core_from_browser(g.core, m, n);
        ll_buf_consume(&g.cdp_in, n + 1);
    }
    maybe_finish_shutdown();
    return g.done ? 0 : k;
}

static int on_browser_readable(int fd)
{
    int r = read_frames(fd, &g.cdp_in, browser_frames);
    if (r == -2) {
        lwsl_err("CDP message above %u bytes; exiting\n", CDP_MSG_MAX);
        finish(3);
        return -1;
    }
    if (g.done)
        return 0;
    if (r <= 0) {
        if (!g.shutting)
            lwsl_err("browser pipe closed (browser gone)\n");
        finish(g.shutting ? 0 : 3);
        return -1;
    }
    return 0;
}

/* lws 4.1 drops a writable request made from inside a raw file's WRITEABLE callback (it clears
 * POLLOUT after the callback), so a pipe that filled up mid-flush was never written again and the
 * rest of the queue (commands to Chromium, replies to Erlang) sat there until their deadlines. The
 * request is made again from outside the callback. */
static void rearm_cb(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    if (g.w_out && ll_buf_unread(&g.out))
        lws_callback_on_writable(g.w_out);
    if (g.w_cdp_wr && ll_buf_unread(&g.cdp_out))
        lws_callback_on_writable(g.w_cdp_wr);
}

static int flush_fd(struct lws *wsi, int fd, ll_buf *b)
{
    while (ll_buf_unread(b)) {
        ssize_t n = write(fd, ll_buf_head(b), ll_buf_unread(b));
        if (n > 0) {
            ll_buf_consume(b, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return -1;
    }
    if (ll_buf_unread(b))
        lws_sul_schedule(g.ctx, 0, &g.sul_rearm, rearm_cb, 1);
    (void)wsi;
    return 0;
}

static int cb_raw(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user, (void)in, (void)len;
    int fd = lws_get_socket_fd(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (wsi == g.w_in)
            return on_erlang_readable(fd);
        if (wsi == g.w_cdp_rd)
            return on_browser_readable(fd);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        if (wsi == g.w_out) {
            if (flush_fd(wsi, fd, &g.out)) {
                finish(g.shutting ? 0 : 1); /* Erlang closed our stdout */
                return -1;
            }
        } else if (wsi == g.w_cdp_wr) {
            if (flush_fd(wsi, fd, &g.cdp_out)) {
                finish(g.shutting ? 0 : 3);
                return -1;
            }
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (wsi == g.w_in) {
            g.w_in = NULL;
            begin_shutdown();
        } else if (wsi == g.w_out) {
            g.w_out = NULL;
            finish(g.shutting ? 0 : 1);
        } else if (wsi == g.w_cdp_rd || wsi == g.w_cdp_wr) {
            if (wsi == g.w_cdp_rd)
                g.w_cdp_rd = NULL;
            else
                g.w_cdp_wr = NULL;
            finish(g.shutting ? 0 : 3);
        }
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ endpoint mode */

static int ws_connect(const char *url);

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        lwsl_err("DevTools endpoint: %s\n", in ? (const char *)in : "connection error");
        g.w_ws = g.w_http = NULL;
        finish(g.shutting ? 0 : 3);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        g.ws_connected = 1;
        if (ll_buf_unread(&g.cdp_out))
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (ll_buf_append(&g.cdp_in, in, len)) {
            lwsl_err("CDP message above %u bytes; exiting\n", CDP_MSG_MAX);
            finish(3);
            return -1;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            ll_core_from_browser(g.core, ll_buf_head(&g.cdp_in), ll_buf_unread(&g.cdp_in));
            ll_buf_consume(&g.cdp_in, ll_buf_unread(&g.cdp_in));
            maybe_finish_shutdown();
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        const char *f;
        size_t n;
        if (ll_packet4_next(&g.cdp_out, OUT_MAX, &f, &n) != 1)
            return 0;
        unsigned char *tmp = malloc(LWS_PRE + n);
        if (!tmp) {
            finish(4);
            return -1;
        }
        memcpy(tmp + LWS_PRE, f, n);
        int w = lws_write(wsi, tmp + LWS_PRE, n, LWS_WRITE_TEXT);
        free(tmp);
        ll_buf_consume(&g.cdp_out, n + 4);
        if (w < (int)n) {
            finish(3);
            return -1;
        }
        if (ll_buf_unread(&g.cdp_out))
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        g.w_ws = NULL;
        if (!g.shutting)
            lwsl_err("DevTools WebSocket closed\n");
        finish(g.shutting ? 0 : 3);
        return 0;
    /* http://host:port -> GET /json/version */
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (g.http_len + len >= sizeof g.http_body)
            return -1;
        memcpy(g.http_body + g.http_len, in, len);
        g.http_len += len;
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buffer[4096 + LWS_PRE];
        char *px = buffer + LWS_PRE;
        int lenx = sizeof buffer - LWS_PRE;
        return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP: {
        g.http_body[g.http_len] = 0;
        json_t *v = json_loads(g.http_body, 0, NULL);
        const char *url = json_string_value(json_object_get(v, "webSocketDebuggerUrl"));
        g.w_http = NULL;
        if (!url || ws_connect(url)) {
            lwsl_err("no usable webSocketDebuggerUrl in /json/version\n");
            finish(3);
        }
        json_decref(v);
        return 0;
    }
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        g.w_http = NULL;
        return 0;
    default:
        return 0;
    }
}

static int client_connect(const char *url, int http)
{
    char copy[1024], path[1024], host[1100];
    const char *prot, *ads, *p;
    int port;
    if (strlen(url) >= sizeof copy)
        return -1;
    strcpy(copy, url);
    if (lws_parse_uri(copy, &prot, &ads, &port, &p))
        return -1;
    if (strcmp(prot, http ? "http" : "ws"))
        return -1;
    snprintf(path, sizeof path, "/%s", http ? "json/version" : p);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = g.ctx;
    ci.address = ads;
    ci.port = port;
    ci.path = path;
    snprintf(host, sizeof host, "%s:%d", ads, port); /* Chromium builds webSocketDebuggerUrl from Host */
    ci.host = host;
    ci.local_protocol_name = "ll-cdp";
    ci.method = http ? "GET" : NULL;
    ci.pwsi = http ? &g.w_http : &g.w_ws;
    return lws_client_connect_via_info(&ci) ? 0 : -1;
}

static int ws_connect(const char *url) { return client_connect(url, 0); }

/* ------------------------------------------------------------------ launching Chromium */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

static void cleanup_browser(void)
{
    if (g.pid > 0) {
        pid_t pgid = g.pid;
        int reaped = 0;
        kill(-pgid, SIGTERM);
        for (int i = 0; i < 40 && !reaped; i++) { /* up to 2 s, then no mercy */
            reaped = waitpid(g.pid, NULL, WNOHANG) == g.pid;
            if (!reaped)
                usleep(50000);
        }
        kill(-pgid, SIGKILL); /* renderers and zygotes left in the group */
        if (!reaped)
            waitpid(g.pid, NULL, 0);
        g.pid = 0;
    }
    if (g.udd[0]) {
        nftw(g.udd, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        g.udd[0] = 0;
    }
}

static int launch(const char *path, const char **extra, int nextra, int defaults, int headless, const char *log_path,
                  const char *udd, int *fd_wr, int *fd_rd)
{
    int to_b[2], from_b[2];
    const char *tmp = getenv("TMPDIR");
    if (udd) { /* made by the Erlang owner, which also removes it if we die without cleaning up */
        if (strlen(udd) >= sizeof g.udd) {
            lwsl_err("--user-data-dir longer than %zu bytes\n", sizeof g.udd - 1);
            return -1;
        }
        strcpy(g.udd, udd);
    } else if (snprintf(g.udd, sizeof g.udd, "%s/live_load_browser.XXXXXX", tmp && *tmp ? tmp : "/tmp"),
               !mkdtemp(g.udd)) {
        lwsl_err("mkdtemp %s: %s\n", g.udd, strerror(errno));
        g.udd[0] = 0;
        return -1;
    }
    char udd_arg[300];
    snprintf(udd_arg, sizeof udd_arg, "--user-data-dir=%s", g.udd);
    const char *argv[MAX_ARGS + 32];
    int n = 0;
    argv[n++] = path;
    for (int i = 0; defaults && DEFAULT_ARGS[i]; i++)
        if (headless || strcmp(DEFAULT_ARGS[i], "--headless"))
            argv[n++] = DEFAULT_ARGS[i];
    for (int i = 0; i < nextra; i++)
        argv[n++] = extra[i];
    argv[n++] = udd_arg;
    argv[n++] = "--remote-debugging-pipe";
    argv[n] = NULL;
    if (pipe2(to_b, O_CLOEXEC) || pipe2(from_b, O_CLOEXEC))
        return -1;
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        int a = fcntl(to_b[0], F_DUPFD, 10), b = fcntl(from_b[1], F_DUPFD, 10);
        int nul = open("/dev/null", O_RDONLY);
        int lf = logfd >= 0 ? logfd : open("/dev/null", O_WRONLY);
        if (a < 0 || b < 0 || nul < 0 || lf < 0 || dup2(nul, 0) < 0 || dup2(lf, 1) < 0 || dup2(lf, 2) < 0 ||
            dup2(a, 3) < 0 || dup2(b, 4) < 0)
            _exit(127);
        for (int fd = 5; fd < 1024; fd++)
            close(fd);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    setpgid(pid, pid);
    if (logfd >= 0)
        close(logfd);
    close(to_b[0]);
    close(from_b[1]);
    g.pid = pid;
    *fd_wr = to_b[1];
    *fd_rd = from_b[0];
    fcntl(*fd_wr, F_SETFL, fcntl(*fd_wr, F_GETFL) | O_NONBLOCK);
    fcntl(*fd_rd, F_SETFL, fcntl(*fd_rd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* ------------------------------------------------------------------ main */

static struct lws *adopt(int fd)
{
    lws_sock_file_fd_type u;
    u.filefd = fd;
    return lws_adopt_descriptor_vhost(g.vh, LWS_ADOPT_RAW_FILE_DESC, u, "ll-raw", NULL);
}

static const struct lws_protocols PROTOCOLS[] = {
    {"ll-raw", cb_raw, 0, 0, 0, NULL, 0},
    {"ll-cdp", cb_ws, 0, 1 << 16, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void usage(void)
{
    fprintf(stderr, "usage: live_load_browser [--chromium PATH] [--arg FLAG]... [--no-default-args] [--headful]\n"
                    "       [--endpoint ws://...|http://host:port] [--max-users N] [--max-frame BYTES]\n"
                    "       [--binding NAME] [--chromium-log PATH] [--user-data-dir DIR]\n"
                    "       [--no-wire-trace] [--trace-window-ms MS]\n");
}

int main(int argc, char **argv)
{
    const char *chromium = "/usr/bin/chromium", *endpoint = NULL, *binding = "__live_load";
    const char *log_path = "/dev/null", *udd = NULL;
    const char *extra[MAX_ARGS];
    int nextra = 0, defaults = 1, headless = 1, wire_trace = 1;
    unsigned long trace_window_ms = 0;
    unsigned long max_users = 256;
    g.max_frame = 16u << 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-default-args") || !strcmp(a, "--headful")) {
            *(a[2] == 'n' ? &defaults : &headless) = 0;
            continue;
        }
        if (!strcmp(a, "--no-wire-trace")) {
            wire_trace = 0;
            continue;
        }
        if (!v) {
            usage();
            return 64;
        }
        i++;
        if (!strcmp(a, "--chromium"))
            chromium = v;
        else if (!strcmp(a, "--arg") && nextra < MAX_ARGS)
            extra[nextra++] = v;
        else if (!strcmp(a, "--endpoint"))
            endpoint = v;
        else if (!strcmp(a, "--binding"))
            binding = v;
        else if (!strcmp(a, "--chromium-log"))
            log_path = v;
        else if (!strcmp(a, "--user-data-dir"))
            udd = v;
        else if (!strcmp(a, "--max-users") && (max_users = strtoul(v, NULL, 10)) > 0 && max_users <= 100000)
            ;
        else if (!strcmp(a, "--max-frame") && (g.max_frame = strtoul(v, NULL, 10)) >= 1024 && g.max_frame <= (1u << 30))
            ;
        else if (!strcmp(a, "--trace-window-ms") && (trace_window_ms = strtoul(v, NULL, 10)) >= 100 &&
                 trace_window_ms <= 600000)
            ;
        else {
            usage();
            return 64;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(getenv("LIVE_LOAD_BROWSER_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_CLIENT : LLL_ERR | LLL_WARN, NULL);
    ll_buf_init(&g.in, g.max_frame + 65536 + 4);
    ll_buf_init(&g.out, OUT_MAX);
    ll_buf_init(&g.cdp_in, CDP_MSG_MAX + 65536 + 1);
    ll_buf_init(&g.cdp_out, OUT_MAX);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = PROTOCOLS;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    g.ctx = lws_create_context(&info);
    if (!g.ctx) {
        lwsl_err("lws_create_context failed\n");
        return 1;
    }
    g.vh = lws_get_vhost_by_name(g.ctx, "default");

    ll_core_cfg cfg = {.to_browser = to_browser, .to_erlang = to_erlang, .observer_js = ll_observer_js,
                       .binding = binding, .max_users = (unsigned)max_users, .wire_trace = wire_trace,
                       .trace_period_ms = (unsigned)trace_window_ms};
    g.core = ll_core_new(&cfg);

    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
    g.w_in = adopt(0);
    g.w_out = adopt(1);
    if (!g.core || !g.w_in || !g.w_out) {
        lwsl_err("cannot adopt stdin/stdout\n");
        return 1;
    }
    if (endpoint) {
        g.ws_mode = 1;
        int http = !strncmp(endpoint, "http://", 7);
        if (client_connect(endpoint, http)) {
            lwsl_err("cannot connect to endpoint %s\n", endpoint);
            g.exit_code = 3;
            g.done = 1;
        }
    } else {
        int wr, rd;
        if (launch(chromium, extra, nextra, defaults, headless, log_path, udd, &wr, &rd) || !(g.w_cdp_wr = adopt(wr)) ||
            !(g.w_cdp_rd = adopt(rd))) {
            lwsl_err("cannot launch %s: %s\n", chromium, strerror(errno));
            g.exit_code = 3;
            g.done = 1;
        }
    }
    if (!g.done && g.pid > 0) {
        ei_x_buff x;
        ei_x_new_with_version(&x);
        ei_x_encode_tuple_header(&x, 3);
        ei_x_encode_ulong(&x, 0);
        ei_x_encode_ulong(&x, 0);
        ei_x_encode_map_header(&x, 2);
        ei_x_encode_binary(&x, "type", 4);
        ei_x_encode_binary(&x, "browser_launched", 16);
        ei_x_encode_binary(&x, "pid", 3);
        ei_x_encode_long(&x, (long)g.pid);
        to_erlang(NULL, x.buff, (size_t)x.index, 0);
        ei_x_free(&x);
    }
    if (!g.done) {
        ll_core_start(g.core);
        lws_sul_schedule(g.ctx, 0, &g.sul_tick, tick_cb, TICK_US);
    }

    while (!g.done && lws_service(g.ctx, 0) >= 0)
        ;
    /* last replies to Erlang, best effort */
    if (g.w_out && ll_buf_unread(&g.out)) {
        fcntl(1, F_SETFL, fcntl(1, F_GETFL) & ~O_NONBLOCK);
        while (ll_buf_unread(&g.out)) {
            ssize_t n = write(1, ll_buf_head(&g.out), ll_buf_unread(&g.out));
            if (n <= 0)
                break;
            ll_buf_consume(&g.out, (size_t)n);
        }
    }
    lws_sul_cancel(&g.sul_deadline);
    lws_sul_cancel(&g.sul_tick);
    lws_sul_cancel(&g.sul_rearm);
    cleanup_browser();
    lws_context_destroy(g.ctx);
    ll_core_free(g.core);
    ll_buf_free(&g.in);
    ll_buf_free(&g.out);
    ll_buf_free(&g.cdp_in);
    ll_buf_free(&g.cdp_out);
    return g.exit_code;
}
