// SPDX-License-Identifier: MIT
// kgwttm: the real client address of connections that came through a FULLNAT
// load balancer, as the kgwttm kernel module reports it. See README.md.
//
// What an application loads: this API and the one addon call under it
// (src/kgwttm.cc). The operator CLI (lib/cli/) is built on these exports and
// on kgwttm/diagnostics; nothing here imports it.

export { getRealPeer } from './real-peer.js';
export { getClientPeer, type ClientPeer } from './client-peer.js';
export { getSocketPeer } from './socket-peer.js';
export { setOptname } from './optname.js';
export { trustLoadBalancer } from './remote-address.js';
export type { Peer, Family } from './peer-record.js';
export type { Connection } from './connection.js';
export type { SystemError } from './system-error.js';
export {
  moduleStatus,
  isModuleLoaded,
  DEFAULT_OPTNAME,
  type ModuleStatus,
  type StatusPaths,
} from './module-status.js';
