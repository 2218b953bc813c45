// Test-only (Scripts/check-shims-cross.sh): the portable branches of _TensorKitGEMM (gemm.c,
// gemm_bf16.c and the scratch buffers they share) built on an
// x86-64 host, so portable_vs_avx512.c and portable_vs_avx2.c can run it beside the vector branches. The system headers
// come first, with the host's architecture, then the file without __x86_64__.
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#undef __x86_64__
#include "gemm.c"
#include "gemm_bf16.c"
#include "gemm_avx2.c"
#include "scratch.c"
