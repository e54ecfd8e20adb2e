// SPDX-License-Identifier: MIT
// lib/ is a one-way graph, as STYLE.md asks: leaves parse, print or hold one
// piece of state, and the owners above call them; nothing points back up. The
// operator CLI (lib/cli/) stands on the package's public entries only (the
// main one and kgwttm/diagnostics), so that it could move to a package of its
// own unchanged, and nothing the library loads reaches into it. Read from the
// sources with TypeScript's own parser.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import ts from 'typescript';

const root = join(__dirname, '..', '..');
const lib = join(root, 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports. */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier !== undefined)
      found.push((statement.moduleSpecifier as ts.StringLiteral).text);
    else if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference))
      found.push((statement.moduleReference.expression as ts.StringLiteral).text);
  }
  return found;
}

// lib-relative name ('cli/doctor.ts') -> the lib files it imports.
const graph = new Map<string, string[]>();
const external = new Map<string, string[]>();
for (const file of sources(lib)) {
  const name = relative(lib, file);
  const imports = specifiers(file);
  graph.set(
    name,
    imports.filter((s) => s.startsWith('.')).map((s) => relative(lib, resolve(dirname(file), s)).replace(/\.(m?)js$/, '.$1ts')),
  );
  external.set(name, imports.filter((s) => !s.startsWith('.')));
}

t.test('every relative import names a file of lib/', async (t) => {
  const missing = [...graph].flatMap(([from, to]) => to.filter((name) => !graph.has(name)).map((name) => `${from} -> ${name}`));
  t.same(missing, []);
});

t.test('no cycle: every file can be ordered after everything it imports', async (t) => {
  const done = new Set<string>();
  const cycles: string[] = [];
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    if (path.includes(name)) {
      cycles.push([...path.slice(path.indexOf(name)), name].join(' -> '));
      return;
    }
    for (const next of graph.get(name) ?? []) visit(next, [...path, name]);
    done.add(name);
  };
  for (const name of graph.keys()) visit(name, []);
  t.same(cycles, []);
});

t.test('the leaves import nothing of lib/: the decoder owns Peer, errno names have one home', async (t) => {
  for (const leaf of ['peer-record.ts', 'system-error.ts', 'binding.ts', 'module-status.ts', 'stream-sessions.ts'])
    t.same(graph.get(leaf), [], leaf);
});

t.test('the library never imports the CLI', async (t) => {
  const inward = [...graph].filter(([from]) => !from.startsWith('cli/')).flatMap(([from, to]) => to.filter((name) => name.startsWith('cli/')).map((name) => `${from} -> ${name}`));
  t.same(inward, []);
});

t.test('the CLI imports the library only through its public entries (index, diagnostics)', async (t) => {
  const through = [...graph]
    .filter(([from]) => from.startsWith('cli/'))
    .flatMap(([from, to]) => to.filter((name) => !name.startsWith('cli/') && !['index.ts', 'diagnostics.ts'].includes(name)).map((name) => `${from} -> ${name}`));
  t.same(through, []);
});

t.test('each addon has one loader: the library its own, the CLI its own', async (t) => {
  const loaders = [...external].filter(([, imports]) => imports.includes('node-gyp-build')).map(([name]) => name).sort();
  t.same(loaders, ['binding.ts', 'cli/native.ts']);
});
