/* Output files of a training run, all in one directory:
 *
 *   run.csv     one row per log interval: step, epoch, loss, lr, samples_per_s, wall_s, xfer_ms,
 *               <op>_ms for every d1r op (host time in the interval), fallbacks
 *   epochs.csv  one row per evaluation: epoch, step, train_loss, test_acc, test_loss, wall_s
 *   loss.dat/.gp -> loss.png   training loss per step and per interval; test accuracy
 *   ops.dat/.gp  -> ops.png    ms per step of every op that ran, per log interval, and of
 *                              the program's host transfers
 *
 * The CSV and .dat files start with a '#' line giving the effective configuration. Scripts
 * and PNGs come from the shared helper sim/trace/plot.h (gnuplot run without a shell);
 * without gnuplot the .dat/.gp files are still written and a warning is printed. */
#ifndef D1X_REPORT_H
#define D1X_REPORT_H

#include "loop.h"

#include <stdbool.h>
#include <stdio.h>

/* Create dir (and parents) if missing and write the files. `config` is a one-line
 * description (no newline) put at the head of each file. Warnings (plotting) go to `warn`
 * (may be NULL). Errors: D1_E_IO (cannot create or write, detail names the file). */
d1_status d1x_report_write(const char *dir, const char *config, const d1x_train_result *res,
                           bool plots, FILE *warn);

#endif
