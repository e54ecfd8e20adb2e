// SPDX-License-Identifier: MIT
// Doctor's verdict on whether this kernel will load kgwttm.ko at all: Secure
// Boot, kernel lockdown and module.sig_enforce make it refuse unsigned
// modules (the RPM's module is unsigned: every host has its own keys), and
// lockdown=confidentiality refuses kprobes, which the module is built on.
// Each names the way out: a signed module, or the BPF backend (bpf/), which
// needs neither a module nor kprobes.
//
// Read from sysfs only: the lockdown LSM's file, the SecureBoot EFI variable
// (its first four bytes are attributes, the fifth the value), and the
// module subsystem's sig_enforce parameter. A file that is absent means the
// feature is absent (a BIOS boot, a kernel without the lockdown LSM).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { StatusPaths } from '../index.js';
import type { Check } from './check.js';

const SECURE_BOOT_VAR = 'SecureBoot-8be4df61-93ca-11d2-aa0d-e0988cb9e0e4';
const BPF_WAY = 'the BPF backend (bpf/, kgwttm-bpf attach) needs no module and no kprobes';
const SIGN_WAY =
  "build a signed kgwttm.ko with kmod/build.sh --sign KEY.priv CERT.der (the kernel's scripts/sign-file) and enrol the certificate with mokutil --import CERT.der and a reboot, or install kgwttm-dkms (DKMS 3 signs with its own MOK key, /var/lib/dkms/mok.pub, enrolled the same way)";

export interface SigningState {
  /** The lockdown mode in force (`none`, `integrity`, `confidentiality`), null without the lockdown LSM. */
  lockdown: string | null;
  /** Whether the firmware booted with Secure Boot on; null without EFI variables. */
  secureBoot: boolean | null;
  /** module.sig_enforce; null where the kernel has no module signing. */
  sigEnforce: boolean | null;
}

function read(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

export function readSigningState(paths: StatusPaths = {}): SigningState {
  const sys = paths.sys ?? '/sys';
  // "none [integrity] confidentiality": the mode in force is bracketed.
  const lockdown = read(join(sys, 'kernel', 'security', 'lockdown'));
  const secureBoot = read(join(sys, 'firmware', 'efi', 'efivars', SECURE_BOOT_VAR));
  const sigEnforce = read(join(sys, 'module', 'module', 'parameters', 'sig_enforce'));
  return {
    lockdown: lockdown === null ? null : (/\[(\w+)\]/.exec(lockdown.toString('utf8'))?.[1] ?? null),
    secureBoot: secureBoot === null || secureBoot.length < 5 ? null : secureBoot[4] === 1,
    sigEnforce: sigEnforce === null ? null : sigEnforce.toString('utf8').trim() === 'Y',
  };
}

export function signingCheck(state: SigningState, loaded: boolean): Check {
  const name = 'signing';
  if (state.lockdown === 'confidentiality')
    return {
      name,
      status: loaded ? 'warn' : 'fail',
      message: `kernel lockdown is confidentiality: the kernel refuses kprobes, which kgwttm.ko needs${loaded ? ' (it is loaded: lockdown came after it)' : ''}`,
      fix: `boot with lockdown=integrity or none; or ${BPF_WAY}`,
    };
  const why = [
    state.secureBoot === true ? 'Secure Boot is on' : '',
    state.lockdown === 'integrity' ? 'kernel lockdown is integrity' : '',
    state.sigEnforce === true ? 'module.sig_enforce=Y' : '',
  ].filter((reason) => reason !== '');
  if (why.length === 0)
    return { name, status: 'ok', message: 'the kernel loads unsigned modules (no Secure Boot, no lockdown, no module.sig_enforce)' };
  if (loaded)
    return { name, status: 'ok', message: `${why.join(', ')}: the kernel loads only signed modules, and kgwttm is loaded, so its signature was accepted` };
  return {
    name,
    status: 'warn',
    message: `${why.join(', ')}: the kernel loads only signed modules, and the RPM's kgwttm.ko is unsigned (modprobe: "Key was rejected by service")`,
    fix: `${SIGN_WAY}; or ${BPF_WAY}`,
  };
}
