# SPDX-License-Identifier: MIT
"""Process plumbing: commands, the simulated LB's namespace, and the line
protocol of the long-running helpers (bench/c/peerbench, holdconns, call.mjs).
"""
import os
import subprocess
import sys
import time

from .bed import CLIENT4, RS4, RUN_AS_LB


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


def pinned(cpu):
    """taskset prefix pinning to a vCPU of its own, when there are two."""
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) >= 2 else []


def raise_nofile():
    """Node takes its fd limit from the hard limit (4096 in the guest)."""
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (1048576, 1048576))


class Peer:
    """A child process spoken to by one command line, one answer line."""

    def __init__(self, argv, env=None, ready=None, preexec_fn=None):
        """preexec_fn: run in the child too, after raise_nofile."""
        def preexec():
            raise_nofile()
            if preexec_fn:
                preexec_fn()
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE if ready else None,
                                  text=True, bufsize=1, env=env, preexec_fn=preexec)
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
