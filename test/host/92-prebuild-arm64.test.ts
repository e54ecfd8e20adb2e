// SPDX-License-Identifier: MIT
// linux-arm64 (Graviton, Kunpeng, Yitian hosts): the package's arm64
// prebuilds, cross-compiled by scripts/prebuilds.sh, are AArch64, stripped,
// and call Node only through N-API; and an arm64 Node (Debian's nodejs with
// its libraries, unpacked by scripts/provision-arm64.sh) run by qemu-aarch64
// loads them from an installed copy of the package. qemu-user hands the
// syscalls to this host's kernel, which has no kgwttm module: getRealPeer is
// null through the real ENOPROTOOPT, the CLI's addon answers with a negated
// errno, the install step finds the prebuild and builds nothing, and the
// decoder's table (test/lib/peer-record-cases.ts) decodes the same on arm64.
// Every prebuild, x64 too, asks only for symbol versions that RHEL 8's glibc
// and libstdc++ have.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { PEER_RECORD_CASES } from '../lib/peer-record-cases.js';
import { installInto, packedTarball } from '../lib/npm-pack.js';

t.setTimeout(10 * 60 * 1000); // qemu-user runs an arm64 Node several times slower

const repo = join(__dirname, '..', '..');
const sysroot = process.env.KGWTTM_ARM64_SYSROOT ?? join(repo, '.cache', 'arm64', 'root');
const work = mkdtempSync(join(tmpdir(), 'kgwttm-arm64-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

if (!existsSync(join(sysroot, '.done')))
  throw new Error(`no arm64 sysroot in ${sysroot}: scripts/provision-arm64.sh (run by npm test's setup) makes it`);

const tarball = packedTarball(repo, work);
const app = installInto(join(work, 'app'), tarball);
const installed = join(app, 'node_modules', 'kgwttm');

const qemu = execFileSync('sh', ['-c', 'command -v qemu-aarch64'], { encoding: 'utf8' }).trim();
const arm64 = (...args: string[]): string[] => ['-L', sysroot, join(sysroot, 'usr', 'bin', 'node'), ...args];

/** Runs `script` in Debian's arm64 node under qemu-aarch64, from the application's folder; its stdout as JSON. */
function arm64Node(script: string, args: string[] = []): unknown {
  // In the application, so that require('kgwttm') finds it as the application's code would.
  const file = join(app, 'arm64-script.js');
  writeFileSync(file, script);
  return JSON.parse(execFileSync(qemu, arm64(file, ...args), { cwd: app, encoding: 'utf8', timeout: 300_000 }));
}

function readelf(...args: string[]): string {
  return execFileSync('readelf', ['-W', ...args], { encoding: 'utf8' });
}

t.test('the arm64 prebuilds are AArch64, stripped, and reach Node only through N-API', async (t) => {
  for (const file of [join(installed, 'prebuilds', 'linux-arm64', 'kgwttm.glibc.node'), join(installed, 'src', 'cli', 'prebuilds', 'linux-arm64', 'kgwttm_cli.glibc.node')]) {
    t.ok(existsSync(file), file);
    t.match(readelf('-h', file), /Machine:\s+AArch64/, 'AArch64');
    t.notMatch(readelf('-S', file), /\.symtab|\.debug_/, 'stripped: no symbol table, no debug sections');
    const undefinedSymbols = readelf('--dyn-syms', file)
      .split('\n')
      .filter((line) => /\sUND\s/.test(line))
      .map((line) => line.trim().split(/\s+/)[7] ?? '')
      .filter((name) => name !== '');
    t.ok(undefinedSymbols.some((name) => name.startsWith('napi_')), 'calls N-API');
    t.same(undefinedSymbols.filter((name) => /v8|node|uv_/.test(name) && !name.startsWith('napi_')), [], 'and no V8, libuv or Node-version symbol');
  }
});

// What RHEL 8 (kernel 4.18, the oldest the module supports) ships: glibc 2.28
// and GCC 8's libstdc++. A prebuild that asks for newer symbol versions would
// not load there.
const OLDEST = { GLIBC: [2, 28], GLIBCXX: [3, 4, 25] } as const;

t.test('every prebuild (x64 and arm64, both addons) asks for no newer glibc or libstdc++ than RHEL 8 has', async (t) => {
  for (const file of ['prebuilds/linux-x64/kgwttm.glibc.node', 'prebuilds/linux-arm64/kgwttm.glibc.node', 'src/cli/prebuilds/linux-x64/kgwttm_cli.glibc.node', 'src/cli/prebuilds/linux-arm64/kgwttm_cli.glibc.node']) {
    const versions = [...readelf('--dyn-syms', join(installed, file)).matchAll(/@+(GLIBC|GLIBCXX)_([\d.]+)/g)].map(([, lib = '', version = '']) => ({ lib, version }));
    const newer = versions.filter(({ lib, version }) => {
      const have = version.split('.').map(Number);
      const limit = OLDEST[lib as keyof typeof OLDEST];
      for (let i = 0; i < limit.length; i++) if ((have[i] ?? 0) !== limit[i]) return (have[i] ?? 0) > limit[i]!;
      return false;
    });
    t.ok(versions.length > 0, `${file}: versioned symbols found`);
    t.same([...new Set(newer.map(({ lib, version }) => `${lib}_${version}`))], [], `${file}: nothing newer than GLIBC_2.28, GLIBCXX_3.4.25`);
  }
});

t.test('an arm64 Node loads the installed package’s arm64 prebuild; getRealPeer is null through the real ENOPROTOOPT', async (t) => {
  const report = arm64Node(`
    const net = require('node:net');
    const { getRealPeer } = require('kgwttm');
    const { queryPeer, socketFd } = require('kgwttm/diagnostics');
    const server = net.createServer((socket) => {
      const real = getRealPeer(socket);
      const query = queryPeer(socketFd(socket), 1345);
      const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n');
      const mapped = [...new Set(maps.map((line) => line.split(/\\s+/)[5]).filter((file) => /\\.node$/.test(file || '')))];
      console.log(JSON.stringify({ arch: process.arch, real, query, mapped }));
      socket.destroy(); server.close(); client.destroy();
    });
    let client;
    server.listen(0, '127.0.0.1', () => { client = net.connect(server.address().port, '127.0.0.1'); });`);
  t.match(report, { arch: 'arm64', real: null, query: { code: 'ENOPROTOOPT', peer: null } });
  t.same((report as { mapped: string[] }).mapped, [join(installed, 'prebuilds', 'linux-arm64', 'kgwttm.glibc.node')], 'the arm64 prebuild, and no other addon');
});

t.test('the CLI’s arm64 addon loads and answers a failing ioctl with a negated errno', async (t) => {
  const report = arm64Node(`
    const { closeSync, openSync } = require('node:fs');
    const { constants } = require('node:os');
    const { cliBinding } = require('./node_modules/kgwttm/dist/cli/native.js');
    const fd = openSync('/dev/null', 'r');
    console.log(JSON.stringify({ result: cliBinding().setTun(fd, 'kgwttm-test'), ENOTTY: constants.errno.ENOTTY }));
    closeSync(fd);`);
  const { result, ENOTTY } = report as { result: number; ENOTTY: number };
  t.equal(result, -ENOTTY);
});

t.test('the install step under an arm64 Node finds the prebuilds: exit 0, silent, nothing built', async (t) => {
  const run = spawnSync(qemu, arm64(join(installed, 'scripts', 'install.js')), {
    cwd: installed,
    encoding: 'utf8',
    env: { ...process.env, PATH: '/nonexistent' }, // no compiler either: a build would fail loudly
  });
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout + run.stderr, '', 'nothing said');
  t.notOk(existsSync(join(installed, 'build')), 'nothing built');
});

t.test('the decoder’s table on arm64', async (t) => {
  const decoded = arm64Node(
    `const { decodePeerRecord } = require('./node_modules/kgwttm/dist/peer-record.js');
     const cases = JSON.parse(process.argv[2]);
     console.log(JSON.stringify(cases.map((record) => decodePeerRecord(Uint8Array.from(record)))));`,
    [JSON.stringify(PEER_RECORD_CASES.map((c) => c.record))],
  ) as unknown[];
  PEER_RECORD_CASES.forEach(({ name, expected }, i) => t.same(decoded[i], expected, name));
});
