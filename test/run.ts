// SPDX-License-Identifier: MIT
// Runs every test suite and sums them: the host suites here, and all guest
// suites on every kernel of the test bed's matrix (.cache/vm/kernels: 5.10,
// 6.1, 6.12), ONE boot of the VM (test/vm/run --kernel) per kernel, and prints
// the plain line `N passed, N failed` that CI reads. The host suites and each
// kernel's VM are separate jobs, run side by side up to KGWTTM_TEST_JOBS at a
// time (default: one per CPU): a TCG guest keeps about one host CPU busy, so
// on 2 CPUs two kernels' boots take the time of one. Each suite prints TAP; its
// top-level test points are what we count (see test/README.md). A skipped
// point counts as a failure: nothing goes green by being skipped.
//
//   node --import tsx test/run.ts [--host-only | --guest-only | --in-guest]
//                                 [--filter TEXT] [--kernel VER]...
//   --kernel: a release or a line (5.10, 6.1, 6.12); repeatable; default all
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { installGlobal, pack, worldReadableTempDir } from './lib/npm-pack.js';

const root = join(__dirname, '..');
const GUEST_TOTAL = '# guest-total:';

interface Tally {
  passed: number;
  failed: number;
  failures: string[];
}

interface Options {
  host: boolean;
  guest: boolean;
  inGuest: boolean;
  filter: string | undefined;
  /** --kernel arguments; empty: every kernel of the matrix. */
  kernels: string[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { host: true, guest: true, inGuest: false, filter: undefined, kernels: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--host-only') opts.guest = false;
    else if (arg === '--guest-only') opts.host = false;
    else if (arg === '--in-guest') opts.inGuest = true;
    else if (arg === '--filter') opts.filter = argv[++i];
    else if (arg === '--kernel') opts.kernels.push(argv[++i] ?? '');
    else throw new Error(`test/run.ts: unknown argument ${arg}`);
  }
  return opts;
}

function commandFor(file: string): [string, ...string[]] | undefined {
  if (file.endsWith('.test.ts')) return [process.execPath, '--import', 'tsx', file];
  if (file.endsWith('.test.sh')) return ['sh', file];
  if (file.endsWith('.test.py')) return ['/usr/bin/python3', file];
  return undefined;
}

function suitesIn(dir: string, filter: string | undefined): string[] {
  return readdirSync(join(root, dir))
    .filter((name) => commandFor(name) !== undefined)
    .filter((name) => filter === undefined || name.includes(filter))
    .sort()
    .map((name) => join(dir, name));
}

// Feeds TAP text line by line; counts column-0 points, checks the plan.
class TapCounter {
  passed = 0;
  failed = 0;
  failures: string[] = [];
  planned: number | undefined;
  bailed = false;
  private partial = '';

