# SPDX-License-Identifier: MIT
"""Trace kprobes on the functions kgwttm hooks: counting how often they ran
(the bulk benchmark), or standing in for the module's hooks with the
tracer's handlers (the connection-setup benchmark's probes_only).
"""
import os


# The functions kgwttm hooks (kmod/capture.c, kmod/getname.c). A trace
# kprobe on each (beside the module's own hooks) counts how often they ran:
# the module's handlers cannot run more often than that.
KPROBED = ("tcp_child_process", "tcp_v4_destroy_sock",
           "inet_getname", "inet6_getname")
# The ones kgwttm hooks with a kretprobe (entry and return), not a kprobe.
KRETPROBED = ("inet_getname", "inet6_getname")
# The tracepoint kgwttm hooks: tcp_v4_destroy_sock's (instead of a probe on
# the function; kmod/destroy.c).
MODULE_EVENTS = ("events/tcp/tcp_destroy_sock/enable",)
TRACING = "/sys/kernel/tracing"


class ProbeHits:
    """Counts the calls of KPROBED through trace kprobes (kprobe_profile).
    like_module: the hooks kgwttm has, with the tracer's handlers instead of
    kgwttm's (a trace kretprobe where kgwttm has a kretprobe, a trace kprobe
    where it has a kprobe, the tcp:tcp_destroy_sock event where it has a
    tracepoint probe), so that they cost what the
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
        self._enable("1")
        return self

    def _enable(self, on):
        """Our trace kprobes, and with like_module the module's events, on ("1") or off."""
        for event in ["events/kgwttm_bench/enable"] + (list(MODULE_EVENTS) if self.like_module else []):
            with open(TRACING + "/" + event, "w") as f:
                f.write(on)

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
        self._enable("0")
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

