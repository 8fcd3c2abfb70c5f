/* Shared by the browser fuzz targets: brings core `c` to one ready user (id 1, session "S") by
 * playing the Erlang command and the browser's side of the user's creation, so fuzzed input
 * reaches the deep per-user paths instead of stopping at "no such user". */
#ifndef FUZZ_BROWSER_USER_H
#define FUZZ_BROWSER_USER_H

#include <stdio.h>
#include <string.h>

#include "core.h"

/* the core's clock: the targets move it to expire pending commands (deadline paths) */
static double fuzz_now;
static double fuzz_clock(void *ud)
{
    (void)ud;
    return fuzz_now;
}

static void fuzz_ready_user(ll_core *c)
{
    /* {1, new_user, #{}} */
    static const char new_user[] = {(char)131, 104, 3, 97, 1, 100, 0, 8, 'n', 'e', 'w', '_', 'u', 's', 'e', 'r',
                                    116, 0, 0, 0, 0};
    static const char *const script[] = {
        "{\"id\":2,\"result\":{\"browserContextId\":\"C\"}}",
        "{\"method\":\"Target.attachedToTarget\",\"params\":{\"sessionId\":\"S\",\"waitingForDebugger\":true,"
        "\"targetInfo\":{\"targetId\":\"T\",\"type\":\"page\",\"browserContextId\":\"C\"}}}",
        NULL};
    fuzz_now = 0;
    ll_core_start(c);
    ll_core_from_erlang(c, new_user, sizeof new_user);
    for (int i = 0; script[i]; i++)
        ll_core_from_browser(c, script[i], strlen(script[i]));
    for (int id = 3; id < 12; id++) {
        char r[64];
        snprintf(r, sizeof r, "{\"id\":%d,\"result\":{}}", id);
        ll_core_from_browser(c, r, strlen(r));
    }
}

#endif
