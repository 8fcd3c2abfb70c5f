/* live_load_protocol — browserless LiveView users: the port program between live_load (Erlang) and
 * a Phoenix LiveView app, speaking HTTP and the Phoenix V2 socket / LiveView channel protocol.
 *
 * ONE THREAD, ONE EVENT LOOP (libwebsockets): Erlang's stdin/stdout are adopted as raw fds; every
 * user's HTTP requests and WebSocket are lws client connections in the same loop. Logs go to stderr
 * only: stdout belongs to the protocol.
 *
 * USAGE  live_load_protocol [--max-users N] [--max-message BYTES] [--max-depth N] [--heartbeat-ms MS]
 *
 * ERLANG <-> PORT: {packet,4} frames, each one external term (term_to_binary), at most
 * --max-message + 64 KiB from Erlang.
 *   Erlang -> port (Id: positive integer chosen by Erlang, echoed in the reply)
 *     {Id, new_user, Opts}      Opts: #{<<"base_url">> => binary()} (optional)
 *                               -> {Id, ok, #{<<"user">> => U}}
 *     {Id, action, U, Cmd}      Cmd: #{<<"op">> => binary(), <<"timeout">> => ms, ...} (one at a time
 *                               per user; see live_load_protocol_action.erl for every op and its
 *                               arguments) -> {Id, ok, Value} | {Id, error, #{<<"reason">> => binary(), ...}}
 *     {Id, close_user, U}       -> {Id, ok, null}
 *     {Id, stats}               -> {Id, ok, #{<<"users">>, <<"frames_in">>, <<"frames_out">>, ...}}
 *   Errors without a user: {Id, error, #{<<"reason">> => no_such_user | too_many_users | user_busy |
 *     bad_command}}.
 *   Port -> Erlang, unsolicited (id 0): {0, U, [Event :: map()]}: a user's events leave together,
 *     before the answer to its next action and at least once a second (user.c, `pending'); every
 *     event has <<"connection">> => <<"protocol">>:
 *     #{type => observer, path, events => [#{kind => connect, ms, transport => websocket}]}
 *         GET start -> join reply applied (and kind => reconnect after a rejoin)
 *     #{type => observer, path, events => [#{kind => event, ms, event, type}]}  push -> reply applied
 *     #{type => observer, path, events => [#{kind => navigation, ms, nav => patch|redirect}]}
 *     #{type => observer, path, events => [#{kind => lv_error, error, view}]}  phx_error / join error
 *     #{type => liveview, kind => wire, event, event_type, ms, bytes, route, wall_ms}  per answered
 *         push: frame written -> reply frame received, the reply frame's size
 *     #{type => http, method, url, route, status, duration_ms, ttfb_ms, bytes, failed, error, ...}
 *     #{type => ws, what => open | handshake | close, ms}
 *     #{type => ws, what => frames, sent => [Bytes], received => [Bytes], wall_ms}  every frame's size
 *   Port -> Erlang without a user: {0, 0, #{type => protocol_error, reason}} (a bad command).
 *
 * CAPS: --max-users users (default 10000, ids reused, O(1) lookup); one HTTP body or WebSocket
 *   message --max-message bytes (default 8 MiB); rendered tree and DOM nesting --max-depth (64);
 *   8 pushes in flight per user; 10 HTTP redirects; outgoing WebSocket queue 1 MiB per user.
 *   A user whose server sends more gets an error (its action fails, its socket closes), never a crash.
 * EXIT: EOF on stdin -> close every socket, exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <uv.h>
#include <fcntl.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "etf.h"
#include "user.h"

static struct {
    uv_loop_t loop; /* libuv (epoll): lws's own poll() loop costs O(sockets) per wakeup */
    uv_prepare_t flush; /* before each wait for I/O: what is queued for Erlang leaves in one write */
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct lws *w_in, *w_out;
    ll_buf in, out;
    size_t max_frame;
    int done, exit_code;
} g;

static void stop(int code)
{
    if (!g.done) {
        g.done = 1;
        g.exit_code = code;
    }
    uv_stop(&g.loop);
}

static void to_erlang(const char *etf, size_t len, int is_event)
{
    if (ll_packet4_put(&g.out, etf, len)) {
        if (is_event) {
            ll_users_count_dropped();
            return;
        }
        lwsl_err("reply of %zu bytes does not fit the queue to Erlang; exiting\n", len);
        stop(4);
    }
}

