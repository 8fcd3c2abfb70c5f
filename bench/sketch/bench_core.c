/* Benchmark of the DDSketch C core (not a test). Prints "name: value" lines.
 *
 *   core_insert_ns          ns per dds_insert, lognormal latencies (median 1 ms, sigma 1)
 *   core_merge_us           merging two full 2048-bin sketches (both stores full)
 *   core_quantiles101_us    101 quantiles (0, 0.01, .., 1) in one dds_quantiles call
 *   core_to_binary_bytes    serialised size after 1e6 lognormal latencies
 *   core_encode_us / core_decode_us   to/from that binary
 *   core_mt_*               2 threads inserting: one sketch behind a mutex vs one sketch each
 *                           (wall clock, ns per insert over both threads)
 * Single-threaded figures are CPU time (best of several passes), see cpu_ns.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ddsketch.h"

/* Single-threaded figures use this process's CPU time: the build box is shared (load average
 * often > 5 on 2 cores), and wall time would mostly measure the time we were descheduled. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static double uniform01(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double lognormal_ms(void)
{
    double z = sqrt(-2.0 * log(uniform01())) * cos(2.0 * M_PI * uniform01());
    return exp(z); /* median 1 ms */
}

#define N 1000000
static double values[N];

static void fill_full(dds_sketch *s)
{
    /* every key of both stores in use: 2048 positive and 2048 negative bins */
    for (int k = 0; k < 2048; k++) {
        double v = dds_value(s, k - 1000);
        dds_insert(s, v, 1 + (uint64_t)k);
        dds_insert(s, -v, 1 + (uint64_t)k);
    }
}

typedef struct {
    dds_sketch *s;
    pthread_mutex_t *lock;
    int reps;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    for (int r = 0; r < a->reps; r++)
        for (int i = 0; i < N; i++) {
            if (a->lock)
                pthread_mutex_lock(a->lock);
            dds_insert(a->s, values[i], 1);
            if (a->lock)
                pthread_mutex_unlock(a->lock);
        }
    return NULL;
}

static double threaded(int shared, int reps)
{
    dds_sketch s[2];
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_t t[2];
    worker_arg a[2];
    dds_init(&s[0], 0.01, 2048);
    dds_init(&s[1], 0.01, 2048);
    double t0 = now_ns();
    for (int i = 0; i < 2; i++) {
        a[i] = (worker_arg){shared ? &s[0] : &s[i], shared ? &lock : NULL, reps};
        pthread_create(&t[i], NULL, worker, &a[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double ns = (now_ns() - t0) / (2.0 * reps * N);
    dds_free(&s[0]);
    dds_free(&s[1]);
    return ns;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        values[i] = lognormal_ms();

    /* insert: best of 10 passes over 1e6 values */
    dds_sketch s;
    dds_init(&s, 0.01, 2048);
    double best = 1e30;
    for (int pass = 0; pass < 10; pass++) {
        dds_clear(&s);
        double t0 = cpu_ns();
        for (int i = 0; i < N; i++)
            dds_insert(&s, values[i], 1);
        double ns = (cpu_ns() - t0) / N;
        if (ns < best)
            best = ns;
    }
    printf("core_insert_ns: %.2f\n", best);

    size_t cap = dds_encoded_size_max(&s);
    uint8_t *buf = malloc(cap);
    size_t size = dds_encode(&s, buf, cap);
    printf("core_to_binary_bytes: %zu\n", size);
    int reps = 2000;
    double t0 = cpu_ns();
    for (int r = 0; r < reps; r++)
        size = dds_encode(&s, buf, cap);
    printf("core_encode_us: %.2f\n", (cpu_ns() - t0) / reps / 1000.0);
    t0 = cpu_ns();
    for (int r = 0; r < reps; r++) {
        dds_sketch d;
        if (dds_decode(buf, size, &d) != DDS_DEC_OK)
            return 1;
        dds_free(&d);
    }
    printf("core_decode_us: %.2f\n", (cpu_ns() - t0) / reps / 1000.0);

    double qs[101], out[101];
    for (int i = 0; i <= 100; i++)
        qs[i] = i / 100.0;
    reps = 20000;
    t0 = cpu_ns();
    for (int r = 0; r < reps; r++)
        dds_quantiles(&s, qs, 101, out);
    printf("core_quantiles101_us: %.2f\n", (cpu_ns() - t0) / reps / 1000.0);

    dds_sketch a, b;
    dds_init(&a, 0.01, 2048);
    dds_init(&b, 0.01, 2048);
    fill_full(&a);
    fill_full(&b);
    reps = 20000;
    t0 = cpu_ns();
    for (int r = 0; r < reps; r++)
        dds_merge(&a, &b);
    printf("core_merge_us: %.2f\n", (cpu_ns() - t0) / reps / 1000.0);
    if (a.pos.max_key - a.pos.min_key + 1 != 2048 || a.neg.max_key - a.neg.min_key + 1 != 2048)
        return 1;

    printf("core_mt_mutex_shared_ns: %.2f\n", threaded(1, 3));
    printf("core_mt_own_sketch_ns: %.2f\n", threaded(0, 3));

    free(buf);
    dds_free(&s);
    dds_free(&a);
    dds_free(&b);
    return 0;
}
