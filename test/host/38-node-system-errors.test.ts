// SPDX-License-Identifier: MIT
// An errno other than the "no answer" ones is an Error shaped like Node's own
// system errors, so callers can branch on err.code.

import * as net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import t from 'tap';

import { getClientPeer, getRealPeer, type SystemError } from '../../lib/index.js';
import { connectPair, scriptBinding } from '../lib/node-fixtures.js';

const { errno } = constants;

for (const name of ['EACCES', 'EPERM', 'EINVAL', 'EPROTO'] as const) {
  t.test(`getsockopt failing with ${name} throws an Error with code, errno and syscall`, async (t) => {
    scriptBinding(t, () => errno[name]);
    const { accepted } = await connectPair(t, net.createServer());
    let thrown: unknown;
    try {
      getRealPeer(accepted);
    } catch (error) {
      thrown = error;
    }
    t.type(thrown, Error);
    const error = thrown as SystemError;
    t.equal(error.code, name);
    t.equal(error.errno, -errno[name], 'negative, as Node’s system errors');
    t.equal(getSystemErrorName(error.errno), name);
    t.equal(error.syscall, 'getsockopt');
    t.match(error.message, new RegExp(`^${name}: .+, getsockopt$`));
    t.throws(() => getClientPeer(accepted), { code: name }, 'the access-log form throws too');
  });
}

t.test('an errno Node has no name for still throws, as UNKNOWN', async (t) => {
  scriptBinding(t, () => 4000);
  const { accepted } = await connectPair(t, net.createServer());
  t.throws(() => getRealPeer(accepted), { code: 'UNKNOWN', errno: -4000, syscall: 'getsockopt' });
});

t.test('an error is not cached: the next call asks again', async (t) => {
  const log = scriptBinding(t, () => errno.EACCES);
  const { accepted } = await connectPair(t, net.createServer());
  t.throws(() => getRealPeer(accepted));
  t.throws(() => getRealPeer(accepted));
  t.equal(log.calls.length, 2);
});
