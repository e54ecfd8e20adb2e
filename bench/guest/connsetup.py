# SPDX-License-Identifier: MIT
"""2. Connection setup: new connections/s through the real-stack simulator
(loadgen -> acceptsrv -p), each configuration of the backend in turn, in
rotating order, round after round.
"""
import json
import os
import subprocess

from ..summaries import ratios, summary
from .backend import backend_set, bpf_missing, configured, counters, service_cgroup_enter, wait_live_zero
from .bed import ACCEPTSRV, LOADGEN, QUICK, RS4
from .procs import as_lb, lb_env, log, pinned, sh

# Sizes.  A round of one configuration is a few hundred ms to ~2 s of guest
# time on the instruction clock.  On the wall clock a run is ~4 s (4,000
# connections at ~1,000/s): at 1,500 a host hiccup of a second swung a
# round's ratio by half.  Twenty rounds on the wall clock: per-round ratios
# there swing 15-20% whatever the configuration (fast noise, not drift: the
# same configuration differs by as much between adjacent runs), so the
# interval of the median narrows only with more rounds.
WALL = os.environ.get("KGWTTM_BENCH_CLOCK", "wall") == "wall"
if QUICK:
    SETUP_CFG = dict(rounds=2, conns=500, inflight=64)
else:
    SETUP_CFG = dict(rounds=20 if WALL else 15, conns=4000 if WALL else 1500, inflight=64)


# "probes": not loaded, but trace kprobes/kretprobes on the functions the
# module probes: what the probing mechanism costs without kgwttm's handlers.
# "bpf": the BPF backend (bpf/) attached instead of the module (issue 14),
# unless this kernel lacks what it needs; at the cgroup v2 root (its
# default), and "bpf_service" to the server's cgroup only.
# "bpf_floor": the BPF backend's floor (bench/c/bpf_floor.bpf.c) on the
# server's cgroup: what bpf_service costs with no work of its own.
# "peer:NAME": another module (bench/run.sh --peer), e.g. a classic TOA module.
PEERS = [p for p in os.environ.get("KGWTTM_BENCH_PEERS", "").split(os.pathsep) if p]
SETUP_CONFIGS = [("loaded", []), ("rewrite_off", ["rewrite_getname=0"]), ("unloaded", None),
                 ("probes_only", "probes"), ("bpf", "bpf"), ("bpf_service", "bpf_service"),
                 ("bpf_floor", "bpf_floor")] + \
    [("peer:" + os.path.basename(p)[len("peer-"):-len(".ko")], ("peer", p)) for p in PEERS]


def runnable_configs():
    """SETUP_CONFIGS this kernel can run, and why the BPF ones were left out
    (None when they were not)."""
    skipped = bpf_missing()
    return [c for c in SETUP_CONFIGS if not (skipped and c[0].startswith("bpf"))], skipped


