/* Elementwise, reduction and optimizer ops of the sim backend (module d1r_simew): one
 * d1k_ew kernel (kernels/elementwise.h) per op on a fresh simulated chip (on a system
 * target: one chip of the system's chip configuration, operands SRAM-resident). */
#ifndef D1R_SIM_EW_H
#define D1R_SIM_EW_H

#include "backend.h"
#include "sim/arch/config.h"
#include "sim_matmul.h"

#include <stdbool.h>
#include <stdint.h>

/* Whether op a has a kernel for these shapes/dtypes on one chip of cfg. */
bool d1r_sim_ew_supported(const d1_config *cfg, const d1r_op_args *a);
/* Run it (functional) on a fresh chip of cfg whose NoC routing tables are copied from
 * d1r_kcache_route_template(kc); *cycles = simulated cycles. Labels out of range: D1_E_RANGE
 * (as the CPU backend); D1_E_TRAP if the kernel trapped. */
d1_status d1r_sim_ew_run(const d1_config *cfg, d1r_kcache *kc, const d1r_op_args *a,
                         uint64_t *cycles);

#endif
