/* d1s_tile over MPI (module d1s_tile): the chips of a tile partitioned over the ranks of
 * MPI_COMM_WORLD (d1s_tile_partition with a communicator backed by MPI). Built only when
 * MPI is found (meson option `mpi`; D1_HAVE_MPI is then defined for users of this header's
 * library). See doc/tile.md "Many machines: MPI".
 *
 * Use: d1s_mpi_init; create the same tile on every rank; d1s_tile_mpi_partition; load and
 * run as usual (every rank makes the same calls); d1s_mpi_finalize. */
#ifndef D1S_TILE_MPI_H
#define D1S_TILE_MPI_H

#include "sim/tile/tile.h"

/* MPI_Init_thread (funneled: only the calling thread uses MPI; OpenMP threads step chips),
 * errors returned instead of aborting. *rank and *size of MPI_COMM_WORLD. D1_E_IO with the
 * MPI error string when MPI cannot start. Calling it again returns the same. */
d1_status d1s_mpi_init(int *argc, char ***argv, int *rank, int *size);
/* MPI_Finalize (if initialized) and free the communicator buffers. */
void d1s_mpi_finalize(void);
/* Partition t over MPI_COMM_WORLD (after d1s_mpi_init, before loading). Errors as
 * d1s_tile_partition (D1_E_CONFIG: more ranks than chips). */
d1_status d1s_tile_mpi_partition(d1s_tile *t);
/* A barrier (for timing), D1_E_IO on an MPI error. */
d1_status d1s_mpi_barrier(void);
/* Element-wise reduction of n doubles over the ranks (e.g. the slowest rank's time). */
d1_status d1s_mpi_allreduce_f64(double *v, size_t n, d1s_tile_redop op);

#endif
