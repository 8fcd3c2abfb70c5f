/* libFuzzer: bytes from the browser pipe through NUL framing into the CDP core, with a user
 * whose session "S" is live, so session routing, network records and binding payloads are hit. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "core.h"
#include "fuzz_browser_user.h"

static int to_browser(void *ud, const char *json, size_t len)
{
    (void)ud, (void)json, (void)len;
    return 0;
}
static void to_erlang(void *ud, const char *etf, size_t len, int ev) { (void)ud, (void)etf, (void)len, (void)ev; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_core_cfg cfg = {.to_browser = to_browser, .to_erlang = to_erlang, .now_ms = fuzz_clock, .max_users = 4, .max_inflight = 4};
    ll_core *c = ll_core_new(&cfg);
    fuzz_ready_user(c);
    ll_buf b;
    size_t scanned = 0, n;
    const char *m;
    ll_buf_init(&b, 1 << 20);
    /* feed in two chunks to exercise partial framing */
    size_t half = size / 2;
    if (ll_buf_append(&b, data, half) == 0) {
        while (ll_nul_next(&b, 1 << 20, &scanned, &m, &n) == 1) {
            ll_core_from_browser(c, m, n);
            ll_buf_consume(&b, n + 1);
        }
        fuzz_now = 1000; /* within the default deadline: nothing expires yet */
        ll_core_tick(c);
        if (ll_buf_append(&b, data + half, size - half) == 0)
            while (ll_nul_next(&b, 1 << 20, &scanned, &m, &n) == 1) {
                ll_core_from_browser(c, m, n);
                ll_buf_consume(&b, n + 1);
            }
    }
    ll_buf_free(&b);
    /* every command still pending expires: the timeout paths of each kind of command */
    fuzz_now = 1e12;
    ll_core_tick(c);
    ll_core_free(c);
    return 0;
}