def round_order(configs, r):
    """Round r's order: rotated by one each round, reversed every other
    full turn, so that no configuration always follows the same one."""
    k = len(configs)
    order = configs[r % k:] + configs[:r % k]
    if (r // k) % 2:
        order.reverse()
    return order


def setup_once(params, n, inflight, port=7201, wrap=()):
    """wrap: a command prefix for the load generator's run (the profiler)."""
    with configured(params):
        return _setup_run(params, n, inflight, port, wrap)


def _setup_run(params, n, inflight, port, wrap):
    before = counters()
    # The server and the load generator each pinned to a vCPU of their own:
    # left to the scheduler, runs fell into two modes (about 700 and 1,250
    # connections/s) whichever the configuration, depending on placement.
    srv = subprocess.Popen(pinned(1) + [ACCEPTSRV, "-p", "-n", str(n), RS4, str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           preexec_fn=service_cgroup_enter)
    line = srv.stderr.readline()
    if "listening" not in line:
        raise RuntimeError("acceptsrv: %r" % line)
    p = sh(*wrap, *as_lb(*pinned(0), LOADGEN, "-n", str(n), "-c", str(inflight), "-R", RS4,
                         str(port)),
           check=False, env=lb_env(), timeout=1200)
    try:
        out, _ = srv.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        srv.kill()
        out, _ = srv.communicate()
    lg = json.loads(p.stdout.strip().splitlines()[-1])
    if lg["errors"]:
        raise RuntimeError("loadgen errors: %s" % p.stdout)
    after = counters()
    res = {"cps": lg["conns_per_s"], "p50_ms": lg["p50_ms"], "p99_ms": lg["p99_ms"]}
    if isinstance(params, list) or params in ("bpf", "bpf_service"):    # kgwttm.ko or kgwttm-bpf
        res["with_option"] = after.get("with_option", 0) - before.get("with_option", 0)
        res["missed"] = after.get("missed", 0) - before.get("missed", 0)
        res["live_after"], res["live_wait_s"] = wait_live_zero()
    return res


def run():
    R, N, C = SETUP_CFG["rounds"], SETUP_CFG["conns"], SETUP_CFG["inflight"]
    configs, bpf_skipped = runnable_configs()
    if bpf_skipped:
        log("setup: the BPF backend left out: %s" % bpf_skipped)
    names = [c[0] for c in configs]
    cps = {k: [] for k in names}
    checks = {"with_option_short": 0, "missed": 0, "live_after_max": 0, "churned": 0}
    # the same over the BPF backend's runs (kgwttm-bpf status): a backend
    # that attached but captured nothing cannot pass
    bpf_checks = {"with_option": 0, "with_option_short": 0, "live_after_max": 0, "churned": 0}
    for name, params in configs:            # warm-up, one of each
        setup_once(params, N // 2, C)
    for r in range(R):
        line = []
        for name, params in round_order(configs, r):
            x = setup_once(params, N, C)
            cps[name].append(x["cps"])
            line.append("%s=%.0f/s" % (name, x["cps"]))
            if isinstance(params, list):     # the module loaded
                checks["with_option_short"] += max(0, N - x["with_option"])
                checks["missed"] += x["missed"]
                checks["live_after_max"] = max(checks["live_after_max"], x["live_after"])
                checks["churned"] += N
            elif params in ("bpf", "bpf_service"):
                bpf_checks["with_option"] += x["with_option"]
                bpf_checks["with_option_short"] += max(0, N - x["with_option"])
                bpf_checks["live_after_max"] = max(bpf_checks["live_after_max"], x["live_after"])
                bpf_checks["churned"] += N
        log("setup round %d: %s" % (r + 1, " ".join(line)))
    backend_set(None)
    res = {
        "rounds": R, "conns": N, "inflight": C,
        "cps": {k: summary(v) for k, v in cps.items()},
        "ratio": {
            "loaded_vs_unloaded": summary(ratios(cps["loaded"], cps["unloaded"])),
            "rewrite_off_vs_unloaded": summary(ratios(cps["rewrite_off"], cps["unloaded"])),
            "probes_only_vs_unloaded": summary(ratios(cps["probes_only"], cps["unloaded"])),
        },
        "peers": {k[len("peer:"):]: {"vs_unloaded": summary(ratios(cps[k], cps["unloaded"])),
                                     "loaded_vs_peer": summary(ratios(cps["loaded"], cps[k]))}
                  for k in names if k.startswith("peer:")},
        "checks": checks,
        "per_round": cps,
    }
    if bpf_skipped:
        res["bpf_skipped"] = bpf_skipped
    else:
        res["ratio"]["bpf_vs_unloaded"] = summary(ratios(cps["bpf"], cps["unloaded"]))
        res["ratio"]["bpf_vs_loaded"] = summary(ratios(cps["bpf"], cps["loaded"]))
        res["ratio"]["bpf_service_vs_unloaded"] = summary(ratios(cps["bpf_service"], cps["unloaded"]))
        res["ratio"]["bpf_service_vs_loaded"] = summary(ratios(cps["bpf_service"], cps["loaded"]))
        res["ratio"]["bpf_floor_vs_unloaded"] = summary(ratios(cps["bpf_floor"], cps["unloaded"]))
        res["bpf_checks"] = bpf_checks
    return res
