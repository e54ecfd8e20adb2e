// `kgwttm status`: what the loaded module says about itself, read through
// moduleStatus() (lib/module-status.ts), printed for people or as JSON.

import type { ModuleStatus } from '../index.js';

/** Aligned `name  value` lines, indented: the layout of every list the CLI prints. */
export function table(entries: Record<string, string | number>, indent = '  '): string[] {
  const names = Object.keys(entries);
  const width = Math.max(0, ...names.map((name) => name.length));
  return names.map((name) => `${indent}${name.padEnd(width)}  ${String(entries[name])}`);
}

export function formatStatus(status: ModuleStatus): string {
  if (!status.loaded) return 'kgwttm: not loaded (modprobe kgwttm; `kgwttm doctor` says why it may not load)\n';
  const lines = [`kgwttm: loaded, version ${status.version ?? 'unknown'}`, 'parameters:'];
  // An empty string parameter (trusted_nets, the module's default) would print
  // as a blank; say so instead. --json keeps the raw ''.
  const parameters = Object.fromEntries(Object.entries(status.parameters).map(([name, value]) => [name, value === '' ? '(none)' : value]));
  lines.push(...table(parameters));
  lines.push('counters:');
  lines.push(...table(status.counters));
  return lines.join('\n') + '\n';
}
