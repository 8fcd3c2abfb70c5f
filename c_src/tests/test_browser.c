/* C unit tests of the browser port's pure parts: framing (common/buf), the JSON <-> term codec
 * and the CDP core (user creation, session routing, replies, network records). No browser, no
 * BEAM: the core's outputs are captured and decoded here. */
#include <ei.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "core.h"
#include "core_harness.h"
#include "etf.h"
#include "wire.h"

/* ------------------------------------------------------------------ framing */

static void test_packet4(void)
{
    ll_buf b;
    const char *f;
    size_t n;
    ll_buf_init(&b, 1 << 16);
    CHECK(ll_packet4_put(&b, "hello", 5) == 0);
    CHECK(ll_packet4_put(&b, "", 0) == 0);
    CHECK(ll_packet4_next(&b, 100, &f, &n) == 1 && n == 5 && !memcmp(f, "hello", 5));
    ll_buf_consume(&b, n + 4);
    CHECK(ll_packet4_next(&b, 100, &f, &n) == 1 && n == 0);
    ll_buf_consume(&b, 4);
    CHECK(ll_packet4_next(&b, 100, &f, &n) == 0);
    /* partial header, partial body */
    CHECK(ll_buf_append(&b, "\0\0", 2) == 0);
    CHECK(ll_packet4_next(&b, 100, &f, &n) == 0);
    CHECK(ll_buf_append(&b, "\0\3ab", 4) == 0);
    CHECK(ll_packet4_next(&b, 100, &f, &n) == 0);
    CHECK(ll_buf_append(&b, "c", 1) == 0);
    CHECK(ll_packet4_next(&b, 100, &f, &n) == 1 && n == 3 && !memcmp(f, "abc", 3));
    ll_buf_consume(&b, 7);
    /* announced length over the cap is an error before any body arrives */
    CHECK(ll_buf_append(&b, "\x7f\0\0\0", 4) == 0);
    CHECK(ll_packet4_next(&b, 100, &f, &n) == -1);
    ll_buf_free(&b);
    /* the buffer itself refuses to grow past its cap */
    ll_buf_init(&b, 8);
    CHECK(ll_buf_append(&b, "12345678", 8) == 0);
    CHECK(ll_buf_append(&b, "9", 1) == -1);
    ll_buf_consume(&b, 4);
    CHECK(ll_buf_append(&b, "9", 1) == 0);
    ll_buf_free(&b);
}

static void test_nul_framing(void)
{
    ll_buf b;
    const char *m;
    size_t n, scanned = 0;
    ll_buf_init(&b, 1 << 16);
    /* a buffer never allocated (fuzz regression crash-da39a3ee...: empty input, UBSan NULL + 0) */
    CHECK(ll_buf_append(&b, "", 0) == 0);
    CHECK(ll_nul_next(&b, 100, &scanned, &m, &n) == 0 && scanned == 0);
    CHECK(ll_buf_append(&b, "{\"a\":1}", 7) == 0);
    CHECK(ll_nul_next(&b, 100, &scanned, &m, &n) == 0 && scanned == 7);
    CHECK(ll_buf_append(&b, "\0{\"b\"", 5) == 0);
    CHECK(ll_nul_next(&b, 100, &scanned, &m, &n) == 1 && n == 7 && !memcmp(m, "{\"a\":1}", 7));
    ll_buf_consume(&b, n + 1);
    CHECK(ll_nul_next(&b, 100, &scanned, &m, &n) == 0);
    CHECK(ll_buf_append(&b, ":2}\0", 4) == 0);
    CHECK(ll_nul_next(&b, 100, &scanned, &m, &n) == 1 && n == 7 && !memcmp(m, "{\"b\":2}", 7));
    ll_buf_consume(&b, n + 1);
    /* no terminator within the cap */
    char big[200];
    memset(big, 'x', sizeof big);
    CHECK(ll_buf_append(&b, big, sizeof big) == 0);
    CHECK(ll_nul_next(&b, 100, &scanned, &m, &n) == -1);
    ll_buf_free(&b);
}

/* ------------------------------------------------------------------ codec */

static void test_codec_roundtrip(void)
{
    const char *src = "{\"a\":[1,-2,3.5,true,false,null,\"\xc3\xa9t\xc3\xa9\"],\"b\":{\"c\":{}},\"d\":[],"
                      "\"big\":9007199254740993}";
    json_t *j = json_loads(src, 0, NULL), *back;
    ei_x_buff x;
    int idx = 0, ver;
    const char *err = NULL;
    ei_x_new_with_version(&x);
    CHECK(ll_json_to_etf(&x, j) == 0);
    CHECK(ll_etf_validate(x.buff, (size_t)x.index) == 0);
    CHECK(ei_decode_version(x.buff, &idx, &ver) == 0);
    back = ll_etf_to_json(x.buff, &idx, &err);
    CHECK(back && json_equal(j, back));
    CHECK(idx == x.index);
    /* truncated terms never validate */
    for (int cut = 1; cut < x.index; cut++)
        CHECK(ll_etf_validate(x.buff, (size_t)cut) == -1);
    json_decref(back);
    json_decref(j);
    ei_x_free(&x);
}

static void test_codec_rejects(void)
{
    ei_x_buff x;
    int idx, ver;
    const char *err;
    /* tuple */
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "a");
    ei_x_encode_atom(&x, "b");
    idx = 0, err = NULL;
    ei_decode_version(x.buff, &idx, &ver);
    CHECK(ll_etf_to_json(x.buff, &idx, &err) == NULL && err && !strcmp(err, "tuple"));
    ei_x_free(&x);
    /* invalid UTF-8 binary */
    ei_x_new_with_version(&x);
    ei_x_encode_binary(&x, "\xff\xfe", 2);
    idx = 0, err = NULL;
    ei_decode_version(x.buff, &idx, &ver);
    CHECK(ll_etf_to_json(x.buff, &idx, &err) == NULL && err && !strcmp(err, "utf8"));
    ei_x_free(&x);
    /* too deep */
    ei_x_new_with_version(&x);
    for (int i = 0; i < LL_CODEC_MAX_DEPTH + 2; i++)
        ei_x_encode_list_header(&x, 1);
    ei_x_encode_long(&x, 1);
    for (int i = 0; i < LL_CODEC_MAX_DEPTH + 2; i++)
        ei_x_encode_empty_list(&x);
    idx = 0, err = NULL;
    ei_decode_version(x.buff, &idx, &ver);
    CHECK(ll_etf_to_json(x.buff, &idx, &err) == NULL && err && !strcmp(err, "depth"));
    ei_x_free(&x);
    /* atoms: booleans, null, other atoms as strings; atom keys */
    ei_x_new_with_version(&x);
    ei_x_encode_map_header(&x, 2);
    ei_x_encode_atom(&x, "k");
    ei_x_encode_atom(&x, "undefined");
    ei_x_encode_atom(&x, "mode");
    ei_x_encode_atom(&x, "fast");
    idx = 0, err = NULL;
    ei_decode_version(x.buff, &idx, &ver);
    json_t *j = ll_etf_to_json(x.buff, &idx, &err);
    CHECK(j && json_is_null(json_object_get(j, "k")));
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "mode")), "fast"));
    json_decref(j);
    ei_x_free(&x);
    /* a binary announcing more bytes than the buffer holds */
    const char bad[] = {(char)131, 109, 0, 0, 0, 100, 'a'};
    CHECK(ll_etf_validate(bad, sizeof bad) == -1);
    const char bad_map[] = {(char)131, 116, 0x7f, 0, 0, 0};
    CHECK(ll_etf_validate(bad_map, sizeof bad_map) == -1);
}

/* ------------------------------------------------------------------ core */

