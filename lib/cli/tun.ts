// SPDX-License-Identifier: MIT
// The TUN device of `kgwttm doctor`'s round trip: /dev/net/tun opened by
// Node, made a TUN device by the CLI's addon (src/cli/tun.cc), then written
// and read as whole IPv4 packets.
//
// The fd is non-blocking and polled (see src/cli/tun.cc for why Node cannot
// wait on it): every millisecond while someone waits for a packet, nothing
// otherwise. Packets nobody waits for (the server's FIN, IPv6 chatter) are
// dropped: the round trip registers what it expects before it writes the
// packet that causes it.

import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';

import { systemError } from '../diagnostics.js';
import { cliBinding } from './native.js';
import { parseIpv4Tcp, type ParsedTcp } from './packet.js';

const POLL_MS = 1;
const TUN_PATH = '/dev/net/tun';

/**
 * Opens the TUN device `name` (non-blocking; close-on-exec, as Node opens
 * every file); errors carry Node's `code` (`'ENOENT'`, `'EPERM'`, …).
 */
export function openTun(name: string): number {
  const addon = cliBinding();
  const fd = openSync(TUN_PATH, constants.O_RDWR | constants.O_NONBLOCK);
  const result = addon.setTun(fd, name);
  if (result < 0) {
    closeSync(fd);
    throw systemError(result, 'ioctl', TUN_PATH);
  }
  return fd;
}

interface Waiter {
  matches: (packet: ParsedTcp) => boolean;
  resolve: (packet: ParsedTcp) => void;
}

export class Tun {
  private readonly waiters = new Set<Waiter>();
  private readonly buffer = Buffer.alloc(65536);
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly fd: number) {}

  write(packet: Uint8Array): void {
    writeSync(this.fd, packet);
  }

  /** The next IPv4 TCP packet the kernel sends that `matches`; rejects after `timeoutMs` saying it waited for `what`. */
  next(matches: (packet: ParsedTcp) => boolean, timeoutMs: number, what: string): Promise<ParsedTcp> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        resolve: (packet) => {
          clearTimeout(timeout);
          this.waiters.delete(waiter);
          resolve(packet);
        },
      };
      const timeout = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
      this.poll();
    });
  }

  private poll(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
      if (this.waiters.size > 0) this.poll();
    }, POLL_MS);
  }

  private drain(): void {
    for (;;) {
      let length: number;
      try {
        length = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw err;
      }
      const packet = parseIpv4Tcp(Buffer.from(this.buffer.subarray(0, length)));
      if (packet === null) continue;
      for (const waiter of this.waiters) {
        if (waiter.matches(packet)) {
          waiter.resolve(packet);
          break;
        }
      }
    }
  }
}
