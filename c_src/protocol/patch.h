/* The part of the LiveView JS client's DOM patch (dom_patch.js / dom_patch.ts + morphdom) that
 * makes the page differ from the last rendering: containers with phx-update keep children the
 * rendered tree no longer holds.
 *   stream   children stay until deleted or reset; the consumed streams of a rendering say where
 *            new ones go (`at`), how many stay (`limit`), which go (deletes), what a reset removes,
 *            and (1.x) which may only update (`update_only`). The order of operations, the limit
 *            and the reordering follow the client of the view's version (0.20 or 1.x).
 *   append / prepend  children with an id stay; new ones go after / before the kept ones.
 *   ignore   the children of the first rendering stay; only data-* attributes follow the server.
 * Children without an id are dropped from stream/append/prepend containers (the client removes
 * them on every update). Containers are found by id; one inside another's kept child is kept as
 * part of that child. Pure: no I/O. */
#ifndef LL_PATCH_H
#define LL_PATCH_H

#include <jansson.h>

#include "dom.h"

typedef struct ll_patch ll_patch;

ll_patch *ll_patch_new(void);
void ll_patch_free(ll_patch *p);
/* Forgets every container (a new page or view: the JS client starts from the server's HTML). */
void ll_patch_clear(ll_patch *p);
/* A join. dead: the view's container in the page the server rendered (the first join of a page):
 * its phx-update containers are where the join patch starts from (1.x empties stream ones).
 * NULL for a rejoin of the same view: the 1.x client empties stream containers first. */
void ll_patch_join(ll_patch *p, const GumboNode *dead, int v020);
/* Containers kept (0 = the page is its rendering). */
size_t ll_patch_count(const ll_patch *p);

/* Applies a rendering: rendered is the DOM parsed from it (its root's children are the view's
 * content), streams what the rendering consumed (ll_tree_render), v020 the view's version.
 * Returns 0 with *html = NULL when no container is on the page (the rendering is the page), 0 with
 * *html (malloc'd, *len bytes) = the view's content as the client's DOM has it, -1 when that would
 * exceed max_html (*html NULL). */
int ll_patch_apply(ll_patch *p, const ll_dom *rendered, json_t *streams, int v020, size_t max_html, char **html,
                   size_t *len);

#endif
