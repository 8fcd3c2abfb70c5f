/* libFuzzer: frames from Erlang (ETF) into the command decoder, with one ready user so call,
 * call_browser and close_user reach their deep paths. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "fuzz_browser_user.h"

static char last_cmd[256];
static int to_browser(void *ud, const char *json, size_t len)
{
    (void)ud;
    snprintf(last_cmd, sizeof last_cmd, "%.*s", (int)(len < 255 ? len : 255), json);
    return 0;
}
static void to_erlang(void *ud, const char *etf, size_t len, int ev) { (void)ud, (void)etf, (void)len, (void)ev; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_core_cfg cfg = {.to_browser = to_browser, .to_erlang = to_erlang, .now_ms = fuzz_clock, .max_users = 4};
    ll_core *c = ll_core_new(&cfg);
    fuzz_ready_user(c);
    ll_core_from_erlang(c, (const char *)data, size);
    /* every command still pending expires: the timeout paths of each kind of command */
    fuzz_now = 1e12;
    ll_core_tick(c);
    ll_core_free(c);
    return 0;
}
