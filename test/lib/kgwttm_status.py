# SPDX-License-Identifier: MIT
"""The counters both backends print, as a dict: /proc/net/kgwttm and
`kgwttm-bpf status` write one "name value" line each, the version first.
The one reader of that text for Python helpers: kmodtest.stats() for the
guest suites, and the bench can import it from test/lib. Python 3 standard
library only."""


def parse(text):
    """{'version': '0.1.0', 'with_option': 3, ...}: the version as text,
    counters as int (text where a line holds no number)."""
    out = {}
    for line in text.splitlines():
        name, _, value = line.strip().partition(' ')
        if name:
            out[name] = int(value) if name != 'version' and value.isdigit() else value
    return out
