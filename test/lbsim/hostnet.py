# SPDX-License-Identifier: MIT
"""lbsim's side of the guest's network: the TUN device lbsim0 with the
network plan of test/README.md (RS addresses, routes to the untrusted
sources, sysctls that keep the TUN quiet), a persistent one for `lbsim.py
up`/`down`, and the host helpers suites use beside it (Sysctl, listen,
netstat)."""
import errno
import fcntl
import json
import os
import socket
import stat
import struct
import subprocess

IFNAME = 'lbsim0'
RS4, RS6 = '10.200.0.1', 'fd00:200::1'
LIP4, LIP6 = '10.200.0.2', 'fd00:200::2'
UNTRUSTED4, UNTRUSTED6 = '198.51.100.2', '2001:db8:200::2'
UNTRUSTED_NET4, UNTRUSTED_NET6 = '198.51.100.0/24', '2001:db8:200::/64'
TUNSETIFF, TUNSETPERSIST = 0x400454ca, 0x400454cb
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
STATE_FILE = '/run/lbsim0.json'  # sysctls to restore at `down`


def _sysctl(path, value=None):
    path = '/proc/sys/' + path
    with open(path) as f:
        old = f.read().strip()
    if value is not None:
        with open(path, 'w') as f:
            f.write(str(value))
    return old


def _ip(*commands):
    """Run iproute2 commands in one process (`ip -batch`): each exec costs
    about a second in the TCG guest."""
    res = subprocess.run(['ip', '-batch', '-'], input='\n'.join(commands) + '\n',
                         capture_output=True, text=True)
    if res.returncode:
        raise OSError('ip -batch: %s' % res.stderr.strip())


def _tun_node():
    """/dev/net/tun, loading `tun` and making the node if need be: a
    minimal guest (busybox init, no udev) has neither at boot."""
    path = '/dev/net/tun'
    if not os.path.exists(path):
        subprocess.run(['modprobe', 'tun'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if not os.path.exists(path):
        os.makedirs('/dev/net', exist_ok=True)
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(10, 200))
    return path


def tun_attach(name):
    fd = os.open(_tun_node(), os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(),
                                               IFF_TUN | IFF_NO_PI))
    except OSError as e:
        os.close(fd)
        if e.errno == errno.EBUSY:
            raise OSError(e.errno, '%s is in use by another process (only one '
                          'simulator at a time can own the TUN)' % name) from None
        raise
    return fd


def configure_plan(name):
    """Addresses, routes and sysctls of the network plan on a fresh TUN.
    Returns the global sysctls changed, {path: old value}, to restore."""
    changed = {}
    for key in ('net/ipv6/conf/%s/disable_ipv6' % name,
                'net/ipv6/conf/%s/accept_dad' % name,
                'net/ipv6/conf/%s/dad_transmits' % name,
                'net/ipv6/conf/%s/router_solicitations' % name,
                'net/ipv4/conf/%s/rp_filter' % name):
        _sysctl(key, 0)
    _sysctl('net/ipv6/conf/%s/addr_gen_mode' % name, 1)  # no link-local chatter
    if _sysctl('net/ipv4/conf/all/rp_filter') != '0':
        changed['net/ipv4/conf/all/rp_filter'] = _sysctl('net/ipv4/conf/all/rp_filter', 0)
    _ip('link set %s up' % name,
        'addr add %s/24 dev %s' % (RS4, name),
        'addr add %s/64 dev %s nodad' % (RS6, name),
        'route add %s dev %s' % (UNTRUSTED_NET4, name),
        'route add %s dev %s' % (UNTRUSTED_NET6, name))
    return changed


def restore_sysctls(changed):
    for key, value in changed.items():
        _sysctl(key, value)


class Sysctl:
    """Context manager: /proc/sys/<path> set to `value`, then restored
    (e.g. Sysctl('net/ipv4/tcp_syncookies', 2))."""

    def __init__(self, path, value):
        self.path, self.value = path, value

    def __enter__(self):
        self.old = _sysctl(self.path, self.value)
        return self

    def __exit__(self, *exc):
        _sysctl(self.path, self.old)


def listen(addr, port, family=None, v6only=None, backlog=64, timeout=10):
    """A listening TCP socket on addr:port for a test's server side (the
    family follows the address unless given; v6only=0 makes `::` dual-stack)."""
    family = family or (socket.AF_INET6 if ':' in addr else socket.AF_INET)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port))
    s.listen(backlog)
    s.settimeout(timeout)
    return s


def netstat(*names):
    """TcpExt counters from /proc/net/netstat, e.g. netstat('SyncookiesSent')."""
    with open('/proc/net/netstat') as f:
        lines = [line.split() for line in f if line.startswith('TcpExt:')]
    row = dict(zip(lines[0][1:], map(int, lines[1][1:])))
    return tuple(row[n] for n in names)


def net_up(name=IFNAME):
    """Persistent lbsim0 with the network plan (`lbsim.py up`)."""
    fd = tun_attach(name)
    try:
        fcntl.ioctl(fd, TUNSETPERSIST, 1)
        changed = configure_plan(name)
    except BaseException:
        fcntl.ioctl(fd, TUNSETPERSIST, 0)
        os.close(fd)
        raise
    os.close(fd)
    with open(STATE_FILE, 'w') as f:
        json.dump(changed, f)


def net_down(name=IFNAME):
    if not os.path.exists('/sys/class/net/' + name):
        return
    fd = tun_attach(name)
    fcntl.ioctl(fd, TUNSETPERSIST, 0)
    os.close(fd)  # the last close of a non-persistent TUN deletes it
    if os.path.exists(STATE_FILE):
        with open(STATE_FILE) as f:
            restore_sysctls(json.load(f))
        os.unlink(STATE_FILE)
