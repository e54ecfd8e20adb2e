# SPDX-License-Identifier: MIT
"""kmodtest — what the kgwttm guest suites (test/guest/2*-kmod-*.test.py) share:
loading the module with parameters, its /proc counters, the kernel log, and
servers on the simulator's RS addresses. Python 3 standard library only.

    import kmodtest as k              # after sys.path has test/lib
    with k.Module(formats='200:8'):   # insmod $KGWTTM_KO formats=200:8
                                      #   trusted_nets=<test/lbsim/trusted_nets>
        k.stats()['live']             # /proc/net/kgwttm as a dict

KGWTTM_BACKEND=bpf runs the same suites against the BPF backend (bpf/):
Module() attaches it with kgwttm-bpf, stats() and param() read it through
kgwttm-bpf status and params (test/guest/61-bpf-shared.test.py).
"""
import errno
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# The modules test/build.sh built for the running kernel: test/vm/run names
# them in KGWTTM_KO and KGWTTM_TESTBED_KO for the kernel it boots.
# KGWTTM_TEST_KO runs a suite against another build (an A/B of two commits).
_UNSET = '(KGWTTM_KO is not set: run the suite through test/vm/run)'
KO = os.environ.get('KGWTTM_TEST_KO') or os.environ.get('KGWTTM_KO') or _UNSET
TESTBED_KO = os.environ.get('KGWTTM_TESTBED_KO') or _UNSET
sys.path.insert(0, os.path.join(ROOT, 'test', 'lbsim'))  # tap, ttm_abi: beside this file
import lbsim  # noqa: E402,F401  (re-exported for the suites)
from lbsim import Sysctl, listen, netstat  # noqa: E402,F401  (re-exported for the suites)
import kgwttm_status  # noqa: E402
from tap import TAP  # noqa: E402,F401
from ttm_abi import PEER, TTM_SO_GET_PEER  # noqa: E402,F401  (re-exported for the suites)

CLIENT4, CLIENT6 = lbsim.CLIENT4, lbsim.CLIENT6

BACKEND = os.environ.get('KGWTTM_BACKEND', 'kmod')
BPF_LOADER = os.path.join(ROOT, 'bpf', 'build', 'kgwttm-bpf')
BPF_PIN = '/sys/fs/bpf/kgwttm'
# What kgwttm-bpf printed: Kmsg shows it with the kernel log, since the BPF
# backend says at attach what the module says at load.
_loader_log = []
_bpf_params = {}


def loaded():
    return os.path.exists(BPF_PIN if BACKEND == 'bpf' else '/sys/module/kgwttm')


# The test bed's load balancers (test/README.md): the module trusts nobody
# unless told, so every load names them, except where a suite says None.
with open(os.path.join(ROOT, 'test', 'lbsim', 'trusted_nets')) as _f:
    TESTBED_TRUSTED_NETS = _f.read().strip()


def insmod(**params):
    """insmod with k=v parameters; trusted_nets defaults to the test bed's
    load balancers, and trusted_nets=None leaves the module's own default.
    Returns (exit code, stderr)."""
    params.setdefault('trusted_nets', TESTBED_TRUSTED_NETS)
    if BACKEND == 'bpf':
        return _bpf_attach(params)
    args = ['insmod', KO] + ['%s=%s' % kv for kv in params.items() if kv[1] is not None]
    r = subprocess.run(args, capture_output=True, text=True)
    return r.returncode, r.stderr.strip()


def _bpf_attach(params):
    """insmod's parameters as kgwttm-bpf attach options."""
    args = [BPF_LOADER, 'attach']
    for name, value in params.items():
        if name == 'rewrite_getname':
            if str(value) in ('0', 'n', 'N', 'False'):
                args.append('--no-rewrite-getname')
        elif value is not None:
            args += ['--' + name.replace('_', '-'), str(value)]
    _bpf_params.clear()
    r = subprocess.run(args, capture_output=True, text=True)
    _loader_log.extend((r.stdout + r.stderr).splitlines())
    return r.returncode, r.stderr.strip()


def rmmod():
    """Unloads the backend. A getsockopt() in progress holds a reference to
    the module (netfilter's sockopt table takes one per call), and rmmod then
    fails with EAGAIN rather than wait, as it would for an operator: retried
    for up to 5 s, so that a module still held after that fails the suite."""
    _bpf_params.clear()
    if not loaded():
        return
    if BACKEND == 'bpf':
        subprocess.run([BPF_LOADER, 'detach'], check=True)
        return
    end = time.time() + 5
    while True:
        r = subprocess.run(['rmmod', 'kgwttm'], capture_output=True, text=True)
        if r.returncode == 0:
            return
        if 'Resource temporarily unavailable' not in r.stderr or time.time() > end:
            raise subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr)
        time.sleep(0.05)


