#include "cmpi_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

// Open MPI's handles are pointers to its predefined objects.
typedef void *handle_t;

static struct {
    int loaded;
    int (*init_thread)(int *, char ***, int, int *);
    int (*initialized)(int *);
    int (*finalized)(int *);
    int (*comm_rank)(handle_t, int *);
    int (*comm_size)(handle_t, int *);
    int (*allreduce)(const void *, void *, int, handle_t, handle_t, handle_t);
    int (*bcast)(void *, int, handle_t, int, handle_t);
    int (*barrier)(handle_t);
    int (*abort_)(handle_t, int);
    int (*finalize)(void);
    int (*error_string)(int, char *, int *);
    int (*library_version)(char *, int *);
    handle_t comm_world, type_float, type_double, type_byte, op_sum;
} mpi;

// MPI_THREAD_FUNNELED in Open MPI's mpi.h; MPI_IN_PLACE is ((void *) 1) there.
#define CMPI_THREAD_FUNNELED 1
#define CMPI_IN_PLACE ((void *)1)
#define CMPI_ERR_OTHER 16

int cmpi_load(const char *library, char *error, size_t error_capacity) {
    if (mpi.loaded) return 0;
    // RTLD_GLOBAL: Open MPI's plug-ins (its MCA components) are shared objects that it opens
    // itself and that resolve libmpi's symbols from the global scope.
    void *lib = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(error, error_capacity, "cannot load %s: %s", library, dlerror());
        return -1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"MPI_Init_thread", (void **)&mpi.init_thread},
        {"MPI_Initialized", (void **)&mpi.initialized},
        {"MPI_Finalized", (void **)&mpi.finalized},
        {"MPI_Comm_rank", (void **)&mpi.comm_rank},
        {"MPI_Comm_size", (void **)&mpi.comm_size},
        {"MPI_Allreduce", (void **)&mpi.allreduce},
        {"MPI_Bcast", (void **)&mpi.bcast},
        {"MPI_Barrier", (void **)&mpi.barrier},
        {"MPI_Abort", (void **)&mpi.abort_},
        {"MPI_Finalize", (void **)&mpi.finalize},
        {"MPI_Error_string", (void **)&mpi.error_string},
        {"MPI_Get_library_version", (void **)&mpi.library_version},
        {"ompi_mpi_comm_world", &mpi.comm_world},
        {"ompi_mpi_float", &mpi.type_float},
        {"ompi_mpi_double", &mpi.type_double},
        {"ompi_mpi_byte", &mpi.type_byte},
        {"ompi_mpi_op_sum", &mpi.op_sum},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *address = dlsym(lib, symbols[i].name);
        if (!address) {
            snprintf(
                error, error_capacity,
                "%s has no symbol %s: it is not Open MPI (MPICH and others use another ABI)", library,
                symbols[i].name);
            dlclose(lib);
            return -1;
        }
        *symbols[i].slot = address;
    }
    mpi.loaded = 1;
    return 0;
}

int cmpi_init(int *provided_level) {
    if (!mpi.loaded) return CMPI_ERR_OTHER;
    return mpi.init_thread(NULL, NULL, CMPI_THREAD_FUNNELED, provided_level);
}

int cmpi_is_initialized(void) {
    if (!mpi.loaded) return 0;
    int initialized = 0, finalized = 0;
    mpi.initialized(&initialized);
    mpi.finalized(&finalized);
    return initialized && !finalized;
}

int cmpi_comm_rank(int *rank) { return mpi.loaded ? mpi.comm_rank(mpi.comm_world, rank) : CMPI_ERR_OTHER; }
int cmpi_comm_size(int *size) { return mpi.loaded ? mpi.comm_size(mpi.comm_world, size) : CMPI_ERR_OTHER; }

static int allreduce_sum(char *values, int64_t count, size_t element, handle_t type) {
    if (!mpi.loaded) return CMPI_ERR_OTHER;
    while (count > 0) {
        int piece = count > INT_MAX ? INT_MAX : (int)count;
        int rc = mpi.allreduce(CMPI_IN_PLACE, values, piece, type, mpi.op_sum, mpi.comm_world);
        if (rc != 0) return rc;
        values += (size_t)piece * element;
        count -= piece;
    }
    return 0;
}

int cmpi_allreduce_sum_float(float *values, int64_t count) {
    return allreduce_sum((char *)values, count, sizeof(float), mpi.type_float);
}

int cmpi_allreduce_sum_double(double *values, int64_t count) {
    return allreduce_sum((char *)values, count, sizeof(double), mpi.type_double);
}

int cmpi_broadcast_bytes(void *bytes, int64_t count, int root) {
    if (!mpi.loaded) return CMPI_ERR_OTHER;
    char *p = bytes;
    while (count > 0) {
        int piece = count > INT_MAX ? INT_MAX : (int)count;
        int rc = mpi.bcast(p, piece, mpi.type_byte, root, mpi.comm_world);
        if (rc != 0) return rc;
        p += piece;
        count -= piece;
    }
    return 0;
}

int cmpi_barrier(void) { return mpi.loaded ? mpi.barrier(mpi.comm_world) : CMPI_ERR_OTHER; }
int cmpi_abort(int code) { return mpi.loaded ? mpi.abort_(mpi.comm_world, code) : CMPI_ERR_OTHER; }
int cmpi_finalize(void) { return mpi.loaded ? mpi.finalize() : CMPI_ERR_OTHER; }

int cmpi_error_string(int code, char *buffer, int capacity) {
    if (capacity <= 0) return 0;
    buffer[0] = 0;
    if (!mpi.loaded) return 0;
    // MPI_MAX_ERROR_STRING is 256 in Open MPI; MPI_Error_string writes up to that many bytes.
    char message[256 + 1];
    int length = 0;
    if (mpi.error_string(code, message, &length) != 0) return 0;
    if (length >= capacity) length = capacity - 1;
    memcpy(buffer, message, (size_t)length);
    buffer[length] = 0;
    return length;
}

int cmpi_library_version(char *buffer, int capacity) {
    if (capacity <= 0) return 0;
    buffer[0] = 0;
    if (!mpi.loaded) return 0;
    // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI.
    char version[256 + 1];
    int length = 0;
    if (mpi.library_version(version, &length) != 0) return 0;
    if (length >= capacity) length = capacity - 1;
    memcpy(buffer, version, (size_t)length);
    buffer[length] = 0;
    return length;
}
