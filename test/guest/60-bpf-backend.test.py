#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The BPF backend (bpf/): what differs from the module.

- The verifier of the running kernel accepts the five programs, for the
  default settings and for the ones that change what it checks (every
  format, 32 networks, the rewrite off); a refusal prints its log.
- attach pins five links (the four programs and the live iterator) and two
  maps under /sys/fs/bpf/kgwttm, attaches the programs to the cgroup v2 root
  as multi-attach programs, and params echoes its settings; detach removes
  all of it, and getsockopt is ENOPROTOOPT again.
- Two backends never answer together: attach refuses while kgwttm.ko is
  loaded, and while it is attached already.
- The errnos the kernel lets BPF give: ENOENT and EINVAL where
  bpf_set_retval exists (5.18+), ENOPROTOOPT and EPERM before.
- getsockopt calls that are not the backend's get the kernel's answer.
The behaviour both backends share runs in 61-bpf-shared.
"""
import ctypes
import errno
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../lib'))
import kmodtest as k  # noqa: E402

libc = ctypes.CDLL(None, use_errno=True)
LOADER = k.BPF_LOADER
PIN = k.BPF_PIN
PINNED = ['getpeername4', 'getpeername6', 'getsockopt', 'live', 'params', 'sockops', 'stats']
PROGRAMS = ('kgwttm_sockops', 'kgwttm_getsockopt', 'kgwttm_getpeername4', 'kgwttm_getpeername6')
RELEASE = os.uname().release
SET_RETVAL = tuple(int(n) for n in RELEASE.split('.')[:2]) >= (5, 18)

t = k.suite()
if os.path.exists(PIN):
    subprocess.run([LOADER, 'detach'], check=True)


def run(*args):
    return subprocess.run([LOADER] + list(args), capture_output=True, text=True)


# bpf(2) by hand: Debian 12's bpftool asks BPF_PROG_QUERY for each program's
# attach flags, a field 5.10 does not know, and lists nothing there.
BPF_OBJ_GET, BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_QUERY = 7, 13, 15, 16
BPF_F_ALLOW_MULTI = 2
ATTACH_TYPES = {3: 'cgroup_sock_ops', 21: 'cgroup_getsockopt',
                29: 'cgroup_inet4_getpeername', 30: 'cgroup_inet6_getpeername'}
NR_BPF = 321    # x86_64


def bpf(cmd, attr):
    libc.syscall.restype = ctypes.c_long
    r = libc.syscall(NR_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def prog_name(prog_id):
    """bpf_prog_info.name: the first 15 bytes of the program's name."""
    attr = (ctypes.c_uint8 * 16)()
    ctypes.c_uint32.from_buffer(attr, 0).value = prog_id
    fd = bpf(BPF_PROG_GET_FD_BY_ID, attr)
    try:
        info = (ctypes.c_uint8 * 80)()
        attr = (ctypes.c_uint8 * 16)()
        ctypes.c_uint32.from_buffer(attr, 0).value = fd
        ctypes.c_uint32.from_buffer(attr, 4).value = len(info)
        ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(info)
        bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
        return bytes(info[64:80]).split(b'\0')[0].decode()
    finally:
        os.close(fd)


def linked_programs():
    """{program id: name} of the programs behind kgwttm-bpf's pinned links
    (bpf_prog_info keeps only 15 bytes of a name, too few to tell
    kgwttm_getpeername4 from kgwttm_getpeername6)."""
    ids = {}
    for pin in ('sockops', 'getsockopt', 'getpeername4', 'getpeername6'):
        path = ctypes.create_string_buffer(os.path.join(PIN, pin).encode())
        attr = (ctypes.c_uint8 * 16)()
        ctypes.c_uint64.from_buffer(attr, 0).value = ctypes.addressof(path)
        try:
            fd = bpf(BPF_OBJ_GET, attr)
        except FileNotFoundError:
            continue
        try:
            info = (ctypes.c_uint8 * 32)()      # bpf_link_info: type, id, prog_id, ...
            attr = (ctypes.c_uint8 * 16)()
            ctypes.c_uint32.from_buffer(attr, 0).value = fd
            ctypes.c_uint32.from_buffer(attr, 4).value = len(info)
            ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(info)
            bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
            ids[ctypes.c_uint32.from_buffer(info, 8).value] = 'kgwttm_' + pin
        finally:
            os.close(fd)
    return ids


