// SPDX-License-Identifier: MIT
// The one place where an errno from native code gets its name.
//
// Every native call of the package (the library's getPeer, the CLI's TUN
// ioctl) returns a plain number and never throws for a failing syscall: a
// result >= 0, or a negated errno, the sign Node's own system errors carry in
// `err.errno`. This file turns such a number into the name scripts compare
// (`'ENOPROTOOPT'`) and into an Error shaped like Node's, so that callers
// branch on `err.code` whichever call failed.

import { getSystemErrorMap } from 'node:util';

/** An error for a failed syscall, shaped like Node's own system errors. */
export interface SystemError<Syscall extends string = 'getsockopt'> extends Error {
  /** The errno's name, e.g. `'EACCES'`. */
  code: string;
  /** Negative, as in Node's system errors: `util.getSystemErrorName(err.errno) === err.code`. */
  errno: number;
  syscall: Syscall;
  /** The file the syscall was about, when there is one (`/dev/net/tun`). */
  path?: string;
}

function describe(errno: number): [name: string, description: string] {
  return getSystemErrorMap().get(errno) ?? ['UNKNOWN', `unknown error ${-errno}`];
}

/** `'ENOENT'` for `-ENOENT`; `'UNKNOWN'` for an errno Node has no name for. */
export function errnoName(errno: number): string {
  return describe(errno)[0];
}

/** The Error for `errno` (negative) returned by `syscall`, with Node's message layout. */
export function systemError<Syscall extends string>(errno: number, syscall: Syscall, path?: string): SystemError<Syscall> {
  const [name, description] = describe(errno);
  const error = new Error(`${name}: ${description}, ${syscall}${path === undefined ? '' : ` '${path}'`}`) as SystemError<Syscall>;
  error.code = name;
  error.errno = errno;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  return error;
}
