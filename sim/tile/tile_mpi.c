/* The tile's collective operations over MPI_COMM_WORLD (see tile_mpi.h, tile.h
 * d1s_tile_comm). */
#include "tile_mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mpi_comm {
    int rank, size;
    int *sc, *sd, *rc, *rd; /* [size] counts and displacements in bytes */
    unsigned char *rbuf;
    size_t rcap;
} mpi_comm;

static mpi_comm g_comm;
static int g_init;

static d1_status mpi_fail(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "error %d", rc);
    return d1_fail(D1_E_IO, "%s: %s", what, msg);
}

d1_status d1s_mpi_init(int *argc, char ***argv, int *rank, int *size)
{
    if (!g_init) {
        int inited = 0, provided = 0;
        MPI_Initialized(&inited);
        if (!inited) {
            int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
            if (rc != MPI_SUCCESS)
                return mpi_fail(rc, "MPI_Init_thread (start the program with mpirun)");
        }
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &g_comm.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &g_comm.size);
        size_t n = (size_t)g_comm.size;
        g_comm.sc = calloc(n, sizeof(int));
        g_comm.sd = calloc(n, sizeof(int));
        g_comm.rc = calloc(n, sizeof(int));
        g_comm.rd = calloc(n, sizeof(int));
        if (!g_comm.sc || !g_comm.sd || !g_comm.rc || !g_comm.rd)
            return d1_fail(D1_E_NOMEM, "MPI communicator");
        g_init = 1;
    }
    *rank = g_comm.rank;
    *size = g_comm.size;
    return D1_OK;
}

void d1s_mpi_finalize(void)
{
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (inited && !fin)
        MPI_Finalize();
    free(g_comm.sc);
    free(g_comm.sd);
    free(g_comm.rc);
    free(g_comm.rd);
    free(g_comm.rbuf);
    memset(&g_comm, 0, sizeof g_comm);
    g_init = 0;
}

static d1_status c_alltoallv(void *ctx, const void *send, const size_t *scount, const void **recv,
                             size_t *rcount)
{
    mpi_comm *c = ctx;
    int off = 0;
    for (int r = 0; r < c->size; r++) {
        if (scount[r] > (size_t)(INT_MAX - off))
            return d1_fail(D1_E_RANGE, "MPI exchange: more than 2 GB in one window");
        c->sc[r] = (int)scount[r];
        c->sd[r] = off;
        off += c->sc[r];
    }
    int rc = MPI_Alltoall(c->sc, 1, MPI_INT, c->rc, 1, MPI_INT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(rc, "MPI_Alltoall");
    size_t total = 0;
    for (int r = 0; r < c->size; r++) {
        if ((size_t)c->rc[r] > (size_t)INT_MAX - total)
            return d1_fail(D1_E_RANGE, "MPI exchange: more than 2 GB in one window");
        c->rd[r] = (int)total;
        total += (size_t)c->rc[r];
        rcount[r] = (size_t)c->rc[r];
    }
    if (total > c->rcap) {
        unsigned char *v = realloc(c->rbuf, total * 2);
        if (!v)
            return d1_fail(D1_E_NOMEM, "MPI exchange: %zu bytes", total);
        c->rbuf = v;
        c->rcap = total * 2;
    }
    rc = MPI_Alltoallv(send, c->sc, c->sd, MPI_BYTE, c->rbuf, c->rc, c->rd, MPI_BYTE,
                       MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(rc, "MPI_Alltoallv");
    *recv = c->rbuf;
    return D1_OK;
}

static MPI_Op mpi_op(d1s_tile_redop op)
{
    return op == D1S_TILE_MIN ? MPI_MIN : op == D1S_TILE_MAX ? MPI_MAX : MPI_SUM;
}

static d1_status c_allreduce(void *ctx, uint64_t *v, size_t n, d1s_tile_redop op)
{
    (void)ctx;
    if (n > INT_MAX)
        return d1_fail(D1_E_RANGE, "MPI_Allreduce of %zu values", n);
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, mpi_op(op), MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? D1_OK : mpi_fail(rc, "MPI_Allreduce");
}

static d1_status c_bcast(void *ctx, void *buf, size_t len, int root)
{
    (void)ctx;
    if (len > INT_MAX)
        return d1_fail(D1_E_RANGE, "MPI_Bcast of %zu bytes", len);
    int rc = MPI_Bcast(buf, (int)len, MPI_BYTE, root, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? D1_OK : mpi_fail(rc, "MPI_Bcast");
}

d1_status d1s_tile_mpi_partition(d1s_tile *t)
{
    if (!g_init)
        return d1_fail(D1_E_STATE, "tile: d1s_mpi_init first");
    d1s_tile_comm cm = {&g_comm, g_comm.rank, g_comm.size, c_alltoallv, c_allreduce, c_bcast};
    return d1s_tile_partition(t, &cm);
}

d1_status d1s_mpi_barrier(void)
{
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? D1_OK : mpi_fail(rc, "MPI_Barrier");
}

d1_status d1s_mpi_allreduce_f64(double *v, size_t n, d1s_tile_redop op)
{
    if (n > INT_MAX)
        return d1_fail(D1_E_RANGE, "MPI_Allreduce of %zu values", n);
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, mpi_op(op), MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? D1_OK : mpi_fail(rc, "MPI_Allreduce");
}
