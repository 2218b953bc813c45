// Software prefetch for AudioDSP's STFT (Swift has no prefetch intrinsic).
#ifndef AUDIODSP_PREFETCH_H
#define AUDIODSP_PREFETCH_H

/// Hints the CPU to start loading the cache line holding `address` for reading.
static inline __attribute__((always_inline)) void audiodsp_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
