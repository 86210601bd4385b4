#!/usr/bin/env bash
# Copies the parts of Bootstrap Italia that Sportello's pages use from
# node_modules into static/vendor/bootstrap-italia/, which the web package
# embeds. The version is pinned in package.json and package-lock.json;
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
set -euo pipefail

cd "$(dirname "$0")"

if [[ ! -d node_modules/bootstrap-italia || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

src=node_modules/bootstrap-italia/dist
dst=static/vendor/bootstrap-italia

want=$(node -p 'require("./package.json").dependencies["bootstrap-italia"]')
have=$(node -p 'require("./node_modules/bootstrap-italia/package.json").version')
if [[ "$want" != "$have" ]]; then
  echo "vendor.sh: node_modules has bootstrap-italia $have, package.json pins $want" >&2
  exit 1
fi

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
