// SPDX-License-Identifier: MIT
// `kgwttm doctor`'s round trip, the parent's side: runs lib/cli/roundtrip-child
// in a throwaway network namespace and reads what it saw.
//
// The child needs a TUN device, addresses and a route, which a production host
// must not be given for a health check; in a new network namespace they exist
// only for the child's few hundred milliseconds and vanish with it, and the
// host's interfaces and routes are never touched. The module's kretprobes are
// global, so they read connections in any namespace. As root that is
// `unshare --net`; otherwise `unshare --user --map-root-user --net`, where the
// kernel allows unprivileged user namespaces. Where neither works (no
// unshare, a container without the privilege) the answer says why, and doctor
// reports the round trip as not run.

import { spawn } from 'node:child_process';
import { extname, join } from 'node:path';

import type { Peer } from '../index.js';
import type { CaseName, RoundTripPlan } from './roundtrip-plan.js';

/** What one connection of the plan came out as, on the server's side. */
export interface CaseResult {
  name: CaseName;
  /** What getRealPeer(socket) returned. */
  got: Peer | null;
  /** The accepted socket's remoteAddress and remotePort (getpeername, after the module's rewrite). */
  remoteAddress: string | null;
  remotePort: number | null;
  /** Why the connection did not get as far as asking (no SYN-ACK, getRealPeer threw, …). */
  error?: string;
}

export type RoundTripResult =
  /** The child ran the plan: one result per planned case, in order. */
  | { ran: true; cases: CaseResult[] }
  /** This host does not allow it (no unshare, no privilege, no TUN, no iproute2): why. */
  | { ran: false; reason: string };

/**
 * Node's startup dominates; a QEMU guest without KVM needs several seconds,
 * and a busy one may need more: KGWTTM_ROUND_TRIP_TIMEOUT (seconds) raises it.
 */
export const ROUND_TRIP_TIMEOUT_MS = roundTripTimeoutMs(process.env.KGWTTM_ROUND_TRIP_TIMEOUT);

/** 20 s, or a positive number of seconds from the environment. */
export function roundTripTimeoutMs(seconds: string | undefined): number {
  const wanted = Number(seconds);
  return seconds !== undefined && Number.isFinite(wanted) && wanted > 0 ? wanted * 1000 : 20_000;
}

/** The child script beside this file: .js in the package, .ts when run from lib/ through tsx. */
function childCommand(): string[] {
  const extension = extname(__filename);
  const script = join(__dirname, `roundtrip-child${extension}`);
  return [process.execPath, ...(extension === '.ts' ? ['--import', 'tsx'] : []), script];
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .pop() ?? ''
  );
}

/** Runs `plan` in a new network namespace; never rejects. */
export function runRoundTrip(plan: RoundTripPlan, timeoutMs = ROUND_TRIP_TIMEOUT_MS): Promise<RoundTripResult> {
  const root = process.getuid?.() === 0;
  const unshare = root ? ['--net'] : ['--user', '--map-root-user', '--net'];
  const how = `unshare ${unshare.join(' ')}`;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (result: RoundTripResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const child = spawn('unshare', [...unshare, '--', ...childCommand(), JSON.stringify(plan)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ran: false, reason: `the round trip did not finish within ${timeoutMs / 1000} s${stderr ? `: ${lastLine(stderr)}` : ''}` });
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        ran: false,
        reason: err.code === 'ENOENT' ? 'unshare (util-linux) is not installed' : `${how}: ${err.message}`,
      }),
    );
    child.on('close', (code, signal) => {
      try {
        const result = JSON.parse(lastLine(stdout)) as RoundTripResult;
        if (typeof result === 'object' && result !== null && typeof result.ran === 'boolean') return finish(result);
      } catch {
        // No result: unshare itself failed, or the child died; stderr says which.
      }
      const why = lastLine(stderr).replace(/^unshare: /, '') || `exit ${code ?? signal}`;
      const hint = !root && /not permitted|permission denied/i.test(why) ? ' (unprivileged user namespaces are off here: run as root)' : '';
      finish({ ran: false, reason: `${how}: ${why}${hint}` });
    });
  });
}
