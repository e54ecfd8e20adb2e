# SPDX-License-Identifier: MIT
"""Where the benchmarks' pieces are, and the environment bench/run.sh sets.

A leaf: it imports nothing of the bench's.
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "lib"))
from realstack_paths import ACCEPTSRV, LOADGEN, RS_DIR, RUN_AS_LB, SETUP  # noqa: E402,F401

BIN = os.path.join(ROOT, "bench", "c")
PEERBENCH = os.path.join(BIN, "peerbench")
HOLDCONNS = os.path.join(BIN, "holdconns")
BULK = os.path.join(BIN, "bulk")
CALL_JS = os.path.join(ROOT, "bench", "call.mjs")
KO = os.environ.get("KGWTTM_BENCH_KO") or os.path.join(ROOT, "kmod", "kgwttm.ko")
# The BPF backend's loader, its programs embedded (bench/run.sh's own build).
BPF_LOADER = os.environ.get("KGWTTM_BENCH_BPF") or os.path.join(ROOT, "bpf", "build", "kgwttm-bpf")
QUICK = os.environ.get("KGWTTM_BENCH_QUICK") == "1"
ONLY = [x for x in os.environ.get("KGWTTM_BENCH_ONLY", "").split(",") if x]

# The backends trust no one until told: every load or attach gets the
# simulated LBs' networks, the one list the tests and the demo use too.
with open(os.path.join(ROOT, "test", "lbsim", "trusted_nets")) as f:
    TRUSTED_NETS = f.read().strip()

RS4 = "10.201.0.1"
CLIENT4 = "198.51.100.77"   # what the simulated LB writes into the option
