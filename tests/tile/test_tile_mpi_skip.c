/* Registered as tile_mpi when MPI is not built: reports the skip (meson skip code 77). */
#include <stdio.h>

int main(void)
{
    printf("tile_mpi: skipped: MPI not built (meson option mpi; needs libopenmpi-dev and "
           "mpirun)\n");
    return 77;
}
