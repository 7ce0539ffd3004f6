#!/usr/bin/env bash
# Fetches the handwriting (running/cursive script) fonts the synthesiser can mix in, from the
# npm registry, into DIR: one simplified-Chinese WOFF2 per family (plus its Latin subset, for
# digits), which `--font DIR` reads directly. All four are under the SIL Open Font License;
# their LICENSE files are copied beside them. Nothing is committed to the repository.
#
#   tools/handwriting-fonts.sh ~/.cache/inkstone/fonts
#   inkstone train --data synth:gb2312-1 --font ~/.cache/inkstone/fonts ...
set -euo pipefail
dir=${1:?usage: tools/handwriting-fonts.sh DIR}
families=(zhi-mang-xing long-cang ma-shan-zheng liu-jian-mao-cao)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir"
for family in "${families[@]}"; do
  (cd "$work" && npm pack "@fontsource/$family" --silent >/dev/null)
  tarball=$(ls "$work"/fontsource-"$family"-*.tgz)
  mkdir -p "$work/$family"
  tar xzf "$tarball" -C "$work/$family"
  files="$work/$family/package/files"
  cp "$files/$family-chinese-simplified-400-normal.woff2" "$files/$family-latin-400-normal.woff2" "$dir/"
  cp "$work/$family/package/LICENSE" "$dir/$family.LICENSE" 2>/dev/null || true
  echo "$dir: $family"
done
