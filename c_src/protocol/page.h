/* What the protocol user reads from a page and builds from it, without I/O:
 *  - the shell of a dead render: csrf token (meta[name=csrf-token]), the LiveView container
 *    (data-phx-main preferred, else the first data-phx-session: id, session, static) and the
 *    HTML before/after the container's content, so the current page is prefix + tree + suffix;
 *  - the field state the user typed (values, checked boxes, selected options, "used" names) that
 *    overrides what the server rendered, as a browser's DOM properties do;
 *  - form serialisation as phoenix_live_view's serializeForm (URLSearchParams order, `_unused_`
 *    for untouched fields in 1.x, submitter injected) and click values as extractMeta. */
#ifndef LL_PAGE_H
#define LL_PAGE_H

#include <jansson.h>

#include "dom.h"

typedef struct {
    char *csrf, *id, *session, *static_; /* malloc'd; static_ may be NULL */
    int main;
    size_t prefix_len, suffix_off; /* html[0..prefix_len) and html[suffix_off..) */
    char *title;
    json_t *track_static; /* src/href of [phx-track-static] elements, as written (NULL: none) */
} ll_shell;

/* 0 = ok; -1 = not a LiveView page (no container / no id), -2 = no csrf token. */
int ll_shell_parse(const char *html, size_t len, unsigned max_depth, ll_shell *sh);
void ll_shell_free(ll_shell *sh);

/* Field state: a JSON object {"v": {key: [value, rendered_value]}, "c": {key: [checked, rendered]},
 * "s": {key: [[values], rendered]}, "u": {name: true}} held per user, cleared on navigation. */
const char *ll_field_value(json_t *fs, const GumboNode *el, ll_str *scratch);
int ll_field_checked(json_t *fs, const GumboNode *el);
int ll_option_selected(json_t *fs, const GumboNode *select, const GumboNode *option);
void ll_field_set_value(json_t *fs, const GumboNode *el, const char *v);
void ll_field_set_checked(json_t *fs, const GumboNode *el, int on);
/* 0 = ok; -1 when a value matches no option (value or label). */
int ll_field_set_selected(json_t *fs, const GumboNode *select, json_t *values);
void ll_field_mark_used(json_t *fs, const GumboNode *el);
/* input, select, textarea (not a button input): what a focused field can be */
int ll_form_associated(const GumboNode *el);
/* The element the user acts on gets the focus (NULL: none); the client keeps a focused field's
 * typed value and (0.20) its value attribute across patches. */
void ll_field_focus(json_t *fs, const GumboNode *el);
/* After a rendering is parsed: the focused input's value attribute as the client leaves it. */
void ll_field_focus_patch(json_t *fs, ll_dom *d, int v020);
void ll_field_mark_form_submitted(json_t *fs, const GumboNode *form);

/* The form an element belongs to (ancestor <form>, or form="id"). */
GumboNode *ll_form_of(const ll_dom *d, GumboNode *el);
/* URL-encoded form data. only_name: restrict to that key (phx-change on the input), may be NULL.
 * unused: emit `_unused_` keys (LiveView 1.x). */
void ll_serialize_form(const ll_dom *d, json_t *fs, GumboNode *form, GumboNode *submitter, const char *only_name,
                       int unused, ll_str *out);
/* extractMeta(el): phx-value-* and the element's value property. New object. */
json_t *ll_extract_meta(json_t *fs, const GumboNode *el);

#endif