static const char *cmd_method(int i) { return json_string_value(json_object_get(q.to_browser[i], "method")); }
static const char *cmd_session(int i)
{
    const char *s = json_string_value(json_object_get(q.to_browser[i], "sessionId"));
    return s ? s : "";
}

static void send_erl(ll_core *c, ei_x_buff *x)
{
    ll_core_from_erlang(c, x->buff, (size_t)x->index);
    ei_x_free(x);
}

static void test_core_user_lifecycle(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang, .observer_js = "/*obs*/",
                       .binding = "__live_load"};
    ll_core *c = ll_core_new(&cfg);
    long a;
    char b[MAXATOMLEN_UTF8];
    ll_core_start(c);
    CHECK(q.nb == 1 && !strcmp(cmd_method(0), "Target.setAutoAttach"));
    q_reset();

    /* {5, new_user, #{network => true}} */
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_long(&x, 5);
    ei_x_encode_atom(&x, "new_user");
    ei_x_encode_map_header(&x, 1);
    ei_x_encode_atom(&x, "network");
    ei_x_encode_atom(&x, "true");
    send_erl(c, &x);
    CHECK(q.nb == 1 && !strcmp(cmd_method(0), "Target.createBrowserContext"));
    from_browser(c, "{'id':%lld,'result':{'browserContextId':'CTX1'}}", (long long)cmd_id(0));
    CHECK(q.nb == 2 && !strcmp(cmd_method(1), "Target.createTarget"));
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(q.to_browser[1], "params"), "browserContextId")), "CTX1"));
    /* an omnibox target of another context attaches first: resumed, not routed */
    from_browser(c, "{'method':'Target.attachedToTarget','params':{'sessionId':'UI1','waitingForDebugger':true,"
                    "'targetInfo':{'targetId':'T0','type':'browser_ui','browserContextId':'CTX1'}}}");
    CHECK(q.nb == 3 && !strcmp(cmd_method(2), "Runtime.runIfWaitingForDebugger") && !strcmp(cmd_session(2), "UI1"));
    /* the page attaches before createTarget's reply */
    from_browser(c, "{'method':'Target.attachedToTarget','params':{'sessionId':'S1','waitingForDebugger':true,"
                    "'targetInfo':{'targetId':'T1','type':'page','browserContextId':'CTX1'}}}");
    int first = 3, n = q.nb - first;
    CHECK(n == 8); /* 7 + Network.enable */
    for (int i = first; i < q.nb; i++)
        CHECK(!strcmp(cmd_session(i), "S1"));
    CHECK(!strcmp(cmd_method(q.nb - 1), "Runtime.runIfWaitingForDebugger"));
    CHECK(!strcmp(cmd_method(q.nb - 2), "Page.addScriptToEvaluateOnNewDocument"));
    from_browser(c, "{'id':%lld,'result':{'targetId':'T1'}}", (long long)cmd_id(1));
    CHECK(q.ne == 0);
    for (int i = first; i < q.nb; i++)
        from_browser(c, "{'id':%lld,'result':{},'sessionId':'S1'}", (long long)cmd_id(i));
    CHECK(q.ne == 1);
    json_t *r = erl_out(0, &a, b);
    CHECK(a == 5 && !strcmp(b, "ok"));
    CHECK(r && json_integer_value(json_object_get(r, "user")) == 1);
    CHECK(r && !strcmp(json_string_value(json_object_get(r, "session_id")), "S1"));
    json_decref(r);
    q_reset();

    /* routing: an event of S1 reaches user 1, an unknown session reaches nobody, a non-whitelisted
     * event is dropped */
    from_browser(c, "{'method':'Page.lifecycleEvent','sessionId':'S1','params':{'name':'load','loaderId':'L'}}");
    from_browser(c, "{'method':'Page.lifecycleEvent','sessionId':'S9','params':{'name':'load'}}");
    from_browser(c, "{'method':'Runtime.consoleAPICalled','sessionId':'S1','params':{}}");
    CHECK(q.ne == 1);
    r = erl_out(0, &a, b);
    CHECK(a == 0 && !strcmp(b, "1") && !strcmp(json_string_value(json_object_get(r, "type")), "cdp"));
    json_decref(r);
    q_reset();

    /* binding call: payload decoded */
    from_browser(c, "{'method':'Runtime.bindingCalled','sessionId':'S1','params':{'name':'__live_load',"
                    "'payload':'[{\\'k\\':1}]'}}");
    from_browser(c, "{'method':'Runtime.bindingCalled','sessionId':'S1','params':{'name':'other','payload':'[]'}}");
    CHECK(q.ne == 1);
    r = erl_out(0, &a, b);
    CHECK(r && !strcmp(json_string_value(json_object_get(r, "type")), "observer"));
    CHECK(r && json_integer_value(json_object_get(json_array_get(json_object_get(r, "events"), 0), "k")) == 1);
    json_decref(r);
    q_reset();

    /* network record */
    from_browser(c, "{'method':'Network.requestWillBeSent','sessionId':'S1','params':{'requestId':'R1',"
                    "'timestamp':10.0,'wallTime':1700000000.0,'type':'Document','request':{'method':'GET',"
                    "'url':'http://h:1/users/42/edit?x=1'}}}");
    from_browser(c, "{'method':'Network.responseReceived','sessionId':'S1','params':{'requestId':'R1',"
                    "'response':{'status':200,'timing':{'requestTime':10.001,'dnsStart':-1,'dnsEnd':-1,"
                    "'connectStart':1,'connectEnd':3,'sslStart':-1,'sslEnd':-1,'receiveHeadersEnd':4}}}}");
    from_browser(c, "{'method':'Network.loadingFinished','sessionId':'S1','params':{'requestId':'R1',"
                    "'timestamp':10.010,'encodedDataLength':1234}}");
    CHECK(q.ne == 1);
    r = erl_out(0, &a, b);
    /* the raw URL, no route: templating is Erlang's (live_load_context_route) */
    CHECK(r && !strcmp(json_string_value(json_object_get(r, "url")), "http://h:1/users/42/edit?x=1"));
    CHECK(r && !json_object_get(r, "route"));
    CHECK(r && json_integer_value(json_object_get(r, "status")) == 200);
    CHECK(r && json_integer_value(json_object_get(r, "bytes")) == 1234);
    CHECK(r && json_real_value(json_object_get(r, "duration_ms")) > 9.99 &&
          json_real_value(json_object_get(r, "duration_ms")) < 10.01);
    CHECK(r && json_real_value(json_object_get(r, "ttfb_ms")) > 4.99 && json_real_value(json_object_get(r, "ttfb_ms")) < 5.01);
    CHECK(r && json_real_value(json_object_get(r, "connect_ms")) == 2.0);
    CHECK(r && json_is_null(json_object_get(r, "dns_ms")));
    json_decref(r);
    q_reset();

    /* WebSocket: open, one frame each way (binary sizes from base64), close with counts */
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'W1',"
                    "'url':'ws://h/live/websocket?vsn=2.0.0'}}");
    from_browser(c, "{'method':'Network.webSocketFrameSent','sessionId':'S1','params':{'requestId':'W1',"
                    "'response':{'opcode':1,'payloadData':'hello'}}}");
    from_browser(c, "{'method':'Network.webSocketFrameReceived','sessionId':'S1','params':{'requestId':'W1',"
                    "'response':{'opcode':2,'payloadData':'AAEC'}}}");
    from_browser(c, "{'method':'Network.webSocketClosed','sessionId':'S1','params':{'requestId':'W1'}}");
    CHECK(q.ne == 4);
    const char *whats[] = {"open", "sent", "received", "close"};
    long sizes[] = {-1, 5, 3, -1};
    for (int i = 0; i < 4 && i < q.ne; i++) {
        r = erl_out(i, &a, b);
        CHECK(r && !strcmp(json_string_value(json_object_get(r, "what")), whats[i]));
        CHECK(r && !strcmp(json_string_value(json_object_get(r, "url")), "ws://h/live/websocket?vsn=2.0.0"));
        CHECK(r && !json_object_get(r, "route"));
        CHECK(r && !json_object_get(r, "count")); /* each frame event is one frame */
        if (sizes[i] >= 0)
            CHECK(r && json_integer_value(json_object_get(r, "bytes")) == sizes[i]);
        if (i == 3)
            CHECK(r && json_integer_value(json_object_get(r, "sent")) == 1 &&
                  json_integer_value(json_object_get(r, "received")) == 1);
        json_decref(r);
    }
    q_reset();

    /* call on the page session, then a CDP error */
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 5);
    ei_x_encode_long(&x, 6);
    ei_x_encode_atom(&x, "call");
    ei_x_encode_long(&x, 1);
    ei_x_encode_binary(&x, "Runtime.evaluate", 16);
    ei_x_encode_map_header(&x, 1);
    ei_x_encode_binary(&x, "expression", 10);
    ei_x_encode_binary(&x, "1+1", 3);
    send_erl(c, &x);
    CHECK(q.nb == 1 && !strcmp(cmd_session(0), "S1") && !strcmp(cmd_method(0), "Runtime.evaluate"));
    from_browser(c, "{'id':%lld,'sessionId':'S1','error':{'code':-32000,'message':'nope'}}", (long long)cmd_id(0));
    CHECK(q.ne == 1);
    r = erl_out(0, &a, b);
    CHECK(a == 6 && !strcmp(b, "error"));
    json_decref(r);
    q_reset();

    /* detach marks the user gone: calls fail fast */
    from_browser(c, "{'method':'Target.detachedFromTarget','params':{'sessionId':'S1'}}");
    CHECK(q.ne == 1);
    q_reset();
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 5);
    ei_x_encode_long(&x, 7);
    ei_x_encode_atom(&x, "call");
    ei_x_encode_long(&x, 1);
    ei_x_encode_binary(&x, "Page.reload", 11);
    ei_x_encode_map_header(&x, 0);
    send_erl(c, &x);
    CHECK(q.nb == 0 && q.ne == 1);
    r = erl_out(0, &a, b);
    CHECK(a == 7 && !strcmp(b, "error"));
    json_decref(r);
    q_reset();

    /* shutdown disposes the remaining context and counts the disposal down */
    CHECK(ll_core_shutdown(c) == 1);
    CHECK(q.nb == 1 && !strcmp(cmd_method(0), "Target.disposeBrowserContext"));
    from_browser(c, "{'id':%lld,'result':{}}", (long long)cmd_id(0));
    CHECK(ll_core_disposing(c) == 0);
    ll_core_stats st;
    ll_core_get_stats(c, &st);
    CHECK(st.users == 0);
    CHECK(st.pending == 2); /* setAutoAttach and the omnibox resume were never answered here */
    q_reset();
    ll_core_free(c);
}

