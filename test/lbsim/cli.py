# SPDX-License-Identifier: MIT
"""lbsim.py's command line, for suites that are not Python: request, up,
down, capture, formats; one JSON line out and exit 0, or {"error": ...} and
exit 1. lbsim.py's docstring has the usage."""
import argparse
import codecs
import contextlib
import ipaddress
import json
import time

from capture import Capture
from hostnet import IFNAME, net_down, net_up
from options import CLIENT4, CLIENT6, option_cases
from packet import pad_options
from tcp import LB


def _parse_hostport(text):
    if text.startswith('['):
        host, _, port = text[1:].partition(']:')
    else:
        host, _, port = text.rpartition(':')
    if not host or not port:
        raise ValueError('expected IP:PORT or [IPv6]:PORT, got %r' % text)
    return str(ipaddress.ip_address(host)), int(port)


def _clients(client):
    """(client4, client6) for option_cases: the given one in its family."""
    if client is None:
        return CLIENT4, CLIENT6
    if ':' in client[0]:
        return CLIENT4, client
    return client, CLIENT6


def _case_option(fmt, client, raw):
    if fmt.startswith('hex:'):
        return bytes.fromhex(fmt[4:]), raw
    case = option_cases(*_clients(client)).get(fmt)
    if case is None:
        raise ValueError('unknown --format %r (see `lbsim.py formats`)' % fmt)
    if client and case.client and case.client != client:
        raise ValueError('--format %s carries an IPv%s client, --client is %s'
                         % (fmt, '6' if ':' in case.client[0] else '4', client[0]))
    return case.option, case.raw or raw


def _cmd_request(args):
    dst = _parse_hostport(args.dst)
    option, raw = _case_option(args.format, args.client and
                               _parse_hostport(args.client), args.raw)
    payload = b''
    if args.send is not None:
        payload = codecs.escape_decode(args.send.encode())[0]
    elif args.send_hex is not None:
        payload = bytes.fromhex(args.send_hex)
    src = (args.src, args.sport) if args.sport else args.src
    with contextlib.ExitStack() as stack:
        lb = stack.enter_context(LB(seed=args.seed, timeout=args.timeout))
        cap = stack.enter_context(Capture(lb.ifname)) if args.capture else None
        c = lb.connect(dst, option=option, src=src, raw=raw)
        out = {'src': c.src, 'sport': c.sport, 'dst': c.dst, 'dport': c.dport,
               'option': pad_options(option, raw).hex()}
        if payload:
            c.send(payload)
        if args.expect_close:
            reply = c.recv_until(None)
        elif payload:
            reply = c.recv_quiet(args.idle)
        else:
            reply = b''
        try:
            text = reply.decode()
        except UnicodeDecodeError:
            text = None
        out.update(reply=text, reply_hex=reply.hex(),
                   closed_by_server=c.server_fin, reset_by_server=c.server_rst)
        if args.close == 'fin':
            c.close()
        elif args.close == 'rst':
            c.reset()
        if cap:
            out['wire_option'] = cap.handshake_ack(c).options.hex()
    print(json.dumps(out))


def _cmd_capture(args):
    end = time.monotonic() + args.duration
    seen = 0
    with Capture(args.iface) as cap:
        while seen < args.count and time.monotonic() < end:
            with cap._cond:
                cap._cond.wait_for(lambda: len(cap.packets) > seen,
                                   max(0, end - time.monotonic()))
                new = cap.packets[seen:args.count]
            for p in new:
                print(json.dumps(p.as_json()), flush=True)
            seen += len(new)


def _cmd_formats(args):
    cases = option_cases(*_clients(args.client and _parse_hostport(args.client)))
    for name, case in cases.items():
        print(json.dumps({'name': name, 'option': case.option.hex(),
                          'raw': case.raw, 'client': case.client}))


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog='lbsim.py', description='lbsim — the packet-exact face of the '
        'load-balancer simulator.', formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('request', help='one connection: handshake with an '
                       'option, send, read the reply, close')
    r.add_argument('--dst', required=True, help='RS IP:PORT or [IPv6]:PORT')
    r.add_argument('--src', help='LB source IP (default: the lip)')
    r.add_argument('--sport', type=int)
    r.add_argument('--seed', type=int, default=0)
    r.add_argument('--format', default='none',
                   help='an option case name, or hex:<raw option bytes>')
    r.add_argument('--client', help='client IP:PORT the option carries')
    r.add_argument('--raw', action='store_true', help='no EOL padding')
    g = r.add_mutually_exclusive_group()
    g.add_argument('--send', help=r'text, with \r \n \xNN escapes')
    g.add_argument('--send-hex')
    r.add_argument('--expect-close', action='store_true',
                   help="read the reply until the RS's FIN")
    r.add_argument('--close', choices=('fin', 'rst', 'none'), default='fin')
    r.add_argument('--idle', type=float, default=0.3,
                   help='reply complete after this many seconds of silence')
    r.add_argument('--timeout', type=float, default=5.0)
    r.add_argument('--capture', action='store_true',
                   help='add wire_option: the ACK option bytes as captured')
    sub.add_parser('up', help='create a persistent, configured lbsim0')
    sub.add_parser('down', help='remove the persistent lbsim0')
    c = sub.add_parser('capture', help='print TCP packets on lbsim0 as JSON')
    c.add_argument('--iface', default=IFNAME)
    c.add_argument('--count', type=int, default=1 << 30)
    c.add_argument('--duration', type=float, default=10.0)
    f = sub.add_parser('formats', help='print every option case as JSON')
    f.add_argument('--client', help='IP:PORT (default 203.0.113.7:4242 and '
                   '[2001:db8:1::7]:4242)')
    args = ap.parse_args(argv)
    try:
        if args.cmd == 'request':
            _cmd_request(args)
        elif args.cmd == 'up':
            net_up()
        elif args.cmd == 'down':
            net_down()
        elif args.cmd == 'capture':
            _cmd_capture(args)
        else:
            _cmd_formats(args)
    except (OSError, ValueError, EOFError) as e:
        print(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))
        return 1
    return 0