def cgroup_programs():
    """Our programs attached to the cgroup v2 root: {name: (attach type, flags)};
    a kgwttm_ program there without a pinned link is named as the kernel keeps it."""
    got = {}
    linked = linked_programs()
    cgroup = os.open('/sys/fs/cgroup', os.O_RDONLY | os.O_DIRECTORY)
    try:
        for attach_type, type_name in ATTACH_TYPES.items():
            ids = (ctypes.c_uint32 * 64)()
            attr = (ctypes.c_uint8 * 32)()   # target_fd, attach_type, query_flags, attach_flags, prog_ids, prog_cnt
            ctypes.c_uint32.from_buffer(attr, 0).value = cgroup
            ctypes.c_uint32.from_buffer(attr, 4).value = attach_type
            ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(ids)
            ctypes.c_uint32.from_buffer(attr, 24).value = len(ids)
            bpf(BPF_PROG_QUERY, attr)
            flags = ctypes.c_uint32.from_buffer(attr, 12).value
            for prog_id in ids[:ctypes.c_uint32.from_buffer(attr, 24).value]:
                kept = prog_name(prog_id)
                name = linked.get(prog_id, kept)
                if name.startswith('kgwttm_'):
                    assert name[:15] == kept, (name, kept)
                    got[name] = (type_name, 'multi' if flags & BPF_F_ALLOW_MULTI else str(flags))
    finally:
        os.close(cgroup)
    return got


def raw_errno(sock, buflen=20, optname=k.TTM_SO_GET_PEER):
    try:
        sock.getsockopt(socket.SOL_IP, optname, buflen)
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)
    return 'answered'


nets32 = ','.join('10.%d.0.0/16' % i for i in range(31)) + ',fd00::/64'
for desc, args in (('default settings', ['--trusted-nets', k.TESTBED_TRUSTED_NETS]),
                   ('every format, 32 networks, rewrite off',
                    ['--formats', '254:8,254:20,254:22,200:8,253:20', '--trusted-nets', nets32,
                     '--no-rewrite-getname']),
                   ('trusted_nets=any, formats=200:8', ['--trusted-nets', 'any', '--formats', '200:8'])):
    r = run('verify', *args)
    t.ok(r.returncode == 0 and 'accepts' in r.stdout,
         'the verifier of %s accepts the five programs (%s)' % (RELEASE, desc),
         r.stdout + r.stderr)
    if r.returncode == 0:
        t.diag(r.stdout.strip())

r = run('attach', '--trusted-nets', k.TESTBED_TRUSTED_NETS, '--optname', '1350')
if not t.ok(r.returncode == 0, 'attach --trusted-nets <test bed> --optname 1350', r.stdout + r.stderr):
    sys.exit(t.end())
t.equal(sorted(os.listdir(PIN)), PINNED, 'pinned under %s: one link per program (live: the '
        'iterator over the entries), the counters and the settings' % PIN)
t.equal(cgroup_programs(), {
    'kgwttm_sockops': ('cgroup_sock_ops', 'multi'),
    'kgwttm_getsockopt': ('cgroup_getsockopt', 'multi'),
    'kgwttm_getpeername4': ('cgroup_inet4_getpeername', 'multi'),
    'kgwttm_getpeername6': ('cgroup_inet6_getpeername', 'multi')},
    'attached to the cgroup v2 root, each as a multi-attach program (others keep theirs)')
