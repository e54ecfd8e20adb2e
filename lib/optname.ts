// SPDX-License-Identifier: MIT
// Which optname getRealPeer asks the module on.
//
// The application's setOptname wins; else the loaded module's `optname`
// parameter (it moves off 1345 when Alibaba's vtoa holds that range), read
// from sysfs once. Without the module every new connection answers
// ENOPROTOOPT: reading sysfs again for each would put a failing file read on
// every accept, so a module loaded since is looked for at most once a second.

import { loadedModuleOptname } from './module-status.js';

const REREAD_MS = 1000;

let override: number | undefined;
let moduleOptname: number | undefined;
let moduleOptnameReadAt = 0;

/** The optname to ask on now. */
export function currentOptname(): number {
  if (override !== undefined) return override;
  if (moduleOptname === undefined) {
    moduleOptname = loadedModuleOptname();
    moduleOptnameReadAt = Date.now();
  }
  return moduleOptname;
}

/** Nobody answered (ENOPROTOOPT): a module loaded since may have another optname. */
export function noModuleAnswered(): void {
  if (Date.now() - moduleOptnameReadAt >= REREAD_MS) moduleOptname = undefined;
}

/**
 * Sets the optname to ask the module on; `undefined` returns to the default:
 * the loaded module's `optname` parameter (read from sysfs once, and again
 * after an `ENOPROTOOPT`, at most once a second), else 1345.
 */
export function setOptname(optname: number | undefined): void {
  if (optname !== undefined && !(Number.isInteger(optname) && optname > 0 && optname <= 0x7fffffff))
    throw new TypeError(`setOptname: expected a positive 32-bit integer or undefined, got ${String(optname)}`);
  override = optname;
  moduleOptname = undefined;
}
