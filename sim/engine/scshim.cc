// SystemC shim: the project's only C++ (see scshim.h). Everything SystemC stays here.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "scshim.h"

namespace {

struct traced {
    const uint64_t *var;
    sc_core::sc_signal<uint64_t> *sig;
};

struct shim {
    int (*body)(void *) = nullptr;
    void *user = nullptr;
    int body_ret = 0;
    bool used = false;    // d1s_sc_main was called (once per process)
    bool started = false; // first sc_start happened: elaboration is over
    uint64_t cyc_ps = 500;
    sc_core::sc_trace_file *tf = nullptr;
    std::vector<traced> traces;
    std::vector<sc_core::sc_event *> events;
};

shim g;

sc_core::sc_time cyc_time(uint64_t cyc)
{
    return sc_core::sc_time::from_value(cyc * g.cyc_ps); // exact: the resolution is 1 ps
}

void report_to_stderr(const sc_core::sc_report &rep, const sc_core::sc_actions &actions)
{
    if (actions & sc_core::SC_DISPLAY)
        std::fprintf(stderr, "%s\n", sc_core::sc_report_compose_message(rep).c_str());
    sc_core::sc_report_handler::default_handler(rep, actions & ~sc_core::SC_DISPLAY);
}

struct c_process {
    void (*fn)(void *);
    void *user;
    void operator()() const { fn(user); }
};

struct window_loop {
    uint64_t W, end;
    void (*run_window)(void *, uint64_t, uint64_t);
    void *user;
    void operator()() const
    {
        for (uint64_t t = 0; t < end; t += W) {
            uint64_t t1 = end - t < W ? end : t + W;
            run_window(user, t, t1);
            sc_core::wait(cyc_time(t1 - t));
            d1s_sc_trace_sample(); // the C state at the window edge, stamped at the edge
        }
    }
};

} // namespace

// SystemC's main() is not used (executables have their own); sc_elab_and_sim calls this.
extern "C" int sc_main(int, char **)
{
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    g.body_ret = g.body(g.user);
    if (g.tf) {
        sc_core::sc_close_vcd_trace_file(g.tf);
        g.tf = nullptr;
    }
    return g.body_ret;
}

extern "C" int d1s_sc_main(int argc, char **argv, int (*body)(void *user), void *user)
{
    if (g.used || !body) {
        std::fprintf(stderr, "d1s_sc_main: a SystemC simulation runs once per process\n");
        return 1;
    }
    g.used = true;
    g.body = body;
    g.user = user;
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    sc_core::sc_report_handler::set_handler(report_to_stderr);
    char arg0[] = "d1";
    char *fake[] = {arg0, nullptr};
    try {
        int r = sc_core::sc_elab_and_sim(argc > 0 ? argc : 1, argc > 0 ? argv : fake);
        return r;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "SystemC: %s\n", e.what());
        return 1;
    }
}

extern "C" d1_status d1s_sc_set_clock_mhz(uint64_t mhz)
{
    if (mhz < 1 || mhz > 1000000)
        return d1_fail(D1_E_INVAL, "clock %llu MHz out of range [1, 1000000]",
                       static_cast<unsigned long long>(mhz));
    if (g.started)
        return d1_fail(D1_E_STATE, "the clock cannot change once the simulation has started");
    g.cyc_ps = (1000000 + mhz / 2) / mhz;
    return D1_OK;
}

extern "C" uint64_t d1s_sc_cyc_ps(void) { return g.cyc_ps; }

extern "C" uint64_t d1s_sc_now_cyc(void)
{
    return sc_core::sc_time_stamp().value() / g.cyc_ps; // resolution is 1 ps
}

extern "C" d1_status d1s_sc_spawn(const char *name, void (*fn)(void *user), void *user)
{
    if (!fn)
        return d1_fail(D1_E_INVAL, "process '%s' without a function", name ? name : "");
    if (name)
        sc_core::sc_spawn(c_process{fn, user}, name);
    else
        sc_core::sc_spawn(c_process{fn, user});
    return D1_OK;
}

extern "C" void d1s_sc_wait_cyc(uint64_t cyc) { sc_core::wait(cyc_time(cyc)); }

struct d1s_sc_event {
    sc_core::sc_event ev;
    explicit d1s_sc_event(const char *name) : ev(name) {}
};

extern "C" d1s_sc_event *d1s_sc_event_create(const char *name)
{
    d1s_sc_event *e = name ? new d1s_sc_event(name) : new d1s_sc_event(nullptr);
    g.events.push_back(&e->ev);
    return e;
}

extern "C" void d1s_sc_wait_event(d1s_sc_event *ev) { sc_core::wait(ev->ev); }

extern "C" void d1s_sc_event_notify_cyc(d1s_sc_event *ev, uint64_t delay_cyc)
{
    if (delay_cyc == 0)
        ev->ev.notify(sc_core::SC_ZERO_TIME);
    else
        ev->ev.notify(cyc_time(delay_cyc));
}

extern "C" d1_status d1s_sc_run_cyc(uint64_t cyc)
{
    if (sc_core::sc_end_of_simulation_invoked() || sc_core::sc_get_status() == sc_core::SC_STOPPED)
        return d1_fail(D1_E_STATE, "the SystemC simulation has stopped");
    g.started = true;
    try {
        sc_core::sc_start(cyc_time(cyc));
    } catch (const std::exception &e) {
        return d1_fail(D1_E_STATE, "SystemC: %s", e.what());
    }
    return D1_OK;
}

extern "C" d1_status d1s_sc_trace_open(const char *path)
{
    if (g.started)
        return d1_fail(D1_E_STATE, "VCD trace must be opened before the simulation starts");
    if (g.tf)
        return d1_fail(D1_E_STATE, "a VCD trace is already open");
    FILE *probe = std::fopen((std::string(path) + ".vcd").c_str(), "w");
    if (!probe)
        return d1_fail(D1_E_IO, "cannot create %s.vcd", path);
    std::fclose(probe);
    g.tf = sc_core::sc_create_vcd_trace_file(path);
    if (!g.tf)
        return d1_fail(D1_E_IO, "cannot create %s.vcd", path);
    g.tf->set_time_unit(1, sc_core::SC_PS);
    return D1_OK;
}

extern "C" d1_status d1s_sc_trace_u64(const char *name, const uint64_t *var)
{
    if (g.started)
        return d1_fail(D1_E_STATE, "'%s': values must be traced before the simulation starts",
                       name);
    if (!g.tf)
        return d1_fail(D1_E_STATE, "'%s': no VCD trace open", name);
    auto *sig = new sc_core::sc_signal<uint64_t>(name, *var);
    sc_core::sc_trace(g.tf, *sig, name);
    g.traces.push_back({var, sig});
    return D1_OK;
}

extern "C" void d1s_sc_trace_sample(void)
{
    for (auto &t : g.traces)
        t.sig->write(*t.var);
}

extern "C" d1_status d1s_sc_spawn_window_loop(uint64_t window_cyc, uint64_t end_cyc,
                                              void (*run_window)(void *, uint64_t, uint64_t),
                                              void *user)
{
    if (!window_cyc || !run_window)
        return d1_fail(D1_E_INVAL, "window loop needs a window >= 1 cycle and a function");
    sc_core::sc_spawn(window_loop{window_cyc, end_cyc, run_window, user}, "d1_window_loop");
    return D1_OK;
}