/* Creates a user with {Id, new_user, #{sample => Sample}} and plays the browser's side. */
static void make_user(ll_core *c, long erl, double sample, const char *ctx, const char *sid)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_long(&x, erl);
    ei_x_encode_atom(&x, "new_user");
    ei_x_encode_map_header(&x, 1);
    ei_x_encode_atom(&x, "sample");
    ei_x_encode_double(&x, sample);
    send_erl(c, &x);
    from_browser(c, "{'id':%lld,'result':{'browserContextId':'%s'}}", (long long)cmd_id(q.nb - 1), ctx);
    int first = q.nb;
    from_browser(c, "{'method':'Target.attachedToTarget','params':{'sessionId':'%s','waitingForDebugger':true,"
                    "'targetInfo':{'targetId':'T','type':'page','browserContextId':'%s'}}}", sid, ctx);
    for (int i = first; i < q.nb; i++)
        from_browser(c, "{'id':%lld,'result':{},'sessionId':'%s'}", (long long)cmd_id(i), sid);
}

static int http_events_for(ll_core *c, const char *sid, int n)
{
    int before = q.ne;
    for (int i = 0; i < n; i++) {
        from_browser(c, "{'method':'Network.requestWillBeSent','sessionId':'%s','params':{'requestId':'R%d',"
                        "'timestamp':1,'request':{'method':'GET','url':'http://h/x'}}}", sid, i);
        from_browser(c, "{'method':'Network.loadingFinished','sessionId':'%s','params':{'requestId':'R%d',"
                        "'timestamp':2,'encodedDataLength':1}}", sid, i);
    }
    return q.ne - before;
}

static void test_core_sampling(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang, .max_inflight = 4};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 0.0, "C0", "S0");
    make_user(c, 2, 1.0, "C1", "S1");
    make_user(c, 3, 0.5, "C2", "S2");
    CHECK(q.ne == 3); /* the three new_user replies */
    q_reset();
    CHECK(http_events_for(c, "S0", 20) == 0);
    q_reset();
    CHECK(http_events_for(c, "S1", 20) == 20);
    q_reset();
    int half = http_events_for(c, "S2", 40);
    CHECK(half > 5 && half < 35);
    q_reset();
    /* in-flight cap: requests beyond max_inflight are dropped and counted, never tracked */
    for (int i = 0; i < 6; i++)
        from_browser(c, "{'method':'Network.requestWillBeSent','sessionId':'S1','params':{'requestId':'Q%d',"
                        "'timestamp':1,'request':{'method':'GET','url':'http://h/x'}}}", i);
    ll_core_stats st;
    ll_core_get_stats(c, &st);
    CHECK(st.http_dropped == 2);
    q_reset();
    ll_core_free(c);
}

static void test_core_bad_frames(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    long a;
    char b[MAXATOMLEN_UTF8];
    ll_core_from_erlang(c, "garbage", 7);
    CHECK(q.ne == 1);
    json_t *r = erl_out(0, &a, b);
    CHECK(a == 0 && !strcmp(b, "0") && !strcmp(json_string_value(json_object_get(r, "type")), "protocol_error"));
    json_decref(r);
    CHECK(ll_core_from_browser(c, "{not json", 9) == -1);
    CHECK(ll_core_from_browser(c, "[1,2]", 5) == -1);
    /* a reply for an id nobody waits for is ignored */
    CHECK(ll_core_from_browser(c, "{\"id\":12345,\"result\":{}}", 24) == 0);
    CHECK(q.nb == 0 && q.ne == 1);
    q_reset();
    ll_core_free(c);
}

/* ------------------------------------------------------------------ #15 regressions */

/* {Erl, call | call_browser, Uid, Method, #{}} or, with timeout_ms > 0, {..., TimeoutMs} */
static void send_call(ll_core *c, long erl, const char *cmd, long uid, const char *method, long timeout_ms)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, timeout_ms > 0 ? 6 : 5);
    ei_x_encode_long(&x, erl);
    ei_x_encode_atom(&x, cmd);
    ei_x_encode_long(&x, uid);
    ei_x_encode_binary(&x, method, (long)strlen(method));
    ei_x_encode_map_header(&x, 0);
    if (timeout_ms > 0)
        ei_x_encode_long(&x, timeout_ms);
    send_erl(c, &x);
}

static void send_close(ll_core *c, long erl, long uid)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_long(&x, erl);
    ei_x_encode_atom(&x, "close_user");
    ei_x_encode_long(&x, uid);
    send_erl(c, &x);
}

/* The reply to Erlang request erl among the captured outputs: its status atom in status and its
 * third element (decoded) returned; NULL with status "" when there is none. */
static json_t *reply_to(long erl, char *status)
{
    status[0] = 0;
    for (int i = 0; i < q.ne; i++) {
        long a;
        char b[MAXATOMLEN_UTF8];
        json_t *r = erl_out(i, &a, b);
        if (a == erl) {
            strcpy(status, b);
            return r ? r : json_null();
        }
        json_decref(r);
    }
    return NULL;
}

