// SPDX-License-Identifier: MIT
// The optname asked: 1345, or the loaded module's optname= parameter (it moves
// when Alibaba's vtoa holds 1344-1347), or what the application sets.

import * as net from 'node:net';
import t from 'tap';

import { DEFAULT_OPTNAME, getRealPeer, setOptname } from '../../lib/index.js';
import { binding } from '../../lib/binding.js';
import { loadedModuleOptname } from '../../lib/module-status.js';
import { fakeHost, fakeLoadedHost } from '../lib/cli-fixtures.js';
import { connectPair, countSyscalls } from '../lib/node-fixtures.js';

t.test('without the module the ABI optname 1345 is asked', async (t) => {
  const log = countSyscalls(t);
  const { accepted } = await connectPair(t, net.createServer());
  getRealPeer(accepted);
  t.equal(DEFAULT_OPTNAME, 1345);
  t.same(log.calls.map((call) => call.optname), [1345]);
});

t.test('lib’s default optname is the uapi header’s KGWTTM_SO_GET_PEER', async (t) => {
  t.equal(binding().defaultOptname, DEFAULT_OPTNAME);
});

t.test('setOptname moves the optname for the next connections; undefined moves it back', async (t) => {
  const log = countSyscalls(t);
  t.teardown(() => setOptname(undefined));
  setOptname(1346);
  getRealPeer((await connectPair(t, net.createServer())).accepted);
  setOptname(undefined);
  getRealPeer((await connectPair(t, net.createServer())).accepted);
  t.same(log.calls.map((call) => call.optname), [1346, 1345]);
});

t.test('a loaded module’s optname parameter is the default', async (t) => {
  t.equal(loadedModuleOptname(fakeHost(t)), 1345, 'no module: 1345');
  t.equal(loadedModuleOptname(fakeLoadedHost(t, { optname: null })), 1345, 'a module without the parameter: 1345');
  t.equal(loadedModuleOptname(fakeLoadedHost(t, { optname: '1350' })), 1350);
  t.equal(loadedModuleOptname(fakeLoadedHost(t, { optname: 'garbage' })), 1345, 'an unreadable value: 1345');
});
