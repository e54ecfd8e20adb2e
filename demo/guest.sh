#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the VM: loads the module, starts the demo server, and sends it
# one request per scenario through the packet-exact load-balancer simulator.
set -eu
LBSIM="/usr/bin/python3 test/lbsim/lbsim.py"
PORT=8080

# The module trusts no one until told: the simulated LBs' networks, one list
# for the demo, the tests and the bench.
TRUSTED_NETS=$(cat test/lbsim/trusted_nets)
# $KGWTTM_KO: the module test/build.sh built for this kernel (test/vm/run sets it).
insmod "$KGWTTM_KO" "trusted_nets=$TRUSTED_NETS"
echo "== module loaded: $(grep -E '^version' /proc/net/kgwttm), trusted_nets=$TRUSTED_NETS"
$LBSIM up >/dev/null

node demo/server.mjs &
server=$!
# Wait for the listener (TCG is slow; node takes a few seconds to start).
for _ in $(seq 1 100); do
	grep -qi ":$(printf '%04X' $PORT) " /proc/net/tcp6 && break
	sleep 0.2
done

request() {
	label=$1 dst=$2 format=$3 client=$4
	echo "== $label: LB lip -> $dst, option $format carrying $client"
	$LBSIM request --dst "$dst" --format "$format" --client "$client" \
		--send "GET /$label HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n" \
		--expect-close > /tmp/reply.json
	sleep 0.3
}
request 4to4 10.200.0.1:$PORT toa4 203.0.113.7:40001
request 6to4 10.200.0.1:$PORT toa6 '[2001:db8:1::7]:40002'
request 6to6 "[fd00:200::1]:$PORT" toa6 '[2001:db8:1::8]:40003'
request no-option 10.200.0.1:$PORT none 203.0.113.9:40004

kill -TERM $server; wait $server || true
$LBSIM down >/dev/null
echo "== counters"; cat /proc/net/kgwttm
rmmod kgwttm