  constructor(private readonly suite: string) {}

  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(line: string): void {
    const plan = /^1\.\.(\d+)/.exec(line);
    if (plan) this.planned = Number(plan[1]);
    if (line.startsWith('Bail out!')) this.bailed = true;
    const point = /^(not ok|ok)\b(.*)$/.exec(line);
    if (!point) return;
    const skipped = /#\s*SKIP/i.test(point[2] ?? '');
    if (point[1] === 'ok' && !skipped) {
      this.passed++;
    } else {
      this.failed++;
      this.failures.push(`${this.suite}: ${line.trim()}${skipped ? ' (skipped counts as failed)' : ''}`);
    }
  }
}

/** Where a job's output goes: straight to stdout, or kept for later (see Job). */
type Out = (text: string) => void;
const stdout: Out = (text) => process.stdout.write(text);

function runSuite(file: string, extraEnv: NodeJS.ProcessEnv = {}, out: Out = stdout): Promise<Tally> {
  const command = commandFor(file);
  if (command === undefined) throw new Error(`test/run.ts: no runner for ${file}`);
  const counter = new TapCounter(file);
  const started = Date.now();
  out(`# suite ${file}\n`);
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), {
      cwd: root,
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out(chunk);
      counter.feed(chunk);
    });
    child.on('close', (code, signal) => {
      counter.end();
      const tally: Tally = { passed: counter.passed, failed: counter.failed, failures: counter.failures };
      const seen = counter.passed + counter.failed;
      if (counter.bailed) fail(tally, `${file}: bailed out`);
      else if (counter.planned !== undefined && counter.planned !== seen)
        fail(tally, `${file}: planned ${counter.planned} points, saw ${seen}`);
      if (seen === 0) fail(tally, `${file}: printed no test point`);
      else if (code !== 0 && counter.failed === 0) fail(tally, `${file}: exited ${code ?? signal} with no failing point`);
      out(`# suite ${file}: ${tally.passed} passed, ${tally.failed} failed, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      resolve(tally);
    });
  });
}

function fail(tally: Tally, why: string): void {
  tally.failed++;
  tally.failures.push(why);
}

function add(into: Tally, from: Tally): void {
  into.passed += from.passed;
  into.failed += from.failed;
  into.failures.push(...from.failures);
}

async function runAll(dir: string, filter: string | undefined, extraEnv: NodeJS.ProcessEnv = {}, out: Out = stdout): Promise<Tally> {
  const total: Tally = { passed: 0, failed: 0, failures: [] };
  for (const file of suitesIn(dir, filter)) add(total, await runSuite(file, extraEnv, out));
  return total;
}

// The package as an operator installs it: packed from the checkout and
// installed with `npm install --global` into a prefix under /tmp that every
// user can read (the checkout may be in a folder only root can enter, such as
// /root). The guest suites run the CLI from there (as root and as nobody:
// KGWTTM_CLI_PREFIX, passed on by test/vm/run like every KGWTTM_ variable);
// test/host/90-pack-install checks the same tarball (KGWTTM_PACKAGE_TARBALL).
function preparePackage(total: Tally): { env: NodeJS.ProcessEnv; work?: string } {
  process.stdout.write('# npm pack, then npm install --global of the tarball into a prefix every user can read\n');
  const work = worldReadableTempDir('kgwttm-package-');
  try {
    const tarball = pack(root, join(work, 'packed'));
    const prefix = join(work, 'global');
    mkdirSync(prefix);
    installGlobal(prefix, tarball);
    process.stdout.write(`# installed ${tarball} into ${prefix}\n`);
    return { env: { KGWTTM_PACKAGE_TARBALL: tarball, KGWTTM_CLI_PREFIX: prefix }, work };
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    fail(total, `package: packing or installing failed: ${String(stderr || err).trim().replace(/\n/g, ' | ')}`);
    return { env: {}, work };
  }
}

/**
 * The kernels to boot, in the matrix's order: what test/vm/provision.sh (run
 * by `npm test`'s setup) wrote to .cache/vm/kernels, or those of them that
 * `wanted` names by release or line (as test/vm/kernels.sh matches them).
 */
function matrixKernels(wanted: string[]): string[] {
  const cache = process.env.KGWTTM_VM_CACHE ?? join(root, '.cache', 'vm');
  const all = readFileSync(join(cache, 'kernels'), 'utf8').split('\n').filter((line) => line !== '');
  if (wanted.length === 0) return all;
  const matches = (kernel: string, want: string): boolean =>
    kernel === want || kernel.startsWith(`${want}-`) || new RegExp(`^${want.replace(/\./g, '\\.')}\\.\\d`).test(kernel);
  for (const want of wanted)
    if (!all.some((kernel) => matches(kernel, want))) throw new Error(`test/run.ts: no kernel ${want} in the test bed (have: ${all.join(' ')})`);
  return all.filter((kernel) => wanted.some((want) => matches(kernel, want)));
}

// Boots the VM once on `kernel`; inside, this same file runs with --in-guest
// and reports its tally on a GUEST_TOTAL line. The VM runner's own verdict
// (kernel log clean, exit code) is one more point. Failures are named with
// the kernel they happened on. A VM that stops before its tally (a timeout)
// still counts what its finished suites reported, and the suite it was in.
function runGuest(kernel: string, filter: string | undefined, extraEnv: NodeJS.ProcessEnv = {}, out: Out = stdout): Promise<Tally> {
  const args = ['--kernel', kernel, '--timeout', process.env.KGWTTM_VM_TIMEOUT ?? '4200', '--', process.execPath, '--import', 'tsx', 'test/run.ts', '--in-guest'];
  if (filter !== undefined) args.push('--filter', filter);
  const tally: Tally = { passed: 0, failed: 0, failures: [] };
  const started = Date.now();
  out(`# booting the VM test bed on Linux ${kernel} for the guest suites\n`);
  return new Promise((resolve) => {
    const child = spawn(join(root, 'test/vm/run'), args, {
      cwd: root,
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let partial = '';
    let reported = false;
    // What the finished suites said, should the total never come.
    const sofar: Tally = { passed: 0, failed: 0, failures: [] };
    let running: string | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const total = new RegExp(`^${GUEST_TOTAL} (\\d+) passed, (\\d+) failed`).exec(line);
        if (total) {
          tally.passed += Number(total[1]);
          tally.failed += Number(total[2]);
          reported = true;
        }
        const failure = /^# guest-failure: (.*)$/.exec(line);
        if (failure) tally.failures.push(`guest ${kernel}: ${failure[1]}`);
        const suite = /^# suite (\S+)(?:: (\d+) passed, (\d+) failed)?/.exec(line);
        if (suite?.[2] !== undefined) {
          sofar.passed += Number(suite[2]);
          sofar.failed += Number(suite[3]);
          if (suite[3] !== '0') sofar.failures.push(`guest ${kernel}: ${suite[1]}: ${suite[3]} failed (see above)`);
          running = undefined;
        } else if (suite) running = suite[1];
      }
    });
    child.on('close', (code) => {
      if (!reported) {
        add(tally, sofar);
        fail(tally, `guest ${kernel}: the VM run reported no tally${running ? `; it stopped in ${running}` : ''}`);
      }
      const verdict = code === 125 ? `the guest kernel log shows a bug (see above, .cache/vm/last-dmesg-${kernel}.log)`
        : code === 124 ? 'the VM run timed out'
        : code === 126 ? 'the VM stopped without an exit code'
        : undefined;
      if (verdict) fail(tally, `guest ${kernel}: ${verdict}`);
      else tally.passed++; // the guest kernel log stayed clean through every suite
      out(`# guest kernel log ${verdict ? 'NOT clean' : 'clean'} on ${kernel} (vm/run exit ${code})\n`);
      out(
        `# guest suites on ${kernel}: ${tally.passed} passed, ${tally.failed} failed, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
      );
      resolve(tally);
    });
  });
}

/** One VM boot, or the host suites: the unit the runner runs side by side. */
interface Job {
  name: string;
  run(out: Out): Promise<Tally>;
}

function jobSlots(): number {
  const wanted = Number(process.env.KGWTTM_TEST_JOBS ?? availableParallelism());
  return Number.isInteger(wanted) && wanted > 0 ? wanted : 1;
}

/**
 * Runs `jobs`, at most `slots` at a time, in the order given; the tallies in
 * the same order. Alone, a job prints as it goes. Side by side, each job's
 * output goes to .cache/test-logs/JOB.log as it comes and to stdout in one
 * block when the job ends, so that no two jobs' TAP lines interleave; the
 * lines that say a suite or a boot started or ended are printed at once,
 * tagged with the job, so a long run still shows where it is.
 */
async function runJobs(jobs: Job[], slots: number): Promise<Tally[]> {
  if (slots === 1 || jobs.length <= 1) {
    const tallies: Tally[] = [];
    for (const job of jobs) tallies.push(await job.run(stdout));
    return tallies;
  }
  const logs = join(root, '.cache', 'test-logs');
  mkdirSync(logs, { recursive: true });
  process.stdout.write(`# ${jobs.length} jobs (${jobs.map((job) => job.name).join(', ')}), ${slots} at a time; each job's output in ${logs}\n`);
  const progress = /^# (suite \S+(: .*)?|booting .*|guest kernel log .*|guest suites on .*)$/;
  const tallies: Tally[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index] as Job;
      const log = join(logs, `${job.name}.log`);
      writeFileSync(log, '');
      const kept: string[] = [];
      let partial = '';
      const out: Out = (text) => {
        kept.push(text);
        appendFileSync(log, text);
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (progress.test(line)) process.stdout.write(`# [${job.name}] ${line.slice(2)}\n`);
      };
      tallies[index] = await job.run(out);
      process.stdout.write(`# ---- ${job.name}: its whole output ----\n${kept.join('')}# ---- ${job.name}: end ----\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(slots, jobs.length) }, worker));
  return tallies;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const total: Tally = { passed: 0, failed: 0, failures: [] };
  if (opts.inGuest) {
    add(total, await runAll('test/guest', opts.filter));
    for (const failure of total.failures) process.stdout.write(`# guest-failure: ${failure}\n`);
    process.stdout.write(`${GUEST_TOTAL} ${total.passed} passed, ${total.failed} failed\n`);
    return;
  }
  const started = Date.now();
  const kernels = opts.guest ? matrixKernels(opts.kernels) : [];
  // Packed once, before any job, when guest suites will run.
  const packaged = opts.guest && suitesIn('test/guest', opts.filter).length > 0 ? preparePackage(total) : { env: {} };
  // The kernels first, in the matrix's order: each VM is the longest job.
  const jobs: Job[] = kernels.map((kernel) => ({
    name: kernel,
    run: (out: Out) => runGuest(kernel, opts.filter, packaged.env, out),
  }));
  if (opts.host) jobs.push({ name: 'host', run: (out: Out) => runAll('test/host', opts.filter, packaged.env, out) });
  try {
    for (const tally of await runJobs(jobs, jobSlots())) add(total, tally);
  } finally {
    if (packaged.work) rmSync(packaged.work, { recursive: true, force: true });
  }
  if (total.failures.length > 0) {
    process.stdout.write('# failures:\n');
    for (const failure of total.failures) process.stdout.write(`#   ${failure}\n`);
  }
  process.stdout.write(`# host and guest suites: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  process.stdout.write(`${total.passed} passed, ${total.failed} failed\n`);
  process.exitCode = total.failed === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 2;
});
