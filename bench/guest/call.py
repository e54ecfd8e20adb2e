# SPDX-License-Identifier: MIT
"""1. The call: getRealPeer's first and cached calls against socket.remoteAddress
and against a bare C getsockopt(SOL_IP, 1345) loop (bench/call.mjs,
bench/c/peerbench), with the module loaded.
"""
import time

from ..summaries import ratios, summary
from .backend import backend_set
from .bed import CALL_JS, HOLDCONNS, PEERBENCH, QUICK, RS4
from .procs import Peer, as_lb, lb_env, log, ns_of, open_conns

# Sizes.  A round is a few hundred ms to ~2 s of guest time.
if QUICK:
    CALL = dict(rounds=3, batch=200, passes=2, warmup=1)
else:
    CALL = dict(rounds=9, batch=500, passes=5, warmup=4)


# Connection sets the Node server holds: getRealPeer's, and one for each other
# first-touch step (see run).
NODE_SETS = 4


def run():
    R, B, P = CALL["rounds"], CALL["batch"], CALL["passes"]
    # W warm-up rounds, then R measured; fresh sockets each; the Node server
    # holds three more sets, one for each first-touch step that is not
    # getRealPeer (the addon alone, the addon and the decoder, and those
    # plus the cache insertions). Under TCG, V8 takes a few rounds of 500
    # calls to reach optimised code (the
    # first call measured 2x slower in rounds 1-3 than from round 4 on in one
    # run), and a server's steady state is what the ratios are about.
    W = CALL["warmup"]
    total = (R + W) * B
    backend_set([])
    cpb = Peer([PEERBENCH, RS4, "7101"], ready="listening")
    node = Peer(["node", CALL_JS, RS4, "7102"], ready="listening")
    holder = Peer(as_lb(HOLDCONNS), env=lb_env())
    try:
        t0 = time.time()
        # in steps well below the listen backlog (4096): a connection the
        # client completed while the accept queue was full would arrive late
        # and without its option
        err1 = err2 = acc1 = acc2 = 0
        while acc1 < total and not err1:
            n = min(1000, total - acc1)
            _, e, acc1 = open_conns(cpb, holder, 7101, acc1 + n, n)
            err1 += e
        while acc2 < NODE_SETS * total and not err2:
            n = min(1000, NODE_SETS * total - acc2)
            _, e, acc2 = open_conns(node, holder, 7102, acc2 + n, n)
            err2 += e
        log("call: %d + %d connections open in %.1f s (errors %d, %d)"
            % (acc1, acc2, time.time() - t0, err1, err2))
        if err1 or err2 or acc1 != total or acc2 != NODE_SETS * total:
            raise RuntimeError("call: could not open %d connections per server" % total)
        keys = ["c_first", "c_same_fd", "first", "cached", "raddr_first", "raddr", "addon", "addon_first", "addon_noobj",
                "addon_decode", "addon_decode_cache"]
        rows = {k: [] for k in keys}
        nulls = 0
        for r in range(R + W):
            s = r * B
            m = {}

            def c_side():
                m["c_first"] = ns_of(cpb.cmd("run gso %d %d 1" % (s, B)))
                m["c_same_fd"] = ns_of(cpb.cmd("run gso %d 1 %d" % (s, B)))

            def node_side():
                # the first-touch measurements take turns at going first
                firsts = [("first", "first %d %d" % (s, B)), ("raddr_first", "raddr_first %d %d" % (s, B)),
                          ("addon_first", "addon %d %d 1" % (total + s, B)),
                          ("addon_decode", "addon_decode %d %d" % (2 * total + s, B)),
                          ("addon_decode_cache", "addon_decode_cache %d %d" % (3 * total + s, B))]
                firsts = firsts[r % len(firsts):] + firsts[:r % len(firsts)]
                again = [("cached", "cached %d %d %d" % (s, B, P)), ("raddr", "raddr %d %d %d" % (s, B, P))]
                if r % 2:
                    again.reverse()
                for k, c in firsts + again:
                    m[k] = ns_of(node.cmd(c))
                m["addon"] = ns_of(node.cmd("addon %d %d 1" % (s, B)))
                m["addon_noobj"] = ns_of(node.cmd("addon_noobj %d %d 1" % (s, B)))

            for side in ((c_side, node_side) if r % 2 == 0 else (node_side, c_side)):
                side()
            if m["c_first"]["fail"] or m["c_same_fd"]["fail"]:
                raise RuntimeError("call: bare getsockopt failed: %r" % m["c_first"])
            nulls += int(sum(m[k]["nulls"] for k in ("first", "cached", "addon", "addon_first", "addon_decode",
                                                     "addon_decode_cache")))
            if m["addon_noobj"]["nulls"] != m["addon_noobj"]["calls"]:
                raise RuntimeError("call: optname 1346 answered: %r" % m["addon_noobj"])
            if r < W:
                continue    # warm-up: JIT, page cache, first-touch
            for k in keys:
                rows[k].append(m[k]["ns"])
            log("call round %d: " % r + " ".join("%s=%.0f" % (k, m[k]["ns"]) for k in keys))
        if nulls:
            raise RuntimeError("call: getRealPeer answered null %d times" % nulls)
        res = {
            "rounds": R, "warmup": W, "batch": B, "passes": P,
            "ns": {k: summary(v) for k, v in rows.items()},
            "ratio": {
                "first_vs_c": summary(ratios(rows["first"], rows["c_first"])),
                "addon_vs_c": summary(ratios(rows["addon"], rows["c_first"])),
                "addon_first_vs_c": summary(ratios(rows["addon_first"], rows["c_first"])),
                "first_vs_addon_first": summary(ratios(rows["first"], rows["addon_first"])),
                "addon_decode_vs_c": summary(ratios(rows["addon_decode"], rows["c_first"])),
                "addon_decode_cache_vs_c": summary(ratios(rows["addon_decode_cache"], rows["c_first"])),
                "addon_noobj_vs_c": summary(ratios(rows["addon_noobj"], rows["c_first"])),
                "cached_vs_raddr": summary(ratios(rows["cached"], rows["raddr"])),
                "cached_vs_raddr_first": summary(ratios(rows["cached"], rows["raddr_first"])),
                "raddr_first_vs_c": summary(ratios(rows["raddr_first"], rows["c_first"])),
                "c_same_fd_vs_c": summary(ratios(rows["c_same_fd"], rows["c_first"])),
            },
            "per_round": rows,
        }
        return res
    finally:
        holder.close()
        node.close()
        cpb.close()
        backend_set(None)

