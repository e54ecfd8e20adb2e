// SPDX-License-Identifier: MIT
// node-gyp-build ships no types; this is the one call lib/binding.ts makes.
declare module 'node-gyp-build' {
  function load(dir: string): unknown;
  export = load;
}
