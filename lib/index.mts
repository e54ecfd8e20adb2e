// The ESM entry: the CommonJS build re-exported, so that `import` and
// `require` share one cache and one set of trusted servers.

export {
  getRealPeer,
  getClientPeer,
  getSocketPeer,
  setOptname,
  trustLoadBalancer,
  moduleStatus,
  isModuleLoaded,
  DEFAULT_OPTNAME,
  type Peer,
  type ClientPeer,
  type Family,
  type Connection,
  type SystemError,
  type ModuleStatus,
  type StatusPaths,
} from './index.js';
