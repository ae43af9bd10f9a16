/* Plots through gnuplot (module d1s_plot).
 *
 * The caller writes a whitespace-separated data file (`.dat`, '#' comment lines allowed);
 * this module writes a gnuplot script (`.gp`, pngcairo terminal) that draws one or more
 * panels stacked vertically from that file, and runs `gnuplot script.gp` with fork/exec (no
 * shell). Both files stay next to the image so a user can edit and re-run the script.
 * Plotting is optional: when gnuplot is not installed d1s_plot_run returns
 * D1_E_UNSUPPORTED and the caller still has its data. */
#ifndef D1S_PLOT_H
#define D1S_PLOT_H

#include "sim/arch/status.h"

#include <stddef.h>

typedef struct d1s_plot_series {
    const char *using_cols; /* gnuplot `using` spec, e.g. "1:3" */
    const char *title;      /* legend entry */
    const char *with;       /* NULL: "linespoints lw 2 pt 7 ps 0.8" */
} d1s_plot_series;

typedef struct d1s_plot_panel {
    const char *title;           /* may be NULL */
    const char *xlabel, *ylabel; /* with units, e.g. "offered load (flits/node/cycle)" */
    int logy;
    double ymin, ymax; /* both 0: automatic */
    double mark_x;     /* vertical dashed line at this x if mark_label != NULL */
    const char *mark_label;
    const d1s_plot_series *series;
    int n_series;
} d1s_plot_panel;

typedef struct d1s_plot {
    const char *png_path;    /* image to produce */
    const char *dat_path;    /* data file the series read */
    const char *title;       /* overall title (may be NULL) */
    int width_px, height_px; /* 0: 900 x 420 per panel */
    const d1s_plot_panel *panels;
    int n_panels;
} d1s_plot;

/* path with its extension (the part after the last '.' of the last path component, if
 * any) replaced by ext (e.g. ".dat"). D1_E_RANGE if it does not fit in size bytes. */
d1_status d1s_plot_sibling_path(const char *path, const char *ext, char *buf, size_t size);
/* Write the gnuplot script. D1_E_IO (detail names the file), D1_E_INVAL for no panels. */
d1_status d1s_plot_write_script(const d1s_plot *p, const char *gp_path);
/* Run gnuplot on the script, waiting for it. D1_E_UNSUPPORTED "gnuplot not found in PATH",
 * D1_E_IO if it could not run or exited with an error. */
d1_status d1s_plot_run(const char *gp_path);
/* 1 if an executable `gnuplot` is on PATH. */
int d1s_plot_have_gnuplot(void);

#endif
