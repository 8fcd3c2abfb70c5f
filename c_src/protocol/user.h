/* The protocol users of one port: the user table, the Erlang commands, each user's HTTP and
 * WebSocket connections (lws callbacks) and the LiveView client logic (join, pushes, replies,
 * navigation, actions). Wire protocol to Erlang: see main.c. */
#ifndef LL_USER_H
#define LL_USER_H

#include <libwebsockets.h>
#include <stddef.h>

typedef struct {
    struct lws_context *ctx;
    void (*to_erlang)(const char *etf, size_t len, int is_event);
    unsigned max_users;
    size_t max_message;
    unsigned max_depth;
    unsigned long heartbeat_ms; /* each open socket sends a heartbeat this often */
} ll_users_cfg;

int ll_users_init(const ll_users_cfg *cfg);
/* One {packet,4} payload from Erlang. */
void ll_users_command(const char *frame, size_t len);
void ll_users_count_dropped(void);
void ll_users_shutdown(void);
void ll_users_free(void);

int ll_user_cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
int ll_user_cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

#endif
