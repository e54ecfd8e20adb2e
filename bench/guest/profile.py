# SPDX-License-Identifier: MIT
"""5. Where connection setup spends its time: a sampling profile (perf record
-a, the software cpu-clock event, every CPU) over one connection-setup run of
each backend configuration, read as microseconds of CPU per connection for
each kernel symbol.

A sample is 1/FREQ s of one CPU, so a symbol's samples / FREQ / connections
is the CPU time it took per connection, whatever the run's length; the
difference from the not-loaded run is what a backend adds, function by
function.  Idle (the halt loop) is counted apart: it is time no one used.
"""
import os

from .bed import QUICK
from .connsetup import SETUP_CONFIGS, setup_once
from .procs import log, sh

# Hz per CPU, not a multiple of the 250 Hz tick. Under icount a sample is
# 1/FREQ s of guest instructions (1 ns each): 19,997 Hz puts one every
# 50,000 instructions, so a backend's few thousand per connection get
# hundreds of samples over the run.
FREQ = 4999 if os.environ.get("KGWTTM_BENCH_CLOCK", "wall") == "wall" else 19997
CONNS = 1500 if QUICK else 6000
INFLIGHT = 64
TOP = 15               # symbols kept per configuration (the rest summed)
# The halt loop and what wraps it: the CPU had nothing to run.
IDLE = {"native_safe_halt", "default_idle", "default_idle_call", "do_idle", "cpu_idle_poll",
        "arch_cpu_idle", "cpuidle_idle_call", "pv_native_safe_halt"}
# What hooking costs whoever hooks, by symbol prefix: kprobes through ftrace
# or int3, their return trampolines, and tracepoint iteration.
MACHINERY = ("kprobe", "kretprobe", "__kretprobe", "opt_pre_handler", "optimized_callback",
             "pre_handler_kretprobe", "rethook", "arch_rethook", "ftrace", "__traceiter_",
             "aggr_pre_handler", "get_kprobe", "kprobe_ftrace_handler", "__cgroup_bpf_run_filter",
             "bpf_prog_", "__bpf_prog_", "bpf_sk_storage", "bpf_", "___bpf_")
DATA = "/tmp/kgwttm-bench-perf.data"


def perf_missing():
    """Why the guest cannot profile (None when it can)."""
    p = sh("perf", "version", check=False)
    if p.returncode:
        return "perf does not run here (Debian's linux-perf): %s" % p.stdout.strip()[-200:]
    return None


def parse_report(text):
    """perf report -n -q -t '|' --sort dso,sym lines -> {(dso, sym): samples}."""
    out = {}
    for line in text.splitlines():
        f = [x.strip() for x in line.split("|")]
        if len(f) < 4 or not f[0].endswith("%"):
            continue
        sym = f[3]
        if sym[:3] in ("[k]", "[.]"):
            sym = sym[4:].strip()
        key = (f[2].strip("[]"), sym)
        out[key] = out.get(key, 0) + int(f[1])
    return out


def kind(dso, sym):
    if sym in IDLE:
        return "idle"
    # perf names a module's symbols [kgwttm], [toa]; a BPF program is
    # bpf_prog_TAG_NAME, kgwttm's named kgwttm_*
    if dso in ("kgwttm", "toa") or sym.startswith("kgwttm_") or \
            (sym.startswith("bpf_prog_") and "_kgwttm_" in sym):
        return "module"
    if sym.startswith(MACHINERY):
        return "hooking"
    return "other"


def profile_once(params):
    """One setup run, its load generator run under perf record -a (which
    starts the command once it samples: signalled from outside, it could
    die before writing a sample); {(dso, sym): samples}."""
    # -B -N: no build-id pass at exit (it reads every binary sampled, over
    # the VM's shared root, long enough for an instruction clock to time out).
    setup_once(params, CONNS, INFLIGHT,
               wrap=("perf", "record", "-q", "-a", "-B", "-N", "-e", "cpu-clock",
                     "-F", str(FREQ), "-o", DATA, "--"))
    rep = sh("perf", "report", "-i", DATA, "--stdio", "--no-children", "-n", "-q", "-t", "|",
             "--sort", "dso,sym", timeout=600)
    os.unlink(DATA)
    counts = parse_report(rep.stdout)
    if not counts:
        raise RuntimeError("perf report: no samples: %s" % rep.stdout[-300:])
    return counts


def us_per_conn(samples):
    return round(samples / FREQ / CONNS * 1e6, 3)


def summarize(counts):
    by_kind = {"idle": 0, "module": 0, "hooking": 0, "other": 0}
    for (dso, sym), n in counts.items():
        by_kind[kind(dso, sym)] += n
    busy = sorted(((n, dso, sym) for (dso, sym), n in counts.items() if kind(dso, sym) != "idle"),
                  reverse=True)
    return {
        "us_per_conn": {k: us_per_conn(v) for k, v in by_kind.items()},
        "busy_us_per_conn": us_per_conn(sum(n for n, _, _ in busy)),
        "top": [{"dso": d, "sym": s, "us_per_conn": us_per_conn(n), "samples": n}
                for n, d, s in busy[:TOP]],
    }


def deltas(counts, base):
    """The symbols whose CPU per connection grew most over the not-loaded run."""
    keys = set(counts) | set(base)
    d = sorted(((counts.get(k, 0) - base.get(k, 0), k) for k in keys
                if kind(*k) != "idle"), reverse=True)
    return [{"dso": k[0], "sym": k[1], "us_per_conn": us_per_conn(n)} for n, k in d[:TOP] if n > 0]


def run():
    missing = perf_missing()
    if missing:
        log("profile: left out: %s" % missing)
        return {"skipped": missing}
    sh("sysctl", "-qw", "kernel.kptr_restrict=0", "kernel.perf_event_paranoid=-1")
    wanted = [c for c in SETUP_CONFIGS if c[0] in ("unloaded", "loaded", "bpf")
              or c[0].startswith("peer:")]
    counts = {}
    for name, params in wanted:
        try:
            counts[name] = profile_once(params)
        except RuntimeError as e:      # e.g. no BPF backend on this kernel
            log("profile %s: %s" % (name, e))
            continue
        log("profile %s: %d samples" % (name, sum(counts[name].values())))
    sh("sysctl", "-qw", "kernel.kptr_restrict=1", check=False)
    base = counts.get("unloaded", {})
    return {
        "freq_hz": FREQ, "conns": CONNS, "inflight": INFLIGHT,
        "configs": {k: dict(summarize(v), **({"added": deltas(v, base)} if k != "unloaded" else {}))
                    for k, v in counts.items()},
    }
