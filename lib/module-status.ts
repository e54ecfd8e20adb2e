// SPDX-License-Identifier: MIT
// What the kernel module says about itself, read from procfs and sysfs.
//
// Health checks and the operator CLI read these files; lib/optname.ts reads the
// optname parameter from the same place, so the answer to "which optname does
// the loaded module answer on" is computed here only.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** KGWTTM_SO_GET_PEER of kmod/uapi/kgwttm.h (a test checks the copy), used unless the module was loaded with another. */
export const DEFAULT_OPTNAME = 1345;

/** Where to read from; other roots serve containers that mount the host's /proc or /sys elsewhere. */
export interface StatusPaths {
  /** procfs root, default `/proc`: the counters are in `<proc>/net/kgwttm`. */
  proc?: string;
  /** sysfs root, default `/sys`: the parameters are in `<sys>/module/kgwttm/parameters/`. */
  sys?: string;
}

export interface ModuleStatus {
  /** True when `<sys>/module/kgwttm` or `<proc>/net/kgwttm` exists. */
  loaded: boolean;
  /** The `version` line of `<proc>/net/kgwttm`, null when there is none. */
  version: string | null;
  /**
   * Every other numeric line of `<proc>/net/kgwttm`: `with_option`, `without_option`,
   * `malformed`, `untrusted`, `missed`, `live`, `entry_bytes` (and any the module adds).
   */
  counters: Record<string, number>;
  /** Each file of `<sys>/module/kgwttm/parameters/`, trimmed. */
  parameters: Record<string, string>;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function moduleDir(paths: StatusPaths): string {
  return join(paths.sys ?? '/sys', 'module', 'kgwttm');
}

function procFile(paths: StatusPaths): string {
  return join(paths.proc ?? '/proc', 'net', 'kgwttm');
}

/** Whether the kgwttm module is loaded (its sysfs directory or its procfs file exists). */
export function isModuleLoaded(paths: StatusPaths = {}): boolean {
  return existsSync(moduleDir(paths)) || existsSync(procFile(paths));
}

/** The module's version, counters and parameters; `loaded: false` and empty fields without it. */
export function moduleStatus(paths: StatusPaths = {}): ModuleStatus {
  const status: ModuleStatus = {
    loaded: isModuleLoaded(paths),
    version: null,
    counters: {},
    parameters: {},
  };
  // Format: one `name value` per line.
  for (const line of (readText(procFile(paths)) ?? '').split('\n')) {
    const match = /^(\S+)\s+(\S.*?)\s*$/.exec(line);
    if (match === null) continue;
    const [, name, value] = match as unknown as [string, string, string];
    if (name === 'version') status.version = value;
    else if (/^-?\d+$/.test(value)) status.counters[name] = Number(value);
  }
  const parameterDir = join(moduleDir(paths), 'parameters');
  let names: string[] = [];
  try {
    names = readdirSync(parameterDir);
  } catch {
    // No parameters directory: not loaded, or loaded without parameters.
  }
  for (const name of names.sort()) {
    const value = readText(join(parameterDir, name));
    if (value !== null) status.parameters[name] = value.trim();
  }
  return status;
}

/**
 * The optname the loaded module answers on: its `optname` parameter when it has
 * one (it moves off 1345 when Alibaba's vtoa holds that range), else 1345.
 */
export function loadedModuleOptname(paths: StatusPaths = {}): number {
  const text = readText(join(moduleDir(paths), 'parameters', 'optname'));
  const value = text === null ? NaN : Number(text.trim());
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_OPTNAME;
}