/* true when request erl was answered error with the atom reason */
static int answered_error(long erl, const char *reason)
{
    char st[MAXATOMLEN_UTF8];
    json_t *r = reply_to(erl, st);
    int ok = r && !strcmp(st, "error") && json_is_string(r) && !strcmp(json_string_value(r), reason);
    json_decref(r);
    return ok;
}

static unsigned pending_of(ll_core *c)
{
    ll_core_stats st;
    ll_core_get_stats(c, &st);
    return st.pending;
}

static int count_events(const char *type)
{
    int n = 0;
    for (int i = 0; i < q.ne; i++) {
        long a;
        char b[MAXATOMLEN_UTF8];
        json_t *r = erl_out(i, &a, b);
        n += a == 0 && r && !strcmp(json_string_value(json_object_get(r, "type")), type);
        json_decref(r);
    }
    return n;
}

/* Chromium's own loads (its error page's data: images, blob:, about:, chrome-error://) are not
 * the scenario's traffic: only http(s) requests and ws(s) sockets are reported. */
static void test_scheme_filter(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    const char *urls[] = {"data:image/png;base64,iVBORw0KGgo=", "blob:http://h/0b4e", "chrome-error://chromewebdata/",
                          "about:blank", "chrome://version", "http://h/a", "HTTPS://h/b", "httpx://h/c"};
    for (int i = 0; i < 8; i++) {
        from_browser(c, "{'method':'Network.requestWillBeSent','sessionId':'S1','params':{'requestId':'R%d',"
                        "'timestamp':1,'type':'Image','request':{'method':'GET','url':'%s'}}}", i, urls[i]);
        from_browser(c, "{'method':'Network.responseReceived','sessionId':'S1','params':{'requestId':'R%d',"
                        "'response':{'status':200}}}", i);
        from_browser(c, "{'method':'Network.loadingFinished','sessionId':'S1','params':{'requestId':'R%d',"
                        "'timestamp':2,'encodedDataLength':0}}", i);
    }
    CHECK(count_events("http") == 2);
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'W1','url':'wss://h/live'}}");
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'W2','url':'ws://h/live'}}");
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'W3','url':'data:x'}}");
    CHECK(count_events("ws") == 2);
    q_reset();
    ll_core_free(c);
}

/* binary frames are base64: padded, unpadded and malformed tails give the decoded size, never a
 * wrapped-around one */
static void test_frame_bytes(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'W1','url':'ws://h/s'}}");
    q_reset();
    const char *payloads[] = {"", "=", "==", "AA", "AA==", "AAE", "AAE=", "AAEC", "AAECAw", "AAECAw=="};
    long want[] = {0, 0, 0, 1, 1, 2, 2, 3, 4, 4};
    for (int i = 0; i < 10; i++)
        from_browser(c, "{'method':'Network.webSocketFrameReceived','sessionId':'S1','params':{'requestId':'W1',"
                        "'response':{'opcode':2,'payloadData':'%s'}}}", payloads[i]);
    from_browser(c, "{'method':'Network.webSocketFrameSent','sessionId':'S1','params':{'requestId':'W1',"
                    "'response':{'opcode':1,'payloadData':'hi'}}}");
    CHECK(q.ne == 11);
    for (int i = 0; i < q.ne; i++) {
        long a;
        char b[MAXATOMLEN_UTF8];
        json_t *r = erl_out(i, &a, b);
        CHECK(r && json_integer_value(json_object_get(r, "bytes")) == (i < 10 ? want[i] : 2));
        CHECK(r && !json_object_get(r, "count"));
        json_decref(r);
    }
    q_reset();
    ll_core_free(c);
}

/* One command that never gets an answer must not cost more than its own slot: 2 x the table's
 * capacity of answered commands after it all go out. */
static void test_pending_stuck_slot(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    send_call(c, 100, "call", 1, "Runtime.evaluate", 0); /* never answered */
    q_reset();
    unsigned base = pending_of(c), ok = 0, n = 2 * ll_core_pending_cap();
    for (unsigned i = 0; i < n; i++) {
        send_call(c, 1000 + i, "call", 1, "Runtime.evaluate", 0);
        if (q.nb == 1)
            from_browser(c, "{'id':%lld,'sessionId':'S1','result':{}}", (long long)cmd_id(0));
        char st[MAXATOMLEN_UTF8];
        json_t *r = reply_to(1000 + i, st);
        ok += r && !strcmp(st, "ok");
        json_decref(r);
        q_reset();
    }
    CHECK(ok == n);
    CHECK(pending_of(c) == base);
    ll_core_free(c);
}

/* The page session detaches (dispose, crash): commands sent on it are failed at once and their
 * slots freed; a root-session command of the user is failed when the user is closed. */
static void test_pending_release_on_detach(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    unsigned base = pending_of(c);
    send_call(c, 10, "call", 1, "Runtime.evaluate", 0);
    send_call(c, 11, "call_browser", 1, "Storage.getCookies", 0);
    CHECK(q.nb == 2 && pending_of(c) == base + 2);
    from_browser(c, "{'method':'Target.detachedFromTarget','params':{'sessionId':'S1','targetId':'T'}}");
    CHECK(answered_error(10, "user_gone"));
    CHECK(pending_of(c) == base + 1);
    q_reset();
    send_close(c, 12, 1);
    CHECK(answered_error(11, "user_gone"));
    CHECK(q.nb == 1 && !strcmp(cmd_method(0), "Target.disposeBrowserContext"));
    from_browser(c, "{'id':%lld,'result':{}}", (long long)cmd_id(0));
    char st[MAXATOMLEN_UTF8];
    json_t *r = reply_to(12, st);
    CHECK(r && !strcmp(st, "ok"));
    json_decref(r);
    CHECK(pending_of(c) == 0); /* the user's unanswered createTarget went with it */
    q_reset();
    ll_core_free(c);
}

/* The renderer crashes: calls in flight on the page are answered target_crashed at once, and so
 * are the page's calls until a navigation (Page.navigate, Page.reload: Chromium would never answer
 * them); the user stays (the navigation brings a new renderer) and root-session calls are untouched. */
static void test_pending_release_on_crash(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    unsigned base = pending_of(c);
    send_call(c, 60, "call", 1, "Runtime.evaluate", 0);
    send_call(c, 61, "call_browser", 1, "Storage.getCookies", 0);
    q_reset();
    from_browser(c, "{'method':'Inspector.targetCrashed','sessionId':'S1','params':{}}");
    CHECK(answered_error(60, "target_crashed"));
    CHECK(!reply_to(61, (char[MAXATOMLEN_UTF8]){0}));
    CHECK(count_events("cdp") == 1);
    CHECK(pending_of(c) == base + 1);
    /* the crashed page answers nothing before a navigation: answered at once, nothing sent */
    send_call(c, 63, "call", 1, "Runtime.evaluate", 0);
    CHECK(answered_error(63, "target_crashed") && q.nb == 0);
    q_reset();
    send_call(c, 62, "call", 1, "Page.reload", 0);
    CHECK(q.nb == 1 && q.ne == 0);
    q_reset();
    send_call(c, 64, "call", 1, "Runtime.evaluate", 0); /* on the new renderer */
    CHECK(q.nb == 1 && q.ne == 0);
    q_reset();
    ll_core_free(c);
}

