// The test side of the addon's record: writes a peer as the kernel module
// writes struct ttm_peer (af in host order, port big-endian, address bytes),
// from the address text, so scripted bindings can answer like the module.
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';

/** A peer as the module would report it: family 4 or 6 and the address text. */
export interface ScriptedPeer {
  family: 4 | 6;
  address: string;
  port: number;
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

// Expands `::` and a trailing dotted IPv4 (`::ffff:1.2.3.4`) into 16 bytes.
function ipv6Bytes(text: string): number[] {
  let tail: number[] = [];
  let head = text;
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail = ipv4Bytes(dotted[1] ?? '');
    head = `${text.slice(0, dotted.index)}:0:0`;
  }
  const [left = '', right] = head.split('::');
  const groupsOf = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const l = groupsOf(left);
  const r = right === undefined ? [] : groupsOf(right);
  const groups = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

export function encodePeerRecord(peer: ScriptedPeer, record: Uint8Array): void {
  if (peer.family === 4 ? !isIPv4(peer.address) : !isIPv6(peer.address))
    throw new Error(`not an IPv${peer.family} address: ${peer.address}`);
  record.fill(0);
  const af = peer.family === 4 ? 2 : 10;
  const [lo, hi] = [af & 0xff, af >> 8];
  record[0] = endianness() === 'LE' ? lo : hi;
  record[1] = endianness() === 'LE' ? hi : lo;
  record[2] = peer.port >> 8;
  record[3] = peer.port & 0xff;
  record.set(peer.family === 4 ? ipv4Bytes(peer.address) : ipv6Bytes(peer.address), 4);
}
