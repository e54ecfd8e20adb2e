# SPDX-License-Identifier: MIT
"""6. One hooked call: getpeername() on a connection that has a client, in
every connection-setup configuration, against getsockopt(SOL_IP, IP_TTL)
(the same socket syscall path, hooked by no backend) in the same rounds.

The connection-setup rounds (2.) swing by 15% or more on the wall clock; a
loop of one syscall over held connections is steady to a few percent, so
this shows what each backend's getpeername hook (kgwttm's kretprobes on
inet_getname, the tracer's trace kretprobe alone, a peer's ops pointer, the
BPF backend's cgroup/getpeername4 program) costs per call.
"""
import time

from ..summaries import summary
from .backend import configured, service_cgroup_enter
from .bed import HOLDCONNS, PEERBENCH, QUICK, RS4
from .connsetup import round_order, runnable_configs
from .procs import Peer, as_lb, lb_env, log, ns_of, open_conns

if QUICK:
    HOOKS = dict(rounds=2, conns=50, passes=4)
else:
    HOOKS = dict(rounds=7, conns=200, passes=10)


def measure(params, port, C, P):
    """ns per call of getpeername and of getsockopt(IP_TTL) over C held
    connections opened under params, P passes each, twice in turn (the
    faster of each pair: a host hiccup only ever adds time)."""
    with configured(params):
        srv = Peer([PEERBENCH, RS4, str(port)], ready="listening", preexec_fn=service_cgroup_enter)
        holder = Peer(as_lb(HOLDCONNS), env=lb_env())
        try:
            _, err, accepted = open_conns(srv, holder, port, C, C)
            if err or accepted != C:
                raise RuntimeError("hooks: %d of %d connections (%d failed)" % (accepted, C, err))
            ns = {"gpn": [], "ttl": []}
            for op in ("gpn", "ttl", "gpn", "ttl"):
                r = ns_of(srv.cmd("run %s 0 %d %d" % (op, C, P)))
                if r["fail"]:
                    raise RuntimeError("hooks: %s failed (errno %d)" % (op, r["errno"]))
                ns[op].append(r["ns"])
            srv.cmd("close")
        finally:
            holder.close()
            srv.close()
    return min(ns["gpn"]), min(ns["ttl"])


def run():
    R, C, P = HOOKS["rounds"], HOOKS["conns"], HOOKS["passes"]
    configs, _ = runnable_configs()
    gpn = {name: [] for name, _ in configs}
    ttl = {name: [] for name, _ in configs}
    port = 7500
    t0 = time.time()
    for r in range(R + 1):                  # round 0: warm-up
        line = []
        for name, params in round_order(configs, r):
            port += 1                       # no TIME_WAIT left from the last set
            g, t = measure(params, port, C, P)
            line.append("%s=%.0f/%.0f" % (name, g, t))
            if r:
                gpn[name].append(g)
                ttl[name].append(t)
        log("hooks round %d%s: %s" % (r, " (warm-up)" if not r else "", " ".join(line)))
    log("hooks: %.0f s" % (time.time() - t0))
    return {
        "rounds": R, "conns": C, "passes": P,
        "gpn": {k: summary(v) for k, v in gpn.items()},
        "ttl": {k: summary(v) for k, v in ttl.items()},
        "per_round": {"gpn": gpn, "ttl": ttl},
    }
