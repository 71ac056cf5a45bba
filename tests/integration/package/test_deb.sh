#!/usr/bin/env bash
# Builds the .deb with CPack from this build tree, unpacks it (no root, nothing installed on the
# machine) and checks the layout and that the packaged binary answers `version`.
# Usage: test_deb.sh BUILD_DIR VERSION
set -euo pipefail
build="$1"
version="$2"
out=$(mktemp -d "${TMPDIR:-/tmp}/b24sync-deb.XXXXXX")
trap 'rm -rf "$out"' EXIT

cpack --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/b24sync_"$version"_*.deb)
echo "package: $(basename "$deb")"

dpkg-deb --field "$deb" Package Version Depends
[ "$(dpkg-deb --field "$deb" Package)" = "b24sync" ]
[ "$(dpkg-deb --field "$deb" Version)" = "$version" ]

dpkg-deb -x "$deb" "$out/root"
for f in usr/bin/b24sync usr/lib/systemd/system/b24sync.service usr/lib/systemd/system/b24sync-sync.service \
         usr/lib/systemd/system/b24sync.timer usr/lib/systemd/system/b24sync@.service \
         usr/share/doc/b24sync/README.md usr/share/doc/b24sync/examples/1c-zup-csv.yaml; do
  [ -e "$out/root/$f" ] || { echo "missing in the package: $f" >&2; exit 1; }
done
# The units start the binary where the package puts it.
grep -q '^ExecStart=/usr/bin/b24sync ' "$out/root/usr/lib/systemd/system/b24sync.service"

got=$("$out/root/usr/bin/b24sync" version)
echo "$got"
[ "$got" = "b24sync $version" ]
