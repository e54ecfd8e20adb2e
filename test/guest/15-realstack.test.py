#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Guest suite: the real-stack face of the LB simulator (test/lbsim/realstack).

With no kgwttm module loaded:
  - setup.sh up is idempotent;
  - a server in the root namespace on 10.201.0.1 / fd00:201::1 sees the LB's
    local IP as its peer and getsockopt(SOL_IP, 1345) fails with ENOPROTOOPT;
  - a capture on the veth shows, for every format, the option bytes exactly as
    configured in the ACK that completes the handshake, and in no other packet
    (SYN, data, FIN, later ACKs); --format none writes nothing;
  - thousands of connections through run-as-lb.sh + loadgen complete without
    error, each one with its option written (the program's own counters);
  - setup.sh down removes the netns, the cgroup and the pins.
Prints TAP.
"""
import errno
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STATS = "/sys/fs/bpf/lbsim/maps/lbsim_stats"

RS4, LIP4, RS6, LIP6 = "10.201.0.1", "10.201.0.2", "fd00:201::1", "fd00:201::2"
CLIENT4, CLIENT6 = "198.51.100.77", "2001:db8:77::1234"
VOLUME = int(os.environ.get("KGWTTM_REALSTACK_VOLUME", "2000"))
sys.path[:0] = [os.path.join(ROOT, "test", "lib"), os.path.join(ROOT, "test", "lbsim")]
from realstack_paths import ACCEPTSRV, LOADGEN, RS_DIR, RUN_AS_LB, SETUP  # noqa: E402
BPF_OBJ = os.path.join(RS_DIR, "lbsim_sockops.bpf.o")  # noqa: E402
import lbsim  # noqa: E402
from ttm_abi import TTM_SO_GET_PEER  # noqa: E402

_n = 0
_failed = 0


def point(ok, name, diag=None):
    global _n, _failed
    _n += 1
    if not ok:
        _failed += 1
    print("%sok %d - %s" % ("" if ok else "not ", _n, name))
    if diag:
        for line in str(diag).rstrip().splitlines():
            print("  # " + line)
    sys.stdout.flush()
    return ok


def sh(*args, check=False, timeout=120, **kw):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout, **kw)
    if check and p.returncode:
        raise RuntimeError("%s: exit %d\n%s" % (" ".join(args), p.returncode, p.stdout))
    return p


def stats():
    out = sh("bpftool", "-j", "map", "dump", "pinned", STATS, check=True).stdout
    vals = {}
    for e in json.loads(out):
        k, v = e["key"], e["value"]
        if isinstance(k, list):  # no BTF: raw bytes
            k = int.from_bytes(bytes(int(b, 16) for b in k), "little")
            v = int.from_bytes(bytes(int(b, 16) for b in v), "little")
        vals[k] = v
    return {"connect": vals[0], "written": vals[1], "failed": vals[2]}


def expected_option(fmt, port):
    """The option run-as-lb.sh --format FMT writes, as lbsim encodes it."""
    if fmt == "toa4":
        return lbsim.toa_v4(CLIENT4, port)
    if fmt == "toa6":
        return lbsim.toa_v6(CLIENT6, port)
    if fmt == "ttm4":
        return lbsim.ttm_peer(2, CLIENT4, port)
    if fmt == "ttm6":
        return lbsim.ttm_peer(10, CLIENT6, port)
    return None


def client_for(fmt):
    return CLIENT6 if fmt in ("toa6", "ttm6") else CLIENT4 if fmt != "none" else ""


# ---------------------------------------------------------------- pcap parsing

def read_pcap(path):
    """Yields (src, sport, dst, dport, flags, payload_len, options[list of bytes])."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:  # Ethernet
            etype = struct.unpack("!H", pkt[12:14])[0]
            l3 = pkt[14:]
        elif linktype == 113:  # Linux cooked
            etype = struct.unpack("!H", pkt[14:16])[0]
            l3 = pkt[16:]
        else:
            raise RuntimeError("unexpected pcap link type %d" % linktype)
        if etype == 0x0800:
            ihl = (l3[0] & 0xf) * 4
            if l3[9] != 6:
                continue
            tot = struct.unpack("!H", l3[2:4])[0]
            src, dst = socket.inet_ntop(socket.AF_INET, l3[12:16]), socket.inet_ntop(socket.AF_INET, l3[16:20])
            tcp = l3[ihl:tot]
        elif etype == 0x86dd:
            if l3[6] != 6:
                continue
            plen = struct.unpack("!H", l3[4:6])[0]
            src, dst = socket.inet_ntop(socket.AF_INET6, l3[8:24]), socket.inet_ntop(socket.AF_INET6, l3[24:40])
            tcp = l3[40:40 + plen]
        else:
            continue
        sport, dport = struct.unpack("!HH", tcp[0:4])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        opts, raw, i = [], tcp[20:doff], 0
        while i < len(raw):
            kind = raw[i]
            if kind == 0:
                break
            if kind == 1:
                i += 1
                continue
            ln = raw[i + 1] if i + 1 < len(raw) else 0
            if ln < 2:
                opts.append(raw[i:])
                break
            opts.append(raw[i:i + ln])
            i += ln
        yield src, sport, dst, dport, flags, len(tcp) - doff, opts


# ---------------------------------------------------------------- the suite

def one_connection(fam, rs, port, fmt):
    """A root-namespace server on rs:port, one client through run-as-lb.sh.
    Returns (peer, getsockopt errno, client exit, client output)."""
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((rs, port))
    srv.listen(8)
    srv.settimeout(20)
    args = [RUN_AS_LB, "--format", fmt]
    if fmt != "none":
        args += ["--client", client_for(fmt)]
    cli = subprocess.Popen(args + ["--", LOADGEN, "-n", "1", "-c", "1", "-t", "15", rs, str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peer, gerr = None, None
    try:
        conn, peer = srv.accept()
        with conn:
            try:
                conn.getsockopt(socket.SOL_IP, TTM_SO_GET_PEER, 20)
                gerr = 0
            except OSError as e:
                gerr = e.errno
            conn.settimeout(10)
            conn.recv(4096)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except socket.timeout:
        pass
    finally:
        srv.close()
    out, _ = cli.communicate(timeout=60)
    return peer, gerr, cli.returncode, out


def main():
    print("TAP version 13")
    built = all(os.path.exists(p) for p in (BPF_OBJ, LOADGEN, ACCEPTSRV))
    if not point(built, "realstack binaries are built (make -C test/lbsim/realstack)",
                 None if built else "missing: run make -C test/lbsim/realstack on the host"):
        print("1..%d" % _n)
        return 1
    if os.path.exists("/sys/module/kgwttm"):
        sh("rmmod", "kgwttm")
    point(not os.path.exists("/sys/module/kgwttm"), "no kgwttm module loaded")

    sh(SETUP, "down")  # leftovers from an aborted run
    r1 = sh(SETUP, "up")
    r2 = sh(SETUP, "up")
    if not point(r1.returncode == 0 and r2.returncode == 0,
                 "setup.sh up (twice: idempotent) loads and attaches the sockops program on this kernel",
                 r1.stdout + r2.stdout):
        sh(SETUP, "down")
        print("1..%d" % _n)
        return 1

    try:
        run_checks()
    finally:
        d = sh(SETUP, "down")
        cg = [l.split()[1] for l in open("/proc/mounts") if l.split()[2] == "cgroup2"]
        left = []
        if "lbsim" in sh("ip", "netns", "list").stdout.split():
            left.append("netns lbsim")
        if sh("ip", "link", "show", "lbsim-rs").returncode == 0:
            left.append("veth lbsim-rs")
        if cg and os.path.exists(os.path.join(cg[0], "lbsim")):
            left.append("cgroup")
        if os.path.exists("/sys/fs/bpf/lbsim"):
            left.append("pins")
        point(d.returncode == 0 and not left, "setup.sh down removes netns, veth, cgroup and pins",
              d.stdout + ("left: " + ", ".join(left) if left else ""))
    print("1..%d" % _n)
    return 1 if _failed else 0


def run_checks():
    formats = ["toa4", "toa6", "ttm4", "ttm6", "none"]
    cases = []  # (family name, fmt, rs, lip, peer, gerr, rc, out)
    tmp = tempfile.mkdtemp(prefix="realstack-")
    pcap = os.path.join(tmp, "cap.pcap")
    td = subprocess.Popen(["tcpdump", "-i", "lbsim-rs", "-Z", "root", "-U", "--immediate-mode", "-s", "256", "-w", pcap,
                           "tcp and (port 18080 or port 18081)"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # wait until tcpdump listens
    line = td.stderr.readline()
    if "listening" not in line:
        point(False, "tcpdump starts on lbsim-rs", line)
        td.kill()
        return
    st0 = stats()
    port_base = {"v4": 18080, "v6": 18081}
    for famname, fam, rs, lip in (("v4", socket.AF_INET, RS4, LIP4), ("v6", socket.AF_INET6, RS6, LIP6)):
        for fmt in formats:
            peer, gerr, rc, out = one_connection(fam, rs, port_base[famname], fmt)
            cases.append((famname, fmt, rs, lip, peer, gerr, rc, out))
    st1 = stats()
    time.sleep(0.5)
    td.send_signal(signal.SIGINT)
    try:
        td.wait(timeout=10)
    except subprocess.TimeoutExpired:
        td.kill()
    pkts = list(read_pcap(pcap))
    shutil.rmtree(tmp, ignore_errors=True)

    for famname, fmt, rs, lip, peer, gerr, rc, out in cases:
        name = "%s LB->RS, --format %s" % (famname, fmt)
        if peer is None or rc != 0:
            point(False, name + ": connection completes", "loadgen exit %s: %s" % (rc, out))
            continue
        cport = peer[1]
        diag = []
        ok = peer[0] == lip
        if not ok:
            diag.append("server saw peer %s, want the lip %s" % (peer[0], lip))
        if gerr != errno.ENOPROTOOPT:
            ok = False
            diag.append("getsockopt(SOL_IP, 1345): errno %s, want ENOPROTOOPT" % gerr)
        fwd = [p for p in pkts if p[0] == lip and p[1] == cport and p[2] == rs]
        exp = expected_option(fmt, cport)
        # fwd[0] = SYN, fwd[1] = the handshake-completing ACK, rest = data/FIN/ACKs
        if len(fwd) < 3:
            ok = False
            diag.append("captured only %d client packets" % len(fwd))
        else:
            syn, ack, rest = fwd[0], fwd[1], fwd[2:]
            if syn[4] & 0x12 != 0x02:
                ok = False
                diag.append("first packet is not the SYN (flags %#x)" % syn[4])
            if ack[4] & 0x17 != 0x10 or ack[5] != 0:
                ok = False
                diag.append("second packet is not a pure ACK (flags %#x, %d bytes)" % (ack[4], ack[5]))
            exp_list = [exp] if exp else []
            got254 = [o for o in ack[6] if o[:1] in (b"\xfe", b"\xfd")]
            if got254 != exp_list:
                ok = False
                diag.append("handshake ACK options %s, want %s" % (
                    [o.hex() for o in got254], [o.hex() for o in exp_list]))
            for p in [syn] + rest:
                bad = [o.hex() for o in p[6] if o[:1] in (b"\xfe", b"\xfd")]
                if bad:
                    ok = False
                    diag.append("packet flags %#x len %d carries %s" % (p[4], p[5], bad))
            if ok:
                diag.append("peer %s port %d, ACK option %s, %d later packets clean"
                            % (peer[0], cport, exp.hex() if exp else "(none)", len(rest)))
        point(ok, name + ": server sees the lip, ENOPROTOOPT, option only in the handshake ACK",
              "\n".join(diag))
    n_opt = sum(1 for c in cases if c[1] != "none")
    d = {k: st1[k] - st0[k] for k in st1}
    point(d == {"connect": n_opt, "written": n_opt, "failed": 0},
          "program counters: one option per connection, none for --format none", json.dumps(d))

    # volume
    for famname, rs, port, fmt in (("v4", RS4, 18090, "toa4"), ("v6", RS6, 18091, "ttm6")):
        srv = subprocess.Popen([ACCEPTSRV, "-n", str(VOLUME), rs, str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        srv.stderr.readline()  # "listening"
        s0 = stats()
        t0 = time.time()
        lg = sh(RUN_AS_LB, "--format", fmt, "--client", client_for(fmt), "--",
                LOADGEN, "-n", str(VOLUME), "-c", "64", rs, str(port), timeout=600)
        wall = time.time() - t0
        try:
            sout, _ = srv.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            sout, _ = srv.communicate()
        s1 = stats()
        d = {k: s1[k] - s0[k] for k in s1}
        try:
            res = json.loads(lg.stdout.strip().splitlines()[-1])
            acc = json.loads(sout.strip().splitlines()[-1])["accepted"]
        except (ValueError, IndexError, KeyError):
            res, acc = {}, None
        ok = (lg.returncode == 0 and res.get("connections") == VOLUME and res.get("errors") == 0
              and acc == VOLUME and d == {"connect": VOLUME, "written": VOLUME, "failed": 0})
        point(ok, "%d connections %s LB->RS (--format %s, 64 in flight) complete, each with its option"
              % (VOLUME, famname, fmt),
              "loadgen: %s\nserver accepted %s, counters %s, wall %.1fs" % (lg.stdout.strip(), acc, json.dumps(d), wall))


if __name__ == "__main__":
    sys.exit(main())