static int drain_read(int fd, ll_buf *b)
{
    for (;;) {
        char *w = ll_buf_reserve(b, 65536);
        if (!w)
            return -2;
        ssize_t n = read(fd, w, 65536);
        if (n > 0) {
            ll_buf_commit(b, (size_t)n);
            if (n < 65536)
                return 1;
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    }
}

static int on_erlang_readable(int fd)
{
    int r = drain_read(fd, &g.in);
    const char *f;
    size_t n;
    int k;
    while ((k = ll_packet4_next(&g.in, g.max_frame, &f, &n)) == 1) {
        ll_users_command(f, n);
        ll_buf_consume(&g.in, n + 4);
    }
    if (k < 0 || r == -2) {
        lwsl_err("frame from Erlang above the cap (%zu bytes); exiting\n", g.max_frame);
        stop(2);
        return -1;
    }
    if (r <= 0) {
        stop(0);
        return -1;
    }
    return 0;
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
        lws_callback_on_writable(wsi);
    return 0;
}

/* Before the loop waits for I/O (after timers and I/O callbacks ran), the frames for Erlang leave
 * in one write(); only when the pipe is full does lws watch it for POLLOUT (a writeable request
 * per frame would toggle epoll each time) */
static void on_prepare(uv_prepare_t *h)
{
    (void)h;
    if (!g.w_out || !ll_buf_unread(&g.out))
        return;
    if (flush_fd(g.w_out, 1, &g.out)) {
        stop(0);
        return;
    }
}

static int cb_raw(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user, (void)in, (void)len;
    int fd = lws_get_socket_fd(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (wsi == g.w_in)
            return on_erlang_readable(fd);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        if (wsi == g.w_out && flush_fd(wsi, fd, &g.out)) {
            stop(0);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (wsi == g.w_in)
            g.w_in = NULL;
        else if (wsi == g.w_out)
            g.w_out = NULL;
        stop(g.exit_code);
        return 0;
    default:
        return 0;
    }
}

static struct lws *adopt(int fd)
{
    lws_sock_file_fd_type u;
    u.filefd = fd;
    return lws_adopt_descriptor_vhost(g.vh, LWS_ADOPT_RAW_FILE_DESC, u, "ll-raw", NULL);
}

static const struct lws_protocols PROTOCOLS[] = {
    {"ll-raw", cb_raw, 0, 0, 0, NULL, 0},
    /* rx buffers are per connection: a small one is delivered in pieces, which we assemble */
    {"ll-http", ll_user_cb_http, 0, 8192, 0, NULL, 0},
    {"ll-ws", ll_user_cb_ws, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    unsigned long max_users = 10000, max_message = 8u << 20, max_depth = 64, heartbeat_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto usage;
        i++;
        if (!strcmp(a, "--max-users") && (max_users = strtoul(v, NULL, 10)) > 0 && max_users <= 100000)
            ;
        else if (!strcmp(a, "--max-message") && (max_message = strtoul(v, NULL, 10)) >= 1024 &&
                 max_message <= (1u << 30))
            ;
        else if (!strcmp(a, "--max-depth") && (max_depth = strtoul(v, NULL, 10)) >= 4 && max_depth <= 1024)
            ;
        else if (!strcmp(a, "--heartbeat-ms") && (heartbeat_ms = strtoul(v, NULL, 10)) >= 100 &&
                 heartbeat_ms <= 3600000)
            ;
        else
            goto usage;
    }
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(getenv("LIVE_LOAD_PROTOCOL_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_CLIENT
                                                          : LLL_ERR,
                      NULL);
    g.max_frame = max_message + 65536;
    ll_buf_init(&g.in, g.max_frame + 65536 + 4);
    ll_buf_init(&g.out, 512u << 20);

    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) { /* one fd per user socket */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = PROTOCOLS;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.timeout_secs = 30;
    if (uv_loop_init(&g.loop)) {
        lwsl_err("uv_loop_init failed\n");
        return 1;
    }
    void *loops[1] = {&g.loop};
    info.foreign_loops = loops;
    info.options |= LWS_SERVER_OPTION_LIBUV;
    info.connect_timeout_secs = 30;
    g.ctx = lws_create_context(&info);
    if (!g.ctx) {
        lwsl_err("lws_create_context failed\n");
        return 1;
    }
    g.vh = lws_get_vhost_by_name(g.ctx, "default");
    ll_users_cfg cfg = {g.ctx, to_erlang, (unsigned)max_users, (size_t)max_message, (unsigned)max_depth, heartbeat_ms};
    if (ll_users_init(&cfg)) {
        lwsl_err("cannot allocate the user table\n");
        return 1;
    }
    uv_prepare_init(&g.loop, &g.flush);
    uv_prepare_start(&g.flush, on_prepare);
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
    g.w_in = adopt(0);
    g.w_out = adopt(1);
    if (!g.w_in || !g.w_out) {
        lwsl_err("cannot adopt stdin/stdout\n");
        return 1;
    }
    if (!g.done)
        uv_run(&g.loop, UV_RUN_DEFAULT);
    if (g.w_out && ll_buf_unread(&g.out)) {
        fcntl(1, F_SETFL, fcntl(1, F_GETFL) & ~O_NONBLOCK);
        while (ll_buf_unread(&g.out)) {
            ssize_t n = write(1, ll_buf_head(&g.out), ll_buf_unread(&g.out));
            if (n <= 0)
                break;
            ll_buf_consume(&g.out, (size_t)n);
        }
    }
    ll_users_shutdown();
    uv_prepare_stop(&g.flush);
    uv_close((uv_handle_t *)&g.flush, NULL);
    lws_context_destroy(g.ctx);
    uv_run(&g.loop, UV_RUN_NOWAIT); /* let lws's handles finish closing */
    ll_users_free();
    uv_loop_close(&g.loop);
    ll_buf_free(&g.in);
    ll_buf_free(&g.out);
    return g.exit_code;
usage:
    fprintf(stderr, "usage: live_load_protocol [--max-users N] [--max-message BYTES] [--max-depth N] [--heartbeat-ms MS]\n");
    return 64;
}
