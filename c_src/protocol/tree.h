/* The rendered tree of one LiveView, kept as phoenix_live_view's rendered.js keeps it (merge rules
 * of mergeDiff / mutableMerge / mergeKeyed / cachedFindComponent / cloneMerge, render rules of
 * toOutputBuffer / comprehensionToBuffer / recursiveCIDToString), for both wire formats:
 *   LiveView 0.20: statics "s" (list), dynamics "0".."n", comprehensions "d" (list of rows) with
 *                  shared statics "p" on the comprehension, components "c" (cid) with shared statics
 *                  by cid ("s": N / -N), streams "stream" on comprehensions.
 *   LiveView 1.x:  the same plus keyed comprehensions "k" {"0": row | [old, diff] | old, "kc": n,
 *                  "km": moved}, template tables "p" on any node ("s": N names a template).
 * The tree is a jansson object; diffs are adopted (their subtrees become part of the tree).
 * Every recursion is bounded by max_depth, the rendered HTML by max_html: hostile input gives an
 * error string, never unbounded work. Pure: no I/O, testable without the BEAM or a network. */
#ifndef LL_TREE_H
#define LL_TREE_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    json_t *rendered;    /* NULL before the join */
    char view_id[128];   /* the container id, for data-phx-view on components */
    unsigned max_depth;  /* nesting cap for merge and render */
    size_t max_html;     /* cap on one rendering */
} ll_tree;

/* What a diff carried besides the tree: the top-level "e" (events), "r" (hook reply) and "t"
 * (title), taken out before the merge as Rendered.extract does. Owned by the caller (decref). */
typedef struct {
    json_t *events; /* array or NULL */
    json_t *reply;  /* any or NULL */
    json_t *title;  /* string or NULL */
} ll_extract;

void ll_tree_init(ll_tree *t, const char *view_id, unsigned max_depth, size_t max_html);
void ll_tree_reset(ll_tree *t);
/* Takes the top-level e/r/t out of diff (a JSON object) into *x. */
void ll_tree_extract(json_t *diff, ll_extract *x);
void ll_extract_free(ll_extract *x);
/* Merges diff (a JSON object, reference stolen) into the tree; the first merge is the join's
 * "rendered". 0 = ok, -1 = malformed or over a cap (*err says which). */
int ll_tree_merge(ll_tree *t, json_t *diff, const char **err);
/* Renders the tree to HTML (malloc'd, NUL-terminated, *len bytes). Rendering mutates the tree the
 * way rendered.js does (template statics resolved in place, consumed streams emptied). With
 * streams non-NULL, *streams gets a new array of the streams the rendering consumed
 * ([ref, inserts, deletes(, reset)] as the server sent them), for the DOM patch. NULL on error
 * (*err). */
char *ll_tree_render(ll_tree *t, size_t *len, json_t **streams, const char **err);

#endif
