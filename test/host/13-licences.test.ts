// SPDX-License-Identifier: MIT
// Every source file the repository tracks says its licence in an SPDX header
// (first line, or the second after a #! line), and the licence is the one its
// part of the tree has (README "Licences"):
//   kernel code: kmod/, bpf/, test/kmod/ and every BPF program (*.bpf.c)
//     GPL-2.0-only: the module uses GPL-only kernel symbols, and the verifier
//     gives GPL-only helpers to GPL-compatible programs only;
//   kmod/uapi/: (GPL-2.0-only WITH Linux-syscall-note) OR MIT, the ABI that
//     userspace includes (the addon, the nginx modules, C clients);
//   nginx/: BSD-2-Clause, nginx's own licence;
//   everything else (lib/, src/, scripts/, examples/, bench/, demo/, test/):
//     MIT, which npm users' dependency checks accept.
// Each licence named has its text in LICENSES/, and package.json's "license"
// is what the files `npm pack` ships allow together.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import { npm } from '../lib/npm-pack.js';

// npm pack --dry-run takes seconds, more on a machine busy with VMs.
t.setTimeout(5 * 60 * 1000);

const root = join(__dirname, '..', '..');
const GPL = 'GPL-2.0-only';
const UAPI = '(GPL-2.0-only WITH Linux-syscall-note) OR MIT';

function expectedLicence(path: string): string {
  if (path.startsWith('kmod/uapi/')) return UAPI;
  if (path.endsWith('.bpf.c') || /^(kmod|bpf|test\/kmod)\//.test(path)) return GPL;
  if (path.startsWith('nginx/')) return 'BSD-2-Clause';
  return 'MIT';
}

function isScript(path: string): boolean {
  return readFileSync(join(root, path)).subarray(0, 2).toString() === '#!';
}

// Source: code by its extension or name, the nginx addon's shell fragment, and any #! script.
function isSource(path: string): boolean {
  if (!existsSync(join(root, path)) || !statSync(join(root, path)).isFile()) return false;
  return /\.(c|h|cc|ts|mts|cts|js|mjs|cjs|py|sh|gyp|spec)$/.test(path) ||
    ['Makefile', 'Kbuild'].includes(basename(path)) || path === 'nginx/config' || isScript(path);
}

/** The SPDX expression of a file's header line, or undefined. */
function headerLicence(path: string): string | undefined {
  const lines = readFileSync(join(root, path), 'utf8').split('\n');
  const line = lines[isScript(path) ? 1 : 0] ?? '';
  return /^(?:\/\/|#|\/\*) SPDX-License-Identifier: (.+?)(?: \*\/)?$/.exec(line)?.[1];
}

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(isSource);

t.test('every tracked source file starts with an SPDX-License-Identifier line', async (t) => {
  const missing = tracked.filter((path) => headerLicence(path) === undefined);
  t.same(missing, [], `add "SPDX-License-Identifier: <licence>" as the first line (after #!) of: ${missing.join(', ')}`);
  t.ok(tracked.length > 150, `${tracked.length} source files checked`);
});

t.test("each file's licence is the one of its part of the tree", async (t) => {
  const wrong = tracked
    .filter((path) => headerLicence(path) !== undefined && headerLicence(path) !== expectedLicence(path))
    .map((path) => `${path}: ${headerLicence(path)}, want ${expectedLicence(path)}`);
  t.same(wrong, []);
});

t.test('every licence named has its text in LICENSES/, and LICENSE is the MIT text', async (t) => {
  const ids = new Set(tracked.flatMap((path) => (headerLicence(path) ?? '').split(/[\s()]+/))
    .filter((id) => id !== '' && !['OR', 'AND', 'WITH'].includes(id)));
  for (const id of ids) t.ok(existsSync(join(root, 'LICENSES', `${id}.txt`)), `LICENSES/${id}.txt`);
  // npm and GitHub read the top-level LICENSE as the package's licence.
  t.equal(readFileSync(join(root, 'LICENSE'), 'utf8'), readFileSync(join(root, 'LICENSES', 'MIT.txt'), 'utf8'));
});

// The kernel reads these strings, not the SPDX lines: "GPL" means GPL v2 to
// MODULE_LICENSE, and a BPF program's licence section must be GPL-compatible.
t.test('the module and the BPF programs declare GPL to the kernel', async (t) => {
  t.match(readFileSync(join(root, 'kmod', 'main.c'), 'utf8'), /^MODULE_LICENSE\("GPL"\);$/m);
  for (const path of tracked.filter((p) => p.endsWith('.bpf.c')))
    t.match(readFileSync(join(root, path), 'utf8'), /SEC\("license"\) = "GPL";/, path);
});

t.test("the RPM specs' License: tags are GPL-2.0-only", async (t) => {
  for (const spec of tracked.filter((path) => path.endsWith('.spec'))) {
    const tags = readFileSync(join(root, spec), 'utf8').match(/^License:.*$/gm) ?? [];
    t.ok(tags.length > 0, `${spec} has a License: tag`);
    for (const tag of tags) t.equal(tag.replace(/^License:\s*/, ''), GPL, spec);
  }
});

// Built files carry the licence of what they are built from: dist/ from lib/,
// the prebuilt addons from src/.
function shippedLicence(path: string): string | undefined {
  if (/^(dist|prebuilds|src\/cli\/prebuilds)\//.test(path)) return 'MIT';
  if (['package.json', 'README.md', 'LICENSE'].includes(path)) return undefined;
  return isSource(path) ? expectedLicence(path) : undefined;
}

t.test("package.json's licence is what the npm tarball's files allow together", async (t) => {
  const output = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root);
  const [info] = JSON.parse(output.slice(output.indexOf('['))) as Array<{ files: Array<{ path: string }> }>;
  const files = (info?.files ?? []).map((file) => file.path);
  t.ok(files.length > 0, `${files.length} files in the tarball`);
  // A file offered under MIT among others ships as MIT; any other adds its licence.
  const needed = new Set(files.map(shippedLicence).filter((l): l is string => l !== undefined)
    .map((l) => (l === 'MIT' || l.endsWith(' OR MIT') ? 'MIT' : l)));
  const expected = ['MIT', ...[...needed].filter((l) => l !== 'MIT').sort()].join(' AND ');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string };
  t.equal(pkg.license, expected, `the tarball ships: ${[...needed].join(', ')}`);
});
