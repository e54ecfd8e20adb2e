# SPDX-License-Identifier: MIT
"""The backend under test: kgwttm.ko loaded, a peer module instead, the BPF
backend attached (bpf/, through its loader kgwttm-bpf), or none, never two at
once; and what it reports (/proc/net/kgwttm or kgwttm-bpf status, the
module's slab cache).
"""
import contextlib
import os
import sys
import time

from .bed import BPF_LOADER, KO, QUICK, ROOT, TRUSTED_NETS
from .procs import sh
from .tracer import ProbeHits

sys.path.insert(0, os.path.join(ROOT, "test", "lib"))
from kgwttm_status import parse as parse_status  # noqa: E402  (the suites' reader too)

# Steady state before measuring: the kprobe optimizer turns int3 probes
# into jumps a few jiffies after registration (and back on unregister).
SETTLE = 0.2 if QUICK else 1.0


BPF_PIN = "/sys/fs/bpf/kgwttm"     # kgwttm-bpf's pins while attached
# The server's own cgroup (every configuration runs the server in it), to
# which "bpf_service" attaches the BPF backend, as `kgwttm bpf attach
# --cgroup` does for one service: the load generator's sockets, which stand
# for remote clients and the LB, are then outside it.
SERVICE_CGROUP = "/sys/fs/cgroup/kgwttm-bench-service"


def service_cgroup_enter():
    """preexec_fn: the child joins SERVICE_CGROUP before it makes a socket."""
    os.makedirs(SERVICE_CGROUP, exist_ok=True)
    with open(os.path.join(SERVICE_CGROUP, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


# The BPF backend's floor (bench/c/bpf_floor.bpf.c): empty programs at
# bpf/'s attach points and the socket storage, on SERVICE_CGROUP, loaded and
# attached with bpftool; pinned here while attached.
BPF_FLOOR = os.path.join(ROOT, "bench", "c", "bpf_floor.bpf.o")
FLOOR_PIN = "/sys/fs/bpf/kgwttm-bench-floor"
FLOOR_PROGS = (("floor_sockops", "sock_ops"), ("floor_getsockopt", "getsockopt"),
               ("floor_getpeername4", "getpeername4"), ("floor_getpeername6", "getpeername6"))


def floor_attach():
    os.makedirs(SERVICE_CGROUP, exist_ok=True)
    sh("bpftool", "prog", "loadall", BPF_FLOOR, FLOOR_PIN)
    for prog, hook in FLOOR_PROGS:
        sh("bpftool", "cgroup", "attach", SERVICE_CGROUP, hook, "pinned", os.path.join(FLOOR_PIN, prog))


def floor_detach():
    """Detaches and unpins; the programs and their map go with the last pin."""
    for prog, hook in FLOOR_PROGS:
        pin = os.path.join(FLOOR_PIN, prog)
        if os.path.exists(pin):
            sh("bpftool", "cgroup", "detach", SERVICE_CGROUP, hook, "pinned", pin)
            os.remove(pin)
    os.rmdir(FLOOR_PIN)


def module_loaded():
    return os.path.exists("/sys/module/kgwttm")


def bpf_attached():
    return os.path.exists(BPF_PIN)


_peer_loaded = None     # the module name of the peer loaded now, if any


def loaded():
    return bool(module_loaded() or bpf_attached() or _peer_loaded or os.path.exists(FLOOR_PIN))


def bpf_missing():
    """Why this kernel cannot run the BPF backend (README: Without a kernel
    module), or None."""
    if tuple(int(n) for n in os.uname().release.split(".")[:2]) < (5, 10):
        return "kernel %s is older than 5.10" % os.uname().release
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "no kernel BTF (/sys/kernel/btf/vmlinux)"
    if not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "no cgroup v2 at /sys/fs/cgroup"
    if not os.path.ismount("/sys/fs/bpf"):
        return "no bpffs at /sys/fs/bpf"
    return None


def module_name(path):
    return sh("modinfo", "-F", "name", path).stdout.strip()


def backend_set(params):
    """params None: none; a list: kgwttm with those insmod parameters
    besides trusted_nets; ("peer", path): that module instead (a kgwttm build
    gets trusted_nets too); "bpf": the BPF backend, attached to the cgroup v2
    root with the same trusted_nets; "bpf_service": the same, attached to
    SERVICE_CGROUP only; "bpf_floor": the BPF floor (which answers nothing)
    on SERVICE_CGROUP.  Always reloads: whatever answered
    before is unloaded or detached first, so two never answer together."""
    global _peer_loaded
    if _peer_loaded:
        sh("rmmod", _peer_loaded)
        _peer_loaded = None
    if module_loaded():
        sh("rmmod", "kgwttm")
    if bpf_attached():
        sh(BPF_LOADER, "detach")
    if os.path.exists(FLOOR_PIN):
        floor_detach()
    nets = "trusted_nets=" + TRUSTED_NETS
    if params == "bpf":
        sh(BPF_LOADER, "attach", "--trusted-nets", TRUSTED_NETS)
    elif params == "bpf_service":
        os.makedirs(SERVICE_CGROUP, exist_ok=True)
        sh(BPF_LOADER, "attach", "--trusted-nets", TRUSTED_NETS, "--cgroup", SERVICE_CGROUP)
    elif params == "bpf_floor":
        floor_attach()
    elif isinstance(params, tuple):
        name = module_name(params[1])
        sh("insmod", params[1], *([nets] if name == "kgwttm" else []))
        _peer_loaded = name
    elif params is not None:
        sh("insmod", KO, nets, *params)
    if bpf_attached() and (module_loaded() or _peer_loaded):
        raise RuntimeError("the BPF backend is attached beside a module")
    time.sleep(SETTLE)


def counters():
    """The answering backend's counters ({} when none): the module's
    /proc/net/kgwttm, or the same names from kgwttm-bpf status."""
    if bpf_attached():
        return parse_status(sh(BPF_LOADER, "status").stdout)
    try:
        with open("/proc/net/kgwttm") as f:
            return parse_status(f.read())
    except FileNotFoundError:
        return {}


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


@contextlib.contextmanager
def configured(params):
    """backend_set(params) for the body; params "probes": no backend, but
    trace probes on the hooks the module has (tracer.ProbeHits)."""
    if params == "probes":
        backend_set(None)
        with ProbeHits(like_module=True):
            yield
    else:
        backend_set(params)
        yield


def wait_live_zero(timeout=15.0):
    t0 = time.time()
    while True:
        live = counters().get("live", 0)
        if live == 0 or time.time() - t0 > timeout:
            return live, round(time.time() - t0, 2)
        time.sleep(0.2)
