#!/usr/bin/env bash
# Vendor the front-end assets that gridmap's pages load, so an intranet machine with no internet
# needs nothing at run time (see docs: no CDN scripts, styles, icons or fonts anywhere).
#
#   scripts/vendor_assets.sh          fetch the pinned npm tarballs and rewrite gridmap/static/vendor/
#   scripts/vendor_assets.sh --check  offline: verify the committed files against vendor/SHA256SUMS
#
# What is vendored is pinned in scripts/vendor_assets.json: npm name, version, the tarball's
# integrity (checked before anything is copied) and the files to copy, each package into
# gridmap/static/vendor/<name>-<version>/ with its licence. Tarballs are fetched with `npm pack`
# into a temporary folder: no node_modules, no install scripts, no dependencies (the files we use
# are self-contained builds). The trailing `//# sourceMappingURL=` comment is removed from the
# copied JS/CSS: the .map files are not vendored, and Django's manifest static storage
# (collectstatic) would fail on a reference to a missing file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
manifest="$here/vendor_assets.json"
vendor="$root/gridmap/static/vendor"

die() { echo "vendor_assets: $*" >&2; exit 1; }

if [[ "${1:-}" == "--check" ]]; then
    [[ -f "$vendor/SHA256SUMS" ]] || die "no $vendor/SHA256SUMS: run scripts/vendor_assets.sh first"
    (cd "$vendor" && sha256sum --quiet -c SHA256SUMS) || die "vendored files differ from SHA256SUMS"
    echo "vendor_assets: all vendored files match SHA256SUMS"
    exit 0
fi
[[ $# -eq 0 ]] || die "usage: $0 [--check]"

command -v node >/dev/null || die "node is required (it comes with npm)"
command -v npm >/dev/null || die "npm is required"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# One line per package: name, version, integrity; then one "file<TAB>src<TAB>dest" line per file.
node -e '
const m = require(process.argv[1]);
for (const p of m.packages) {
  console.log(["pkg", p.name, p.version, p.integrity].join("\t"));
  for (const [src, dest] of Object.entries(p.files)) console.log(["file", src, dest].join("\t"));
}' "$manifest" >"$tmp/plan.tsv"

stage="$tmp/vendor"
mkdir -p "$stage"
{
    echo "# Front-end assets vendored by scripts/vendor_assets.sh from the npm registry."
    echo "# Do not edit by hand: change scripts/vendor_assets.json and re-run the script."
    echo "# JS/CSS copies have their trailing sourceMappingURL comment removed (no .map files)."
    echo "# name version license integrity -> folder"
} >"$stage/VERSIONS.txt"

name="" version="" pkgdir="" srcdir=""
while IFS=$'\t' read -r kind a b c; do
    if [[ "$kind" == "pkg" ]]; then
        name="$a" version="$b"
        echo "vendor_assets: fetching $name@$version"
        mkdir -p "$tmp/$name"
        if ! npm pack "$name@$version" --json --pack-destination "$tmp/$name" \
            >"$tmp/$name/pack.json" 2>"$tmp/$name/pack.err"; then
            cat "$tmp/$name/pack.err" >&2
            die "npm pack $name@$version failed"
        fi
        got="$(node -e 'console.log(require(process.argv[1])[0].integrity)' "$tmp/$name/pack.json")"
        [[ "$got" == "$c" ]] || die "$name@$version integrity $got does not match the pinned $c"
        tarball="$(node -e 'console.log(require(process.argv[1])[0].filename)' "$tmp/$name/pack.json")"
        srcdir="$tmp/$name/src"
        mkdir -p "$srcdir"
        tar -xzf "$tmp/$name/$tarball" -C "$srcdir" --strip-components=1
        license="$(node -e 'console.log(require(process.argv[1]).license || "see LICENSE")' \
            "$srcdir/package.json")"
        pkgdir="$name-$version"
        mkdir -p "$stage/$pkgdir"
        echo "$name $version $license $c -> $pkgdir/" >>"$stage/VERSIONS.txt"
    else
        src="$srcdir/$a" dest="$stage/$pkgdir/$b"
        [[ -f "$src" ]] || die "$name@$version has no $a"
        mkdir -p "$(dirname "$dest")"
        case "$dest" in
            *.js | *.css) sed -E '/^\/[\/*]# sourceMappingURL=.*$/d' "$src" >"$dest" ;;
            *) cp "$src" "$dest" ;;
        esac
    fi
done <"$tmp/plan.tsv"

(cd "$stage" && find . -type f ! -name SHA256SUMS ! -name VERSIONS.txt | sed 's|^\./||' | LC_ALL=C sort \
    | xargs sha256sum >SHA256SUMS)

# Replace the whole vendor folder: it holds only what this script writes.
rm -rf "$vendor"
mkdir -p "$(dirname "$vendor")"
cp -r "$stage" "$vendor"
count="$(find "$vendor" -type f | wc -l)"
echo "vendor_assets: wrote $count files, $(du -sh "$vendor" | cut -f1) in ${vendor#"$root"/}"
