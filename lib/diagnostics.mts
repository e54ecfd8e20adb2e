// SPDX-License-Identifier: MIT
// The ESM entry of kgwttm/diagnostics: the CommonJS build re-exported, so
// that `import` and `require` share one addon and one optname state.

export * from './diagnostics.js';
