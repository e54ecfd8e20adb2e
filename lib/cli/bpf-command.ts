// SPDX-License-Identifier: MIT
// `kgwttm bpf attach [options]` and `kgwttm bpf detach`: the BPF backend
// attached or detached by its loader (lib/cli/bpf-loader.ts), for hosts that
// cannot load kgwttm.ko (Secure Boot, lockdown, no headers).
//
// The options are the loader's own, checked here first with the CLI's parser
// so that a typo is a usage error said the CLI's way, then handed on in the
// form the loader reads (`--name value`). The settings themselves (CIDRs,
// formats, optname ranges) are checked by the loader only: it holds the
// module's rules, and one copy of them is enough.

import { parseArgs } from 'node:util';

import { findLoader, runLoader, type LoaderSearch } from './bpf-loader.js';

/** A usage error of `kgwttm bpf`: main.ts prints it with the usage line, exit 2. */
export class BpfUsageError extends Error {}

export const BPF_USAGE = `kgwttm bpf attach [--trusted-nets LIST] [--formats LIST] [--optname N]
                  [--no-rewrite-getname] [--cgroup PATH]
kgwttm bpf detach`;

const ATTACH_OPTIONS = {
  'trusted-nets': { type: 'string' },
  formats: { type: 'string' },
  optname: { type: 'string' },
  'no-rewrite-getname': { type: 'boolean' },
  cgroup: { type: 'string' },
} as const;

/** The loader's argv for `kgwttm bpf <args>`; throws BpfUsageError. */
export function loaderArgs(args: string[]): string[] {
  const [verb, ...rest] = args;
  if (verb === 'detach') {
    if (rest.length > 0) throw new BpfUsageError(`bpf detach takes no arguments (got ${rest.join(' ')})`);
    return ['detach'];
  }
  if (verb !== 'attach') throw new BpfUsageError(verb === undefined ? 'bpf: attach or detach?' : `unknown bpf command ${verb}`);
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof ATTACH_OPTIONS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: rest, options: ATTACH_OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new BpfUsageError(`unknown option ${option} of bpf attach`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new BpfUsageError(`${option} needs a value`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new BpfUsageError(`bpf attach takes options only (${message.replace(/^.*'(.*)'.*$/, '$1')})`);
    throw new BpfUsageError(message);
  }
  const out = ['attach'];
  for (const name of ['trusted-nets', 'formats', 'optname', 'cgroup'] as const) {
    const value = values[name];
    if (value !== undefined) out.push(`--${name}`, value);
  }
  if (values['no-rewrite-getname'] === true) out.push('--no-rewrite-getname');
  return out;
}

/**
 * Runs the loader with the operator's terminal: its messages (what it
 * attached, what this kernel lacks, why it refused) are the output. Returns
 * its exit code (0, 1 refused, 2 usage), or throws when there is no loader.
 */
export function runBpfCommand(args: string[], search: LoaderSearch = {}): number {
  const argv = loaderArgs(args);
  const loader = findLoader(search);
  return runLoader(loader, argv, { inherit: true }).code;
}
