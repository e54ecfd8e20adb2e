// kgwttm: the real client address of connections that came through a FULLNAT
// load balancer, as the kgwttm kernel module reports it. See README.md.

export {
  getRealPeer,
  getClientPeer,
  getSocketPeer,
  setOptname,
  type Peer,
  type ClientPeer,
  type Family,
  type Connection,
  type SystemError,
} from './peer.js';
export { trustLoadBalancer } from './trust.js';
export {
  moduleStatus,
  isModuleLoaded,
  DEFAULT_OPTNAME,
  type ModuleStatus,
  type StatusPaths,
} from './module-status.js';
