#!/bin/sh
# test/lbsim/realstack/run-as-lb.sh --format toa4|toa6|ttm4|ttm6|none --client IP -- CMD ARGS...
#
# Sets what the LB writes (format + client address; the client port is always
# the connection's own local port), then runs CMD inside netns "lbsim" and the
# lbsim cgroup, so every TCP connection CMD opens completes its handshake with
# an ACK that carries the option.  Exit code is CMD's.
#
# The configuration is global: concurrent run-as-lb.sh invocations are
# serialized by a lock held for CMD's lifetime (waits LBSIM_LOCK_WAIT seconds,
# default 300; LBSIM_NOLOCK=1 skips it).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
NETNS=${LBSIM_NETNS:-lbsim}
PIN=${LBSIM_PIN:-/sys/fs/bpf/lbsim}
LOCK=${LBSIM_LOCK:-/run/lbsim-realstack.lock}

die() { echo "realstack/run-as-lb.sh: $*" >&2; exit 2; }
usage() { die "usage: run-as-lb.sh --format toa4|toa6|ttm4|ttm6|none --client IP -- CMD ARGS..."; }

format= client=
while [ $# -gt 0 ]; do
	case "$1" in
	--format) [ $# -ge 2 ] || usage; format=$2; shift 2 ;;
	--format=*) format=${1#*=}; shift ;;
	--client) [ $# -ge 2 ] || usage; client=$2; shift 2 ;;
	--client=*) client=${1#*=}; shift ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ $# -gt 0 ] || usage
[ -n "$format" ] || usage

if [ -n "${LBSIM_CGROUP:-}" ]; then
	CG=$LBSIM_CGROUP
else
	CG=$(awk '$3 == "cgroup2" { print $2 "/lbsim"; exit }' /proc/mounts)
fi
[ -n "$CG" ] && [ -d "$CG" ] && [ -e "$PIN/maps/lbsim_cfg" ] ||
	die "real-stack simulator is not up: run test/lbsim/realstack/setup.sh up"

# map value: __u32 format (little-endian), __u8 addr[16]
value=$(python3 - "$format" "$client" <<'PY'
import socket, sys
fmt, client = sys.argv[1], sys.argv[2]
codes = {"none": 0, "toa4": 1, "toa6": 2, "ttm4": 3, "ttm6": 4}
if fmt not in codes:
    sys.exit("unknown --format %r (toa4, toa6, ttm4, ttm6, none)" % fmt)
fam = {"toa4": socket.AF_INET, "ttm4": socket.AF_INET,
       "toa6": socket.AF_INET6, "ttm6": socket.AF_INET6}.get(fmt)
addr = b""
if fam is not None:
    if not client:
        sys.exit("--client is required for --format %s" % fmt)
    try:
        addr = socket.inet_pton(fam, client)
    except OSError:
        sys.exit("--client %r is not an %s address" % (client, "IPv4" if fam == socket.AF_INET else "IPv6"))
v = codes[fmt].to_bytes(4, "little") + addr.ljust(16, b"\0")
print(" ".join("%d" % b for b in v))
PY
) || exit 2

if [ "${LBSIM_NOLOCK:-0}" != 1 ]; then
	exec 9>"$LOCK"
	flock -w "${LBSIM_LOCK_WAIT:-300}" 9 ||
		die "another run-as-lb.sh holds $LOCK (its configuration is global)"
fi
# shellcheck disable=SC2086
bpftool map update pinned "$PIN/maps/lbsim_cfg" key 0 0 0 0 value $value ||
	die "bpftool map update failed"

echo $$ >"$CG/cgroup.procs"
exec ip netns exec "$NETNS" "$@"
