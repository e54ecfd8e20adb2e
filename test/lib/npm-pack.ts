// SPDX-License-Identifier: MIT
// The package as users get it: `npm pack` of the checkout (its prepack builds
// the API and a prebuild) and `npm install` of the tarball. Shared by
// test/host/90-pack-install.test.ts (what the tarball holds, what an
// application's install loads) and test/run.ts (a global install in a folder
// every user can read, for the guest suites that run the CLI as another user:
// the checkout itself may sit in a folder only its owner can enter, e.g. /root).
//
// Installs prefer npm's cache, which the repository's own `npm ci` filled with
// the two dependencies' tarballs; not --offline: `npm install` asks for full
// packuments, and `npm ci` caches only the abbreviated ones (npm 11.19), so an
// offline install fails ENOTCACHED on a fresh machine.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

let npmCliPath: string | undefined;

/** npm's own script, to run by this node (whatever node PATH would find). */
export function npmCli(): string {
  npmCliPath ??= realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  return npmCliPath;
}

export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(process.execPath, [npmCli(), ...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `npm pack` of the package in `cwd` into `destination`; the tarball's path. */
export function pack(cwd: string, destination: string, ignoreScripts = false): string {
  mkdirSync(destination, { recursive: true });
  const output = npm(['pack', '--json', '--pack-destination', destination, ...(ignoreScripts ? ['--ignore-scripts'] : [])], cwd);
  const [info] = JSON.parse(output.slice(output.indexOf('['))) as Array<{ filename: string }>;
  return join(destination, info?.filename ?? '');
}

/** An empty application folder `app` with the tarball installed into it (`npm install TARBALL`). */
export function installInto(app: string, tarball: string, env: NodeJS.ProcessEnv = process.env): string {
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: basename(app), version: '1.0.0', private: true }));
  npm(['install', '--prefer-offline', tarball], app, env);
  return app;
}

/**
 * `npm install --global --prefix PREFIX TARBALL`, as an operator installs the
 * CLI: PREFIX/bin/kgwttm links to PREFIX/lib/node_modules/kgwttm. Everything
 * under PREFIX is made readable by every user (whatever the umask), as the
 * usual global prefixes are.
 */
export function installGlobal(prefix: string, tarball: string, env: NodeJS.ProcessEnv = process.env): string {
  npm(['install', '--global', '--prefix', prefix, '--prefer-offline', tarball], prefix, env);
  execFileSync('chmod', ['-R', 'a+rX', prefix]);
  return join(prefix, 'bin', 'kgwttm');
}

/**
 * The tarball of this checkout: the one test/run.ts packed for the whole run
 * (KGWTTM_PACKAGE_TARBALL), or, for a suite run alone, a fresh `npm pack` into
 * `work`.
 */
export function packedTarball(repo: string, work: string): string {
  return process.env.KGWTTM_PACKAGE_TARBALL || pack(repo, join(work, 'packed'));
}

/** `tarball` without the prebuilds of either addon, packed again into `work`: a platform with no prebuild. */
export function sourceOnlyTarball(tarball: string, work: string): string {
  const unpacked = join(work, 'source-only-tree');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  rmSync(join(unpacked, 'package', 'src', 'cli', 'prebuilds'), { recursive: true, force: true });
  return pack(join(unpacked, 'package'), join(work, 'source-only'), true);
}

/**
 * A new empty folder under /tmp (mode 0755, the caller removes it): /tmp lets
 * every user through, and the VM sees the host's /tmp (test/vm/guest-stage2.sh),
 * whereas $TMPDIR may be private or under a folder the guest mounts over (/run).
 */
export function worldReadableTempDir(prefix: string): string {
  const dir = mkdtempSync(join('/tmp', prefix));
  chmodSync(dir, 0o755);
  return dir;
}
