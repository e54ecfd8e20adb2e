#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// kgwttm: the operator's view of the kgwttm kernel module on this host, or of
// the BPF backend that answers in its place (bpf/, attached by kgwttm-bpf).
//
// Design note. Everything read here comes through the package's own API
// (moduleStatus, loadedModuleOptname, the addon's getsockopt), or for the BPF
// backend through its loader's own status and params (lib/cli/backend.ts), so
// the CLI and an application's health check can never disagree. The exit code is the
// interface for scripts; the text is for people and may change, `--json` may
// only grow.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs as parseCommandLine } from 'node:util';

import type { StatusPaths } from '../index.js';
import { backendStatus } from './backend.js';
import { BPF_USAGE, BpfUsageError, runBpfCommand } from './bpf-command.js';
import { doctor, formatDoctor } from './doctor.js';
import { formatStatus } from './status.js';

/** Exit codes, as `kgwttm --help` documents them. */
const EXIT = { OK: 0, PROBLEMS: 1, USAGE: 2, NOT_LOADED: 3 } as const;

const HELP = `usage: kgwttm [--json] [--proc DIR] [--sys DIR] <command>
       ${BPF_USAGE.replace(/\n/g, '\n       ')}

commands:
  status   which backend answers: the kgwttm module (/sys/module/kgwttm), the
           BPF backend (pinned in /sys/fs/bpf/kgwttm) or none ("backend" in
           --json); its version, parameters (/sys/module/kgwttm/parameters,
           kgwttm-bpf params) and counters (/proc/net/kgwttm, kgwttm-bpf status)
  doctor   checks this host: kernel and headers, module installed and loaded,
           conflicting TOA modules (toa, vtoa), whether the kernel loads an
           unsigned module (Secure Boot, lockdown, module.sig_enforce), who
           answers getsockopt(SOL_IP, optname) on a loopback connection,
           trusted networks, probe misses,
           and a real round trip: in a throwaway network namespace, a fake load
           balancer on a TUN device writes a client address into a handshake's
           option and getRealPeer must return it (needs unshare and /dev/net/tun,
           and root or unprivileged user namespaces; else reported as not run);
           and the host settings the load balancer's FAQ names: net.core.somaxconn
           (1024 or more), accept-queue drops (ListenOverflows/ListenDrops, read
           twice a second apart) and net.ipv4.tcp_keepalive_time (under the
           LB's 900 s idle timeout), each with the value found and the fix.
  bpf attach, bpf detach
           the BPF backend, for hosts that cannot load the module: runs its
           loader kgwttm-bpf (KGWTTM_BPF_LOADER, the checkout's bpf/build/, PATH,
           /usr/sbin) with these options (kgwttm-bpf --help); needs root

options:
  --json       one JSON object on stdout instead of text
  --proc DIR   procfs root to read (default /proc), e.g. the host's /proc
  --sys DIR    sysfs root to read (default /sys)     mounted in a container
  -h, --help   this text
  -V, --version  the version of this kgwttm package

exit codes:
  0  healthy: the module is loaded or the BPF backend attached (status), and
     no check failed (doctor); bpf attach/detach done
  1  problems found: a doctor check failed (details in its output); bpf
     attach/detach refused, or no kgwttm-bpf
  2  usage error
  3  the module is not loaded and no BPF backend is attached (and doctor found
     nothing else wrong)
`;

class UsageError extends Error {}

interface Args {
  command: 'status' | 'doctor' | 'help' | 'version';
  json: boolean;
  paths: StatusPaths;
}

const OPTIONS = {
  json: { type: 'boolean' },
  proc: { type: 'string' },
  sys: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** Node's parser, strict; its errors said the CLI's way (the option named, no advice about `--`). */
function parseArgs(argv: string[]): Args {
  let parsed: ReturnType<typeof parseCommandLine<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseCommandLine({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${option} needs a directory`);
    throw new UsageError(message);
  }
  const { values, positionals } = parsed;
  const paths: StatusPaths = {};
  for (const name of ['proc', 'sys'] as const) {
    const dir = values[name];
    if (dir === '') throw new UsageError(`--${name} needs a directory`);
    if (dir !== undefined) paths[name] = dir;
  }
  const json = values.json ?? false;
  if (values.help) return { command: 'help', json, paths };
  if (values.version) return { command: 'version', json, paths };
  const [command, ...more] = positionals;
  if (command === undefined) throw new UsageError('no command');
  if (more.length > 0) throw new UsageError(`one command at a time (got ${positionals.join(' and ')})`);
  if (command !== 'status' && command !== 'doctor' && command !== 'help') throw new UsageError(`unknown command ${command}`);
  return { command, json, paths };
}

/** This package's version, from its package.json (dist/cli/ and lib/cli/ sit two levels below it). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs one invocation; returns its exit code. */
async function main(argv: string[]): Promise<number> {
  const usage = (message: string, line: string): number => {
    process.stderr.write(`kgwttm: ${message}\n${line}\n(kgwttm --help for more)\n`);
    return EXIT.USAGE;
  };
  if (argv[0] === 'bpf') {
    try {
      return runBpfCommand(argv.slice(1));
    } catch (err) {
      if (err instanceof BpfUsageError) return usage(err.message, `usage: ${BPF_USAGE.replace(/\n/g, '\n       ')}`);
      if (!(err instanceof Error)) throw err;
      process.stderr.write(`kgwttm: ${err.message}\n`);
      return EXIT.PROBLEMS;
    }
  }
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usage(err.message, HELP.slice(0, HELP.indexOf('\n')));
  }
  if (args.command === 'help') {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (args.command === 'version') {
    process.stdout.write(args.json ? JSON.stringify({ version: packageVersion() }) + '\n' : `kgwttm ${packageVersion()}\n`);
    return EXIT.OK;
  }
  if (args.command === 'status') {
    const status = backendStatus(args.paths);
    process.stdout.write(args.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status));
    return status.loaded ? EXIT.OK : EXIT.NOT_LOADED;
  }
  const report = await doctor(args.paths);
  const failed = report.checks.filter((check) => check.status === 'fail' && check.name !== 'loaded');
  const code = failed.length > 0 ? EXIT.PROBLEMS : report.loaded ? EXIT.OK : EXIT.NOT_LOADED;
  process.stdout.write(args.json ? JSON.stringify({ ...report, healthy: code === EXIT.OK, exitCode: code }, null, 2) + '\n' : formatDoctor(report));
  return code;
}

// `kgwttm status | head -1`: a closed pipe ends the output, not in a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kgwttm: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.PROBLEMS;
  },
);