params = dict((line.split(' ', 1) + [''])[:2] for line in run('params').stdout.splitlines())
t.equal({n: params.get(n) for n in ('optname', 'formats', 'trusted_nets', 'rewrite_getname')},
        {'optname': '1350', 'formats': '254:8,254:20,254:22',
         'trusted_nets': k.TESTBED_TRUSTED_NETS, 'rewrite_getname': 'Y'},
        'params: the settings it was attached with')
t.equal(params.get('set_retval'), 'Y' if SET_RETVAL else 'N',
        'params: bpf_set_retval %s on %s' % ('used' if SET_RETVAL else 'absent', RELEASE))

r = run('attach', '--trusted-nets', k.TESTBED_TRUSTED_NETS)
t.ok(r.returncode != 0 and 'already attached' in r.stderr,
     'a second attach is refused while the first is attached', r.stdout + r.stderr)

with k.lbsim.LB(seed=160) as lb:
    server = k.listen(lb.RS4, 2600)
    c, conn, _ = k.handshake(lb, server, (lb.RS4, 2600), b'')
    want = ('ENOENT', 'EINVAL') if SET_RETVAL else ('ENOPROTOOPT', 'EPERM')
    t.equal((raw_errno(conn, optname=1350), raw_errno(conn, 19, optname=1350)), want,
            'no client, then a 19-byte buffer: %s and %s on %s' % (want + (RELEASE,)))
    t.equal(raw_errno(conn), 'ENOPROTOOPT', 'optname 1345, not the one attached: ENOPROTOOPT')

    @t.test('other getsockopt calls get the kernel\'s answer (SO_RCVBUF, IP_TOS, TCP_CONGESTION, '
            'and IP_OPTIONS and an unknown SOL_IP number with a 64 KiB buffer)')
    def _():
        def big(optname):
            """getsockopt(SOL_IP, optname) into a 64 KiB buffer: the cgroup
            hook sees at most a page of it (5.10 once failed such calls)."""
            buf, n = ctypes.create_string_buffer(65536), ctypes.c_uint32(65536)
            rc = libc.getsockopt(conn.fileno(), socket.SOL_IP, optname, buf, ctypes.byref(n))
            return rc, ctypes.get_errno() if rc else n.value

        def answers():
            return (conn.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                    conn.getsockopt(socket.SOL_IP, socket.IP_TOS),
                    conn.getsockopt(socket.SOL_TCP, socket.TCP_CONGESTION, 16),
                    big(socket.IP_OPTIONS), big(1399))
        attached = answers()
        subprocess.run([LOADER, 'detach'], check=True)
        try:
            assert attached == answers(), (attached, answers())
        finally:
            subprocess.run([LOADER, 'attach', '--trusted-nets', k.TESTBED_TRUSTED_NETS,
                            '--optname', '1350'], check=True, capture_output=True)
    k.close(c, conn)
    server.close()

r = run('detach')
t.ok(r.returncode == 0 and not os.path.exists(PIN) and not cgroup_programs(),
     'detach: the pins are gone and nothing of ours is attached', r.stdout + r.stderr)
s = socket.socket()
t.equal(raw_errno(s, optname=1350), 'ENOPROTOOPT', 'after detach: getsockopt(SOL_IP, 1350) is ENOPROTOOPT')
s.close()
r = run('detach')
t.ok(r.returncode != 0 and 'not attached' in r.stderr, 'detach when not attached says so', r.stderr)

ko = subprocess.run(['insmod', k.KO, 'trusted_nets=' + k.TESTBED_TRUSTED_NETS],
                    capture_output=True, text=True)
if t.ok(ko.returncode == 0, 'kgwttm.ko loads (%s)' % k.KO, ko.stderr):
    r = run('attach', '--trusted-nets', k.TESTBED_TRUSTED_NETS)
    subprocess.run(['rmmod', 'kgwttm'], check=True)
    t.ok(r.returncode != 0 and 'kgwttm.ko is loaded' in r.stderr and not os.path.exists(PIN),
         'attach is refused while kgwttm.ko is loaded, and leaves nothing behind', r.stdout + r.stderr)

sys.exit(t.end())
