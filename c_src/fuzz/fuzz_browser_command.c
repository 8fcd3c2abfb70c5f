/* libFuzzer: frames from Erlang (ETF) into the command decoder, with one ready user so call,
 * call_browser and close_user reach their deep paths. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static char last_cmd[256];
static void to_browser(void *ud, const char *json, size_t len)
{
    (void)ud;
    snprintf(last_cmd, sizeof last_cmd, "%.*s", (int)(len < 255 ? len : 255), json);
}
static void to_erlang(void *ud, const char *etf, size_t len, int ev) { (void)ud, (void)etf, (void)len, (void)ev; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_core_cfg cfg = {.to_browser = to_browser, .to_erlang = to_erlang, .max_users = 4};
    ll_core *c = ll_core_new(&cfg);
    static const char *const script[] = {
        "{\"id\":2,\"result\":{\"browserContextId\":\"C\"}}",
        "{\"method\":\"Target.attachedToTarget\",\"params\":{\"sessionId\":\"S\",\"waitingForDebugger\":true,"
        "\"targetInfo\":{\"targetId\":\"T\",\"type\":\"page\",\"browserContextId\":\"C\"}}}",
        NULL};
    /* {1, new_user, #{}} then the browser side of the creation */
    static const char new_user[] = {(char)131, 104, 3, 97, 1, 100, 0, 8, 'n', 'e', 'w', '_', 'u', 's', 'e', 'r',
                                    116, 0, 0, 0, 0};
    ll_core_start(c);
    ll_core_from_erlang(c, new_user, sizeof new_user);
    for (int i = 0; script[i]; i++)
        ll_core_from_browser(c, script[i], strlen(script[i]));
    for (int id = 3; id < 12; id++) {
        char r[64];
        snprintf(r, sizeof r, "{\"id\":%d,\"result\":{}}", id);
        ll_core_from_browser(c, r, strlen(r));
    }
    ll_core_from_erlang(c, (const char *)data, size);
    ll_core_free(c);
    return 0;
}
