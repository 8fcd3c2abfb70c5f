/* NIF binding of the DDSketch core (ddsketch.h) for the Erlang module live_load_sketch.
 *
 * Only term conversion and locking live here. A sketch is a resource holding one core sketch
 * behind one mutex (see the module doc of live_load_sketch for why a mutex and not shards).
 * Caller bugs raise badarg; runtime failures return {error, Atom}.
 *
 * Work per call is bounded by max_bins (<= 65536 per store) on normal schedulers; the calls
 * whose cost grows with caller data move to a dirty CPU scheduler above a threshold:
 * quantiles/2 with many points, from_binary/1 with large input, to_binary/1 of very wide
 * sketches.
 */
#include <erl_nif.h>
#include <string.h>

#include "ddsketch.h"

#define DIRTY_QUANTILES 256        /* points */
#define DIRTY_DECODE_BYTES 65536   /* input bytes */
#define DIRTY_ENCODE_BINS 8192     /* bins spanned by both stores */

typedef struct {
    ErlNifMutex *lock;
    dds_sketch sk;
} sketch_res;

static ErlNifResourceType *SKETCH_TYPE;

static ERL_NIF_TERM ATOM_OK, ATOM_ERROR, ATOM_UNDEFINED, ATOM_INCOMPATIBLE, ATOM_COUNT_OVERFLOW,
    ATOM_NOMEM;
static ERL_NIF_TERM DECODE_ATOMS[DDS_DEC_NOMEM + 1];

static void sketch_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    sketch_res *r = obj;
    dds_free(&r->sk);
    if (r->lock)
        enif_mutex_destroy(r->lock);
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    (void)info;
    SKETCH_TYPE = enif_open_resource_type(env, NULL, "live_load_sketch", sketch_dtor,
                                          ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER, NULL);
    if (!SKETCH_TYPE)
        return 1;
    ATOM_OK = enif_make_atom(env, "ok");
    ATOM_ERROR = enif_make_atom(env, "error");
    ATOM_UNDEFINED = enif_make_atom(env, "undefined");
    ATOM_INCOMPATIBLE = enif_make_atom(env, "incompatible");
    ATOM_COUNT_OVERFLOW = enif_make_atom(env, "count_overflow");
    ATOM_NOMEM = enif_make_atom(env, "nomem");
    for (int i = 0; i <= DDS_DEC_NOMEM; i++)
        DECODE_ATOMS[i] = enif_make_atom(env, dds_decode_status_name((dds_decode_status)i));
    return 0;
}

static int upgrade(ErlNifEnv *env, void **priv, void **old_priv, ERL_NIF_TERM info)
{
    (void)old_priv;
    return load(env, priv, info);
}

/* A new resource with a lock and a zeroed sketch (safe for the destructor). */
static sketch_res *alloc_res(void)
{
    sketch_res *r = enif_alloc_resource(SKETCH_TYPE, sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->lock = enif_mutex_create("live_load_sketch");
    if (!r->lock) {
        enif_release_resource(r);
        return NULL;
    }
    return r;
}

static ERL_NIF_TERM make_res(ErlNifEnv *env, sketch_res *r)
{
    ERL_NIF_TERM t = enif_make_resource(env, r);
    enif_release_resource(r);
    return t;
}

static int get_res(ErlNifEnv *env, ERL_NIF_TERM t, sketch_res **r)
{
    return enif_get_resource(env, t, SKETCH_TYPE, (void **)r);
}

static int get_number(ErlNifEnv *env, ERL_NIF_TERM t, double *d)
{
    ErlNifSInt64 i;
    if (enif_get_double(env, t, d))
        return 1;
    if (enif_get_int64(env, t, &i)) {
        *d = (double)i;
        return 1;
    }
    return 0;
}

static int get_q(ErlNifEnv *env, ERL_NIF_TERM t, double *q)
{
    return get_number(env, t, q) && *q >= 0.0 && *q <= 1.0;
}

static ERL_NIF_TERM error_tuple(ErlNifEnv *env, ERL_NIF_TERM reason)
{
    return enif_make_tuple2(env, ATOM_ERROR, reason);
}

/* new_nif(Alpha, MaxBins) */
static ERL_NIF_TERM new_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    double alpha;
    int max_bins;
    if (!enif_get_double(env, argv[0], &alpha) || !enif_get_int(env, argv[1], &max_bins) ||
        !dds_valid_alpha(alpha) || !dds_valid_max_bins(max_bins))
        return enif_make_badarg(env);
    sketch_res *r = alloc_res();
    if (!r)
        return enif_raise_exception(env, ATOM_NOMEM);
    dds_init(&r->sk, alpha, max_bins);
    return make_res(env, r);
}

