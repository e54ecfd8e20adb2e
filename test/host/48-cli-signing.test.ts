// SPDX-License-Identifier: MIT
// Doctor's signing check: whether this kernel will load kgwttm.ko at all
// (Secure Boot, kernel lockdown, module.sig_enforce), and the way out it
// names, from sysfs trees written for the test (the shared fake host, plus
// the lockdown file, the SecureBoot EFI variable and sig_enforce).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';

import { doctor, type Check } from '../../lib/cli/doctor.js';
import { readSigningState, signingCheck } from '../../lib/cli/signing.js';
import { fakeLoadedHost } from '../lib/cli-fixtures.js';

interface Firmware {
  lockdown?: string;
  /** The SecureBoot variable's value byte, after its four attribute bytes. */
  secureBoot?: 0 | 1;
  sigEnforce?: 'Y' | 'N';
}

function write(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, data);
}

function withFirmware(sys: string, { lockdown, secureBoot, sigEnforce }: Firmware): void {
  if (lockdown !== undefined) write(join(sys, 'kernel', 'security', 'lockdown'), `${lockdown}\n`);
  if (secureBoot !== undefined)
    write(join(sys, 'firmware', 'efi', 'efivars', 'SecureBoot-8be4df61-93ca-11d2-aa0d-e0988cb9e0e4'), Uint8Array.of(6, 0, 0, 0, secureBoot));
  if (sigEnforce !== undefined) write(join(sys, 'module', 'module', 'parameters', 'sig_enforce'), `${sigEnforce}\n`);
}

function bareSys(t: Test): string {
  const sys = mkdtempSync(join(tmpdir(), 'kgwttm-signing-'));
  t.teardown(() => rmSync(sys, { recursive: true, force: true }));
  return sys;
}

const probe = async (): Promise<{ answered: true; errno: string }> => ({ answered: true, errno: 'ENOPROTOOPT' });

t.test('the state as sysfs shows it: the bracketed lockdown mode, the EFI variable’s fifth byte, sig_enforce', async (t) => {
  const sys = bareSys(t);
  t.same(readSigningState({ sys }), { lockdown: null, secureBoot: null, sigEnforce: null }, 'nothing there: a BIOS boot without lockdown');
  withFirmware(sys, { lockdown: 'none [integrity] confidentiality', secureBoot: 1, sigEnforce: 'Y' });
  t.same(readSigningState({ sys }), { lockdown: 'integrity', secureBoot: true, sigEnforce: true });
  withFirmware(sys, { lockdown: '[none] integrity confidentiality', secureBoot: 0, sigEnforce: 'N' });
  t.same(readSigningState({ sys }), { lockdown: 'none', secureBoot: false, sigEnforce: false });
});

t.test('unsigned modules load: ok', async (t) => {
  t.match(signingCheck({ lockdown: 'none', secureBoot: false, sigEnforce: false }, false), { status: 'ok', message: /loads unsigned modules/ });
  t.match(signingCheck({ lockdown: null, secureBoot: null, sigEnforce: null }, false), { status: 'ok' });
});

t.test('Secure Boot, lockdown=integrity or sig_enforce without the module loaded: warn, naming a signed module and the BPF backend', async (t) => {
  for (const [state, reason] of [
    [{ lockdown: 'none', secureBoot: true, sigEnforce: false }, /^Secure Boot is on: /],
    [{ lockdown: 'integrity', secureBoot: null, sigEnforce: false }, /^kernel lockdown is integrity: /],
    [{ lockdown: null, secureBoot: null, sigEnforce: true }, /^module\.sig_enforce=Y: /],
  ] as const) {
    const check = signingCheck(state, false);
    t.match(check, { status: 'warn', message: reason });
    t.match(check.message, /the kernel loads only signed modules, and the RPM's kgwttm\.ko is unsigned/);
    t.match(check.fix, /kmod\/build\.sh --sign.*scripts\/sign-file.*mokutil --import.*kgwttm-dkms \(DKMS 3 signs.*BPF backend/);
  }
  t.match(signingCheck({ lockdown: 'integrity', secureBoot: true, sigEnforce: true }, true), {
    status: 'ok',
    message: /^Secure Boot is on, kernel lockdown is integrity, module\.sig_enforce=Y: .*kgwttm is loaded, so its signature was accepted$/,
  });
});

t.test('lockdown=confidentiality refuses kprobes: fail, the BPF backend named', async (t) => {
  const check = signingCheck({ lockdown: 'confidentiality', secureBoot: true, sigEnforce: true }, false);
  t.match(check, { status: 'fail', message: /refuses kprobes, which kgwttm\.ko needs$/, fix: /BPF backend/ });
  t.equal(signingCheck({ lockdown: 'confidentiality', secureBoot: null, sigEnforce: null }, true).status, 'warn', 'loaded before lockdown: warn');
});

t.test('doctor reads it from the sys root it is given, beside the other checks', async (t) => {
  const { proc, sys } = fakeLoadedHost(t);
  withFirmware(sys, { lockdown: 'none [integrity] confidentiality' });
  const loaded = await doctor({ proc, sys, probe, roundTrip: async () => ({ ran: false, reason: 'not here' }), betweenSamples: async () => {} });
  t.match(loaded.checks.find((check: Check) => check.name === 'signing'), { status: 'ok', message: /signature was accepted/ });
  const notLoaded = bareSys(t);
  withFirmware(notLoaded, { secureBoot: 1 });
  const report = await doctor({ proc: notLoaded, sys: notLoaded, probe, betweenSamples: async () => {} });
  t.match(report.checks.find((check: Check) => check.name === 'signing'), { status: 'warn', message: /^Secure Boot is on: / });
});
