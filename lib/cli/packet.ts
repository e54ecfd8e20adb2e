// SPDX-License-Identifier: MIT
// IPv4/TCP packets byte by byte, for `kgwttm doctor`'s round trip: the doctor
// plays a load balancer on a TUN device, so it writes whole IP packets (with the
// client-address option in the handshake's final ACK) and reads the server's.
//
// Only what the round trip needs: IPv4 (the LB-to-server leg of 4to4 and 6to4),
// no fragments, no IP options. The layout matches test/lbsim/lbsim.py's
// (DF set, TTL 64, window 65535), so a host test compares the two byte for byte.

import { isIPv4, isIPv6 } from 'node:net';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

const IPPROTO_TCP = 6;

/** '10.0.0.1' → 4 bytes, '2001:db8::7' → 16 bytes (also `::ffff:a.b.c.d`). */
export function addressBytes(address: string): Uint8Array {
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new TypeError(`not an IP address: ${address}`);
  let text = address.replace(/%.*$/, '');
  // A dotted IPv4 tail is the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** Dotted text of 4 bytes. */
export function ipv4Text(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

/** RFC 1071 Internet checksum over `parts` (one buffer after the other; odd lengths padded with zero). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts) {
    for (const byte of part) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A TCP option: kind, length (2 + payload), payload. */
export function tcpOption(kind: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return Uint8Array.from([kind, 2 + payload.length, ...payload]);
}

function port16(port: number): number[] {
  return [(port >> 8) & 0xff, port & 0xff];
}

/** TOA v4 (README.md, wire formats): kind/8, port (network order), IPv4. Kind 200 for the original FULLNAT. */
export function toaV4(address: string, port: number, kind = 254): Uint8Array {
  if (!isIPv4(address)) throw new TypeError(`TOA v4 carries an IPv4 address, not ${address}`);
  return tcpOption(kind, Uint8Array.from([...port16(port), ...addressBytes(address)]));
}

/** TOA v6: kind/20, port, IPv6. Kind 253 for Alibaba's. */
export function toaV6(address: string, port: number, kind = 254): Uint8Array {
  if (!isIPv6(address)) throw new TypeError(`TOA v6 carries an IPv6 address, not ${address}`);
  return tcpOption(kind, Uint8Array.from([...port16(port), ...addressBytes(address)]));
}

/** The gateway's ttm_peer: 254/22, af (2 or 10, little-endian as the gateway's x86 writes it), port, 16 address bytes. */
export function ttmPeer(address: string, port: number): Uint8Array {
  const addr = addressBytes(address);
  const af = addr.length === 4 ? 2 : 10;
  const body = new Uint8Array(20);
  body.set([af, 0, ...port16(port)]);
  body.set(addr, 4);
  return tcpOption(254, body);
}

/** The addresses, ports, sequence numbers and flags of a segment, written or read. */
interface TcpHeaderFields {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
}

export interface TcpSegment extends TcpHeaderFields {
  window?: number;
  /** Option bytes; padded with EOL (zero) to a multiple of 4, at most 40. */
  options?: Uint8Array;
  payload?: Uint8Array;
  /** IPv4 identification. */
  ident?: number;
}

/** One IPv4 packet (DF, TTL 64) holding `segment`, both checksums correct. */
export function ipv4TcpPacket(segment: TcpSegment): Buffer {
  const src = addressBytes(segment.src);
  const dst = addressBytes(segment.dst);
  if (src.length !== 4 || dst.length !== 4) throw new TypeError('ipv4TcpPacket: IPv4 addresses only');
  const given = segment.options ?? new Uint8Array(0);
  const optionLength = Math.ceil(given.length / 4) * 4;
  if (optionLength > 40) throw new RangeError(`TCP options of ${given.length} bytes: at most 40 fit`);
  const payload = segment.payload ?? new Uint8Array(0);
  const tcpLength = 20 + optionLength + payload.length;
  const packet = Buffer.alloc(20 + tcpLength);

  packet[0] = 0x45; // IPv4, 5 words of header
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE((segment.ident ?? 0) & 0xffff, 4);
  packet.writeUInt16BE(0x4000, 6); // don't fragment
  packet[8] = 64;
  packet[9] = IPPROTO_TCP;
  packet.set(src, 12);
  packet.set(dst, 16);
  packet.writeUInt16BE(internetChecksum(packet.subarray(0, 20)), 10);

  const tcp = packet.subarray(20);
  tcp.writeUInt16BE(segment.sport, 0);
  tcp.writeUInt16BE(segment.dport, 2);
  tcp.writeUInt32BE(segment.seq >>> 0, 4);
  tcp.writeUInt32BE(segment.ack >>> 0, 8);
  tcp.writeUInt16BE((((20 + optionLength) / 4) << 12) | (segment.flags & 0x1ff), 12);
  tcp.writeUInt16BE(segment.window ?? 65535, 14);
  tcp.set(given, 20); // the padding stays zero: EOL
  tcp.set(payload, 20 + optionLength);
  const pseudo = new Uint8Array(12);
  pseudo.set(src, 0);
  pseudo.set(dst, 4);
  pseudo[9] = IPPROTO_TCP;
  pseudo[10] = tcpLength >> 8;
  pseudo[11] = tcpLength & 0xff;
  tcp.writeUInt16BE(internetChecksum(pseudo, tcp), 16);
  return packet;
}

export interface ParsedTcp extends TcpHeaderFields {
  options: Buffer;
  payload: Buffer;
  /** Both the IP header and the TCP checksum verify. */
  checksumsOk: boolean;
}

/** An IPv4 TCP packet's fields; null for anything else (IPv6, ICMP, fragments, truncated packets). */
export function parseIpv4Tcp(data: Buffer): ParsedTcp | null {
  if (data.length < 40 || data[0]! >> 4 !== 4 || data[9] !== IPPROTO_TCP) return null;
  const ihl = (data[0]! & 0x0f) * 4;
  const total = data.readUInt16BE(2);
  if (ihl < 20 || total > data.length || total < ihl + 20 || (data.readUInt16BE(6) & 0x3fff) !== 0) return null;
  const tcp = data.subarray(ihl, total);
  const offset = (tcp[12]! >> 4) * 4;
  if (offset < 20 || offset > tcp.length) return null;
  const pseudo = new Uint8Array(12);
  pseudo.set(data.subarray(12, 20), 0);
  pseudo[9] = IPPROTO_TCP;
  pseudo[10] = tcp.length >> 8;
  pseudo[11] = tcp.length & 0xff;
  return {
    src: ipv4Text(data.subarray(12, 16)),
    dst: ipv4Text(data.subarray(16, 20)),
    sport: tcp.readUInt16BE(0),
    dport: tcp.readUInt16BE(2),
    seq: tcp.readUInt32BE(4),
    ack: tcp.readUInt32BE(8),
    flags: tcp.readUInt16BE(12) & 0x1ff,
    options: tcp.subarray(20, offset),
    payload: tcp.subarray(offset),
    checksumsOk: internetChecksum(data.subarray(0, ihl)) === 0 && internetChecksum(pseudo, tcp) === 0,
  };
}

/** The option bytes of a `kind:len` format (as the module's formats= names them) carrying `address`:`port`. */
export function encodeOption(format: string, address: string, port: number): Uint8Array {
  switch (format) {
    case '254:8':
      return toaV4(address, port, 254);
    case '200:8':
      return toaV4(address, port, 200);
    case '254:20':
      return toaV6(address, port, 254);
    case '253:20':
      return toaV6(address, port, 253);
    case '254:22':
      return ttmPeer(address, port);
    default:
      throw new RangeError(`no encoder for the option format ${format}`);
  }
}
