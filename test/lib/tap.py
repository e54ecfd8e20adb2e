# SPDX-License-Identifier: MIT
"""tap — a tiny TAP writer for the Python suites (test/README.md, "Suites").

The aggregator counts `ok` / `not ok` lines at column 0, so every point is one
line there; diagnostics go on `#` lines, never on stderr, so they stay next to
the point they explain.

    import sys; sys.path.insert(0, 'test/lib')
    from tap import TAP

    t = TAP()                       # or TAP(plan=3): plan printed first
    t.ok(1 + 1 == 2, 'arithmetic')  # returns the condition
    t.equal(got, want, 'same bytes')

    @t.test('server sees the lip')  # runs now; an exception is a `not ok`
    def _():                        # with the traceback as diagnostics
        assert peer == LIP4, peer

    t.skip('IPv6', 'no IPv6 in this kernel')
    t.diag('free text')
    sys.exit(t.end())               # prints the plan if not yet printed;
                                    # 0 when every point passed, else 1
"""
import sys
import traceback


class TAP:
    def __init__(self, plan=None, out=None):
        self.out = out or sys.stdout
        self.count = 0
        self.failed = 0
        self.planned = plan
        self._print('TAP version 13')
        if plan is not None:
            self._print('1..%d' % plan)

    def _print(self, line):
        self.out.write(line + '\n')
        self.out.flush()

    def diag(self, msg):
        for line in str(msg).splitlines() or ['']:
            self._print('# ' + line)

    def ok(self, cond, desc='', diag=None):
        """One test point. `diag` (text) is printed under a failing point."""
        self.count += 1
        desc = desc.replace('#', '\\#').replace('\n', ' ')
        self._print('%s %d%s' % ('ok' if cond else 'not ok', self.count,
                                 ' - ' + desc if desc else ''))
        if not cond:
            self.failed += 1
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def equal(self, got, want, desc=''):
        return self.ok(got == want, desc,
                       diag='got:  %r\nwant: %r' % (got, want))

    def skip(self, desc, reason=''):
        self.count += 1
        self._print('ok %d - %s # SKIP %s' % (self.count, desc, reason))

    def test(self, desc):
        """Decorator: runs the function at once as one test point."""
        def run(fn):
            try:
                fn()
            except Exception:  # any error is this point's failure, not the suite's
                self.ok(False, desc, diag=traceback.format_exc().rstrip())
                return fn
            self.ok(True, desc)
            return fn
        return run

    def bail_out(self, reason):
        self._print('Bail out! ' + reason)
        sys.exit(1)

    def end(self):
        if self.planned is None:
            self._print('1..%d' % self.count)
        elif self.planned != self.count:
            self.diag('planned %d points, ran %d' % (self.planned, self.count))
            return 1
        return 1 if self.failed else 0
