// SPDX-License-Identifier: MIT
// One line of `kgwttm doctor`'s verdict. Its own file so that the files that
// make checks (lib/cli/trust-check.ts, …) and doctor, which gathers them,
// both import it and neither imports the other.

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  /** Stable identifier, for scripts reading `--json`. */
  name: string;
  status: CheckStatus;
  message: string;
  /** The value found, where the check reads one (a sysctl, counters). */
  value?: number | object;
  /** What to run or change, where the check knows (also in the text output). */
  fix?: string;
}