/* Closing a user whose page hangs: its pending call is answered user_gone at once. */
static void test_pending_release_on_close(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    make_user(c, 2, 1.0, "C2", "S2");
    q_reset();
    send_call(c, 20, "call", 1, "Runtime.evaluate", 0);
    send_call(c, 22, "call", 2, "Runtime.evaluate", 0);
    long long other = (long long)cmd_id(1);
    q_reset();
    send_close(c, 21, 1);
    CHECK(answered_error(20, "user_gone"));
    CHECK(!reply_to(22, (char[MAXATOMLEN_UTF8]){0})); /* the other user's call is untouched */
    from_browser(c, "{'id':%lld,'result':{}}", (long long)cmd_id(0));
    from_browser(c, "{'id':%lld,'sessionId':'S2','result':{}}", other);
    char st[MAXATOMLEN_UTF8];
    json_t *r = reply_to(22, st);
    CHECK(r && !strcmp(st, "ok"));
    json_decref(r);
    q_reset();
    ll_core_free(c);
}

/* Per-command deadlines: the one Erlang gave, else the default; an expired call answers timeout, a
 * late CDP reply for it is ignored, the user keeps working. */
static void test_pending_deadline(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang, .now_ms = q_now, .cmd_timeout_ms = 1000};
    q.now = 0;
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    send_call(c, 30, "call", 1, "Runtime.evaluate", 500);
    send_call(c, 31, "call", 1, "Runtime.evaluate", 0);
    long long late = (long long)cmd_id(0);
    q_reset();
    q.now = 499;
    CHECK(ll_core_tick(c) == 0 && q.ne == 0);
    q.now = 600;
    CHECK(ll_core_tick(c) == 1);
    CHECK(answered_error(30, "timeout"));
    q_reset();
    q.now = 1100;
    CHECK(ll_core_tick(c) == 2); /* 31 and the user's never-answered createTarget */
    CHECK(answered_error(31, "timeout"));
    CHECK(pending_of(c) == 0);
    q_reset();
    from_browser(c, "{'id':%lld,'sessionId':'S1','result':{}}", late);
    CHECK(q.ne == 0);
    send_call(c, 32, "call", 1, "Runtime.evaluate", 0);
    from_browser(c, "{'id':%lld,'sessionId':'S1','result':{}}", (long long)cmd_id(0));
    char st[MAXATOMLEN_UTF8];
    json_t *r = reply_to(32, st);
    CHECK(r && !strcmp(st, "ok"));
    json_decref(r);
    q_reset();
    /* a bad timeout is refused with its name */
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 6);
    ei_x_encode_long(&x, 33);
    ei_x_encode_atom(&x, "call");
    ei_x_encode_long(&x, 1);
    ei_x_encode_binary(&x, "Page.reload", 11);
    ei_x_encode_map_header(&x, 0);
    ei_x_encode_atom(&x, "soon");
    send_erl(c, &x);
    CHECK(q.nb == 0);
    r = reply_to(33, st);
    CHECK(r && !strcmp(st, "error"));
    json_decref(r);
    q_reset();
    ll_core_free(c);
}

/* A user whose page detaches during setup, or whose setup is never answered, gets its new_user
 * answered (an error) and leaves no slot behind. */
static void test_setup_detach_and_deadline(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang, .now_ms = q_now, .cmd_timeout_ms = 1000};
    q.now = 0;
    ll_core *c = ll_core_new(&cfg);
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_long(&x, 40);
    ei_x_encode_atom(&x, "new_user");
    ei_x_encode_map_header(&x, 0);
    send_erl(c, &x);
    from_browser(c, "{'id':%lld,'result':{'browserContextId':'C4'}}", (long long)cmd_id(q.nb - 1));
    from_browser(c, "{'method':'Target.attachedToTarget','params':{'sessionId':'S4','waitingForDebugger':true,"
                    "'targetInfo':{'targetId':'T4','type':'page','browserContextId':'C4'}}}");
    CHECK(pending_of(c) >= 8);
    from_browser(c, "{'method':'Target.detachedFromTarget','params':{'sessionId':'S4','targetId':'T4'}}");
    char st[MAXATOMLEN_UTF8];
    json_t *r = reply_to(40, st);
    CHECK(r && !strcmp(st, "error"));
    json_decref(r);
    ll_core_stats s;
    ll_core_get_stats(c, &s);
    CHECK(s.users == 0 && s.pending == 1); /* only the disposal of its context is in flight */
    q_reset();
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_long(&x, 41);
    ei_x_encode_atom(&x, "new_user");
    ei_x_encode_map_header(&x, 0);
    send_erl(c, &x);
    from_browser(c, "{'id':%lld,'result':{'browserContextId':'C5'}}", (long long)cmd_id(q.nb - 1));
    from_browser(c, "{'method':'Target.attachedToTarget','params':{'sessionId':'S5','waitingForDebugger':true,"
                    "'targetInfo':{'targetId':'T5','type':'page','browserContextId':'C5'}}}");
    q.now = 5000;
    CHECK(ll_core_tick(c) > 0);
    r = reply_to(41, st);
    CHECK(r && !strcmp(st, "error"));
    json_decref(r);
    ll_core_get_stats(c, &s);
    CHECK(s.users == 0 && s.pending == 1);
    q_reset();
    ll_core_free(c);
}

/* The queue to the browser is full: the command is answered too_many_pending (the protocol's
 * promise), the port goes on, nothing is left pending. */
static void test_browser_queue_full(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    unsigned base = pending_of(c);
    q.browser_full = 1;
    send_call(c, 50, "call", 1, "Runtime.evaluate", 0);
    CHECK(answered_error(50, "too_many_pending"));
    send_close(c, 51, 1);
    CHECK(answered_error(51, "too_many_pending"));
    CHECK(pending_of(c) <= base);
    q.browser_full = 0;
    q_reset();
    send_call(c, 52, "call", 1, "Runtime.evaluate", 0); /* the user is still ready */
    CHECK(q.nb == 1 && q.ne == 0);
    q_reset();
    ll_core_free(c);
}


/* ------------------------------------------------------------------ LiveView wire round trips */

