#!/usr/bin/env bash
# Detection benchmarks (issue #3), all figures from the same run:
#   1. Sigma records/s: the bundled pack, then the bundled pack plus SigmaHQ's network and web
#      rules (../shared/corpus/sigma), with the literal prefilter and without it;
#   2. YARA MB/s over the artifacts of a generated capture: `canh bench yara` (bytes only, and
#      with documents also scanned as text) beside YARA-X's own CLI (`yr scan`, if installed:
#      `cargo install yara-x-cli --version 1.22.1`) and classic `yara` (Debian package), one
#      thread each, the same files and rules, externals at their defaults;
#   3. `canh replay` with rules as a ratio to `canh replay` without, on the generated capture
#      and on the anchors' mix (see bench/replay.sh), one engine thread and two.
source "$(dirname "$0")/common.sh"
SIZE_MB=${SIZE_MB:-200}
RUNS=${RUNS:-3}
SIGMAHQ=../shared/corpus/sigma/rules
PACK=rules/packs/vn-gov

LAN="$DIR/lan-${SIZE_MB}mb.pcap"
[ -f "$LAN" ] || "$CANH" gen --out "$LAN" --size-mb "$SIZE_MB" --seed 1

echo "== Sigma (records of $(basename "$LAN"))"
"$CANH" bench sigma "$LAN" --runs "$RUNS" --rules "$PACK" 2>/dev/null | grep -v '^    '
[ -d "$SIGMAHQ" ] && "$CANH" bench sigma "$LAN" --runs "$RUNS" --rules "$PACK" "$SIGMAHQ/network" "$SIGMAHQ/web" 2>/dev/null

echo "== YARA (artifacts of $(basename "$LAN"), one thread)"
ART="$DIR/artifacts"
rm -rf "$ART" && "$CANH" replay "$LAN" --out "$DIR/logs-artifacts" --extract-files "$ART" > /dev/null 2>&1 || true
"$CANH" bench yara "$ART" --runs "$RUNS" --rules "$PACK" --raw 2>/dev/null
"$CANH" bench yara "$ART" --runs "$RUNS" --rules "$PACK" 2>/dev/null
bytes=$(find "$ART" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
defines=()
for v in service source mime_type filename filepath extension filetype owner; do defines+=(-d "$v=\"\""); done
for v in is_orig orig_internal resp_internal leaving extracted_text; do defines+=(-d "$v=false"); done
defines+=(-d src_port=0 -d dst_port=0 -d cccd_numbers=0 -d phone_numbers=0)
YR=$(command -v yr || echo "$HOME/.cargo/bin/yr")
if [ -x "$YR" ]; then
  cat "$ART"/* > /dev/null
  s=$(for _ in $(seq "$RUNS"); do seconds "$YR" scan -p 1 "${defines[@]}" "$PACK/yara" "$ART"; done | median)
  printf "yr scan -p 1 (YARA-X %s): %.1f MB/s (process, rule compile and file reads included)\n" \
    "$("$YR" --version | awk '{print $2}')" "$(echo "$bytes / 1000000 / $s" | bc -l)"
fi
if command -v yara > /dev/null; then
  s=$(for _ in $(seq "$RUNS"); do seconds yara -p 1 -r "${defines[@]//\"/}" "$PACK"/yara/*.yar "$ART"; done | median)
  printf "yara -p 1 (libyara %s): %.1f MB/s (same)\n" "$(yara -v)" "$(echo "$bytes / 1000000 / $s" | bc -l)"
fi

echo "== canh replay: with rules / without (median of $RUNS)"
captures=("$LAN")
[ -f "$DIR/mix-500mb.pcap" ] && captures+=("$DIR/mix-500mb.pcap")
rate() { "$CANH" replay "$@" --out "$DIR/logs-rules" --summary-json "$DIR/rules-summary.json" > /dev/null 2>&1 || true
  python3 -c "import json; print(json.load(open('$DIR/rules-summary.json'))['gbit_per_s'])"; }
for cap in "${captures[@]}"; do
  cat "$cap" > /dev/null
  for workers in 1 2; do
    base=$(for _ in $(seq "$RUNS"); do rate "$cap" --workers "$workers"; done | median)
    bundled=$(for _ in $(seq "$RUNS"); do rate "$cap" --workers "$workers" --rules "$PACK"; done | median)
    line=$(printf "%-16s w=%s  no rules %.2f Gbit/s  vn-gov %.2f (%.2fx)" "$(basename "$cap")" "$workers" "$base" "$bundled" "$(echo "$bundled / $base" | bc -l)")
    if [ -d "$SIGMAHQ" ]; then
      all=$(for _ in $(seq "$RUNS"); do rate "$cap" --workers "$workers" --rules "$PACK" "$SIGMAHQ/network" "$SIGMAHQ/web"; done | median)
      line+=$(printf "  vn-gov+SigmaHQ network/web %.2f (%.2fx)" "$all" "$(echo "$all / $base" | bc -l)")
    fi
    echo "$line"
  done
done
