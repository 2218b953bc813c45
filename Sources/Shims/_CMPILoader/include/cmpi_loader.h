// Open MPI, loaded at run time: no MPI headers or libraries are needed to build the suite, and a
// process that is not started by `mpirun` never loads MPI. The handles (MPI_COMM_WORLD,
// MPI_FLOAT, MPI_SUM, ...) are the addresses of Open MPI's predefined objects, looked up with
// dlsym: this is Open MPI's ABI (libmpi.so.40, Open MPI 3.x to 5.x), not MPICH's.
#ifndef CMPI_LOADER_H
#define CMPI_LOADER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Loads `library` (e.g. "libmpi.so.40") and resolves every function and handle used below.
/// Returns 0, or -1 with a message in `error`.
int cmpi_load(const char *library, char *error, size_t error_capacity);

/// MPI_Init_thread with MPI_THREAD_FUNNELED; writes the level provided. Returns an MPI error code.
int cmpi_init(int *provided_level);
/// Whether MPI_Init has run and MPI_Finalize has not.
int cmpi_is_initialized(void);
int cmpi_comm_rank(int *rank);
int cmpi_comm_size(int *size);
/// In-place sum over MPI_COMM_WORLD; counts above INT_MAX are sent in pieces.
int cmpi_allreduce_sum_float(float *values, int64_t count);
int cmpi_allreduce_sum_double(double *values, int64_t count);
/// MPI_Bcast of `count` bytes from `root`, in pieces of at most INT_MAX.
int cmpi_broadcast_bytes(void *bytes, int64_t count, int root);
int cmpi_barrier(void);
/// MPI_Abort(MPI_COMM_WORLD, code).
int cmpi_abort(int code);
int cmpi_finalize(void);
/// MPI_Error_string into `buffer`; returns the length written.
int cmpi_error_string(int code, char *buffer, int capacity);
/// MPI_Get_library_version into `buffer`.
int cmpi_library_version(char *buffer, int capacity);

#ifdef __cplusplus
}
#endif
#endif
