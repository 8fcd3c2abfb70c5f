/* Shared by both port programs (browser and protocol). */
/* JSON (jansson) <-> Erlang external term format (ei).
 *   JSON -> term: object = map with binary keys, array = list, string = binary, integer = integer,
 *                 real = float, true/false/null = atoms.
 *   term -> JSON: map (binary, atom or integer keys) = object, list = array, binary = string (must
 *                 be UTF-8), integer = integer (64-bit), float = real, atoms true/false = booleans,
 *                 null/nil/undefined = null, other atoms = strings. Tuples, pids, refs, funs and
 *                 improper lists are rejected. Nesting is capped at LL_CODEC_MAX_DEPTH. */
#ifndef LL_ETF_H
#define LL_ETF_H

#include <ei.h>
#include <jansson.h>

#define LL_CODEC_MAX_DEPTH 64

/* 0 on success, -1 when nesting exceeds the cap or ei fails. */
int ll_json_to_etf(ei_x_buff *x, const json_t *j);
/* Decodes the term at buf[*index] (advancing *index). NULL on error with *err set to a static
 * reason ("depth", "tuple", "utf8", "bad_term", "big_integer", "key"). */
json_t *ll_etf_to_json(const char *buf, int *index, const char **err);

#endif

/* ei decoders trust length fields; check a whole frame first. Returns 0 when buf[0..len) is exactly
 * one version byte plus one term built only from the tags the codec and command decoder accept
 * (integers, floats, atoms, binaries, strings, lists, maps, tuples), every length inside the
 * buffer and nesting within LL_CODEC_MAX_DEPTH + 4; -1 otherwise. */
int ll_etf_validate(const char *buf, size_t len);
