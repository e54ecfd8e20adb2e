#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/report.py LAST_JSON [--write FILE] --command CMD --date DATE ...

Turns the JSON that bench/guest.py printed into the markdown table (stdout),
and with --write into bench/RESULTS.md: bench/report/page.md filled in with
the table, command, date, and the clock's note (report/clock-icount.md or
report/clock-wall.md).
"""
import argparse
import json
import math
import os
import random
import statistics
from string import Template

from summaries import ratios

# The page's prose (Method, how the clock works) with $placeholders: report/.
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report")


def fmt(x, nd=2):
    if x is None:
        return "–"
    if isinstance(x, float) and (abs(x) >= 100 or nd == 0):
        return "{:,.0f}".format(x)
    return ("{:.%df}" % nd).format(x)


def rng(s, nd=2):
    return "%s – %s" % (fmt(s["min"], nd), fmt(s["max"], nd))


def verdict(ok):
    return "**met**" if ok else "**missed**"


def median_ci(values, iters=4000, seed=1):
    """A 95% bootstrap interval for the median of per-round ratios (seeded:
    the same run always reports the same interval)."""
    rnd = random.Random(seed)
    meds = sorted(statistics.median(rnd.choices(values, k=len(values))) for _ in range(iters))
    return meds[int(0.025 * iters)], meds[int(0.975 * iters) - 1]


def verdict_ci(ci, lo_ok):
    """Met when the whole interval clears the target, missed when it all falls
    short; otherwise this run cannot tell."""
    lo, hi = ci
    if lo >= lo_ok:
        return "**met**"
    if hi < lo_ok:
        return "**missed**"
    return "**not resolved** (the interval straddles the target)"


def verdict_equal(ci):
    lo, hi = ci
    if lo <= 1.0 <= hi:
        return "**met**: no difference this run can detect"
    return "**missed**: loaded differs from not loaded"


def fmt_ci(ci, nd=3):
    return "%s – %s" % (fmt(ci[0], nd), fmt(ci[1], nd))


def buckets_estimate(n):
    # rhashtable doubles its bucket table once it is 75% full: the table
    # holds the next power of two >= n / 0.75 buckets, of one pointer each.
    return 2 ** math.ceil(math.log2(max(n / 0.75, 4)))


def units(d):
    """Labels for guest time: under icount (bench/run.sh's default) a guest
    nanosecond is one guest instruction."""
    if d.get("clock") == "icount":
        return dict(per_call="guest instructions per call", abs="absolute, for scale",
                    cps="connections per 10⁹ guest instructions", mbs="MB per 10⁹ guest instructions",
                    op="instructions")
    return dict(per_call="ns per call", abs="TCG, absolute: for scale only", cps="connections/s",
                mbs="MB/s", op="ns")


def tables(d):
    out = []
    row = out.append
    u = units(d)
    if "call" in d:
        c = d["call"]
        r, ns = c["ratio"], c["ns"]
        row("### 1. The call (%s: median of chunks of 50 calls; %d rounds of %d fresh connections per side, after %d warm-up rounds)"
            % (u["per_call"], c["rounds"], c["batch"], c.get("warmup", 1)))
        row("")
        row("| measurement | median | min – max per round | target | |")
        row("|---|---|---|---|---|")
        row("| getRealPeer, first call on a connection ÷ bare C getsockopt(SOL_IP, 1345) | %s× | %s | ≤ 2.5× | %s |"
            % (fmt(r["first_vs_c"]["median"]), rng(r["first_vs_c"]), verdict(r["first_vs_c"]["median"] <= 2.5)))
        row("| getRealPeer, cached ÷ socket.remoteAddress (Node's kept answer) | %s× | %s | ≤ 1.0× | %s |"
            % (fmt(r["cached_vs_raddr"]["median"]), rng(r["cached_vs_raddr"]),
               verdict(r["cached_vs_raddr"]["median"] <= 1.0)))
        row("| getRealPeer, cached ÷ socket.remoteAddress first read (getpeername) | %s× | %s | (≤ 1.0×) | %s |"
            % (fmt(r["cached_vs_raddr_first"]["median"]), rng(r["cached_vs_raddr_first"]),
               verdict(r["cached_vs_raddr_first"]["median"] <= 1.0)))
        if "addon_first_vs_c" in r:
            row("| addon alone, first touch of a socket (no lib/ code: the floor of any JS API) ÷ bare C getsockopt | %s× | %s | | |"
                % (fmt(r["addon_first_vs_c"]["median"]), rng(r["addon_first_vs_c"])))
            row("| getRealPeer, first call ÷ addon alone, first touch (what lib/ adds) | %s× | %s | | |"
                % (fmt(r["first_vs_addon_first"]["median"]), rng(r["first_vs_addon_first"])))
        if "addon_decode_vs_c" in r:
            row("| first-call steps, first touch: the addon and lib/'s decoder (a plain {address, port, family}) ÷ bare C getsockopt | %s× | %s | | |"
                % (fmt(r["addon_decode_vs_c"]["median"]), rng(r["addon_decode_vs_c"])))
            row("| first-call steps, first touch: the same and getRealPeer's two stores of the answer (symbol-keyed properties of the socket and its handle) ÷ bare C getsockopt | %s× | %s | | |"
                % (fmt(r["addon_decode_cache_vs_c"]["median"]), rng(r["addon_decode_cache_vs_c"])))
        row("| addon alone, on sockets already asked (binding.getPeer(fd)) ÷ bare C getsockopt | %s× | %s | | |"
            % (fmt(r["addon_vs_c"]["median"]), rng(r["addon_vs_c"])))
        row("| addon, failing optname 1346 (same call and syscall path, no result object) ÷ bare C getsockopt | %s× | %s | | |"
            % (fmt(r["addon_noobj_vs_c"]["median"]), rng(r["addon_noobj_vs_c"])))
        row("| socket.remoteAddress first read ÷ bare C getsockopt | %s× | %s | | |"
            % (fmt(r["raddr_first_vs_c"]["median"]), rng(r["raddr_first_vs_c"])))
        row("| bare C getsockopt, one fd over and over ÷ each fd once | %s× | %s | | |"
            % (fmt(r["c_same_fd_vs_c"]["median"]), rng(r["c_same_fd_vs_c"])))
        row("")
        row("| %s (%s) | median | min – max |" % (u["per_call"], u["abs"]))
        row("|---|---|---|")
        for k, label in [("c_first", "bare C getsockopt(SOL_IP, 1345), each fd once"),
                         ("c_same_fd", "bare C getsockopt, one fd repeatedly"),
                         ("first", "getRealPeer, first call"),
                         ("addon_first", "addon getPeer(fd) alone, first touch"),
                         ("addon_decode", "addon + lib/'s decoder, first touch"),
                         ("addon_decode_cache", "addon + decoder + the two stores of the answer, first touch"),
                         ("addon", "addon getPeer(fd) alone, sockets already asked"),
                         ("addon_noobj", "addon getPeer(fd, 1346): fails, no object"),
                         ("cached", "getRealPeer, cached"),
                         ("raddr_first", "socket.remoteAddress, first read"),
                         ("raddr", "socket.remoteAddress, again")]:
            if k in ns:
                row("| %s | %s | %s |" % (label, fmt(ns[k]["median"], 0), rng(ns[k], 0)))
        row("")
    if "setup" in d:
        s = d["setup"]
        r, cps, ck = s["ratio"], s["cps"], s["checks"]
        lr = r["loaded_vs_unloaded"]
        row("### 2. Connection setup (loadgen → acceptsrv -p through the real-stack simulator; %d rounds × %d configs × %d connections, %d in flight)"
            % (s["rounds"], len(s["per_round"]), s["conns"], s["inflight"]))
        row("")
        pr = s["per_round"]
        lr_ci = median_ci(ratios(pr["loaded"], pr["unloaded"]))
        row("| measurement | median | min – max per round | 95% interval of the median | target | |")
        row("|---|---|---|---|---|---|")
        row("| connections/s, loaded ÷ not loaded | %s | %s | %s | ≥ 0.97 | %s |"
            % (fmt(lr["median"], 3), rng(lr, 3), fmt_ci(lr_ci), verdict_ci(lr_ci, 0.97)))
        ro_ci = median_ci(ratios(pr["rewrite_off"], pr["unloaded"]))
        row("| connections/s, loaded rewrite_getname=0 ÷ not loaded | %s | %s | %s | ≥ 0.98 | %s |"
            % (fmt(r["rewrite_off_vs_unloaded"]["median"], 3), rng(r["rewrite_off_vs_unloaded"], 3),
               fmt_ci(ro_ci), verdict_ci(ro_ci, 0.98)))
        if "probes_only" in pr:
            row("| connections/s, no module but the tracer on the same hooks (the hooking alone) ÷ not loaded | %s | %s | %s | | |"
                % (fmt(r["probes_only_vs_unloaded"]["median"], 3), rng(r["probes_only_vs_unloaded"], 3),
                   fmt_ci(median_ci(ratios(pr["probes_only"], pr["unloaded"])))))
        if "bpf" in pr:
            # A backend whose counters saw no client measured nothing: no verdict.
            bpf_ok = s["bpf_checks"]["with_option"] > 0
            bpf_verdict = lambda ci, lo: verdict_ci(ci, lo) if bpf_ok else "**invalid**: it captured no client"
            bu, bu_ci = r["bpf_vs_unloaded"], median_ci(ratios(pr["bpf"], pr["unloaded"]))
            row("| connections/s, BPF backend attached (kgwttm-bpf, no module) ÷ not loaded | %s | %s | %s | ≥ 0.98 | %s |"
                % (fmt(bu["median"], 3), rng(bu, 3), fmt_ci(bu_ci), bpf_verdict(bu_ci, 0.98)))
            bl, bl_ci = r["bpf_vs_loaded"], median_ci(ratios(pr["bpf"], pr["loaded"]))
            row("| connections/s, BPF backend ÷ kgwttm loaded (paired per round) | %s | %s | %s | ≥ 1.00 | %s |"
                % (fmt(bl["median"], 3), rng(bl, 3), fmt_ci(bl_ci), bpf_verdict(bl_ci, 1.0)))
        if "bpf_service" in pr:
            for vs, label, target in (("unloaded", "not loaded", 0.98), ("loaded", "kgwttm loaded (paired per round)", 1.0)):
                x, x_ci = r["bpf_service_vs_" + vs], median_ci(ratios(pr["bpf_service"], pr[vs]))
                row("| connections/s, BPF backend attached to the server's cgroup only (`--cgroup`) ÷ %s | %s | %s | %s | ≥ %.2f | %s |"
                    % (label, fmt(x["median"], 3), rng(x, 3), fmt_ci(x_ci), target, bpf_verdict(x_ci, target)))
        if "bpf_floor" in pr:
            row("| connections/s, the BPF floor on the server's cgroup (empty programs at the same attach points, "
                "the socket storage made: what the kernel's side costs) ÷ not loaded | %s | %s | %s | | |"
                % (fmt(r["bpf_floor_vs_unloaded"]["median"], 3), rng(r["bpf_floor_vs_unloaded"], 3),
                   fmt_ci(median_ci(ratios(pr["bpf_floor"], pr["unloaded"])))))
        for name in s.get("peers", {}):
            peer = pr["peer:" + name]
            pv = s["peers"][name]["vs_unloaded"]
            row("| connections/s, peer `%s` loaded ÷ not loaded | %s | %s | %s | | |"
                % (name, fmt(pv["median"], 3), rng(pv, 3), fmt_ci(median_ci(ratios(peer, pr["unloaded"])))))
            lp_ci = median_ci(ratios(pr["loaded"], peer))
            lp = s["peers"][name]["loaded_vs_peer"]
            row("| connections/s, kgwttm loaded ÷ peer `%s` loaded (paired per round) | %s | %s | %s | ≥ 1.00 | %s |"
                % (name, fmt(lp["median"], 3), rng(lp, 3), fmt_ci(lp_ci), verdict_ci(lp_ci, 1.0)))
        if "bulk" in d:
            b = d["bulk"]
            br = b["ratio"]["loaded_vs_unloaded"]
            br_ci = median_ci(ratios(b["per_round"]["loaded"], b["per_round"]["unloaded"]))
            row("| bulk throughput on one connection, loaded ÷ not loaded (%d rounds × %.1f s) | %s | %s | %s | 1.00 within noise | %s |"
                % (b["rounds"], b["seconds"], fmt(br["median"], 3), rng(br, 3), fmt_ci(br_ci), verdict_equal(br_ci)))
        if "bulk" in d and "probe_hits" in d["bulk"]:
            b = d["bulk"]
            row("")
            row("What an established flow pays: during each loaded bulk run (one connection, "
                "%s MB moved, median), the functions kgwttm hooks ran this often (trace kprobes "
                "on them, /sys/kernel/tracing/kprobe_profile; max over %d runs): %s. "
                "Those are the run's own handshake, its getpeername and the closes, none per segment."
                % (fmt(b["mb_per_run"]["median"], 0), b["mb_per_run"]["n"],
                   ", ".join("`%s` %d" % (fn, h["max"]) for fn, h in b["probe_hits"].items())))
        row("")
        row("| %s | median | min – max |" % u["abs"])
        row("|---|---|---|")
        for k, label in [("loaded", "loaded"), ("rewrite_off", "loaded, rewrite_getname=0"),
                         ("unloaded", "not loaded"), ("probes_only", "not loaded, the tracer on the same hooks"),
                         ("bpf", "the BPF backend attached, no module"),
                         ("bpf_service", "the BPF backend attached to the server's cgroup"),
                         ("bpf_floor", "the BPF floor on the server's cgroup")] + \
                [(k, "peer `%s` loaded" % k[len("peer:"):]) for k in cps if k.startswith("peer:")]:
            if k not in cps:
                continue
            row("| %s, %s | %s | %s |" % (u["cps"], label, fmt(cps[k]["median"], 0), rng(cps[k], 0)))
        if d.get("clock") == "icount":
            # 10⁹ instructions ÷ connections: what one connection costs the
            # whole guest (both ends, the simulated LB, acceptsrv's calls).
            per = {k: [1e9 / x for x in pr[k]] for k in pr}
            extra = lambda k: statistics.median(a - b for a, b in zip(per[k], per["unloaded"]))
            row("| guest instructions per connection, not loaded (both ends and the simulated LB) | %s | %s |"
                % (fmt(statistics.median(per["unloaded"]), 0),
                   "%s – %s" % (fmt(min(per["unloaded"]), 0), fmt(max(per["unloaded"]), 0))))
            for k, label in [("loaded", "kgwttm loaded"), ("rewrite_off", "kgwttm loaded, rewrite_getname=0"),
                             ("probes_only", "the tracer on the same hooks"), ("bpf", "the BPF backend"),
                             ("bpf_service", "the BPF backend on the server's cgroup"),
                             ("bpf_floor", "the BPF floor on the server's cgroup (the kernel's side alone)")] + \
                    [(k, "peer `%s`" % k[len("peer:"):]) for k in per if k.startswith("peer:")]:
                if k in per:
                    row("| instructions added per connection, %s (median of the per-round differences) | %s | |"
                        % (label, fmt(extra(k), 0)))
        if "bulk" in d:
            for k, label in [("loaded", "loaded"), ("unloaded", "not loaded")]:
                m = d["bulk"]["mb_per_s"][k]
                row("| bulk %s (median of 100 ms windows), %s | %s | %s |" % (u["mbs"], label, fmt(m["median"], 0), rng(m, 0)))
        row("")
        row("Checks over the %d connections made with the module loaded: every one captured (%d short), "
            "%d probe misses, live entries back to 0 after each run (highest left: %d)."
            % (ck["churned"], ck["with_option_short"], ck["missed"], ck["live_after_max"]))
        if "bpf_checks" in s:
            bc = s["bpf_checks"]
            row("")
            row("Checks over the %d connections made with the BPF backend attached (kgwttm-bpf status): "
                "%d clients captured (%d short), live entries back to 0 after each run (highest left: %d).%s"
                % (bc["churned"], bc["with_option"], bc["with_option_short"], bc["live_after_max"],
                   "" if bc["with_option"] else " **It captured no client: its rows measure nothing.**"))
        if "bpf_skipped" in s:
            row("")
            row("The BPF backend was left out of these rounds: %s." % s["bpf_skipped"])
        row("")
    if "scale" in d:
        sc = d["scale"]
        lv = sc["levels"]
        row("### 3. Scale (getsockopt on a random sample of the open connections; %d rounds alternating with getsockopt(SOL_IP, IP_TTL))"
            % (lv[0]["ns_gso"]["n"] if lv else 0))
        row("")
        row("| tracked connections open (live) | kgwttm getsockopt %s | IP_TTL getsockopt %s | ratio kgwttm ÷ IP_TTL, median | min – max |" % (u["op"], u["op"]))
        row("|---|---|---|---|---|")
        for x in lv:
            row("| %s%s | %s | %s | %s | %s |"
                % ("{:,}".format(x["live"]), " (time budget: wanted %s)" % "{:,}".format(x["wanted"]) if x.get("capped_by_time") else "",
                   fmt(x["ns_gso"]["median"], 0), fmt(x["ns_ttl"]["median"], 0),
                   fmt(x["ratio_gso_vs_ttl"]["median"], 3), rng(x["ratio_gso_vs_ttl"], 3)))
        if len(lv) >= 2:
            growth = lv[-1]["ratio_gso_vs_ttl"]["median"] / lv[0]["ratio_gso_vs_ttl"]["median"]
            row("")
            row("Flatness: ratio at %s ÷ ratio at %s = **%s** (target: flat, i.e. within 15%%: %s)."
                % ("{:,}".format(lv[-1]["live"]), "{:,}".format(lv[0]["live"]), fmt(growth, 3),
                   verdict(growth <= 1.15)))
        row("")
        row("### 4. Memory")
        row("")
        top = lv[-1] if lv else None
        ac = sc.get("after_close", {})
        row("| measurement | value |")
        row("|---|---|")
        row("| entry_bytes (/proc/net/kgwttm: kmem_cache_size of one entry) | %s B |" % sc.get("entry_bytes"))
        if top and top.get("slab"):
            sl = top["slab"]
            row("| slab cache `%s`: object size with SLUB metadata, objects per slab | %d B, %d per %d KiB slab |"
                % (sc.get("slab_cache"), sl["objsize"], sl["objperslab"], sl["pagesperslab"] * 4))
            row("| slab pages ÷ live entries at %s connections | %s B |"
                % ("{:,}".format(top["live"]), fmt(top.get("slab_bytes_per_entry"), 1)))
            nb = buckets_estimate(top["live"])
            row("| rhashtable buckets at %s entries (estimate: next power of two ≥ n/0.75, 8 B each) | %s B per entry |"
                % ("{:,}".format(top["live"]), fmt(nb * 8 / top["live"], 1)))
            row("| **kernel bytes per tracked connection** (slab + buckets) | **%s B** |"
                % fmt(top["slab_bytes_per_entry"] + nb * 8 / top["live"], 0))
        if ac:
            row("| live after every connection closed (scale churn) | %s (after %s s) |" % (ac["live"], ac["waited_s"]))
            if ac.get("slab"):
                row("| slab objects in use after close | %d (%d slabs kept by SLUB) |"
                    % (ac["slab"]["active_objs"], ac["slab"]["num_slabs"]))
        if "setup" in d:
            row("| live after each connection-setup run (%s connections churned) | highest: %d |"
                % ("{:,}".format(d["setup"]["checks"]["churned"]), d["setup"]["checks"]["live_after_max"]))
        row("")
    if "profile" in d:
        profile_tables(d["profile"], row)
    if "hooks" in d:
        hooks_table(d["hooks"], u, row)
    return "\n".join(out)


HOOK_LABELS = {"loaded": "kgwttm loaded (kretprobes on inet_getname, inet6_getname)",
               "rewrite_off": "kgwttm loaded, rewrite_getname=0 (no getname hook)",
               "unloaded": "not loaded",
               "probes_only": "not loaded, the tracer on the same hooks (a trace kretprobe on inet_getname)",
               "bpf": "BPF backend (cgroup/getpeername4 and cgroup/getsockopt at the root)",
               "bpf_service": "BPF backend on the server's cgroup",
               "bpf_floor": "the BPF floor on the server's cgroup (empty programs at the same attach points)"}


def hooks_table(h, u, row):
    """6. getpeername and an unhooked getsockopt, per call, by backend. The
    fastest round of each: a host hiccup only ever adds time, and one hit a
    whole configuration's loop (both calls) in about one round in four."""
    row("### 6. One hooked call (getpeername on a connection with a client, %d held connections × %d passes; "
        "getsockopt(SOL_IP, IP_TTL) on the same sockets, which no getname hook sees; fastest of %d rounds)"
        % (h["conns"], h["passes"], h["rounds"]))
    row("")
    row("| configuration | getpeername %s | added vs not loaded | getsockopt(IP_TTL) %s | added vs not loaded | getpeername, all rounds |"
        % (u["op"], u["op"]))
    row("|---|---|---|---|---|---|")
    base_g, base_t = h["gpn"]["unloaded"]["min"], h["ttl"]["unloaded"]["min"]
    for k, g in h["gpn"].items():
        t = h["ttl"][k]
        label = HOOK_LABELS.get(k) or "peer `%s` loaded" % k[len("peer:"):]
        added = lambda x, b: "" if k == "unloaded" else "%+.0f" % (x - b)
        row("| %s | %s | %s | %s | %s | %s |" % (label, fmt(g["min"], 0), added(g["min"], base_g),
                                               fmt(t["min"], 0), added(t["min"], base_t), rng(g, 0)))
    row("")


PROFILE_LABELS = {"unloaded": "not loaded", "loaded": "kgwttm loaded", "bpf": "BPF backend"}


def profile_label(name):
    if name.startswith("peer:"):
        return "peer `%s`" % name[len("peer:"):]
    return PROFILE_LABELS.get(name, name)


def profile_tables(p, row):
    """5. The sampling profile: CPU per connection by kind, the top symbols
    of each configuration, and what each adds over not loaded."""
    row("### 5. Where the time goes (perf record -a, cpu-clock at %d Hz per CPU, over one setup run of %s connections per configuration)"
        % (p.get("freq_hz", 0), "{:,}".format(p.get("conns", 0))))
    row("")
    if "skipped" in p:
        row("Not profiled: %s." % p["skipped"])
        row("")
        return
    cf = p["configs"]
    names = [n for n in ("unloaded", "loaded", "bpf") if n in cf] + \
        sorted(n for n in cf if n.startswith("peer:"))
    step = 1e6 / p["freq_hz"] / p["conns"]
    row("CPU time per connection, µs, from the samples (one sample = %.3f µs per connection): "
        "`module` is the backend's own functions, `hooking` the kprobe, ftrace, tracepoint "
        "and BPF machinery (the simulated LB's own sockops program included), `idle` the halt loop." % step)
    row("")
    row("| configuration | busy | module | hooking | other | idle |")
    row("|---|---|---|---|---|---|")
    for n in names:
        u = cf[n]["us_per_conn"]
        row("| %s | %s | %s | %s | %s | %s |" % (profile_label(n), fmt(cf[n]["busy_us_per_conn"], 2),
                                                fmt(u["module"], 2), fmt(u["hooking"], 2),
                                                fmt(u["other"], 2), fmt(u["idle"], 2)))
    row("")
    for n in names:
        row("Top symbols, %s (µs per connection):" % profile_label(n))
        row("")
        symbol_table(row, cf[n]["top"], "µs per connection")
        if cf[n].get("added"):
            row("What %s adds over not loaded, symbol by symbol (the largest differences; "
                "a difference of a sample or two is noise):" % profile_label(n))
            row("")
            symbol_table(row, cf[n]["added"], "+ µs per connection")


def symbol_table(row, entries, column):
    """Ten symbols of the profile, with their CPU per connection."""
    row("| symbol | where | %s |" % column)
    row("|---|---|---|")
    for e in entries[:10]:
        row("| `%s` | %s | %s |" % (e["sym"], e["dso"], fmt(e["us_per_conn"], 3)))
    row("")

def template(name):
    with open(os.path.join(TEMPLATES, name)) as f:
        return f.read()


def page(d, command, date, env, body):
    """RESULTS.md: the tables inside the method's prose."""
    if d.get("clock") == "icount":
        # a paragraph of its own; the wall-clock note continues the one before
        vm_flags, vcpus, clock = " --icount", "one vCPU", "\n" + template("clock-icount.md")
    else:
        vm_flags, vcpus, clock = "", "2 vCPUs", template("clock-wall.md")
    return Template(template("page.md")).substitute(
        command=command, date=date, environment=env, results=body,
        vm_flags=vm_flags, vcpus=vcpus, clock=clock)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--write")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--date", default="")
    ap.add_argument("--commit", default="")
    ap.add_argument("--ko-sha", default="")
    ap.add_argument("--bpf-sha", default="", help="of the BPF backend's kgwttm.bpf.o")
    ap.add_argument("--host-load", default="")
    ap.add_argument("--host-cpus", default="")
    ap.add_argument("--peer-note", action="append", default=[],
                    help="NAME: where the peer module came from (repeatable)")
    a = ap.parse_args()
    with open(a.json) as f:
        d = json.load(f)
    shas = "kgwttm.ko sha256 %s…" % a.ko_sha + (", kgwttm.bpf.o sha256 %s…" % a.bpf_sha if a.bpf_sha else "")
    env = ("Run %s; command `%s`; commit %s (%s); guest kernel %s, %s vCPUs, %s (clocksource %s), %s MiB, "
           "node %s; host %s CPUs, load average at start %s; whole guest run %s s."
           % (a.date, a.command, a.commit, shas, d["kernel"], d["cpus"],
              "guest clock counting instructions (icount)" if d.get("clock") == "icount" else "wall-clock guest time",
              d.get("clocksource", "not recorded"),
              d["mem_kib"] // 1024,
              d["node"], a.host_cpus, a.host_load, d["elapsed_s"]))
    body = tables(d)
    if a.peer_note:
        body += "\n**Peers** (`--peer`, loaded alone as one more configuration of the same rounds):\n\n" + \
            "".join("- %s\n" % n for n in a.peer_note)
    if d.get("quick"):
        body = "**QUICK RUN: small counts, the numbers mean nothing.**\n\n" + body
    print(env + "\n\n" + body)
    if a.write:
        with open(a.write, "w") as f:
            f.write(page(d, a.command, a.date, env, body))

if __name__ == "__main__":
    main()
