#include "etf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int j2e(ei_x_buff *x, const json_t *j, int depth)
{
    if (depth > LL_CODEC_MAX_DEPTH)
        return -1;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        if (ei_x_encode_map_header(x, (long)json_object_size(j)))
            return -1;
        json_object_foreach((json_t *)j, k, v)
        {
            if (ei_x_encode_binary(x, k, (int)strlen(k)) || j2e(x, v, depth + 1))
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if (n && ei_x_encode_list_header(x, (long)n))
            return -1;
        for (size_t i = 0; i < n; i++)
            if (j2e(x, json_array_get(j, i), depth + 1))
                return -1;
        return ei_x_encode_empty_list(x) ? -1 : 0;
    }
    case JSON_STRING:
        return ei_x_encode_binary(x, json_string_value(j), (int)json_string_length(j)) ? -1 : 0;
    case JSON_INTEGER:
        return ei_x_encode_longlong(x, json_integer_value(j)) ? -1 : 0;
    case JSON_REAL:
        return ei_x_encode_double(x, json_real_value(j)) ? -1 : 0;
    case JSON_TRUE:
        return ei_x_encode_atom(x, "true") ? -1 : 0;
    case JSON_FALSE:
        return ei_x_encode_atom(x, "false") ? -1 : 0;
    case JSON_NULL:
        return ei_x_encode_atom(x, "null") ? -1 : 0;
    }
    return -1;
}

int ll_json_to_etf(ei_x_buff *x, const json_t *j) { return j2e(x, j, 0); }

/* An atom, binary or integer map key as a NUL-terminated string in out (cap bytes). */
static int decode_key(const char *buf, int *index, char *out, size_t cap)
{
    int type, size;
    if (ei_get_type(buf, index, &type, &size))
        return -1;
    switch (type) {
    case ERL_BINARY_EXT: {
        long len;
        if ((size_t)size >= cap || ei_decode_binary(buf, index, out, &len))
            return -1;
        out[len] = 0;
        if (memchr(out, 0, (size_t)len))
            return -1; /* jansson keys are C strings */
        return 0;
    }
    case ERL_ATOM_EXT:
    case ERL_SMALL_ATOM_EXT:
    case ERL_ATOM_UTF8_EXT:
    case ERL_SMALL_ATOM_UTF8_EXT: {
        char a[MAXATOMLEN_UTF8];
        if (ei_decode_atom(buf, index, a) || strlen(a) >= cap)
            return -1;
        strcpy(out, a);
        return 0;
    }
    case ERL_SMALL_INTEGER_EXT:
    case ERL_INTEGER_EXT: {
        long long v;
        if (ei_decode_longlong(buf, index, &v))
            return -1;
        snprintf(out, cap, "%lld", v);
        return 0;
    }
    default:
        return -1;
    }
}

#define KEY_CAP 1024