static ERL_NIF_TERM insert_n(ErlNifEnv *env, ERL_NIF_TERM s, ERL_NIF_TERM v, uint64_t n)
{
    sketch_res *r;
    double d;
    if (!get_res(env, s, &r) || !get_number(env, v, &d))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    dds_status rc = dds_insert(&r->sk, d, n);
    enif_mutex_unlock(r->lock);
    if (rc == DDS_ERR_NOMEM)
        return enif_raise_exception(env, ATOM_NOMEM);
    if (rc)
        return enif_make_badarg(env);
    return ATOM_OK;
}

static ERL_NIF_TERM insert2(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return insert_n(env, argv[0], argv[1], 1);
}

static ERL_NIF_TERM insert3(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    ErlNifUInt64 n;
    if (!enif_get_uint64(env, argv[2], &n) || n == 0 || n > DDS_MAX_COUNT)
        return enif_make_badarg(env);
    return insert_n(env, argv[0], argv[1], n);
}

/* Locks two sketches in address order so that concurrent merge(A, B) and merge(B, A) cannot
 * deadlock; merge(A, A) takes the one lock once. */
static void lock_pair(sketch_res *a, sketch_res *b)
{
    if (a == b) {
        enif_mutex_lock(a->lock);
    } else if (a < b) {
        enif_mutex_lock(a->lock);
        enif_mutex_lock(b->lock);
    } else {
        enif_mutex_lock(b->lock);
        enif_mutex_lock(a->lock);
    }
}

static void unlock_pair(sketch_res *a, sketch_res *b)
{
    enif_mutex_unlock(a->lock);
    if (a != b)
        enif_mutex_unlock(b->lock);
}

static ERL_NIF_TERM merge_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    sketch_res *into, *from;
    if (!get_res(env, argv[0], &into) || !get_res(env, argv[1], &from))
        return enif_make_badarg(env);
    lock_pair(into, from);
    dds_status rc = dds_merge(&into->sk, &from->sk);
    unlock_pair(into, from);
    switch (rc) {
    case DDS_OK: return ATOM_OK;
    case DDS_ERR_INCOMPATIBLE: return error_tuple(env, ATOM_INCOMPATIBLE);
    case DDS_ERR_OVERFLOW: return error_tuple(env, ATOM_COUNT_OVERFLOW);
    default: return error_tuple(env, ATOM_NOMEM);
    }
}

static ERL_NIF_TERM quantile_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    sketch_res *r;
    double q;
    if (!get_res(env, argv[0], &r) || !get_q(env, argv[1], &q))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    int empty = r->sk.count == 0;
    double v = empty ? 0.0 : dds_quantile(&r->sk, q);
    enif_mutex_unlock(r->lock);
    return empty ? ATOM_UNDEFINED : enif_make_double(env, v);
}

static ERL_NIF_TERM quantiles_run(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    sketch_res *r;
    unsigned len;
    if (!get_res(env, argv[0], &r) || !enif_get_list_length(env, argv[1], &len))
        return enif_make_badarg(env);
    double *qs = enif_alloc((len ? len : 1) * 2 * sizeof(double));
    ERL_NIF_TERM *terms = enif_alloc((len ? len : 1) * sizeof(ERL_NIF_TERM));
    ERL_NIF_TERM result;
    if (!qs || !terms) {
        result = enif_raise_exception(env, ATOM_NOMEM);
        goto done;
    }
    double *out = qs + len;
    ERL_NIF_TERM list = argv[1], head;
    for (unsigned i = 0; i < len; i++) {
        enif_get_list_cell(env, list, &head, &list);
        if (!get_q(env, head, &qs[i])) {
            result = enif_make_badarg(env);
            goto done;
        }
    }
    enif_mutex_lock(r->lock);
    int empty = r->sk.count == 0;
    dds_status rc = empty ? DDS_OK : dds_quantiles(&r->sk, qs, len, out);
    enif_mutex_unlock(r->lock);
    if (rc) {
        result = enif_raise_exception(env, ATOM_NOMEM);
        goto done;
    }
    for (unsigned i = 0; i < len; i++)
        terms[i] = empty ? ATOM_UNDEFINED : enif_make_double(env, out[i]);
    result = enif_make_list_from_array(env, terms, len);
done:
    enif_free(qs);
    enif_free(terms);
    return result;
}

static ERL_NIF_TERM quantiles_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    unsigned len;
    if (!enif_get_list_length(env, argv[1], &len))
        return enif_make_badarg(env);
    if (len > DIRTY_QUANTILES)
        return enif_schedule_nif(env, "quantiles", ERL_NIF_DIRTY_JOB_CPU_BOUND, quantiles_run, argc, argv);
    return quantiles_run(env, argc, argv);
}

