# SPDX-License-Identifier: MIT
"""The backend under test: loading and unloading kgwttm.ko (or a peer
module), and what it reports (/proc/net/kgwttm, its slab cache).
"""
import os
import time

from .bed import KO, QUICK, TRUSTED_NETS
from .procs import sh

# Steady state before measuring: the kprobe optimizer turns int3 probes
# into jumps a few jiffies after registration (and back on unregister).
SETTLE = 0.2 if QUICK else 1.0


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
