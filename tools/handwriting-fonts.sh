#!/usr/bin/env bash
# Fetches the handwriting-like fonts the synthesiser can mix in, from the npm registry, into
# DIR. Nothing is committed to the repository.
#
# - @fontsource running/cursive scripts (SIL Open Font License): one simplified-Chinese WOFF2
#   per family (plus its Latin subset, for digits), as files in DIR.
# - @chinese-fonts packages (the packaging is MIT; each font keeps its author's terms, the
#   project publishes fonts that are free to use): each font ships split into ~60-110 WOFF2
#   subset files, copied into a folder DIR/<family>/, which `--font DIR/<family>` reads as one
#   family (one writer, however many files).
#
#   tools/handwriting-fonts.sh ~/.cache/inkstone/fonts
#   inkstone train --data synth:gb2312-1 --font ~/.cache/inkstone/fonts/jiang-xi-zhuo-kai ...
set -euo pipefail
dir=${1:?usage: tools/handwriting-fonts.sh DIR}
fontsource=(zhi-mang-xing long-cang ma-shan-zheng liu-jian-mao-cao)
# npm package under @chinese-fonts/ -> folder name (the font's name in pinyin/English)
declare -A chinese_fonts=(
  [hlxsjt]=hong-lei-xing-shu    # 鸿雷行书简体, running script
  [jxzk]=jiang-xi-zhuo-kai      # 江西拙楷, handwritten regular script
  [kksjt]=kuai-kan-shi-jie      # 快看世界体, hand-lettered display
  [mksjh]=mao-ken-shi-jin-hei   # 猫啃什锦黑, hand-lettered display
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir"
for family in "${fontsource[@]}"; do
  (cd "$work" && npm pack "@fontsource/$family" --silent >/dev/null)
  tarball=$(ls "$work"/fontsource-"$family"-*.tgz)
  mkdir -p "$work/$family"
  tar xzf "$tarball" -C "$work/$family"
  files="$work/$family/package/files"
  cp "$files/$family-chinese-simplified-400-normal.woff2" "$files/$family-latin-400-normal.woff2" "$dir/"
  cp "$work/$family/package/LICENSE" "$dir/$family.LICENSE" 2>/dev/null || true
  echo "$dir: $family"
done
for package in "${!chinese_fonts[@]}"; do
  family=${chinese_fonts[$package]}
  (cd "$work" && npm pack "@chinese-fonts/$package" --silent >/dev/null)
  tarball=$(ls "$work"/chinese-fonts-"$package"-*.tgz)
  mkdir -p "$work/$package" "$dir/$family"
  tar xzf "$tarball" -C "$work/$package"
  find "$work/$package/package/dist" -name '*.woff2' -exec cp {} "$dir/$family/" \;
  cp "$work/$package/package/LICENSE" "$dir/$family.LICENSE" 2>/dev/null || true
  echo "$dir/$family: @chinese-fonts/$package ($(ls "$dir/$family" | wc -l) files)"
done
