// SPDX-License-Identifier: MIT
// The operator tool's own addon (src/cli/tun.cc): the TUN ioctl of doctor's
// round trip, the one thing the CLI needs that Node cannot do. A separate
// addon from the library's, with its own binding.gyp and prebuilds under
// src/cli/, so that an application that loads kgwttm never maps this code.

import { join } from 'node:path';
import nodeGypBuild = require('node-gyp-build');

export interface CliBinding {
  /** ioctl(fd, TUNSETIFF) for the TUN device `name` (IFF_TUN | IFF_NO_PI): 0, or a negated errno. */
  setTun(fd: number, name: string): number;
}

let loaded: CliBinding | undefined;

/** Loads on first use; throws node-gyp-build's error when no build or prebuild fits this host. */
export function cliBinding(): CliBinding {
  // dist/cli/ or lib/cli/ sits two levels below the package root.
  loaded ??= nodeGypBuild(join(__dirname, '..', '..', 'src', 'cli')) as CliBinding;
  return loaded;
}
