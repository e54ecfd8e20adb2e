# SPDX-License-Identifier: MIT
"""The guest run: every benchmark KGWTTM_BENCH_ONLY names (all by default), then
the BENCH_JSON line bench/run.sh reads."""
import json
import os
import time

from . import bulk, call, connsetup, hooks, profile, scale
from .backend import backend_set, loaded
from .bed import BPF_LOADER, KO, ONLY, QUICK, SETUP
from .procs import log, sh


def sysctls():
    for k, v in [("net.ipv4.tcp_max_syn_backlog", "65536"), ("net.core.somaxconn", "65535"),
                 ("fs.file-max", "4194304"), ("fs.nr_open", "1048576"),
                 ("net.ipv4.tcp_max_orphans", "1048576"),
                 ("net.ipv4.tcp_max_tw_buckets", "1048576")]:
        sh("sysctl", "-qw", "%s=%s" % (k, v), check=False)


def main():
    t_start = time.time()
    result = {
        "kernel": os.uname().release,
        "cpus": os.cpu_count(),
        "mem_kib": int(open("/proc/meminfo").readline().split()[1]),
        "cmdline": open("/proc/cmdline").read().strip(),
        "clocksource": open("/sys/devices/system/clocksource/clocksource0/current_clocksource").read().strip(),
        "node": sh("node", "--version").stdout.strip(),
        "quick": QUICK,
        # icount: guest time counts guest instructions (bench/run.sh's default)
        "clock": os.environ.get("KGWTTM_BENCH_CLOCK", "wall"),
        "ko": KO,
        "bpf_loader": BPF_LOADER,
    }
    sysctls()
    if loaded():
        backend_set(None)
    sh(SETUP, "up")
    try:
        for name, fn in [("call", call.run), ("setup", connsetup.run), ("profile", profile.run),
                         ("bulk", bulk.run), ("scale", scale.run),
                         ("hooks", hooks.run)]:
            if ONLY and name not in ONLY:
                continue
            t0 = time.time()
            log("== %s" % name)
            result[name] = fn()
            result[name]["elapsed_s"] = round(time.time() - t0, 1)
            log("== %s done in %.0f s" % (name, time.time() - t0))
    finally:
        if loaded():
            backend_set(None)
        sh(SETUP, "down", check=False)
    result["elapsed_s"] = round(time.time() - t_start, 1)
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