static void test_phx_head(void)
{
    ll_phx_head h;
    const char *push = "[\"4\",\"7\",\"lv:phx-F1\",\"event\",{\"type\":\"click\",\"event\":\"inc\",\"value\":{}}]";
    CHECK(ll_phx_head_parse(push, strlen(push), &h, 1) == 0);
    CHECK(!strcmp(h.join_ref, "4") && !strcmp(h.ref, "7") && !strcmp(h.topic, "lv:phx-F1") && !strcmp(h.event, "event"));
    CHECK(h.push_type_ok && !strcmp(h.push_type, "click") && h.push_event_ok && !strcmp(h.push_event, "inc"));
    /* without with_payload the payload is not read */
    CHECK(ll_phx_head_parse(push, strlen(push), &h, 0) == 0 && !h.push_type_ok && !h.push_event[0]);
    /* every prefix of the head is refused, none is read past */
    size_t head = strlen("[\"4\",\"7\",\"lv:phx-F1\",\"event\",");
    for (size_t k = 0; k < head; k++) {
        char *cut = malloc(k ? k : 1);
        memcpy(cut, push, k);
        CHECK(ll_phx_head_parse(cut, k, &h, 1) == -1);
        free(cut);
    }
    /* ... and a truncated payload still gives the head */
    for (size_t k = head; k <= strlen(push); k++)
        CHECK(ll_phx_head_parse(push, k, &h, 1) == 0 && !strcmp(h.ref, "7"));
    /* the keys in any order, nested values and brackets inside strings skipped */
    const char *odd = " [ null , \"12\" , \"lv:x\" , \"event\" , { \"value\" : {\"a\":\"]}\\\"\",\"b\":[1,{\"c\":[]}]},"
                      " \"cid\" : 3 , \"meta\":null, \"type\" : \"form\" , \"event\" : \"val\\u00e9\\ud83d\\ude00\\n\" } ] ";
    CHECK(ll_phx_head_parse(odd, strlen(odd), &h, 1) == 0);
    CHECK(h.join_ref_null && !h.ref_null && !strcmp(h.ref, "12") && !strcmp(h.push_type, "form"));
    CHECK(!strcmp(h.push_event, "val\xc3\xa9\xf0\x9f\x98\x80\n"));
    /* a lone surrogate or \u0000 leaves no name; a long name is cut between characters */
    const char *lone = "[\"1\",\"2\",\"lv:x\",\"event\",{\"type\":\"click\",\"event\":\"a\\ud800b\"}]";
    CHECK(ll_phx_head_parse(lone, strlen(lone), &h, 1) == 0 && !h.push_event_ok && h.push_type_ok);
    const char *nul = "[\"1\",\"2\",\"lv:x\",\"event\",{\"event\":\"a\\u0000\"}]";
    CHECK(ll_phx_head_parse(nul, strlen(nul), &h, 1) == 0 && !h.push_event_ok);
    char longname[512];
    int n = snprintf(longname, sizeof longname, "[\"1\",\"2\",\"lv:x\",\"event\",{\"event\":\"");
    for (int i = 0; i < 100; i++)
        n += snprintf(longname + n, sizeof longname - (size_t)n, "\xc3\xa9"); /* 200 bytes of 2-byte chars */
    n += snprintf(longname + n, sizeof longname - (size_t)n, "x\"}]");
    CHECK(ll_phx_head_parse(longname, (size_t)n, &h, 1) == 0 && h.push_event_ok);
    CHECK(strlen(h.push_event) == LL_PHX_EVENT - 2 && (unsigned char)h.push_event[0] == 0xc3);
    /* refs that are not strings, a topic too long, not an array: refused */
    const char *numref = "[\"1\",2,\"lv:x\",\"event\",{}]";
    CHECK(ll_phx_head_parse(numref, strlen(numref), &h, 1) == -1);
    char longtopic[300];
    n = snprintf(longtopic, sizeof longtopic, "[\"1\",\"2\",\"lv:%0200d\",\"event\",{}]", 0);
    CHECK(ll_phx_head_parse(longtopic, (size_t)n, &h, 1) == -1);
    CHECK(ll_phx_head_parse("{\"a\":1}", 7, &h, 1) == -1);
    CHECK(ll_phx_head_parse("[\"1\",\"2\",\"lv:x\",\"ev\\q\",{}]", 24, &h, 1) == -1);
    CHECK(ll_phx_head_parse(NULL, 0, &h, 1) == -1);
    /* an unterminated payload string or object ends the reading, never the bounds */
    const char *open = "[\"1\",\"2\",\"lv:x\",\"event\",{\"value\":{\"a\":\"[[[[";
    CHECK(ll_phx_head_parse(open, strlen(open), &h, 1) == 0 && !h.push_type_ok);
}

static int wire_push(ll_wire *w, uint32_t sock, double ts, const char *ref, const char *event, uint64_t *dropped)
{
    char f[256];
    int n = snprintf(f, sizeof f, "[\"1\",\"%s\",\"lv:phx-A\",\"event\",{\"type\":\"click\",\"event\":\"%s\"}]", ref, event);
    return ll_wire_sent(w, sock, ts, ts * 1000.0, 7, f, (size_t)n, dropped);
}

static int wire_reply(ll_wire *w, uint32_t sock, const char *join_ref, const char *ref, const char *topic, ll_wire_push *out)
{
    char f[256];
    int n = snprintf(f, sizeof f, "[\"%s\",\"%s\",\"%s\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]", join_ref, ref,
                     topic);
    return ll_wire_received(w, sock, f, (size_t)n, out);
}

static void test_wire_table(void)
{
    ll_wire w;
    ll_wire_push out;
    uint64_t dropped = 0;
    memset(&w, 0, sizeof w);
    CHECK(wire_push(&w, 1, 10.0, "7", "inc", &dropped) == 1 && w.n == 1);
    /* another socket, ref, join_ref or topic is not the answer */
    CHECK(wire_reply(&w, 2, "1", "7", "lv:phx-A", &out) == 0);
    CHECK(wire_reply(&w, 1, "1", "8", "lv:phx-A", &out) == 0);
    CHECK(wire_reply(&w, 1, "2", "7", "lv:phx-A", &out) == 0);
    CHECK(wire_reply(&w, 1, "1", "7", "lv:phx-B", &out) == 0);
    const char *diff = "[\"1\",null,\"lv:phx-A\",\"diff\",{\"0\":\"1\"}]";
    CHECK(ll_wire_received(&w, 1, diff, strlen(diff), &out) == 0);
    CHECK(wire_reply(&w, 1, "1", "7", "lv:phx-A", &out) == 1);
    CHECK(out.ts == 10.0 && out.wall_ms == 10000.0 && !strcmp(out.event, "inc") && !strcmp(out.type, "click"));
    CHECK(out.timed && out.serial == 7);
    CHECK(w.n == 0 && wire_reply(&w, 1, "1", "7", "lv:phx-A", &out) == 0); /* answered once */
    /* every push with a ref is remembered (its reply bounds its network time); only LiveView
     * "event" pushes are timed, and only those count as dropped */
    const char *hb = "[null,\"3\",\"phoenix\",\"heartbeat\",{}]";
    const char *join = "[\"1\",\"1\",\"lv:phx-A\",\"phx_join\",{\"url\":\"http://h/\"}]";
    const char *noref = "[\"1\",null,\"lv:phx-A\",\"event\",{\"type\":\"click\",\"event\":\"x\"}]";
    CHECK(ll_wire_sent(&w, 1, 1.0, -1, 1, hb, strlen(hb), &dropped) == 1);
    CHECK(ll_wire_sent(&w, 1, 1.0, -1, 2, join, strlen(join), &dropped) == 1);
    CHECK(ll_wire_sent(&w, 1, 1.0, -1, 3, noref, strlen(noref), &dropped) == 0);
    CHECK(w.n == 2 && dropped == 0);
    CHECK(wire_reply(&w, 1, "null", "3", "phoenix", &out) == 0); /* null is not the string "null" */
    const char *hb_reply = "[null,\"3\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]";
    CHECK(ll_wire_received(&w, 1, hb_reply, strlen(hb_reply), &out) == 1 && !out.timed && out.serial == 1);
    CHECK(wire_reply(&w, 1, "1", "1", "lv:phx-A", &out) == 1 && !out.timed && out.serial == 2);
    CHECK(w.n == 0 && dropped == 0);
    /* full: the oldest push gives way */
    char ref[16];
    for (int i = 0; i < LL_WIRE_PENDING + 1; i++) {
        snprintf(ref, sizeof ref, "%d", 100 + i);
        CHECK(wire_push(&w, 1, 20.0 + i * 0.001, ref, "x", &dropped) == 1);
    }
    CHECK(w.n == LL_WIRE_PENDING && dropped == 1);
    CHECK(wire_reply(&w, 1, "1", "100", "lv:phx-A", &out) == 0);
    CHECK(wire_reply(&w, 1, "1", "101", "lv:phx-A", &out) == 1);
    /* a socket that closed takes its pushes along */
    ll_wire_forget(&w, 1, &dropped);
    CHECK(w.n == 0 && dropped == 1 + LL_WIRE_PENDING - 1);
    /* unanswered for longer than the TTL: forgotten when the next push comes */
    dropped = 0;
    CHECK(wire_push(&w, 3, 100.0, "1", "x", &dropped) == 1);
    CHECK(wire_push(&w, 3, 100.0 + LL_WIRE_TTL_S + 1, "2", "x", &dropped) == 1);
    CHECK(w.n == 1 && dropped == 1 && wire_reply(&w, 3, "1", "1", "lv:phx-A", &out) == 0);
}