static json_t *e2j(const char *buf, int *index, const char **err, int depth)
{
    int type, size;
    if (depth > LL_CODEC_MAX_DEPTH) {
        *err = "depth";
        return NULL;
    }
    if (ei_get_type(buf, index, &type, &size)) {
        *err = "bad_term";
        return NULL;
    }
    switch (type) {
    case ERL_SMALL_INTEGER_EXT:
    case ERL_INTEGER_EXT:
    case ERL_SMALL_BIG_EXT:
    case ERL_LARGE_BIG_EXT: {
        long long v;
        if (ei_decode_longlong(buf, index, &v)) {
            *err = "big_integer";
            return NULL;
        }
        return json_integer(v);
    }
    case ERL_FLOAT_EXT:
    case NEW_FLOAT_EXT: {
        double d;
        if (ei_decode_double(buf, index, &d)) {
            *err = "bad_term";
            return NULL;
        }
        return json_real(d);
    }
    case ERL_ATOM_EXT:
    case ERL_SMALL_ATOM_EXT:
    case ERL_ATOM_UTF8_EXT:
    case ERL_SMALL_ATOM_UTF8_EXT: {
        char a[MAXATOMLEN_UTF8];
        if (ei_decode_atom(buf, index, a)) {
            *err = "bad_term";
            return NULL;
        }
        if (!strcmp(a, "true"))
            return json_true();
        if (!strcmp(a, "false"))
            return json_false();
        if (!strcmp(a, "null") || !strcmp(a, "nil") || !strcmp(a, "undefined"))
            return json_null();
        json_t *s = json_string(a);
        if (!s)
            *err = "utf8";
        return s;
    }
    case ERL_BINARY_EXT: {
        /* ei_decode_binary copies; point into the buffer instead: tag, 4-byte length, bytes */
        const char *p = buf + *index + 5;
        json_t *s = json_stringn(p, (size_t)size);
        if (!s) {
            *err = "utf8";
            return NULL;
        }
        *index += 5 + size;
        return s;
    }
    case ERL_STRING_EXT: {
        /* a list of bytes: keep list semantics (array of integers) */
        const unsigned char *p = (const unsigned char *)buf + *index + 3;
        json_t *a = json_array();
        for (int i = 0; i < size; i++)
            json_array_append_new(a, json_integer(p[i]));
        *index += 3 + size;
        return a;
    }
    case ERL_NIL_EXT:
    case ERL_LIST_EXT: {
        int n;
        if (ei_decode_list_header(buf, index, &n)) {
            *err = "bad_term";
            return NULL;
        }
        json_t *a = json_array();
        for (int i = 0; i < n; i++) {
            json_t *v = e2j(buf, index, err, depth + 1);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        if (n > 0) {
            int t2, s2;
            if (ei_get_type(buf, index, &t2, &s2) || t2 != ERL_NIL_EXT || ei_decode_list_header(buf, index, &s2)) {
                *err = "improper_list";
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case ERL_MAP_EXT: {
        int n;
        if (ei_decode_map_header(buf, index, &n)) {
            *err = "bad_term";
            return NULL;
        }
        json_t *o = json_object();
        char key[KEY_CAP];
        for (int i = 0; i < n; i++) {
            if (decode_key(buf, index, key, sizeof key)) {
                *err = "key";
                json_decref(o);
                return NULL;
            }
            json_t *v = e2j(buf, index, err, depth + 1);
            if (!v) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, key, v);
        }
        return o;
    }
    case ERL_SMALL_TUPLE_EXT:
    case ERL_LARGE_TUPLE_EXT:
        *err = "tuple";
        return NULL;
    default:
        *err = "bad_term";
        return NULL;
    }
}

json_t *ll_etf_to_json(const char *buf, int *index, const char **err) { return e2j(buf, index, err, 0); }

static uint32_t be(const unsigned char *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Skips a length-prefixed payload at *pos: `width` bytes of big-endian length n (at most max),
 * `extra` fixed bytes (a bignum's sign), then n bytes; -1 when any of it is missing. */
static int skip_sized(const unsigned char *b, size_t left, size_t *pos, int width, int extra, uint32_t max)
{
    if (left < (size_t)(width + extra))
        return -1;
    uint32_t n = be(b + *pos, width);
    if (n > max || left - (size_t)(width + extra) < n)
        return -1;
    *pos += (size_t)(width + extra) + n;
    return 0;
}

/* Walks one term at *pos; 0 ok. */
static int vterm(const unsigned char *b, size_t len, size_t *pos, int depth)
{
    if (depth > LL_CODEC_MAX_DEPTH + 4 || *pos >= len)
        return -1;
    unsigned char tag = b[(*pos)++];
    size_t left = len - *pos;
    size_t n;
#define NEED(k)                                                                                        \
    do {                                                                                               \
        if (left < (size_t)(k))                                                                        \
            return -1;                                                                                 \
    } while (0)
    switch (tag) {
    case ERL_SMALL_INTEGER_EXT:
        NEED(1);
        *pos += 1;
        return 0;
    case ERL_INTEGER_EXT:
        NEED(4);
        *pos += 4;
        return 0;
    case NEW_FLOAT_EXT:
        NEED(8);
        *pos += 8;
        return 0;
    case ERL_FLOAT_EXT:
        NEED(31);
        *pos += 31;
        return 0;
    case ERL_SMALL_BIG_EXT:
        return skip_sized(b, left, pos, 1, 1, 0xffu);
    case ERL_LARGE_BIG_EXT:
        return skip_sized(b, left, pos, 4, 1, 0x7fffffffu);
    case ERL_SMALL_ATOM_EXT:
    case ERL_SMALL_ATOM_UTF8_EXT:
        return skip_sized(b, left, pos, 1, 0, 0xffu);
    case ERL_ATOM_EXT:
    case ERL_ATOM_UTF8_EXT:
        return skip_sized(b, left, pos, 2, 0, 255 * 4 - 1);
    case ERL_BINARY_EXT:
        return skip_sized(b, left, pos, 4, 0, 0x7fffffffu);
    case ERL_STRING_EXT:
        return skip_sized(b, left, pos, 2, 0, 0xffffu);
    case ERL_NIL_EXT:
        return 0;
    case ERL_LIST_EXT:
        NEED(4);
        n = be(b + *pos, 4);
        if (n > left - 4 || n > 0x7fffffffu)
            return -1;
        *pos += 4;
        for (size_t i = 0; i < n; i++)
            if (vterm(b, len, pos, depth + 1))
                return -1;
        if (*pos >= len || b[*pos] != ERL_NIL_EXT)
            return -1; /* only proper lists */
        *pos += 1;
        return 0;
    case ERL_MAP_EXT:
        NEED(4);
        n = be(b + *pos, 4);
        if (n > (left - 4) / 2 || n > 0x3fffffffu)
            return -1;
        *pos += 4;
        for (size_t i = 0; i < 2 * n; i++)
            if (vterm(b, len, pos, depth + 1))
                return -1;
        return 0;
    case ERL_SMALL_TUPLE_EXT:
        NEED(1);
        n = b[*pos];
        *pos += 1;
        for (size_t i = 0; i < n; i++)
            if (vterm(b, len, pos, depth + 1))
                return -1;
        return 0;
    case ERL_LARGE_TUPLE_EXT:
        NEED(4);
        n = be(b + *pos, 4);
        if (n > left - 4 || n > 0x7fffffffu)
            return -1;
        *pos += 4;
        for (size_t i = 0; i < n; i++)
            if (vterm(b, len, pos, depth + 1))
                return -1;
        return 0;
    default:
        return -1;
    }
#undef NEED
}

int ll_etf_validate(const char *buf, size_t len)
{
    size_t pos = 1;
    if (len < 2 || len > 0x7fffffffu || (unsigned char)buf[0] != 131 /* version magic */)
        return -1;
    if (vterm((const unsigned char *)buf, len, &pos, 0))
        return -1;
    return pos == len ? 0 : -1;
}
