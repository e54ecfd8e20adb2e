# SPDX-License-Identifier: MIT
"""bench/guest: every kgwttm benchmark, run inside the VM (bench/run.sh boots it).

Prints progress on stderr and, at the end, one line on stdout:
    BENCH_JSON {...}
which bench/report.py turns into the markdown table.

Every comparison is made inside one run, by rounds that alternate the things
compared, and is reported as the median (and min..max) of per-round ratios:
absolute numbers in this VM (QEMU TCG on a shared host) drift by ±15% or more.

  call    getRealPeer first call / cached call vs socket.remoteAddress and vs a
          bare C getsockopt(SOL_IP, 1345) loop (bench/call.mjs, bench/c/peerbench)
  setup   new connections/s through the real-stack simulator: module loaded,
          loaded with rewrite_getname=0, not loaded, the tracer alone on the
          module's hooks, the BPF backend attached instead (loadgen + acceptsrv)
  bulk    one connection's throughput, loaded vs not loaded (bench/c/bulk)
  scale   getsockopt lookup cost with 1k / 10k / 100k tracked connections open,
          as a ratio to getsockopt(SOL_IP, IP_TTL) measured in the same rounds
  memory  entry_bytes, the module's own slab cache (boot with slub_nomerge so
          that it is not merged into another cache), live back to 0 after churn

Environment: KGWTTM_BENCH_KO (the .ko to load; default kmod/kgwttm.ko),
KGWTTM_BENCH_BPF (the BPF backend's loader; default bpf/build/kgwttm-bpf),
KGWTTM_BENCH_PEERS (more modules for the setup rounds, ':'-separated),
KGWTTM_BENCH_QUICK=1 (small counts: checks the machinery, numbers meaningless),
KGWTTM_BENCH_ONLY=call,setup,... (a subset).

Run from the checkout's root as `python3 -m bench.guest` (__main__.py). The
imports go one way: __main__ -> call, connsetup, bulk, scale (one benchmark
each) -> backend (what is loaded), tracer, procs -> bed (paths, environment);
the benchmarks summarise with bench/summaries.py, which bench/report.py
shares.
"""
