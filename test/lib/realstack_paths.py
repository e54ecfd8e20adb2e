# SPDX-License-Identifier: MIT
"""Where the real-stack LB simulator's pieces are (test/lbsim/realstack): its
setup script, the wrapper that runs a command as the LB, the load generator
and the accept server. One list for the guest suites and the bench."""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RS_DIR = os.path.join(ROOT, "test", "lbsim", "realstack")
SETUP = os.path.join(RS_DIR, "setup.sh")
RUN_AS_LB = os.path.join(RS_DIR, "run-as-lb.sh")
LOADGEN = os.path.join(RS_DIR, "loadgen")
ACCEPTSRV = os.path.join(RS_DIR, "acceptsrv")
