#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// npm's install step for kgwttm (package.json "install"; shipped in the package).
//
// - Off Linux: nothing to build and nothing to say. The API answers null there
//   (README), so a developer's `npm install` on macOS or Windows must pass
//   without Python or a compiler.
// - On Linux: each addon whose prebuild (or earlier build) loads is left as
//   it is; otherwise it is built from source with node-gyp. Without a
//   toolchain that cannot work, so say what is missing and what to do instead
//   of letting node-gyp fail with a stack of its own.
//
// Two addons: the library's (what applications load) must be there; the
// operator CLI's (src/cli/: the TUN ioctl of `kgwttm doctor`'s round trip)
// only warns when it cannot be built, since applications never load it.
// Plain CommonJS with no dependency but node-gyp-build: it runs before
// anything is built, in a fresh clone (npm ci) as in an application.
'use strict';

const { spawnSync } = require('node:child_process');
const { accessSync, constants, existsSync } = require('node:fs');
const path = require('node:path');

if (process.platform !== 'linux') process.exit(0);

const root = path.join(__dirname, '..');
const ADDONS = [
  { what: 'the kgwttm addon', dir: root, required: true },
  { what: "the kgwttm CLI's addon (kgwttm doctor's round trip)", dir: path.join(root, 'src', 'cli'), required: false },
];

// As node-gyp-build decides it, so that the message names what it looked for.
const libc = process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const platform = `linux-${process.arch} (${libc}, Node ${process.versions.node})`;

function loads(dir) {
  try {
    require(require('node-gyp-build').path(dir));
    return true;
  } catch {
    return false;
  }
}

function onPath(command) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What node-gyp needs and this host lacks. */
function missingTools() {
  const missing = [];
  if (!process.env.CXX && !['c++', 'g++', 'clang++'].some(onPath)) missing.push('a C++ compiler (g++)');
  if (!onPath('make')) missing.push('make');
  if (!process.env.PYTHON && !process.env.npm_config_python && !['python3', 'python'].some(onPath)) missing.push('python3');
  return missing;
}

/** node-gyp: npm's own (npm names it to install scripts), else this package's, else PATH's. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // Not a dependency of applications: npm's own is the usual one.
  }
  const script = candidates.find((file) => file && existsSync(file));
  return script ? [process.execPath, script] : ['node-gyp'];
}

function build(dir) {
  const [command, ...args] = nodeGyp();
  const run = spawnSync(command, [...args, 'rebuild'], { cwd: dir, stdio: 'inherit' });
  return run.status === 0;
}

const fromSource = process.env.npm_config_build_from_source === 'true';
const toBuild = ADDONS.filter((addon) => fromSource || !loads(addon.dir));
if (toBuild.length === 0) process.exit(0);

function noToolchain(missing) {
  return [
    `kgwttm: no prebuilt addon for ${platform}, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed to build one.`,
    '  Prebuilt: linux-x64 and linux-arm64 with glibc. Elsewhere (musl/Alpine, other CPUs) the addon is built',
    '  from source at install, which needs a C++ compiler, make and python3:',
    '    Debian/Ubuntu: apt-get install g++ make python3',
    '    RHEL/Fedora:   dnf install gcc-c++ make python3',
    '    Alpine:        apk add g++ make python3',
    '  then install again (or `npm rebuild kgwttm`).',
  ].join('\n');
}

const missing = missingTools();
if (missing.length > 0) {
  if (toBuild.some((addon) => addon.required)) {
    process.stderr.write(noToolchain(missing) + '\n');
    process.exit(1);
  }
  // Only the CLI's addon is missing: the library works; doctor says why its round trip cannot run.
  process.stderr.write(`kgwttm: ${ADDONS[1].what} is not built (${missing.join(', ')} missing); kgwttm doctor will not run its round trip\n`);
  process.exit(0);
}

for (const addon of toBuild) {
  if (build(addon.dir)) continue;
  if (addon.required) {
    process.stderr.write(`kgwttm: building ${addon.what} from source for ${platform} failed (node-gyp's output is above)\n`);
    process.exit(1);
  }
  process.stderr.write(`kgwttm: building ${addon.what} failed; kgwttm doctor will not run its round trip\n`);
}
