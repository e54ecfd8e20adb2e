// SPDX-License-Identifier: MIT
// `npm install kgwttm` on every machine a Node developer has, not only on the
// backend hosts of 90-pack-install:
// - macOS and Windows laptops and CI runners: the install step is faked onto
//   that platform (a --require preload that changes process.platform in the
//   install script's process only) and must pass silently, building nothing,
//   without a compiler; the API then answers null without loading an addon,
//   as the README promises off Linux;
// - a Linux without a matching prebuild and without a compiler: the install
//   fails with a message that says what to do, not a node-gyp stack;
// - musl (Alpine; node-gyp-build's LIBC=musl stands in for it): the glibc
//   prebuilds are passed over, so the install builds from source, or says
//   what to install;
// - installs that skip scripts (npm install-scripts deny, --ignore-scripts,
//   pnpm's default): on linux-x64/arm64 the prebuild loads without them.

import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import t from 'tap';

import { npmCli, packedTarball, sourceOnlyTarball } from '../lib/npm-pack.js';

t.setTimeout(10 * 60 * 1000);

const repo = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'kgwttm-platforms-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// node and sh only: no cc, c++, make or python.
const noCompiler = join(work, 'bin');
mkdirSync(noCompiler);
symlinkSync(process.execPath, join(noCompiler, 'node'));
symlinkSync('/bin/sh', join(noCompiler, 'sh'));

const tarball = packedTarball(repo, work);
const sourceOnly = sourceOnlyTarball(tarball, work);

// Fakes the platform in the install script's process only: npm itself keeps
// running as on Linux (its npm_lifecycle_event is not "install"). Each faked
// run leaves a line in KGWTTM_FAKE_LOG, so a test knows the fake was applied.
const fakePlatform = join(work, 'fake-platform.cjs');
writeFileSync(
  fakePlatform,
  `if (process.env.KGWTTM_FAKE_PLATFORM && (process.env.KGWTTM_FAKE_ALWAYS || process.env.npm_lifecycle_event === 'install')) {
     Object.defineProperty(process, 'platform', { value: process.env.KGWTTM_FAKE_PLATFORM });
     if (process.env.KGWTTM_FAKE_LOG) require('node:fs').appendFileSync(process.env.KGWTTM_FAKE_LOG, process.argv.slice(1).join(' ') + '\\n');
   }\n`,
);

interface Install {
  status: number | null;
  output: string;
  installed: string;
}

/** `npm install TARBALL` into a new application folder, with npm's own output kept (default log level). */
function install(name: string, from: string, env: NodeJS.ProcessEnv, ...args: string[]): Install {
  const app = join(work, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: basename(app), version: '1.0.0', private: true }));
  const run = spawnSync(process.execPath, [npmCli(), 'install', '--prefer-offline', '--no-audit', '--no-fund', ...args, from], {
    cwd: app,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: run.status, output: run.stdout + run.stderr, installed: join(app, 'node_modules', 'kgwttm') };
}

/** npm's own lines about install scripts (the advisory any package with an install step gets from npm 11), left out. */
const ownLines = (output: string): string[] =>
  output.split('\n').filter((line) => line.trim() !== '' && !/^npm warn install-scripts/.test(line) && !/^added \d+ packages?/.test(line));

for (const platform of ['darwin', 'win32']) {
  t.test(`on ${platform} (faked for the install step) the install passes silently and builds nothing, without a compiler`, async (t) => {
    const log = join(work, `fake-${platform}.log`);
    const run = install(`app-${platform}`, sourceOnly, {
      PATH: noCompiler,
      NODE_OPTIONS: `--require ${fakePlatform}`,
      KGWTTM_FAKE_PLATFORM: platform,
      KGWTTM_FAKE_LOG: log,
    });
    t.equal(run.status, 0, run.output);
    t.match(readFileSync(log, 'utf8'), /scripts\/install\.js/, 'the install script ran, on the faked platform');
    t.same(ownLines(run.output), [], 'nothing said but npm’s own summary');
    t.notOk(existsSync(join(run.installed, 'build')), 'nothing built');
    // The application on that platform: null, no addon.
    const answer = execFileSync(
      process.execPath,
      ['-e', `const net = require('node:net'); const { getRealPeer } = require('kgwttm');
        const server = net.createServer((s) => { console.log(JSON.stringify({ platform: process.platform, answer: getRealPeer(s),
          addons: require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith('.node')).length }));
          s.destroy(); server.close(); c.destroy(); });
        let c; server.listen(0, '127.0.0.1', () => { c = net.connect(server.address().port, '127.0.0.1'); });`],
      {
        cwd: join(run.installed, '..', '..'),
        env: { ...process.env, NODE_OPTIONS: `--require ${fakePlatform}`, KGWTTM_FAKE_PLATFORM: platform, KGWTTM_FAKE_ALWAYS: '1' },
        encoding: 'utf8',
      },
    );
    t.same(JSON.parse(answer), { platform, answer: null, addons: 0 }, 'getRealPeer is null and no addon is loaded');
  });
}

const WHAT_TO_DO = [
  /Prebuilt: linux-x64 and linux-arm64 with glibc/,
  /apt-get install g\+\+ make python3/,
  /apk add g\+\+ make python3/,
  /then install again \(or `npm rebuild kgwttm`\)/,
];

t.test('on a Linux without a matching prebuild and without a compiler, the install fails saying what to do, not with a gyp stack', async (t) => {
  const run = install('app-no-toolchain', sourceOnly, { PATH: noCompiler });
  t.not(run.status, 0, 'the install fails');
  t.match(run.output, new RegExp(`kgwttm: no prebuilt addon for linux-${process.arch} \\(glibc, Node [\\d.]+\\), and a C\\+\\+ compiler \\(g\\+\\+\\), make, python3 are not installed to build one\\.`));
  for (const text of WHAT_TO_DO) t.match(run.output, text);
  t.notMatch(run.output, /gyp (ERR!|info)|node-gyp|Traceback|    at /, 'no node-gyp output, no stack');
});

t.test('on musl (Alpine) the glibc prebuilds are passed over: without a compiler the install says so, with one it builds from source', async (t) => {
  const bare = install('app-musl-bare', tarball, { PATH: noCompiler, LIBC: 'musl' });
  t.not(bare.status, 0);
  t.match(bare.output, new RegExp(`kgwttm: no prebuilt addon for linux-${process.arch} \\(musl, `));
  for (const text of WHAT_TO_DO) t.match(bare.output, text);
  const built = install('app-musl', tarball, { LIBC: 'musl' });
  t.equal(built.status, 0, built.output);
  t.ok(existsSync(join(built.installed, 'build', 'Release', 'kgwttm.node')), 'the library’s addon built from source');
  t.ok(existsSync(join(built.installed, 'src', 'cli', 'build', 'Release', 'kgwttm_cli.node')), 'and the CLI’s');
});

t.test('an install that runs no scripts (npm install-scripts deny, --ignore-scripts, pnpm) still loads the prebuild on linux-x64/arm64', async (t) => {
  const run = install('app-no-scripts', tarball, { PATH: noCompiler }, '--ignore-scripts');
  t.equal(run.status, 0, run.output);
  const loaded = execFileSync(
    process.execPath,
    ['-e', "const { getRealPeer } = require('kgwttm'); console.log(require('node-gyp-build').path(require('node:path').dirname(require.resolve('kgwttm/package.json'))))"],
    { cwd: join(run.installed, '..', '..'), encoding: 'utf8' },
  ).trim();
  t.equal(loaded, join(run.installed, 'prebuilds', `linux-${process.arch}`, 'kgwttm.glibc.node'));
});
