// SPDX-License-Identifier: MIT
// The library's addon (src/kgwttm.cc), loaded on first use and replaceable in tests.
//
// Loading is lazy so that importing kgwttm costs nothing and so that non-Linux
// hosts never load it (lib/real-peer.ts answers null there before asking). A
// load failure on Linux is thrown to the caller: a missing prebuild is a
// deployment error, not "no client address". The operator tool's own native
// code (src/cli/) is a separate addon that this package's API never loads.

import { join } from 'node:path';
import nodeGypBuild = require('node-gyp-build');

/** The addon: one getsockopt into `record`, the only call applications make. */
export interface RawBinding {
  /**
   * getsockopt(fd, SOL_IP, optname) into `record`: 0, or a negated errno
   * (lib/system-error.ts names it).
   */
  getPeer(fd: number, optname: number): number;
  /**
   * The 20 bytes the last successful getPeer wrote (struct ttm_peer, decoded
   * by lib/peer-record.ts): the addon's own memory, one per thread, so that a
   * call passes no buffer. Read it before the next call.
   */
  readonly record: Uint8Array;
  /** KGWTTM_SO_GET_PEER from kmod/uapi/kgwttm.h, to check lib/'s copy against. */
  readonly defaultOptname?: number;
}

let loaded: RawBinding | undefined;

// dist/ or lib/ sits one level below the package root, beside binding.gyp.
const packageRoot = join(__dirname, '..');

function load(): RawBinding {
  try {
    return nodeGypBuild(packageRoot) as RawBinding;
  } catch (err) {
    // node-gyp-build's own text lists the platform tuple it looked for; say what to do as well.
    const error = err as Error;
    error.message =
      `kgwttm: the addon does not load: ${error.message.trim()}\n` +
      'Prebuilds cover linux-x64 and linux-arm64 with glibc; elsewhere the install builds it from source, ' +
      'which needs a C++ compiler, make and python3: install them, then `npm rebuild kgwttm`.';
    throw error;
  }
}

export function binding(): RawBinding {
  loaded ??= load();
  return loaded;
}

/**
 * Replaces the addon, for tests that count syscalls or inject errnos.
 * `undefined` restores the real one. Not part of the package's exports.
 */
export function setBinding(replacement: RawBinding | undefined): void {
  loaded = replacement;
}
