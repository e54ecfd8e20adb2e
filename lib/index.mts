// SPDX-License-Identifier: MIT
// The ESM entry: the CommonJS build re-exported, so that `import` and
// `require` share one cache and one set of trusted servers. The default
// export is that build's exports object, for `import kgwttm from 'kgwttm'`.

import kgwttm from './index.js';

export * from './index.js';
export default kgwttm;
