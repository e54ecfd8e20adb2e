// SPDX-License-Identifier: MIT
// `kgwttm status`: what the answering backend says about itself, read through
// backendStatus() (lib/cli/backend.ts: the module's moduleStatus(), or
// kgwttm-bpf status and params), printed for people or as JSON.

import type { BackendStatus } from './backend.js';

/** Aligned `name  value` lines, indented: the layout of every list the CLI prints. */
export function table(entries: Record<string, string | number>, indent = '  '): string[] {
  const names = Object.keys(entries);
  const width = Math.max(0, ...names.map((name) => name.length));
  return names.map((name) => `${indent}${name.padEnd(width)}  ${String(entries[name])}`);
}

function headline(status: BackendStatus): string {
  const version = `version ${status.version ?? 'unknown'}`;
  if (status.backend === 'bpf') return `kgwttm: BPF backend attached (${status.pins ?? 'pinned'}), ${version}`;
  return `kgwttm: loaded, ${version}`;
}

export function formatStatus(status: BackendStatus): string {
  const error = status.error === undefined ? '' : `kgwttm: ${status.error}\n`;
  if (!status.loaded)
    return `kgwttm: not loaded (modprobe kgwttm, or without the module: kgwttm bpf attach --trusted-nets LIST; \`kgwttm doctor\` says why it may not load)\n${error}`;
  const lines = [headline(status)];
  if (status.error !== undefined) lines.push(`kgwttm: ${status.error}`);
  lines.push('parameters:');
  // An empty string parameter (trusted_nets, the module's default) would print
  // as a blank; say so instead. --json keeps the raw ''.
  const parameters = Object.fromEntries(Object.entries(status.parameters).map(([name, value]) => [name, value === '' ? '(none)' : value]));
  lines.push(...table(parameters));
  lines.push('counters:');
  lines.push(...table(status.counters));
  return lines.join('\n') + '\n';
}
