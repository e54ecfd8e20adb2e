#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/guest.py: every kgwttm benchmark, run inside the VM (bench/run.sh boots it).

Prints progress on stderr and, at the end, one line on stdout:
    BENCH_JSON {...}
which bench/report.py turns into the markdown table.

Every comparison is made inside one run, by rounds that alternate the things
compared, and is reported as the median (and min..max) of per-round ratios:
absolute numbers in this VM (QEMU TCG on a shared host) drift by ±15% or more.

  call    getRealPeer first call / cached call vs socket.remoteAddress and vs a
          bare C getsockopt(SOL_IP, 1345) loop (bench/call.mjs, bench/c/peerbench)
  setup   new connections/s through the real-stack simulator: module loaded,
          loaded with rewrite_getname=0, not loaded (loadgen + acceptsrv)
  bulk    one connection's throughput, loaded vs not loaded (bench/c/bulk)
  scale   getsockopt lookup cost with 1k / 10k / 100k tracked connections open,
          as a ratio to getsockopt(SOL_IP, IP_TTL) measured in the same rounds
  memory  entry_bytes, the module's own slab cache (boot with slub_nomerge so
          that it is not merged into another cache), live back to 0 after churn

Environment: KGWTTM_BENCH_KO (the .ko to load; default kmod/kgwttm.ko),
KGWTTM_BENCH_QUICK=1 (small counts: checks the machinery, numbers meaningless),
KGWTTM_BENCH_ONLY=call,setup,... (a subset).
"""
import json
import os
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RS_DIR = os.path.join(ROOT, "test", "lbsim", "realstack")
SETUP = os.path.join(RS_DIR, "setup.sh")
RUN_AS_LB = os.path.join(RS_DIR, "run-as-lb.sh")
LOADGEN = os.path.join(RS_DIR, "loadgen")
ACCEPTSRV = os.path.join(RS_DIR, "acceptsrv")
BIN = os.path.join(ROOT, "bench", "c")
PEERBENCH = os.path.join(BIN, "peerbench")
HOLDCONNS = os.path.join(BIN, "holdconns")
BULK = os.path.join(BIN, "bulk")
CALL_JS = os.path.join(ROOT, "bench", "call.mjs")
KO = os.environ.get("KGWTTM_BENCH_KO") or os.path.join(ROOT, "kmod", "kgwttm.ko")
QUICK = os.environ.get("KGWTTM_BENCH_QUICK") == "1"
ONLY = [x for x in os.environ.get("KGWTTM_BENCH_ONLY", "").split(",") if x]

# The module trusts no one until told: every load gets the simulated LBs'
# networks, the one list the tests and the demo use too.
with open(os.path.join(ROOT, "test", "lbsim", "trusted_nets")) as f:
    TRUSTED_NETS = "trusted_nets=" + f.read().strip()

RS4 = "10.201.0.1"
CLIENT4 = "198.51.100.77"   # what the simulated LB writes into the option

# Sizes.  A round of each benchmark is a few hundred ms to ~2 s of guest time.
if QUICK:
    CALL = dict(rounds=3, batch=200, passes=2, warmup=1)
    SETUP_CFG = dict(rounds=2, conns=500, inflight=64)
    BULK_CFG = dict(rounds=2, seconds=0.5)
    SCALE = dict(levels=[100, 1000], rounds=3, sample=500, passes=2)
else:
    CALL = dict(rounds=9, batch=500, passes=5, warmup=4)
    SETUP_CFG = dict(rounds=15, conns=1500, inflight=64)
    BULK_CFG = dict(rounds=15, seconds=1.0)
    SCALE = dict(levels=[1000, 10000, 100000], rounds=7, sample=2000, passes=3)
# Opening connections is the slow part of the scale benchmark (a few hundred
# per second in TCG on a busy host): stop growing when this many seconds went
# into it, and report the level reached.
SETTLE = 0.2 if QUICK else 1.0
SCALE_BUDGET = float(os.environ.get("KGWTTM_BENCH_SCALE_BUDGET", "360"))


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def sh(*args, check=True, timeout=300, env=None):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout, env=env)
    if check and p.returncode:
        raise RuntimeError("%s: exit %d\n%s" % (" ".join(args), p.returncode, p.stdout))
    return p


def lb_env():
    env = dict(os.environ)
    env["LBSIM_NOLOCK"] = "1"   # the guest is ours alone; processes overlap on purpose
    return env


def as_lb(*cmd):
    return [RUN_AS_LB, "--format", "toa4", "--client", CLIENT4, "--"] + list(cmd)


# ------------------------------------------------------------------ module

def module_loaded():
    return os.path.exists("/sys/module/kgwttm")


_peer_loaded = None     # the module name of the peer loaded now, if any


def module_name(path):
    return sh("modinfo", "-F", "name", path).stdout.strip()


def module_set(params):
    """params None: not loaded; a list: kgwttm with those insmod parameters
    besides trusted_nets; ("peer", path): that module instead (a kgwttm build
    gets trusted_nets too).  Always reloads."""
    global _peer_loaded
    if _peer_loaded:
        sh("rmmod", _peer_loaded)
        _peer_loaded = None
    if module_loaded():
        sh("rmmod", "kgwttm")
    if isinstance(params, tuple):
        name = module_name(params[1])
        sh("insmod", params[1], *([TRUSTED_NETS] if name == "kgwttm" else []))
        _peer_loaded = name
    elif params is not None:
        sh("insmod", KO, TRUSTED_NETS, *params)
    # Steady state before measuring: the kprobe optimizer turns int3 probes
    # into jumps a few jiffies after registration (and back on unregister).
    time.sleep(SETTLE)


def counters():
    c = {}
    try:
        with open("/proc/net/kgwttm") as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                try:
                    c[k] = int(v)
                except ValueError:
                    c[k] = v
    except FileNotFoundError:
        pass
    return c


def slab(name="kgwttm_entry"):
    """The /proc/slabinfo line of one cache, as a dict (None if absent)."""
    with open("/proc/slabinfo") as f:
        for line in f:
            p = line.split()
            if p and p[0] == name:
                # name active_objs num_objs objsize objperslab pagesperslab : tunables ... : slabdata active_slabs num_slabs sharedavail
                d = dict(active_objs=int(p[1]), num_objs=int(p[2]), objsize=int(p[3]),
                         objperslab=int(p[4]), pagesperslab=int(p[5]))
                i = p.index("slabdata")
                d["active_slabs"], d["num_slabs"] = int(p[i + 1]), int(p[i + 2])
                d["bytes"] = d["num_slabs"] * d["pagesperslab"] * 4096
                return d
    return None


def slab_alias(name="kgwttm_entry"):
    """Where SLUB put the cache: its own, or merged into another (symlink target)."""
    path = "/sys/kernel/slab/" + name
    if os.path.islink(path):
        return os.path.basename(os.readlink(path))
    return name if os.path.exists(path) else None


def wait_live_zero(timeout=15.0):
    t0 = time.time()
    while True:
        live = counters().get("live", 0)
        if live == 0 or time.time() - t0 > timeout:
            return live, round(time.time() - t0, 2)
        time.sleep(0.2)


# ------------------------------------------------------------------ processes

def raise_nofile():
    """Node takes its fd limit from the hard limit (4096 in the guest)."""
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (1048576, 1048576))


class Peer:
    """A child process spoken to by one command line, one answer line."""

    def __init__(self, argv, env=None, ready=None):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE if ready else None,
                                  text=True, bufsize=1, env=env, preexec_fn=raise_nofile)
        if ready:
            line = self.p.stderr.readline()
            if ready not in line:
                raise RuntimeError("%s: expected %r on stderr, got %r" % (argv[0], ready, line))

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def recv(self):
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("%s exited (%s)" % (self.argv, self.p.poll()))
        if line.startswith("error"):
            raise RuntimeError("%s: %s" % (self.argv[0], line.strip()))
        return line.strip()

    def cmd(self, line):
        self.send(line)
        return self.recv()

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def ns_of(answer):
    """'ns 123.4 mean 130.0 calls N ok K fail F errno E' -> dict."""
    p = answer.split()
    d = {p[i]: float(p[i + 1]) for i in range(0, len(p) - 1, 2)}
    return d


def open_conns(server, holder, port, total_server, n):
    """Tells server to accept up to total_server, holder to open n more to port."""
    t0 = time.time()
    server.send("accept %d" % total_server)
    opened = holder.cmd("open %d %s %d" % (n, RS4, port)).split()
    log("  holder: %s to port %d after %.1f s" % (" ".join(opened), port, time.time() - t0))
    accepted = int(server.recv().split()[1])
    log("  server: accepted %d after %.1f s" % (accepted, time.time() - t0))
    return int(opened[1]), int(opened[2]), accepted


# ------------------------------------------------------------------ summaries

def summary(values):
    v = sorted(values)
    return {"median": statistics.median(v), "min": v[0], "max": v[-1], "n": len(v)}


def ratios(a, b):
    return [x / y for x, y in zip(a, b)]


# ------------------------------------------------------------------ 1. the call

# Connection sets the Node server holds: getRealPeer's, and one for each other
# first-touch step (see bench_call).
NODE_SETS = 4


def bench_call():
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
    module_set([])
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
        module_set(None)


# ------------------------------------------------------------------ 2. connection setup

# "probes": not loaded, but trace kprobes/kretprobes on the functions the
# module probes: what the probing mechanism costs without kgwttm's handlers.
# "peer:NAME": another module (bench/run.sh --peer), e.g. a classic TOA module.
PEERS = [p for p in os.environ.get("KGWTTM_BENCH_PEERS", "").split(os.pathsep) if p]
SETUP_CONFIGS = [("loaded", []), ("rewrite_off", ["rewrite_getname=0"]), ("unloaded", None),
                 ("probes_only", "probes")] + \
    [("peer:" + os.path.basename(p)[len("peer-"):-len(".ko")], ("peer", p)) for p in PEERS]


def pinned(cpu):
    """taskset prefix pinning to a vCPU of its own, when there are two."""
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) >= 2 else []


def setup_once(params, n, inflight, port=7201):
    if params == "probes":          # the not-loaded run, with trace kprobes on
        with ProbeHits(like_module=True):
            return setup_once(None, n, inflight, port)
    module_set(params)
    before = counters()
    # The server and the load generator each pinned to a vCPU of their own:
    # left to the scheduler, runs fell into two modes (about 700 and 1,250
    # connections/s) whichever the configuration, depending on placement.
    srv = subprocess.Popen(pinned(1) + [ACCEPTSRV, "-p", "-n", str(n), RS4, str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = srv.stderr.readline()
    if "listening" not in line:
        raise RuntimeError("acceptsrv: %r" % line)
    p = sh(*as_lb(*pinned(0), LOADGEN, "-n", str(n), "-c", str(inflight), "-R", RS4, str(port)),
           check=False, env=lb_env())
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
    if isinstance(params, list):
        res["with_option"] = after.get("with_option", 0) - before.get("with_option", 0)
        res["missed"] = after.get("missed", 0) - before.get("missed", 0)
        res["live_after"], res["live_wait_s"] = wait_live_zero()
    return res


def bench_setup():
    R, N, C = SETUP_CFG["rounds"], SETUP_CFG["conns"], SETUP_CFG["inflight"]
    names = [c[0] for c in SETUP_CONFIGS]
    cps = {k: [] for k in names}
    checks = {"with_option_short": 0, "missed": 0, "live_after_max": 0, "churned": 0}
    for name, params in SETUP_CONFIGS:      # warm-up, one of each
        setup_once(params, N // 2, C)
    for r in range(R):
        k = len(SETUP_CONFIGS)
        order = SETUP_CONFIGS[r % k:] + SETUP_CONFIGS[:r % k]
        if (r // k) % 2:
            order.reverse()
        line = []
        for name, params in order:
            x = setup_once(params, N, C)
            cps[name].append(x["cps"])
            line.append("%s=%.0f/s" % (name, x["cps"]))
            if isinstance(params, list):     # the module loaded
                checks["with_option_short"] += max(0, N - x["with_option"])
                checks["missed"] += x["missed"]
                checks["live_after_max"] = max(checks["live_after_max"], x["live_after"])
                checks["churned"] += N
        log("setup round %d: %s" % (r + 1, " ".join(line)))
    module_set(None)
    return {
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


# ------------------------------------------------------------------ 2b. bulk

# The functions kgwttm hooks (kmod/capture.c, kmod/getname.c). A trace
# kprobe on each (beside the module's own hooks) counts how often they ran:
# the module's handlers cannot run more often than that.
KPROBED = ("tcp_v4_syn_recv_sock", "tcp_v6_syn_recv_sock", "tcp_v4_destroy_sock",
           "inet_getname", "inet6_getname")
# The ones kgwttm hooks with a kretprobe (entry and return), not a kprobe.
KRETPROBED = ("inet_getname", "inet6_getname")
# Tracepoints kgwttm hooks: tcp_v4_destroy_sock's (instead of a probe on the
# function) and the one a child socket's clone fires (kmod/capture.c).
MODULE_EVENTS = ("events/tcp/tcp_destroy_sock/enable", "events/sock/inet_sock_set_state/enable")
TRACING = "/sys/kernel/tracing"


class ProbeHits:
    """Counts the calls of KPROBED through trace kprobes (kprobe_profile).
    like_module: the hooks kgwttm has, with the tracer's handlers instead of
    kgwttm's (a trace kretprobe where kgwttm has a kretprobe, a trace kprobe
    where it has a kprobe, the tcp:tcp_destroy_sock and sock:inet_sock_set_state
    events where it has tracepoint probes), so that they cost what the
    module's hooks do, less the module's own work. The destroy calls are then
    not counted."""

    def __init__(self, like_module=False):
        self.like_module = like_module

    def __enter__(self):
        for fn in self._probed():
            kind = "r" if self.like_module and fn in KRETPROBED else "p"
            self._define("%s:kgwttm_bench/%s %s" % (kind, fn, fn))
        with open(TRACING + "/tracing_on", "w") as f:
            f.write("0")            # hits are counted with the ring buffer off
        with open(TRACING + "/events/kgwttm_bench/enable", "w") as f:
            f.write("1")
        if self.like_module:
            for event in MODULE_EVENTS:
                with open(TRACING + "/" + event, "w") as f:
                    f.write("1")
        return self

    def _probed(self):
        return [fn for fn in KPROBED if not (self.like_module and fn == "tcp_v4_destroy_sock")]

    def counts(self):
        hits = {}
        with open(TRACING + "/kprobe_profile") as f:
            for line in f:
                name, n = line.split()[:2]      # the event name, without its group
                if name in KPROBED:
                    hits[name] = int(n)
        return hits

    def __exit__(self, *exc):
        with open(TRACING + "/events/kgwttm_bench/enable", "w") as f:
            f.write("0")
        if self.like_module:
            for event in MODULE_EVENTS:
                with open(TRACING + "/" + event, "w") as f:
                    f.write("0")
        for fn in self._probed():
            self._define("-:kgwttm_bench/%s" % fn)

    @staticmethod
    def _define(line):
        # O_APPEND keeps the other definitions; Python's "a" mode would also
        # lseek, which tracefs refuses (EINVAL). One definition per write(2).
        fd = os.open(TRACING + "/kprobe_events", os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def bulk_once(params, secs, port=7301, hits=None):
    module_set(params)
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


def bench_bulk():
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
    module_set(None)
    return {
        "rounds": R, "seconds": S,
        "mb_per_s": {k: summary(v) for k, v in mbs.items()},
        "ratio": {"loaded_vs_unloaded": summary(ratios(mbs["loaded"], mbs["unloaded"]))},
        "per_round": mbs,
        # per loaded run: how often each probed function ran, and the MB moved
        "probe_hits": {fn: summary([h[fn] for h in hits_per_run]) for fn in KPROBED},
        "mb_per_run": summary(mb_per_run),
    }


# ------------------------------------------------------------------ 3+4. scale and memory

SCALE_PORTS = [7401, 7402, 7403, 7404]


def bench_scale():
    R, S, P = SCALE["rounds"], SCALE["sample"], SCALE["passes"]
    module_set([])
    out = {"levels": [], "slab_cache": slab_alias(), "entry_bytes": counters().get("entry_bytes")}
    slab0 = slab()
    out["slab_at_load"] = slab0
    srv = Peer([PEERBENCH, RS4, ",".join(map(str, SCALE_PORTS))], ready="listening")
    holder = Peer(as_lb(HOLDCONNS), env=lb_env())
    held = 0
    per_port = {p: 0 for p in SCALE_PORTS}
    try:
        deadline = time.time() + SCALE_BUDGET
        capped = False
        t_open = 0.0
        for level in SCALE["levels"]:
            t0 = time.time()
            errors = 0
            while held < level and not errors:
                if time.time() > deadline:
                    capped = True
                    break
                step_to = min(level, held + 5000)
                for i, port in enumerate(SCALE_PORTS):
                    want = step_to // len(SCALE_PORTS) + (1 if i < step_to % len(SCALE_PORTS) else 0)
                    n = want - per_port[port]
                    if n <= 0:
                        continue
                    _, err, accepted = open_conns(srv, holder, port, held + n, n)
                    errors += err
                    per_port[port] += n - err
                    held = accepted
            t_open += time.time() - t0
            log("scale: %d connections held (wanted %d, %d failed) after %.1f s%s"
                % (held, level, errors, time.time() - t0, ", time budget spent" if capped else ""))
            if out["levels"] and out["levels"][-1]["held"] == held:
                break
            c = counters()
            gso, ttl = [], []
            for r in range(R):
                seed = 1000 + r
                pair = [("gso", gso), ("ttl", ttl)]
                if r % 2:
                    pair.reverse()
                for op, acc in pair:
                    x = ns_of(srv.cmd("rand %s %d %d %d" % (op, S, P, seed)))
                    if op == "gso" and x["fail"]:
                        raise RuntimeError("scale: getsockopt failed on %d of %d" % (x["fail"], x["calls"]))
                    acc.append(x["ns"])
            sl = slab()
            lv = {
                "wanted": level, "held": held, "open_errors": errors, "live": c.get("live"),
                "capped_by_time": capped, "open_s_total": round(t_open, 1),
                "ns_gso": summary(gso), "ns_ttl": summary(ttl),
                "ratio_gso_vs_ttl": summary(ratios(gso, ttl)),
                "slab": sl,
                "per_round": {"gso": gso, "ttl": ttl},
            }
            if sl and c.get("live"):
                lv["slab_bytes_per_entry"] = sl["bytes"] / c["live"]
            out["levels"].append(lv)
            log("scale %d: live %s gso %.0f ns ttl %.0f ns ratio %.3f slab %s"
                % (held, c.get("live"), lv["ns_gso"]["median"], lv["ns_ttl"]["median"],
                   lv["ratio_gso_vs_ttl"]["median"], sl))
            if errors or capped:
                break       # the VM holds no more, or the time budget is spent
        # the churn: every connection closes; every entry must go
        holder.cmd("close")
        srv.cmd("close")
        live, waited = wait_live_zero(30)
        time.sleep(1.0)     # call_rcu frees
        out["after_close"] = {"live": live, "waited_s": waited, "slab": slab(),
                              "counters": counters()}
        log("scale: after close live=%s (%.1f s) slab %s" % (live, waited, out["after_close"]["slab"]))
    finally:
        holder.close()
        srv.close()
    module_set(None)
    return out


# ------------------------------------------------------------------ main

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
        "node": sh("node", "--version").stdout.strip(),
        "quick": QUICK,
        # icount: guest time counts guest instructions (bench/run.sh's default)
        "clock": os.environ.get("KGWTTM_BENCH_CLOCK", "wall"),
        "ko": KO,
    }
    sysctls()
    if module_loaded():
        module_set(None)
    sh(SETUP, "up")
    try:
        for name, fn in [("call", bench_call), ("setup", bench_setup), ("bulk", bench_bulk),
                         ("scale", bench_scale)]:
            if ONLY and name not in ONLY:
                continue
            t0 = time.time()
            log("== %s" % name)
            result[name] = fn()
            result[name]["elapsed_s"] = round(time.time() - t0, 1)
            log("== %s done in %.0f s" % (name, time.time() - t0))
    finally:
        if module_loaded():
            module_set(None)
        sh(SETUP, "down", check=False)
    result["elapsed_s"] = round(time.time() - t_start, 1)
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
