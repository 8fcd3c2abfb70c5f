/* What the browser core's C tests share (test_browser.c, test_wire.c): check.h, and a core whose
 * outputs are captured (commands to the browser as JSON, frames to Erlang as ETF) on a clock the
 * test sets. Static inline: each test takes what it uses without an unused-function warning. */
#ifndef LL_TESTS_CORE_HARNESS_H
#define LL_TESTS_CORE_HARNESS_H

#include <ei.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core.h"
#include "etf.h"

#define MAXQ 256
static struct {
    json_t *to_browser[MAXQ];
    int nb;
    ei_x_buff to_erl[MAXQ];
    int ne;
    int browser_full; /* to_browser refuses (queue to the browser full) */
    double now;       /* the core's clock, ms */
} q;

static inline int cap_browser(void *ud, const char *json, size_t len)
{
    (void)ud;
    if (q.browser_full)
        return -1;
    if (q.nb < MAXQ)
        q.to_browser[q.nb++] = json_loadb(json, len, 0, NULL);
    return 0;
}

static inline void cap_erlang(void *ud, const char *etf, size_t len, int is_event)
{
    (void)ud, (void)is_event;
    if (q.ne < MAXQ) {
        ei_x_new(&q.to_erl[q.ne]);
        ei_x_append_buf(&q.to_erl[q.ne], etf, (int)len);
        q.ne++;
    }
}

static inline double q_now(void *ud)
{
    (void)ud;
    return q.now;
}

static inline void q_reset(void)
{
    for (int i = 0; i < q.nb; i++)
        json_decref(q.to_browser[i]);
    for (int i = 0; i < q.ne; i++)
        ei_x_free(&q.to_erl[i]);
    q.nb = q.ne = 0;
}

static inline json_int_t cmd_id(int i) { return json_integer_value(json_object_get(q.to_browser[i], "id")); }

/* One CDP message from the browser, printf-style, with ' written for " */
static inline void from_browser(ll_core *c, const char *fmt, ...)
{
    static char buf[1 << 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    CHECK(ll_core_from_browser(c, buf, strlen(buf)) == 0);
}

/* Erlang output i, {A, B, Term}: A an integer; B into b (when not NULL) as its atom, or an
 * integer as text; Term as JSON, NULL for a tuple (an error reason). */
static inline json_t *erl_out(int i, long *a, char *b)
{
    int idx = 0, ver, ar, type, size;
    const char *err;
    ei_x_buff *x = &q.to_erl[i];
    ei_decode_version(x->buff, &idx, &ver);
    if (ei_decode_tuple_header(x->buff, &idx, &ar) || ar != 3 || ei_decode_long(x->buff, &idx, a))
        return NULL;
    ei_get_type(x->buff, &idx, &type, &size);
    if (!b) {
        ei_skip_term(x->buff, &idx);
    } else if (type == ERL_SMALL_INTEGER_EXT || type == ERL_INTEGER_EXT) {
        long v;
        ei_decode_long(x->buff, &idx, &v);
        sprintf(b, "%ld", v);
    } else if (ei_decode_atom(x->buff, &idx, b)) {
        return NULL;
    }
    ei_get_type(x->buff, &idx, &type, &size);
    if (type == ERL_SMALL_TUPLE_EXT)
        return NULL;
    return ll_etf_to_json(x->buff, &idx, &err);
}

#endif