def suite():
    """The suite's TAP writer, with no kgwttm left loaded by an earlier one."""
    rmmod()
    if BACKEND == 'bpf' and os.path.exists('/sys/module/kgwttm'):
        subprocess.run(['rmmod', 'kgwttm'], check=True)     # attach refuses beside it
    return TAP()


def refused_load(**params):
    """insmod that must fail; returns what it wrote to the kernel log."""
    log = Kmsg()
    rc, _ = insmod(**params)
    rmmod()
    assert rc != 0, 'loaded with %r' % (params,)
    return log.new()


class Module:
    """The module loaded with `params` for the with-block, unloaded after."""

    def __init__(self, **params):
        self.params = params

    def __enter__(self):
        rmmod()
        rc, err = insmod(**self.params)
        if rc:
            raise OSError('insmod %r failed: %s' % (self.params, err))
        return self

    def __exit__(self, *exc):
        rmmod()


def stats():
    """/proc/net/kgwttm (kgwttm-bpf status): {'version': '0.1.0', 'with_option': 3, ...}."""
    if BACKEND == 'bpf':
        text = subprocess.run([BPF_LOADER, 'status'], capture_output=True, text=True,
                              check=True).stdout
    else:
        with open('/proc/net/kgwttm') as f:
            text = f.read()
    return kgwttm_status.parse(text)


def param(name):
    """A setting of the loaded backend, as text: /sys/module/kgwttm/parameters/NAME
    (kgwttm-bpf params)."""
    if BACKEND != 'bpf':
        with open('/sys/module/kgwttm/parameters/' + name) as f:
            return f.read().strip()
    if not _bpf_params:
        out = subprocess.run([BPF_LOADER, 'params'], capture_output=True, text=True,
                             check=True).stdout
        _bpf_params.update((line.split(' ', 1) + [''])[:2] for line in out.splitlines())
    return _bpf_params[name].strip()


def delta(before, after):
    return {k: after[k] - before[k] for k in after if k != 'version'}


class Kmsg:
    """Kernel log lines written after this object was made (and what
    kgwttm-bpf printed, for the BPF backend)."""

    def __init__(self):
        self.start = len(self._lines())
        self.loader_start = len(_loader_log)

    @staticmethod
    def _lines():
        return subprocess.run(['dmesg'], capture_output=True, text=True).stdout.splitlines()

    def new(self):
        return '\n'.join(self._lines()[self.start:] + _loader_log[self.loader_start:])


def peer(sock, optname=TTM_SO_GET_PEER, buflen=20):
    """getsockopt(SOL_IP, optname): (ip, port) of the client, or an errno name."""
    try:
        raw = sock.getsockopt(socket.SOL_IP, optname, buflen)
    except OSError as e:
        name = errno.errorcode.get(e.errno, e.errno)
        return _BPF_OLD_KERNEL_ERRNO.get(name, name) if _bpf_old_kernel(optname) else name
    af, port, addr = PEER.unpack(raw)
    port = socket.ntohs(port)
    if af == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, addr[:4]), port
    return socket.inet_ntop(socket.AF_INET6, addr), port


# Before 5.18 (no bpf_set_retval) the BPF backend answers ENOPROTOOPT where
# the module says ENOENT, and EPERM for EINVAL (README, "Without a kernel
# module"); 60-bpf-backend checks those, the shared suites the meaning.
_BPF_OLD_KERNEL_ERRNO = {'ENOPROTOOPT': 'ENOENT', 'EPERM': 'EINVAL'}


def _bpf_old_kernel(optname):
    if BACKEND != 'bpf' or not loaded():
        return False
    try:
        return param('set_retval') == 'N' and int(param('optname')) == optname
    except subprocess.CalledProcessError:   # detached meanwhile (a churn thread)
        return False


def handshake(lb, server, dst, option=b'', **kw):
    """One LB connection to dst carrying `option`, accepted by `server`.
    Returns (lb_conn, conn, accept_address)."""
    c = lb.connect(dst, option=option, **kw)
    conn, addr = server.accept()
    conn.settimeout(10)
    return c, conn, addr[:2]


def close(c, conn):
    """The LB resets, the server closes: the child socket is destroyed."""
    c.reset()
    conn.close()


def mapped(ip):
    return '::ffff:' + ip
