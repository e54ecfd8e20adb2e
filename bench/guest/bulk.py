# SPDX-License-Identifier: MIT
"""2b. Bulk: one connection's throughput, loaded vs not loaded (bench/c/bulk),
with trace kprobes counting how often the hooked functions ran.
"""
import json
import subprocess

from ..summaries import ratios, summary
from .backend import backend_set
from .bed import BULK, QUICK, RS4
from .procs import as_lb, lb_env, log, sh
from .tracer import KPROBED, ProbeHits

if QUICK:
    BULK_CFG = dict(rounds=2, seconds=0.5)
else:
    BULK_CFG = dict(rounds=15, seconds=1.0)


def bulk_once(params, secs, port=7301, hits=None):
    backend_set(params)
    rcv = subprocess.Popen([BULK, "recv", RS4, str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = rcv.stderr.readline()
    if "listening" not in line:
        raise RuntimeError("bulk recv: %r" % line)
    before = hits.counts() if hits else {}
    sh(*as_lb(BULK, "send", RS4, str(port), str(secs)), env=lb_env())
    out, _ = rcv.communicate(timeout=60)
    res = json.loads(out.strip().splitlines()[-1])
    if res["tracked"] != (params is not None):
        raise RuntimeError("bulk: tracked=%s with params %r" % (res["tracked"], params))
    if hits:
        after = hits.counts()
        res["probe_hits"] = {fn: after.get(fn, 0) - before.get(fn, 0) for fn in KPROBED}
    return res


def run():
    R, S = BULK_CFG["rounds"], BULK_CFG["seconds"]
    cfgs = [("loaded", []), ("unloaded", None)]
    mbs = {"loaded": [], "unloaded": []}
    hits_per_run, mb_per_run = [], []
    bulk_once([], S / 2)
    with ProbeHits() as hits:
        for r in range(R):
            order = cfgs if r % 2 == 0 else cfgs[::-1]
            line = []
            for name, params in order:
                x = bulk_once(params, S, hits=hits)
                mbs[name].append(x["median_window_mb_per_s"])
                line.append("%s=%.0fMB/s" % (name, x["median_window_mb_per_s"]))
                if params is not None:
                    hits_per_run.append(x["probe_hits"])
                    mb_per_run.append(x["bytes"] / 1e6)
            log("bulk round %d: %s probe hits %s" % (r + 1, " ".join(line), hits_per_run[-1]))
    backend_set(None)
    return {
        "rounds": R, "seconds": S,
        "mb_per_s": {k: summary(v) for k, v in mbs.items()},
        "ratio": {"loaded_vs_unloaded": summary(ratios(mbs["loaded"], mbs["unloaded"]))},
        "per_round": mbs,
        # per loaded run: how often each probed function ran, and the MB moved
        "probe_hits": {fn: summary([h[fn] for h in hits_per_run]) for fn in KPROBED},
        "mb_per_run": summary(mb_per_run),
    }

