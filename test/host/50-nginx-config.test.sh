#!/bin/sh
# SPDX-License-Identifier: MIT
# nginx/config as nginx.org's configure uses it, beside the dynamic build for
# Debian's binary (nginx/build.sh, tested in the VM by test/guest/50-nginx):
# --add-module links both modules into nginx, after the realip modules so
# their handlers run first; --add-dynamic-module on a build without stream
# (nginx.org's default) makes the http module alone. Both compile with
# nginx's -Werror. The source is the one nginx/build.sh fetched (test/build.sh
# runs it first); built in scratch copies, so that tree is left alone.
set -u
cd "$(dirname "$0")/../.."
. test/lib/tap.sh
ROOT=$(pwd)

SRC=$(ls -d .cache/nginx/nginx-*/.done 2>/dev/null | head -1)
[ -n "$SRC" ] || bail "no nginx source in .cache/nginx: run nginx/build.sh first"
SRC=$(dirname "$SRC")
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

copy() {
	mkdir -p "$SCRATCH/$1"
	cp -r "$SRC/auto" "$SRC/src" "$SRC/configure" "$SRC/conf" "$SCRATCH/$1/"
}

# Modules this test does not need, and their libraries.
LEAN="--without-http_rewrite_module --without-http_gzip_module"

static_build() {
	copy static && cd "$SCRATCH/static" || return 1
	# shellcheck disable=SC2086
	./configure $LEAN --with-http_realip_module --with-stream \
		--with-stream_realip_module --add-module="$ROOT/nginx" >configure.log 2>&1 ||
		{ cat configure.log; return 1; }
	make -j2 -f objs/Makefile binary >make.log 2>&1 || { tail -n 30 make.log; return 1; }
	mkdir -p prefix/logs
	cat > prefix/nginx.conf <<-'EOF'
	error_log logs/error.log;
	events {}
	http {
	    kgwttm_optname 1345;
	    log_format k '$remote_addr $kgwttm_client_addr $kgwttm_client_port $kgwttm_lb_addr';
	    server { listen 127.0.0.1:1; kgwttm_real_ip on; access_log logs/a.log k;
	             location / { kgwttm_real_ip off; } }
	}
	stream {
	    kgwttm_optname 1345;
	    server { listen 127.0.0.1:2; kgwttm_real_ip on; return "$kgwttm_client_addr $kgwttm_lb_addr"; }
	}
	EOF
	./objs/nginx -t -p "$SCRATCH/static/prefix" -c "$SCRATCH/static/prefix/nginx.conf"
}

# The handlers of a phase run in the reverse order of the modules: after
# realip, access and limit_conn in the list means before them at run time.
static_order() {
	m=$SCRATCH/static/objs/ngx_modules.c
	line() { grep -n "^    &$1,\$" "$m" | cut -d: -f1; }
	for pair in "ngx_http_realip_module ngx_http_kgwttm_module" \
		"ngx_http_access_module ngx_http_kgwttm_module" \
		"ngx_http_limit_conn_module ngx_http_kgwttm_module" \
		"ngx_stream_realip_module ngx_stream_kgwttm_module" \
		"ngx_stream_access_module ngx_stream_kgwttm_module"; do
		set -- $pair
		a=$(line "$1") b=$(line "$2")
		[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
			{ echo "$2 ($b) is not after $1 ($a)"; return 1; }
	done
}

dynamic_http_only() {
	copy dynamic && cd "$SCRATCH/dynamic" || return 1
	# shellcheck disable=SC2086
	./configure $LEAN --with-compat --add-dynamic-module="$ROOT/nginx" >configure.log 2>&1 ||
		{ cat configure.log; return 1; }
	make -f objs/Makefile modules >make.log 2>&1 || { tail -n 30 make.log; return 1; }
	[ -f objs/ngx_http_kgwttm_module.so ] && [ ! -e objs/ngx_stream_kgwttm_module.so ] ||
		{ ls objs/*.so; return 1; }
}

check "--add-module with stream: nginx links both modules and nginx -t takes every directive and variable" static_build
check "--add-module: the kgwttm modules come after realip, access and limit_conn (their handlers run first)" static_order
check "--add-dynamic-module without stream (nginx.org's default): ngx_http_kgwttm_module.so alone" dynamic_http_only
tap_done
