#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The behaviour suites, again, against the BPF backend.

Applications must not be able to tell the backends apart, so the suites that
check behaviour run a second time here with KGWTTM_BACKEND=bpf: kmodtest
(test/lib/kmodtest.py) and the Node fixtures then attach bpf/ with
kgwttm-bpf where they would load kgwttm.ko, and read its counters and
settings through kgwttm-bpf status and params. Same assertions, same
servers, same load-balancer simulators. Each suite's points are this
suite's points, named "bpf: SUITE: POINT"; a suite that ends badly without a
failing point, or prints none, is one failing point.

KGWTTM_BPF_SHARED (a comma-separated list of suite names) picks some.
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITES = ('20-kmod-formats', '21-kmod-getname', '22-kmod-trust', '23-kmod-syncookies',
          '24-kmod-optname', '26-kmod-lifecycle', '27-kmod-examples', '28-kmod-volume',
          '29-kmod-forgery', '30-node-servers', '31-node-examples', '50-nginx')
POINT = re.compile(r'^(not ok|ok)\b *\d* *(?:- )?(.*)$')

picked = os.environ.get('KGWTTM_BPF_SHARED')
suites = [s for s in SUITES if not picked or s in picked.split(',')]
count = failed = 0


def emit(ok, desc, lines=()):
    global count, failed
    count += 1
    failed += not ok
    print('%s %d - %s' % ('ok' if ok else 'not ok', count, desc), flush=True)
    for line in lines:
        print('# ' + line, flush=True)


print('TAP version 13', flush=True)
for name in suites:
    path = next((os.path.join(HERE, name + ext) for ext in ('.test.py', '.test.ts')
                 if os.path.exists(os.path.join(HERE, name + ext))), None)
    if path is None:
        emit(False, 'bpf: %s: the suite exists' % name)
        continue
    cmd = ['/usr/bin/python3', path] if path.endswith('.py') else \
        ['node', '--import', 'tsx', path]
    started = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, KGWTTM_BACKEND='bpf'),
                            stdout=subprocess.PIPE, text=True)
    seen = bad = 0
    for line in proc.stdout:
        line = line.rstrip('\n')
        m = POINT.match(line)
        if m:
            seen += 1
            bad += m.group(1) == 'not ok'
            emit(m.group(1) == 'ok', 'bpf: %s: %s' % (name, m.group(2)))
        elif not re.match(r'^(1\.\.\d+|TAP version \d+)$', line):
            print(line, flush=True)
    rc = proc.wait()
    print('# bpf: %s: %d points in %.0fs' % (name, seen, time.time() - started), flush=True)
    if seen == 0:
        emit(False, 'bpf: %s: printed no test point (exit %d)' % (name, rc))
    elif rc != 0 and bad == 0:
        emit(False, 'bpf: %s: exited %d with no failing point' % (name, rc))

print('1..%d' % count, flush=True)
sys.exit(1 if failed else 0)
