// What a backend host gets from `npm install kgwttm`: the packed tarball holds
// the built API, the sources and a prebuild, and nothing else; installed into
// an empty folder with no compiler on PATH it loads the prebuild; without a
// prebuild it builds from source. Packing and installing: test/lib/npm-pack.ts.
// test/run.ts packs once for the whole run (the guest suites install it too)
// and passes the tarball in KGWTTM_PACKAGE_TARBALL; run alone, this suite packs.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { installInto, pack } from '../lib/npm-pack.js';

// Packing builds the API and a prebuild; one install compiles the addon.
t.setTimeout(10 * 60 * 1000);

const repo = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'kgwttm-pack-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function tarList(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
}

// What the installed package loads and answers, asked from inside the application.
function probe(app: string): { loaded: string; answer: unknown } {
  const script = `
    const net = require('node:net');
    const { getRealPeer } = require('kgwttm');
    const loaded = require('node-gyp-build').path(require('node:path').dirname(require.resolve('kgwttm/package.json')));
    const server = net.createServer((socket) => {
      console.log(JSON.stringify({ loaded, answer: getRealPeer(socket) }));
      socket.destroy(); server.close(); client.destroy();
    });
    let client;
    server.listen(0, '127.0.0.1', () => { client = net.connect(server.address().port, '127.0.0.1'); });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' })) as {
    loaded: string;
    answer: unknown;
  };
}

// A PATH with node and sh (npm runs install scripts with it) and nothing
// else: no cc, c++, make or python.
const noCompiler = join(work, 'bin');
mkdirSync(noCompiler);
symlinkSync(process.execPath, join(noCompiler, 'node'));
symlinkSync('/bin/sh', join(noCompiler, 'sh'));
const noCompilerEnv = { ...process.env, PATH: noCompiler };

const tarball = process.env.KGWTTM_PACKAGE_TARBALL || pack(repo, join(work, 'packed'));

t.test('the tarball holds the API, the sources and a prebuild, and nothing else', async (t) => {
  const files = tarList(tarball);
  for (const expected of [
    'package/package.json',
    'package/binding.gyp',
    'package/src/kgwttm.cc',
    'package/src/tun.cc',
    'package/kmod/uapi/kgwttm.h',
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/dist/index.mjs',
    'package/dist/index.d.mts',
    'package/dist/cli/main.js',
    'package/dist/cli/roundtrip-child.js',
    `package/prebuilds/${process.platform}-${process.arch}/kgwttm.node`,
  ])
    t.ok(files.includes(expected), expected);
  const allowed = /^package\/(package\.json|binding\.gyp|README\.md|LICENSE|src\/|kmod\/uapi\/kgwttm\.h$|dist\/|prebuilds\/)/;
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
  const { loaded, answer } = probe(app);
  t.equal(loaded, join(installed, 'prebuilds', `${process.platform}-${process.arch}`, 'kgwttm.node'));
  t.equal(answer, null, 'it answers (no module on this host)');
  const esm = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "import { getRealPeer, moduleStatus } from 'kgwttm'; console.log(typeof getRealPeer, moduleStatus().loaded)"],
    { cwd: app, encoding: 'utf8' },
  );
  t.equal(esm, 'function false\n', 'import works as well as require');
});

t.test('without a prebuild for the platform, it builds from source', async (t) => {
  // The same package, minus its prebuilds/.
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true });
  const sourceOnly = pack(join(unpacked, 'package'), join(work, 'source-only'), true);
  t.notOk(tarList(sourceOnly).some((file) => file.startsWith('package/prebuilds/')), 'no prebuild in this tarball');
  const app = installInto(join(work, 'app-source'), sourceOnly);
  const installed = join(app, 'node_modules', 'kgwttm');
  const { loaded, answer } = probe(app);
  t.equal(loaded, join(installed, 'build', 'Release', 'kgwttm.node'));
  t.equal(answer, null);
  t.ok(readdirSync(join(installed, 'build', 'Release')).includes('kgwttm.node'));
});
