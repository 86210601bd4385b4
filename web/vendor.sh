#!/usr/bin/env bash
# Copies the parts of Bootstrap Italia and Leaflet that Sportello's pages use
# from node_modules into static/vendor/, which the web package embeds. The
# versions are pinned in package.json and package-lock.json;
# node_modules is (re)installed with `npm ci` when it is missing or older than
# the lock file. Run it before `go build`; `go test` does not need it.
#
#   static/vendor/bootstrap-italia/
#     css/bootstrap-italia.min.css      the stylesheet
#     js/bootstrap-italia.bundle.min.js the script, with its dependencies
#     svg/sprites.svg                   the icons
#     fonts/<family>/…woff2 + licence   the Titillium Web, Lora and Roboto
#                                       Mono faces static/css/sportello.css
#                                       declares, and no other
#   static/vendor/leaflet/
#     leaflet.js, leaflet.css           the map of forms' "map" fields
#     images/                           the marker and control images the
#                                       stylesheet refers to
#     LICENSE
#   static/vendor/chart.js/
#     chart.umd.min.js, LICENSE.md      the charts of the analytics page
#                                       (its own dependency bundled in)
#
# axe-core is not served: the accessibility test of core/server reads
# node_modules/axe-core/axe.min.js, at the version package.json pins, which
# this script checks.
set -euo pipefail

cd "$(dirname "$0")"

if [[ ! -d node_modules/bootstrap-italia || ! -d node_modules/leaflet || ! -d node_modules/chart.js || ! -d node_modules/axe-core || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# pinned PACKAGE: the version of PACKAGE in node_modules, which must be the
# one package.json pins.
pinned() {
  local want have
  want=$(node -p "require('./package.json').dependencies['$1']")
  have=$(node -p "require('./node_modules/$1/package.json').version")
  if [[ "$want" != "$have" ]]; then
    echo "vendor.sh: node_modules has $1 $have, package.json pins $want" >&2
    exit 1
  fi
  echo "$have"
}

src=node_modules/bootstrap-italia/dist
dst=static/vendor/bootstrap-italia
have=$(pinned bootstrap-italia)

rm -rf "$dst"
mkdir -p "$dst/css" "$dst/js" "$dst/svg"
cp "$src/css/bootstrap-italia.min.css" "$dst/css/"
cp "$src/js/bootstrap-italia.bundle.min.js" "$dst/js/"
cp "$src/svg/sprites.svg" "$dst/svg/"
cp node_modules/bootstrap-italia/LICENSE "$dst/LICENSE"
echo "$have" > "$dst/VERSION"

# The fonts: exactly the files static/css/sportello.css declares (by URLs
# relative to static/css/), with the licence of each family.
prefix=../vendor/bootstrap-italia/fonts/
fonts=$(grep -o 'url("[^"]*")' static/css/sportello.css | sed -e 's/^url("//' -e 's/")$//' | sort -u)
if [[ -z "$fonts" ]]; then
  echo "vendor.sh: static/css/sportello.css declares no font" >&2
  exit 1
fi
for url in $fonts; do
  rel=${url#"$prefix"}
  if [[ "$rel" == "$url" || ! -f "$src/fonts/$rel" ]]; then
    echo "vendor.sh: static/css/sportello.css refers to $url, not in bootstrap-italia $have" >&2
    exit 1
  fi
  family=$(dirname "$rel")
  mkdir -p "$dst/fonts/$family"
  cp "$src/fonts/$rel" "$dst/fonts/$rel"
  cp "$src/fonts/$family/"*.txt "$dst/fonts/$family/"
done

echo "vendor.sh: bootstrap-italia $have in $dst ($(du -sh "$dst" | cut -f1))"

# Leaflet: the script, its stylesheet and the images the stylesheet names
# (relative to it, images/…); no source maps.
src=node_modules/leaflet/dist
dst=static/vendor/leaflet
have=$(pinned leaflet)
rm -rf "$dst"
mkdir -p "$dst/images"
cp "$src/leaflet.js" "$src/leaflet.css" "$dst/"
cp "$src/images/"*.png "$dst/images/"
cp node_modules/leaflet/LICENSE "$dst/LICENSE"
echo "$have" > "$dst/VERSION"
echo "vendor.sh: leaflet $have in $dst ($(du -sh "$dst" | cut -f1))"

# Chart.js: the UMD build, which carries its one dependency (@kurkle/color)
# inside, so the page loads a single file; no source map.
src=node_modules/chart.js
dst=static/vendor/chart.js
have=$(pinned chart.js)
rm -rf "$dst"
mkdir -p "$dst"
cp "$src/dist/chart.umd.min.js" "$dst/"
cp "$src/LICENSE.md" "$dst/LICENSE.md"
echo "$have" > "$dst/VERSION"
echo "vendor.sh: chart.js $have in $dst ($(du -sh "$dst" | cut -f1))"

have=$(pinned axe-core)
if [[ ! -f node_modules/axe-core/axe.min.js ]]; then
  echo "vendor.sh: node_modules/axe-core $have has no axe.min.js" >&2
  exit 1
fi
echo "vendor.sh: axe-core $have in node_modules/axe-core, for the tests only"
