// SPDX-License-Identifier: MIT
// Which backend answers getsockopt(SOL_IP, optname) on this host, and what it
// says about itself: the kernel module (kgwttm.ko: its sysfs and procfs files,
// through moduleStatus) or the BPF backend (bpf/: links pinned under
// /sys/fs/bpf/kgwttm, its counters and settings printed by `kgwttm-bpf status`
// and `kgwttm-bpf params` in /proc/net/kgwttm's "name value" lines).
//
// The module wins when both seem present: kgwttm-bpf refuses to attach beside
// it, and the module answers first (the BPF program only answers what the
// kernel found nobody for). An application's getRealPeer cannot tell them
// apart, so status and doctor name the one that answers.

import { statSync } from 'node:fs';
import { join } from 'node:path';

import { moduleStatus, type ModuleStatus, type StatusPaths } from '../index.js';
import { findLoader, runLoader, type LoaderSearch } from './bpf-loader.js';

export type Backend = 'module' | 'bpf' | 'none';

export interface BackendEnv extends StatusPaths {
  /** Where to look for kgwttm-bpf (default: KGWTTM_BPF_LOADER, the checkout, PATH). */
  loader?: LoaderSearch;
}

export interface BackendStatus extends ModuleStatus {
  /** Who answers: `loaded` is true for both `module` and `bpf`. */
  backend: Backend;
  /** The BPF backend's pin folder (`bpf` only). */
  pins?: string;
  /** Why the counters or settings could not be read (the loader missing, not root). */
  error?: string;
}

/** The folder kgwttm-bpf pins under: KGWTTM_BPF_PIN as the loader reads it, else `<sys>/fs/bpf/kgwttm`. */
export function bpfPinDir(paths: StatusPaths = {}): string {
  const pin = process.env.KGWTTM_BPF_PIN;
  return pin !== undefined && pin !== '' ? pin : join(paths.sys ?? '/sys', 'fs', 'bpf', 'kgwttm');
}

/** Whether the pin folder exists; an error text when it cannot be looked at (bpffs is root's only). */
function pinned(dir: string): boolean | string {
  try {
    return statSync(dir).isDirectory();
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    return `cannot look for the BPF backend's pins (${dir}: ${code ?? String(err)}): run as root to see it`;
  }
}

/** "name value" lines; the value may be empty (trusted_nets). */
function lines(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const line of text.split('\n')) {
    const match = /^(\S+)(?:[ \t]+(.*?))?\s*$/.exec(line);
    if (match !== null) pairs.push([match[1] as string, match[2] ?? '']);
  }
  return pairs;
}

function bpfStatus(paths: BackendEnv, pins: string): BackendStatus {
  const status: BackendStatus = { backend: 'bpf', loaded: true, version: null, counters: {}, parameters: {}, pins };
  let loader: string;
  try {
    loader = findLoader(paths.loader);
  } catch (err) {
    status.error = (err as Error).message;
    return status;
  }
  const problems: string[] = [];
  const counters = runLoader(loader, ['status'], { pins });
  if (counters.code !== 0) problems.push(`${loader} status: ${counters.stderr.trim() || `exit ${counters.code}`}`);
  for (const [name, value] of lines(counters.stdout)) {
    if (name === 'version') status.version = value;
    else if (/^-?\d+$/.test(value)) status.counters[name] = Number(value);
  }
  const params = runLoader(loader, ['params'], { pins });
  if (params.code !== 0) problems.push(`${loader} params: ${params.stderr.trim() || `exit ${params.code}`}`);
  for (const [name, value] of lines(params.stdout).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) status.parameters[name] = value;
  if (problems.length > 0) status.error = problems.join('; ');
  return status;
}

/** The answering backend's version, counters and settings (ModuleStatus's shape, `backend` added). */
export function backendStatus(paths: BackendEnv = {}): BackendStatus {
  const module = moduleStatus(paths);
  if (module.loaded) return { backend: 'module', ...module };
  const pins = bpfPinDir(paths);
  const found = pinned(pins);
  if (found === true) return bpfStatus(paths, pins);
  const none: BackendStatus = { backend: 'none', ...module };
  if (typeof found === 'string') none.error = found;
  return none;
}
