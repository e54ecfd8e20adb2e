// SPDX-License-Identifier: MIT
// Where the BPF backend's loader (bpf/kgwttm-bpf.c, `kgwttm-bpf`) is, and one
// run of it. The CLI never loads BPF programs itself: the loader holds the
// programs (a libbpf skeleton) and the rules for their settings, so `kgwttm
// bpf attach` and the RPM's systemd unit attach the same way.
//
// Looked for in this order: KGWTTM_BPF_LOADER (a test's fake, or a build kept
// elsewhere), the checkout's bpf/build/kgwttm-bpf when the CLI runs from a
// checkout (make -C bpf puts it there), then PATH and the sbin folders an
// unprivileged PATH leaves out (the RPM installs /usr/sbin/kgwttm-bpf).

import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const LOADER = 'kgwttm-bpf';

/** What to say when there is no loader: the two ways to get one. */
export const GET_LOADER = `install the kgwttm-bpf RPM (bpf/build-rpm.sh builds it; /usr/sbin/${LOADER}), or build it from a checkout with make -C bpf (clang, bpftool, libbpf-dev) and run that checkout's CLI, or point KGWTTM_BPF_LOADER at bpf/build/${LOADER}`;

export interface LoaderSearch {
  /** Default process.env: KGWTTM_BPF_LOADER and PATH. */
  env?: NodeJS.ProcessEnv;
  /** The package's root, whose bpf/build/ a checkout's make -C bpf fills; default this file's, two folders up. */
  packageRoot?: string;
}

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The loader's path; throws an Error that says how to get one when there is none. */
export function findLoader(search: LoaderSearch = {}): string {
  const env = search.env ?? process.env;
  const named = env.KGWTTM_BPF_LOADER;
  if (named !== undefined && named !== '') {
    if (executable(named)) return named;
    throw new Error(`KGWTTM_BPF_LOADER=${named} is not an executable file`);
  }
  // dist/cli/ and lib/cli/ sit two levels below the package's root.
  const checkout = join(search.packageRoot ?? join(__dirname, '..', '..'), 'bpf', 'build', LOADER);
  if (executable(checkout)) return checkout;
  const dirs = [...(env.PATH ?? '').split(delimiter).filter((dir) => dir !== ''), ...SBIN];
  for (const dir of dirs) {
    const file = join(dir, LOADER);
    if (executable(file)) return file;
  }
  throw new Error(`the BPF backend's loader ${LOADER} is not installed (looked in KGWTTM_BPF_LOADER, ${checkout}, PATH, ${SBIN.join(', ')}): ${GET_LOADER}`);
}

export interface LoaderRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `loader ...args`. `inherit`: its output goes straight to ours (attach,
 * detach: the operator reads it); else it is captured (status, params).
 * `pins`, when given, is passed as KGWTTM_BPF_PIN, so the loader reads the
 * folder the CLI looked at.
 */
export function runLoader(loader: string, args: string[], opts: { inherit?: boolean; pins?: string } = {}): LoaderRun {
  const env = opts.pins === undefined ? process.env : { ...process.env, KGWTTM_BPF_PIN: opts.pins };
  const run = spawnSync(loader, args, { encoding: 'utf8', env, stdio: opts.inherit === true ? 'inherit' : 'pipe', timeout: 60_000 });
  if (run.error !== undefined) return { code: 1, stdout: '', stderr: `${loader}: ${run.error.message}` };
  // A signal (the timeout) leaves no status: a failure.
  return { code: run.status ?? 1, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
}
