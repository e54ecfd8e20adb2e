// SPDX-License-Identifier: MIT
// The README's API section is the user's contract: every export of the
// package has its heading there, every heading names a real export, and each
// function's parameters are spelled as in its declaration (optional ones with
// a `?`), read from the TypeScript sources with the compiler's own parser.
// The same for the Diagnostics section and kgwttm/diagnostics.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import ts from 'typescript';

import * as diagnostics from '../../lib/diagnostics.js';
import * as api from '../../lib/index.js';

const root = join(__dirname, '..', '..');

interface Heading {
  name: string;
  params: string[] | undefined;
}

function readmeHeadings(title: string): Heading[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = new RegExp(`^### ${title}\\n([\\s\\S]*?)(?=^## |^### )`, 'm').exec(readme);
  if (!section) throw new Error(`README.md has no "### ${title}" section`);
  const body = section[1] ?? '';
  return [...body.matchAll(/^#### (\w+)(?:\(([^)]*)\))?$/gm)].map(([, name = '', params]) => ({
    name,
    params: params === undefined ? undefined : params.split(',').map((p) => p.trim()).filter(Boolean),
  }));
}

// name -> parameter list as the README spells it (`name` or `name?`).
function declaredFunctions(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const libDir = join(root, 'lib');
  for (const file of readdirSync(libDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(join(libDir, file), 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (!ts.isFunctionDeclaration(statement) || statement.name === undefined) continue;
      const exported = statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
      if (!exported) continue;
      found.set(
        statement.name.text,
        statement.parameters.map((p) => p.name.getText(source) + (p.questionToken || p.initializer ? '?' : '')),
      );
    }
  }
  return found;
}

const declared = declaredFunctions();

for (const [title, entry, exports] of [
  ['API', 'kgwttm', api],
  ['Diagnostics', 'kgwttm/diagnostics', diagnostics],
] as const) {
  const headings = readmeHeadings(title);
  const runtimeExports = Object.keys(exports).filter((name) => name !== 'default').sort();

  t.test(`every runtime export of ${entry} has a README ${title} heading, and nothing else does`, async (t) => {
    t.same(headings.map((h) => h.name).sort(), runtimeExports);
  });

  t.test(`each function documented under ${title} has the parameters of its declaration`, async (t) => {
    for (const heading of headings) {
      const value: unknown = (exports as Record<string, unknown>)[heading.name];
      if (typeof value !== 'function') {
        t.equal(heading.params, undefined, `${heading.name} is not a function: no parameter list`);
        continue;
      }
      t.same(heading.params, declared.get(heading.name), `${heading.name}(${(declared.get(heading.name) ?? []).join(', ')})`);
    }
  });
}
