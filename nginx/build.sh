#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Builds ngx_http_kgwttm_module.so and ngx_stream_kgwttm_module.so for the
# nginx installed on this host, from the source package of Debian's own
# nginx, so that Debian's binary loads them with load_module.
#
#   nginx/build.sh                    # -> nginx/dist/modules/*.so
#   nginx/build.sh --deb              # and nginx/dist/nginx-mod-kgwttm_*.deb
#   nginx/build.sh --nginx-src DIR    # another source tree (nginx.org's)
#
# A dynamic module loads only into a binary of the same version whose
# configure gave the same "signature" (struct layouts: threads, PCRE, gzip,
# realip, ...). So configure runs with the installed binary's own arguments
# (`nginx -V`) and --with-compat, less the other dynamic modules that would
# need their libraries (GeoIP, GD, Perl, XSLT) and change nothing we link
# against; the signature of the result is then checked against the binary.
#
# The source comes from Debian through a private apt source list and state
# folder (the host's apt sources are never changed): the installed version
# when Debian still serves its source, else the newest source of the same
# upstream version (a Debian revision only adds patches; the version and
# signature checks say whether the result fits). Needs: nginx, dpkg-dev,
# gcc, make, libpcre2-dev, zlib1g-dev, libssl-dev (test/vm/provision.sh).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${KGWTTM_NGINX_CACHE:-$ROOT/.cache/nginx}
DIST=$HERE/dist
NGINX=${NGINX:-/usr/sbin/nginx}

deb=no
src=
while [ $# -gt 0 ]; do
	case $1 in
	--deb) deb=yes ;;
	--nginx-src) src=$2; shift ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	*) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

say() { echo "nginx/build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$NGINX" ] || die "no $NGINX: install Debian's nginx first (apt-get install nginx)"

# The version nginx -V names, and its configure arguments.
nginx_v=$("$NGINX" -V 2>&1)
upstream=$(echo "$nginx_v" | sed -n 's|^nginx version: nginx/||p')
args=$(echo "$nginx_v" | sed -n 's/^configure arguments: //p')
[ -n "$upstream" ] && [ -n "$args" ] || die "cannot read $NGINX -V"

fetch_debian_source() {
	version=$(dpkg-query -W -f='${Version}' nginx 2>/dev/null) ||
		die "the nginx binary is not Debian's package: use --nginx-src"
	apt="$CACHE/apt"
	mkdir -p "$apt/lists/partial" "$apt/archives/partial"
	# deb-src lines for the suites the host's own sources name.
	sources=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
		'Created-By: Packages' 2>/dev/null | sort -u)
	[ -n "$sources" ] || die "apt knows no Debian suite (run apt-get update)"
	echo "$sources" | while read -r uri suite component; do
		echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite $component"
	done > "$apt/sources.list"
	set -- -o Dir::Etc::sourcelist="$apt/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt"
	if [ ! -f "$apt/lists/.updated" ] ||
		! apt-cache "$@" showsrc nginx 2>/dev/null | grep -qx "Version: $version"; then
		say "reading Debian's source index"
		apt-get "$@" -qq update >&2 && touch "$apt/lists/.updated"
	fi
	# The installed version first; else others of the same upstream version.
	candidates=$(apt-cache "$@" showsrc nginx | sed -n 's/^Version: //p' |
		grep -F "$upstream-" | sort -u -r | grep -vxF "$version" || true)
	dl="$CACHE/src"
	mkdir -p "$dl"
	for v in $version $candidates; do
		dir="$CACHE/nginx-$v"
		if [ -f "$dir/.done" ]; then
			src=$dir
			break
		fi
		if (cd "$dl" && apt-get "$@" -qq source --download-only "nginx=$v" >/dev/null 2>&1); then
			rm -rf "$dir"
			# apt checked the files against the signed index; dpkg-source
			# would also check the .dsc's own signature, which needs
			# debian-keyring: its complaint is noise here.
			dpkg-source -x "$dl/nginx_$(echo "$v" | sed 's/^[0-9]*://').dsc" "$dir" \
				>"$dl/dpkg-source.log" 2>&1 ||
				{ cat "$dl/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
			touch "$dir/.done"
			src=$dir
			break
		fi
		say "Debian does not serve the source of nginx $v"
	done
	[ -n "$src" ] || die "no source package of nginx $upstream found"
	[ "$v" = "$version" ] ||
		say "building from the source of nginx $v for the installed $version (same upstream version; the signature is checked below)"
}

[ -n "$src" ] || fetch_debian_source
src=$(cd "$src" && pwd)
[ -x "$src/configure" ] || die "$src has no configure"

# The binary's configure arguments, less the other dynamic modules.
eval "set -- $args"
conf=
for a in "$@"; do
	case $a in
	--with-*_module=dynamic) continue ;;
	--add-dynamic-module=*|--add-module=*) continue ;;
	esac
	conf="$conf '$(echo "$a" | sed "s/'/'\\\\''/g")'"
done
case $conf in *"'--with-compat'"*) ;; *) conf="$conf '--with-compat'" ;; esac
conf="$conf '--add-dynamic-module=$HERE'"

# configure again only when the arguments changed.
stamp="$src/objs/.kgwttm-configure"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$conf" ]; then
	say "configure ($src)"
	(cd "$src" && eval "./configure $conf" >configure.log 2>&1) ||
		die "configure failed: see $src/configure.log"
	echo "$conf" > "$stamp"
fi

say "make modules"
make -s -C "$src" -f objs/Makefile modules >&2

signature() { grep -aoE '[0-9]+,[0-9]+,[0-9]+,[01]{30,}' "$1" | head -1; }
want=$(signature "$NGINX")
mkdir -p "$DIST/modules"
for m in ngx_http_kgwttm_module ngx_stream_kgwttm_module; do
	so="$src/objs/$m.so"
	[ -f "$so" ] || die "$so was not built"
	got=$(signature "$so")
	[ "$got" = "$want" ] ||
		die "$m.so has signature $got, $NGINX has $want: it would not load"
	cp "$so" "$DIST/modules/$m.so"
done
say "built $DIST/modules/ngx_{http,stream}_kgwttm_module.so for nginx $upstream (signature $want)"

if [ "$deb" = yes ]; then
	sh "$HERE/package/deb.sh" "$DIST"
fi
