// SPDX-License-Identifier: MIT
// Every copy of the ABI outside C reads from one mirror per language, and
// each mirror is checked here against the C headers themselves: the optname
// and the 20-byte struct ttm_peer of kmod/uapi/kgwttm.h, and the formats of
// kmod/toa_parse.h. C programs (examples/c, bench/c, the real-stack
// simulator) include the header. A mirror that drifts fails this suite.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { DEFAULT_OPTNAME } from '../../lib/index.js';
import { PEER_RECORD_BYTES } from '../../lib/peer-record.js';

const root = join(__dirname, '..', '..');

interface HeaderFacts {
  optname: number;
  size: number;
  af: number;
  port: number;
  addr: number;
  formatsKnown: string;
  formatsDefault: string;
}

function headerFacts(): HeaderFacts {
  const dir = mkdtempSync(join(tmpdir(), 'kgwttm-abi-'));
  try {
    const src = join(dir, 'facts.c');
    writeFileSync(src, `#include <stddef.h>
#include <stdio.h>
#include "toa_parse.h"
int main(void)
{
	printf("{\\"optname\\": %d, \\"size\\": %zu, \\"af\\": %zu, \\"port\\": %zu, \\"addr\\": %zu, "
	       "\\"formatsKnown\\": \\"%s\\", \\"formatsDefault\\": \\"%s\\"}\\n",
	       TTM_SO_GET_PEER, sizeof(struct ttm_peer), offsetof(struct ttm_peer, af),
	       offsetof(struct ttm_peer, port), offsetof(struct ttm_peer, all),
	       TOA_FORMATS_KNOWN, TOA_FORMATS_DEFAULT);
	return 0;
}
`);
    const bin = join(dir, 'facts');
    execFileSync('cc', ['-I', join(root, 'kmod'), '-o', bin, src]);
    return JSON.parse(execFileSync(bin, { encoding: 'utf8' })) as HeaderFacts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const facts = headerFacts();

t.test('kmod/uapi/kgwttm.h: optname 1345, a 20-byte record (af 0, port 2, addr 4)', async (t) => {
  t.same([facts.optname, facts.size, facts.af, facts.port, facts.addr], [1345, 20, 0, 2, 4]);
});

t.test('the TypeScript API: DEFAULT_OPTNAME and the record size are the header\'s', async (t) => {
  t.equal(DEFAULT_OPTNAME, facts.optname);
  t.equal(PEER_RECORD_BYTES, facts.size);
});

t.test('test/lib/ttm_abi.py: the optname, the struct and its offsets are the header\'s', async (t) => {
  const py = execFileSync('python3', ['-c', `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(root, 'test', 'lib'))})
import ttm_abi as a
print(json.dumps([a.TTM_SO_GET_PEER, a.PEER.size, a.AF_OFFSET, a.PORT_OFFSET, a.ADDR_OFFSET]))
`], { encoding: 'utf8' });
  t.same(JSON.parse(py), [facts.optname, facts.size, facts.af, facts.port, facts.addr]);
});

t.test('the formats the module knows and accepts by default, as the README lists them', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  t.match(readme, `| \`formats\` | \`${facts.formatsDefault}\` | the (kind:len) options accepted, out of \`${facts.formatsKnown}\` |`);
});
