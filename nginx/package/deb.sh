#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Packs the modules nginx/build.sh built into nginx-mod-kgwttm_<ver>-1_<arch>.deb
# with dpkg-deb, laid out as Debian's own libnginx-mod-* packages are: the .so
# files in /usr/lib/nginx/modules, a load_module line per module in
# /usr/share/nginx/modules-available, enabled by a link in
# /etc/nginx/modules-enabled that the maintainer scripts manage as dh_nginx's
# do (an admin's removal of the link survives upgrades). The stream module's
# link sorts after 50-mod-stream.conf, which loads the stream core it needs.
#
#   nginx/package/deb.sh DIST     # DIST/modules/*.so -> DIST/*.deb
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
DIST=$(cd "${1:?usage: deb.sh DIST}" && pwd)
VERSION=$(cat "$HERE/../../kmod/VERSION")
ARCH=$(dpkg --print-architecture)
# The nginx ABI Debian's binary provides (nginx-abi-1.22.1-7): a module
# built for it is installable only next to a binary it loads into.
ABI=$(dpkg-query -W -f='${Provides}' nginx | tr ',' '\n' | sed -n 's/^ *\(nginx-abi-[^ ]*\).*/\1/p')
[ -n "$ABI" ] || { echo "deb.sh: the installed nginx provides no nginx-abi" >&2; exit 1; }

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -d "$root/DEBIAN" "$root/usr/lib/nginx/modules" \
	"$root/usr/share/nginx/modules-available" "$root/usr/share/doc/nginx-mod-kgwttm"
for m in http stream; do
	install -m 0644 "$DIST/modules/ngx_${m}_kgwttm_module.so" "$root/usr/lib/nginx/modules/"
	echo "load_module modules/ngx_${m}_kgwttm_module.so;" \
		> "$root/usr/share/nginx/modules-available/mod-$m-kgwttm.conf"
done
strip --strip-unneeded "$root"/usr/lib/nginx/modules/*.so
install -m 0644 "$HERE/../../examples/nginx/nginx.conf" "$root/usr/share/doc/nginx-mod-kgwttm/example.conf"
install -m 0644 "$HERE/../../LICENSES/BSD-2-Clause.txt" "$root/usr/share/doc/nginx-mod-kgwttm/copyright"

sed -e "s/@VERSION@/$VERSION-1/" -e "s/@ARCH@/$ARCH/" -e "s/@ABI@/$ABI/" \
	-e "s/@SIZE@/$(du -sk "$root/usr" | cut -f1)/" "$HERE/debian/control" > "$root/DEBIAN/control"
for s in postinst prerm postrm; do
	install -m 0755 "$HERE/debian/$s" "$root/DEBIAN/$s"
done

out="$DIST/nginx-mod-kgwttm_${VERSION}-1_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "nginx/package/deb.sh: built $out" >&2