static ERL_NIF_TERM count_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    sketch_res *r;
    if (!get_res(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    uint64_t c = r->sk.count;
    enif_mutex_unlock(r->lock);
    return enif_make_uint64(env, c);
}

static ERL_NIF_TERM sum_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    sketch_res *r;
    if (!get_res(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    double s = r->sk.sum;
    enif_mutex_unlock(r->lock);
    return enif_make_double(env, s);
}

static ERL_NIF_TERM extreme(ErlNifEnv *env, ERL_NIF_TERM t, int want_max)
{
    sketch_res *r;
    if (!get_res(env, t, &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    int empty = r->sk.count == 0;
    double v = want_max ? r->sk.max : r->sk.min;
    enif_mutex_unlock(r->lock);
    return empty ? ATOM_UNDEFINED : enif_make_double(env, v);
}

static ERL_NIF_TERM min_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return extreme(env, argv[0], 0);
}

static ERL_NIF_TERM max_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return extreme(env, argv[0], 1);
}

static ERL_NIF_TERM reset_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    sketch_res *r;
    if (!get_res(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    dds_clear(&r->sk);
    enif_mutex_unlock(r->lock);
    return ATOM_OK;
}

static ERL_NIF_TERM encode_locked(ErlNifEnv *env, sketch_res *r)
{
    ErlNifBinary bin;
    size_t cap = dds_encoded_size_max(&r->sk);
    if (!enif_alloc_binary(cap, &bin))
        return enif_raise_exception(env, ATOM_NOMEM);
    size_t n = dds_encode(&r->sk, bin.data, bin.size);
    if (n == 0 || !enif_realloc_binary(&bin, n)) {
        enif_release_binary(&bin);
        return enif_raise_exception(env, ATOM_NOMEM);
    }
    return enif_make_binary(env, &bin);
}

static ERL_NIF_TERM to_binary_run(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    sketch_res *r;
    if (!get_res(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    ERL_NIF_TERM t = encode_locked(env, r);
    enif_mutex_unlock(r->lock);
    return t;
}

static ERL_NIF_TERM to_binary_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    sketch_res *r;
    if (!get_res(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    int wide = (r->sk.pos.count ? r->sk.pos.max_key - r->sk.pos.min_key + 1 : 0) +
                   (r->sk.neg.count ? r->sk.neg.max_key - r->sk.neg.min_key + 1 : 0) >
               DIRTY_ENCODE_BINS;
    enif_mutex_unlock(r->lock);
    if (wide)
        return enif_schedule_nif(env, "to_binary", ERL_NIF_DIRTY_JOB_CPU_BOUND, to_binary_run, argc, argv);
    return to_binary_run(env, argc, argv);
}

static ERL_NIF_TERM from_binary_run(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    ErlNifBinary bin;
    if (!enif_inspect_binary(env, argv[0], &bin))
        return enif_make_badarg(env);
    sketch_res *r = alloc_res();
    if (!r)
        return error_tuple(env, ATOM_NOMEM);
    dds_decode_status st = dds_decode(bin.data, bin.size, &r->sk);
    if (st) {
        enif_release_resource(r); /* the destructor frees what decode left (nothing) */
        return error_tuple(env, DECODE_ATOMS[st]);
    }
    return enif_make_tuple2(env, ATOM_OK, make_res(env, r));
}

static ERL_NIF_TERM from_binary_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary bin;
    if (!enif_inspect_binary(env, argv[0], &bin))
        return enif_make_badarg(env);
    if (bin.size > DIRTY_DECODE_BYTES)
        return enif_schedule_nif(env, "from_binary", ERL_NIF_DIRTY_JOB_CPU_BOUND, from_binary_run, argc, argv);
    return from_binary_run(env, argc, argv);
}

static ErlNifFunc funcs[] = {
    {"new_nif", 2, new_nif, 0},
    {"insert", 2, insert2, 0},
    {"insert", 3, insert3, 0},
    {"merge", 2, merge_nif, 0},
    {"quantile", 2, quantile_nif, 0},
    {"quantiles", 2, quantiles_nif, 0},
    {"count", 1, count_nif, 0},
    {"sum", 1, sum_nif, 0},
    {"min", 1, min_nif, 0},
    {"max", 1, max_nif, 0},
    {"reset", 1, reset_nif, 0},
    {"to_binary", 1, to_binary_nif, 0},
    {"from_binary", 1, from_binary_nif, 0},
};

ERL_NIF_INIT(live_load_sketch, funcs, load, NULL, upgrade, NULL)
