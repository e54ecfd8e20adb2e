// The raw addon, loaded on first use and replaceable in tests.
//
// Loading is lazy so that importing kgwttm costs nothing and so that non-Linux
// hosts never load it (lib/peer.ts answers null there before asking). A load
// failure on Linux is thrown to the caller: a missing prebuild is a deployment
// error, not "no client address".

import { join } from 'node:path';
import nodeGypBuild = require('node-gyp-build');

/** The addon: one getsockopt into `record`; 0, or the errno (a positive number). */
export interface RawBinding {
  /** `record` is a Uint8Array of at least 20 bytes; lib/peer-record.ts decodes it. */
  getPeer(fd: number, optname: number, record: Uint8Array): number;
  /** KGWTTM_SO_GET_PEER from kmod/uapi/kgwttm.h, to check lib/'s copy against. */
  readonly defaultOptname?: number;
  /**
   * Opens /dev/net/tun as the TUN device `name` (IFF_TUN | IFF_NO_PI) and
   * returns its fd, non-blocking; throws an Error with `errno` (negative) and
   * `syscall`. Only `kgwttm doctor`'s round trip uses it (lib/cli/tun.ts).
   */
  openTun?(name: string): number;
}

let loaded: RawBinding | undefined;

export function binding(): RawBinding {
  // dist/ or lib/ sits one level below the package root, beside binding.gyp.
  loaded ??= nodeGypBuild(join(__dirname, '..')) as RawBinding;
  return loaded;
}

/**
 * Replaces the addon, for tests that count syscalls or inject errnos.
 * `undefined` restores the real one. Not part of the package's exports.
 */
export function setBinding(replacement: RawBinding | undefined): void {
  loaded = replacement;
}