static void ws_frame(ll_core *c, const char *sid, const char *rid, int sent, double ts, int opcode, const char *payload)
{
    json_t *m = json_pack("{s:s,s:s,s:{s:s,s:f,s:{s:i,s:s}}}", "method",
                          sent ? "Network.webSocketFrameSent" : "Network.webSocketFrameReceived", "sessionId", sid,
                          "params", "requestId", rid, "timestamp", ts, "response", "opcode", opcode, "payloadData", payload);
    char *s = json_dumps(m, JSON_COMPACT);
    CHECK(ll_core_from_browser(c, s, strlen(s)) == 0);
    free(s);
    json_decref(m);
}

/* the liveview events among the outputs */
static int wire_events(json_t **out, int max)
{
    int n = 0;
    for (int i = 0; i < q.ne; i++) {
        long a;
        char b[MAXATOMLEN_UTF8];
        json_t *r = erl_out(i, &a, b);
        if (r && !strcmp(json_string_value(json_object_get(r, "type")), "liveview") && n < max)
            out[n++] = r;
        else
            json_decref(r);
    }
    return n;
}

/* The port turns a push frame and its reply frame into one `liveview' event of kind `received'
 * (the page's round trip, CDP timestamps), also when the socket is not sampled (then without any
 * ws event), with the page's URL, the push's wall-clock time and the reply's size. Without the
 * network log (wire_trace off here) there is never a `wire' event: each answered push is counted
 * in wire_unmatched instead. */
static void test_core_wire(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 0.0, "C0", "S0"); /* network sampling: nothing sampled */
    make_user(c, 2, 1.0, "C1", "S1");
    q_reset();
    const char *push = "[\"4\",\"9\",\"lv:phx-F1\",\"event\",{\"type\":\"click\",\"event\":\"inc\",\"value\":{}}]";
    const char *reply = "[\"4\",\"9\",\"lv:phx-F1\",\"phx_reply\",{\"response\":{\"diff\":{\"0\":\"1\"}},\"status\":\"ok\"}]";
    const char *sids[] = {"S0", "S1"};
    for (int k = 0; k < 2; k++) {
        const char *sid = sids[k];
        from_browser(c, "{'method':'Page.frameNavigated','sessionId':'%s','params':{'frame':{'id':'F','url':'http://h/counter'}}}", sid);
        from_browser(c, "{'method':'Page.frameNavigated','sessionId':'%s','params':{'frame':{'id':'IF','parentId':'F','url':'http://h/ad'}}}", sid);
        from_browser(c, "{'method':'Page.navigatedWithinDocument','sessionId':'%s','params':{'frameId':'F','url':'http://h/items/7'}}", sid);
        from_browser(c, "{'method':'Page.navigatedWithinDocument','sessionId':'%s','params':{'frameId':'IF','url':'http://h/ad2'}}", sid);
        from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'%s','params':{'requestId':'W','url':'ws://h/live/websocket'}}", sid);
        from_browser(c, "{'method':'Network.webSocketWillSendHandshakeRequest','sessionId':'%s','params':{'requestId':'W',"
                        "'timestamp':100.0,'wallTime':1700000000.0}}", sid);
        q_reset();
        ws_frame(c, sid, "W", 1, 105.0, 1, push);
        ws_frame(c, sid, "W", 0, 105.001, 1, "[\"4\",null,\"lv:phx-F1\",\"diff\",{}]");
        ws_frame(c, sid, "W", 0, 105.0025, 2, "AAEC"); /* binary: never a reply */
        ws_frame(c, sid, "W", 0, 105.003, 1, reply);
        ws_frame(c, sid, "W", 0, 105.004, 1, reply); /* a second answer to the same push is not */
        json_t *ev[4];
        int n = wire_events(ev, 4);
        CHECK(n == 1);
        CHECK(count_events("ws") == (k == 0 ? 0 : 5));
        if (n == 1) {
            json_t *e = ev[0];
            CHECK(!strcmp(json_string_value(json_object_get(e, "kind")), "received"));
            CHECK(!strcmp(json_string_value(json_object_get(e, "event")), "inc"));
            CHECK(!strcmp(json_string_value(json_object_get(e, "event_type")), "click"));
            CHECK(!strcmp(json_string_value(json_object_get(e, "url")), "http://h/items/7"));
            double ms = json_real_value(json_object_get(e, "ms"));
            CHECK(ms > 2.999 && ms < 3.001);
            CHECK(json_integer_value(json_object_get(e, "bytes")) == (json_int_t)strlen(reply));
            double wall = json_real_value(json_object_get(e, "wall_ms"));
            CHECK(wall > 1700000005000.0 - 0.01 && wall < 1700000005000.0 + 0.01);
            json_decref(e);
        }
        q_reset();
    }
    /* a push whose socket closes is dropped and counted; a push without type/event still times */
    ws_frame(c, "S1", "W", 1, 106.0, 1, "[\"4\",\"10\",\"lv:phx-F1\",\"event\",{\"value\":1}]");
    ws_frame(c, "S1", "W", 0, 106.5, 1, "[\"4\",\"10\",\"lv:phx-F1\",\"phx_reply\",{}]");
    json_t *ev[2];
    CHECK(wire_events(ev, 2) == 1);
    CHECK(json_is_null(json_object_get(ev[0], "event")) && json_is_null(json_object_get(ev[0], "event_type")));
    json_decref(ev[0]);
    q_reset();
    ws_frame(c, "S1", "W", 1, 107.0, 1, push);
    from_browser(c, "{'method':'Network.webSocketClosed','sessionId':'S1','params':{'requestId':'W'}}");
    ll_core_stats st;
    ll_core_get_stats(c, &st);
    CHECK(st.wire_dropped == 1);
    CHECK(st.wire_unmatched == 3); /* the three answered pushes: no network-side time without the log */
    /* a new socket reusing the slot never answers the old one's push */
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S0','params':{'requestId':'W2','url':'ws://h/live/websocket'}}");
    ws_frame(c, "S0", "W", 1, 108.0, 1, push);
    from_browser(c, "{'method':'Network.webSocketClosed','sessionId':'S0','params':{'requestId':'W'}}");
    from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S0','params':{'requestId':'W3','url':'ws://h/live/websocket'}}");
    q_reset();
    ws_frame(c, "S0", "W3", 0, 108.5, 1, reply);
    CHECK(wire_events(ev, 2) == 0);
    q_reset();
    ll_core_free(c);
}

/* A user navigating once per iteration opens a socket per document and Chromium does not always
 * close the old one on CDP: a new main-frame document closes them, so the 40th document's push is
 * still timed (WS_CAP is 24), a sampled socket says `close', and the old socket's late frames are
 * nobody's. */
