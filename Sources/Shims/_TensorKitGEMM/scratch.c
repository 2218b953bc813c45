// Per-thread packing buffers of the GEMMs (see gemm_internal.h).

#include "gemm_internal.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    Scratch *s = p;
    free(s->a);
    free(s->b);
    free(s);
}

static void scratch_make_key(void) { pthread_key_create(&scratch_key, scratch_free); }

// Returns 64-byte aligned buffers of at least the requested sizes, reused across calls on the
// same thread (TensorKit's worker threads call this many times per training step).
Scratch *tkgemm_scratch_get(size_t a_floats, size_t b_floats) {
    pthread_once(&scratch_once, scratch_make_key);
    Scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof(Scratch));
        if (!s) return NULL;
        pthread_setspecific(scratch_key, s);
    }
    if (s->a_cap < a_floats) {
        free(s->a);
        s->a = aligned_alloc(64, (a_floats * sizeof(float) + 63) / 64 * 64);
        s->a_cap = s->a ? a_floats : 0;
    }
    if (s->b_cap < b_floats) {
        free(s->b);
        s->b = aligned_alloc(64, (b_floats * sizeof(float) + 63) / 64 * 64);
        s->b_cap = s->b ? b_floats : 0;
    }
    return (s->a && s->b) ? s : NULL;
}

