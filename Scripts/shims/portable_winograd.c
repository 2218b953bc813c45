// Test-only (Scripts/check-shims-cross.sh): the portable branch of _TensorKitWinograd/winograd.c built on an
// x86-64 host, so portable_vs_avx512.c can run it beside the AVX-512 branch; with it the portable
// branch of winograd_avx2.c (its scalar F(4x4) output-gradient transform, filter gradient and band transforms, which winograd.c lacks). The system headers
// come first, with the host's architecture, then the file without __x86_64__.
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#undef __x86_64__
#include "winograd.c"
#include "winograd_avx2.c"