static void test_navigation_frees_sockets(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    int timed = 0, closes = 0;
    for (int k = 0; k < 40; k++) {
        char rid[16];
        snprintf(rid, sizeof rid, "W%d", k);
        from_browser(c, "{'method':'Page.frameNavigated','sessionId':'S1','params':{'frame':{'id':'F','url':'http://h/counter'}}}");
        for (int i = 0; i < q.ne; i++) {
            long a;
            char b[MAXATOMLEN_UTF8];
            json_t *r = erl_out(i, &a, b);
            closes += r && !strcmp(json_string_value(json_object_get(r, "type")), "ws") &&
                      !strcmp(json_string_value(json_object_get(r, "what")), "close") &&
                      json_integer_value(json_object_get(r, "sent")) == 1;
            json_decref(r);
        }
        from_browser(c, "{'method':'Network.webSocketCreated','sessionId':'S1','params':{'requestId':'%s','url':'ws://h/live/websocket'}}", rid);
        ws_frame(c, "S1", rid, 1, 100.0 + k, 1, "[\"4\",\"9\",\"lv:phx-F1\",\"event\",{\"type\":\"click\",\"event\":\"inc\"}]");
        ws_frame(c, "S1", rid, 0, 100.002 + k, 1, "[\"4\",\"9\",\"lv:phx-F1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
        json_t *ev[2];
        int n = wire_events(ev, 2);
        timed += n == 1;
        for (int i = 0; i < n; i++)
            json_decref(ev[i]);
        q_reset();
    }
    CHECK(timed == 40 && closes == 39);
    /* the previous document's socket: its frames after the navigation time nothing */
    from_browser(c, "{'method':'Page.frameNavigated','sessionId':'S1','params':{'frame':{'id':'F','url':'http://h/x'}}}");
    q_reset();
    ws_frame(c, "S1", "W39", 1, 200.0, 1, "[\"4\",\"10\",\"lv:phx-F1\",\"event\",{\"type\":\"click\",\"event\":\"inc\"}]");
    ws_frame(c, "S1", "W39", 0, 200.002, 1, "[\"4\",\"10\",\"lv:phx-F1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    json_t *ev[2];
    CHECK(wire_events(ev, 2) == 0);
    q_reset();
    ll_core_free(c);
}

/* stats counts CDP messages per method and direction; replies are "in reply"; a method name
 * too long for the table is "other", and past the table's cap everything is "other". */
static void test_method_counts(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang};
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    send_call(c, 60, "call", 1, "Runtime.evaluate", 0);
    send_call(c, 61, "call", 1, "Runtime.evaluate", 0);
    from_browser(c, "{'id':%lld,'result':{},'sessionId':'S1'}", (long long)cmd_id(0));
    for (int i = 0; i < 3; i++)
        from_browser(c, "{'method':'Network.dataReceived','sessionId':'S1','params':{'requestId':'R'}}");
    /* an HTTP record is still made from the events it needs, between unused ones */
    int before = q.ne;
    from_browser(c, "{'method':'Network.requestWillBeSent','sessionId':'S1','params':{'requestId':'Q',"
                    "'timestamp':1,'request':{'method':'GET','url':'http://h/x'}}}");
    from_browser(c, "{'method':'Network.requestWillBeSentExtraInfo','sessionId':'S1','params':{'requestId':'Q'}}");
    from_browser(c, "{'method':'Network.dataReceived','sessionId':'S1','params':{'requestId':'Q'}}");
    from_browser(c, "{'method':'Network.loadingFinished','sessionId':'S1','params':{'requestId':'Q',"
                    "'timestamp':2,'encodedDataLength':5}}");
    CHECK(q.ne == before + 1);
    for (int i = 0; i < 80; i++) /* more distinct methods than the table holds */
        from_browser(c, "{'method':'X.m%d','params':{}}", i);
    q_reset();
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_long(&x, 62);
    ei_x_encode_atom(&x, "stats");
    send_erl(c, &x);
    char st[MAXATOMLEN_UTF8];
    json_t *r = reply_to(62, st);
    json_t *m = json_object_get(r, "methods");
    CHECK(r && !strcmp(st, "ok") && json_is_object(m));
    CHECK(json_integer_value(json_object_get(m, "out Runtime.evaluate")) == 2);
    CHECK(json_integer_value(json_object_get(m, "in Network.dataReceived")) == 4);
    /* those are recognised without decoding; a malformed one is still counted, never an error */
    CHECK(ll_core_from_browser(c, "{\"method\":\"Network.dataReceived\"", 32) == 0);
    CHECK(json_integer_value(json_object_get(m, "in reply")) >= 1);
    CHECK(json_object_size(m) == 64);
    CHECK(json_integer_value(json_object_get(m, "other")) > 0);
    json_decref(r);
    q_reset();
    ll_core_free(c);
}

/* A JavaScript dialog blocks its page until answered: each one (alert, confirm, prompt,
 * beforeunload) is forwarded to Erlang (counted there) and accepted on the page's session, the
 * prompt with its default text; a dialog of no known session is left alone; the answer's slot is
 * the user's (freed when it is closed). */
static void test_dialogs_accepted(void)
{
    ll_core_cfg cfg = {.to_browser = cap_browser, .to_erlang = cap_erlang, .now_ms = q_now};
    q.now = 1000;
    ll_core *c = ll_core_new(&cfg);
    make_user(c, 1, 1.0, "C1", "S1");
    q_reset();
    unsigned base = pending_of(c);
    const char *types[] = {"alert", "confirm", "prompt", "beforeunload"};
    for (int i = 0; i < 4; i++) {
        from_browser(c, "{'method':'Page.javascriptDialogOpening','sessionId':'S1','params':{'url':'http://h/',"
                        "'message':'m','type':'%s','hasBrowserHandler':false,'defaultPrompt':'%s'}}",
                     types[i], i == 2 ? "dflt" : "");
        CHECK(q.nb == 1 && !strcmp(cmd_method(0), "Page.handleJavaScriptDialog") && !strcmp(cmd_session(0), "S1"));
        const json_t *p = json_object_get(q.nb ? q.to_browser[0] : NULL, "params");
        CHECK(json_is_true(json_object_get(p, "accept")));
        const char *text = json_string_value(json_object_get(p, "promptText"));
        CHECK(text && !strcmp(text, i == 2 ? "dflt" : ""));
        CHECK(count_events("cdp") == 1);
        CHECK(pending_of(c) == base + 1u + (unsigned)i);
        q_reset();
    }
    /* a dialog without a readable default text still gets an answer */
    from_browser(c, "{'method':'Page.javascriptDialogOpening','sessionId':'S1','params':{'type':'alert'}}");
    CHECK(q.nb == 1 && !strcmp(cmd_method(0), "Page.handleJavaScriptDialog"));
    q_reset();
    from_browser(c, "{'method':'Page.javascriptDialogOpening','sessionId':'S9','params':{'type':'alert'}}");
    CHECK(q.nb == 0 && q.ne == 0);
    /* a loop: the 10th dialog within 2 s is not answered, its renderer is crashed, once; the event
     * says so */
    q.now += 5000;
    int terminated = 0, stopped = 0;
    for (int i = 0; i < 25; i++) {
        q.now += 50;
        from_browser(c, "{'method':'Page.javascriptDialogOpening','sessionId':'S1','params':{'type':'alert'}}");
        for (int k = 0; k < q.nb; k++)
            terminated += !strcmp(cmd_method(k), "Page.crash") && !strcmp(cmd_session(k), "S1") && q.nb == 1;
        long a;
        char b[MAXATOMLEN_UTF8];
        json_t *ev = q.ne == 1 ? erl_out(0, &a, b) : NULL;
        if (json_is_true(json_object_get(ev, "loop_stopped"))) {
            CHECK(i == 9);
            stopped++;
        }
        json_decref(ev);
        q_reset();
    }
    CHECK(terminated == 1 && stopped == 1);
    /* dialogs a person could answer (one per 300 ms) are never a loop */
    for (int i = 0; i < 30; i++) {
        q.now += 300;
        from_browser(c, "{'method':'Page.javascriptDialogOpening','sessionId':'S1','params':{'type':'confirm'}}");
        CHECK(q.nb == 1);
        q_reset();
    }
    send_close(c, 70, 1);
    CHECK(pending_of(c) == 1); /* only the disposal: the unanswered dialog answers went with the user */
    q_reset();
    ll_core_free(c);
}

int main(void)
{
    test_packet4();
    test_nul_framing();
    test_codec_roundtrip();
    test_codec_rejects();
    test_core_user_lifecycle();
    test_core_bad_frames();
    test_core_sampling();
    test_scheme_filter();
    test_frame_bytes();
    test_pending_stuck_slot();
    test_pending_release_on_detach();
    test_pending_release_on_close();
    test_pending_release_on_crash();
    test_pending_deadline();
    test_setup_detach_and_deadline();
    test_browser_queue_full();
    test_phx_head();
    test_wire_table();
    test_core_wire();
    test_method_counts();
    test_navigation_frees_sockets();
    test_dialogs_accepted();
    printf("test_browser: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
