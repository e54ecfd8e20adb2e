// SPDX-License-Identifier: MIT
// What a backend host gets from `npm install kgwttm`: the packed tarball holds
// the built API, the sources and the prebuilds of both addons (the library's
// and the operator CLI's), and nothing else; installed into an empty folder
// with no compiler on PATH it loads the library's prebuild and nothing more (no
// TUN code in an application's process), and `npx kgwttm doctor` works there;
// without prebuilds it builds both from source. Packing and installing:
// test/lib/npm-pack.ts.
// test/run.ts packs once for the whole run (the guest suites install it too)
// and passes the tarball in KGWTTM_PACKAGE_TARBALL; run alone, this suite packs.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { installInto, npmCli, packedTarball, sourceOnlyTarball } from '../lib/npm-pack.js';

// Packing builds the API and a prebuild; one install compiles the addon.
t.setTimeout(10 * 60 * 1000);

const repo = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'kgwttm-pack-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function tarList(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
}

interface Probe {
  /** The addon node-gyp-build picks for the package. */
  loaded: string;
  answer: unknown;
  /** Every native addon (.node) mapped into the application's process once it asked. */
  mapped: string[];
}

// What the installed package loads and answers, asked from inside the application.
function probe(app: string): Probe {
  const script = `
    const net = require('node:net');
    const { getRealPeer } = require('kgwttm');
    const loaded = require('node-gyp-build').path(require('node:path').dirname(require.resolve('kgwttm/package.json')));
    const server = net.createServer((socket) => {
      const answer = getRealPeer(socket);
      const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n');
      const mapped = [...new Set(maps.map((line) => line.split(/\\s+/)[5]).filter((file) => /\\.node$/.test(file ?? '')))];
      console.log(JSON.stringify({ loaded, answer, mapped }));
      socket.destroy(); server.close(); client.destroy();
    });
    let client;
    server.listen(0, '127.0.0.1', () => { client = net.connect(server.address().port, '127.0.0.1'); });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' })) as Probe;
}

const prebuild = (name: string): string => `${process.platform}-${process.arch}/${name}.glibc.node`;

// A PATH with node and sh (npm runs install scripts with it) and nothing
// else: no cc, c++, make or python.
const noCompiler = join(work, 'bin');
mkdirSync(noCompiler);
symlinkSync(process.execPath, join(noCompiler, 'node'));
symlinkSync('/bin/sh', join(noCompiler, 'sh'));
const noCompilerEnv = { ...process.env, PATH: noCompiler };

const tarball = packedTarball(repo, work);

t.test('the tarball holds the API, the sources and the prebuilds of both addons, and nothing else', async (t) => {
  const files = tarList(tarball);
  for (const expected of [
    'package/package.json',
    'package/binding.gyp',
    'package/src/kgwttm.cc',
    'package/src/cli/binding.gyp',
    'package/src/cli/tun.cc',
    'package/scripts/install.js',
    'package/kmod/uapi/kgwttm.h',
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/dist/index.mjs',
    'package/dist/index.d.mts',
    'package/dist/diagnostics.js',
    'package/dist/diagnostics.d.ts',
    'package/dist/diagnostics.mjs',
    'package/dist/cli/main.js',
    'package/dist/cli/roundtrip-child.js',
    `package/prebuilds/${prebuild('kgwttm')}`,
    `package/src/cli/prebuilds/${prebuild('kgwttm_cli')}`,
  ])
    t.ok(files.includes(expected), expected);
  const allowed =
    /^package\/(package\.json|binding\.gyp|README\.md|LICENSE|src\/kgwttm\.cc$|src\/cli\/(binding\.gyp|tun\.cc|prebuilds\/)|scripts\/install\.js$|kmod\/uapi\/kgwttm\.h$|dist\/|prebuilds\/)/;
  t.same(files.filter((file) => !allowed.test(file)), [], 'no tests, lib/ sources, build debris or examples');
});

t.test('installed on a host without a compiler, it loads its prebuild', async (t) => {
  t.equal(
    execFileSync('/bin/sh', ['-c', 'command -v cc c++ g++ make python3 || true'], { env: noCompilerEnv, encoding: 'utf8' }),
    '',
    'no compiler on PATH',
  );
  const app = installInto(join(work, 'app-prebuild'), tarball, noCompilerEnv);
  const installed = join(app, 'node_modules', 'kgwttm');
  t.notOk(existsSync(join(installed, 'build')), 'nothing was built');
  const { loaded, answer, mapped } = probe(app);
  t.equal(loaded, join(installed, 'prebuilds', prebuild('kgwttm')));
  t.equal(answer, null, 'it answers (no module on this host)');
  t.same(mapped, [loaded], "the application's process maps the library's addon and no other");
  const library = readFileSync(loaded, 'latin1');
  for (const text of ['setTun', 'TUNSETIFF', 'ioctl', '/dev/net/tun'])
    t.notOk(library.includes(text), `no "${text}" in the library's addon: no TUN code`);
  const esm = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import kgwttm, { getRealPeer, moduleStatus } from 'kgwttm'; import { queryPeer } from 'kgwttm/diagnostics'; console.log(typeof getRealPeer, moduleStatus().loaded, kgwttm.getRealPeer === getRealPeer, typeof queryPeer)",
    ],
    { cwd: app, encoding: 'utf8' },
  );
  t.equal(esm, 'function false true function\n', 'import works as well as require: named, default (import kgwttm from), and kgwttm/diagnostics');
});

t.test('the operator CLI as an application installs it: npx kgwttm doctor answers, on the CLI’s own prebuild', async (t) => {
  const app = join(work, 'app-prebuild');
  const doctor = spawnSync(process.execPath, [npmCli(), 'exec', '--no', '--', 'kgwttm', 'doctor', '--json'], { cwd: app, encoding: 'utf8' });
  t.equal(doctor.status, 3, `exit 3: the module is not loaded here${doctor.stderr ? `: ${doctor.stderr}` : ''}`);
  const report = JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; message: string }> };
  t.match(report.checks.find((check) => check.name === 'optname'), { status: 'ok', message: /ENOPROTOOPT/ });
  const installed = join(app, 'node_modules', 'kgwttm');
  const cliAddon = execFileSync(process.execPath, ['-p', "require('node-gyp-build').path(require('node:path').join(require('node:path').dirname(require.resolve('kgwttm/package.json')), 'src', 'cli'))"], {
    cwd: app,
    encoding: 'utf8',
  }).trim();
  t.equal(cliAddon, join(installed, 'src', 'cli', 'prebuilds', prebuild('kgwttm_cli')));
});

t.test('without a prebuild for the platform, it builds both addons from source', async (t) => {
  const sourceOnly = sourceOnlyTarball(tarball, work);
  t.notOk(tarList(sourceOnly).some((file) => file.includes('prebuilds/')), 'no prebuild in this tarball');
  const app = installInto(join(work, 'app-source'), sourceOnly);
  const installed = join(app, 'node_modules', 'kgwttm');
  const { loaded, answer } = probe(app);
  t.equal(loaded, join(installed, 'build', 'Release', 'kgwttm.node'));
  t.equal(answer, null);
  t.ok(readdirSync(join(installed, 'src', 'cli', 'build', 'Release')).includes('kgwttm_cli.node'), "the CLI's addon too");
});
