#!/usr/bin/env bash
# Replay benchmark: `canh replay` throughput (Gbit/s, packets/s) and peak RSS, single-threaded
# and with --workers 2, on
#   - a generated agency-LAN capture of SIZE_MB (default 1000 MB), and
#   - the anchors' benchmark mix (../shared/benchmarks/gen_mix.py, needs scapy), on which
#     Suricata's throughput was measured (../shared/benchmarks/ANCHORS.md);
# plus tshark on the mix in the same run (if installed) as a baseline on this machine.
# Captures are read once first so every run starts with them in the page cache.
source "$(dirname "$0")/common.sh"
SIZE_MB=${SIZE_MB:-1000}
RUNS=${RUNS:-3}

[ -f "$DIR/lan-${SIZE_MB}mb.pcap" ] || "$CANH" gen --out "$DIR/lan-${SIZE_MB}mb.pcap" --size-mb "$SIZE_MB" --seed 1
captures=("$DIR/lan-${SIZE_MB}mb.pcap")
if [ ! -f "$DIR/mix-500mb.pcap" ] && python3 -c 'import scapy' 2>/dev/null; then
  python3 ../shared/benchmarks/gen_mix.py gen --out "$DIR/mix-50mb.pcap"
  python3 ../shared/benchmarks/gen_mix.py repeat --inp "$DIR/mix-50mb.pcap" --copies 10 --out "$DIR/mix-500mb.pcap"
fi
[ -f "$DIR/mix-500mb.pcap" ] && captures+=("$DIR/mix-500mb.pcap")


printf "%-16s %-10s %10s %10s %12s\n" capture run Gbit/s kpps "peak RSS MiB"
for cap in "${captures[@]}"; do
  cat "$cap" > /dev/null
  for workers in 1 2; do
    gbps=(); kpps=(); rss=()
    for _ in $(seq "$RUNS"); do
      /usr/bin/time -f "%M" -o "$DIR/rss.txt" "$CANH" replay "$cap" --out "$DIR/logs" --workers "$workers" --summary-json "$DIR/summary.json" 2>/dev/null
      gbps+=("$(python3 -c "import json; print(json.load(open('$DIR/summary.json'))['gbit_per_s'])")")
      kpps+=("$(python3 -c "import json; print(json.load(open('$DIR/summary.json'))['packets_per_s']/1000)")")
      rss+=("$(cat "$DIR/rss.txt")")
    done
    printf "%-16s %-10s %10.2f %10.0f %12.1f\n" "$(basename "$cap")" "canh w=$workers" \
      "$(printf '%s\n' "${gbps[@]}" | median)" "$(printf '%s\n' "${kpps[@]}" | median)" \
      "$(printf '%s\n' "${rss[@]}" | median | awk '{print $1/1024}')"
  done
  if command -v tshark >/dev/null && [[ "$cap" == *mix* ]]; then
    secs=()
    for _ in $(seq "$RUNS"); do
      start=$(date +%s.%N); tshark -q -z conv,tcp -r "$cap" > /dev/null 2>&1; end=$(date +%s.%N)
      secs+=("$(echo "$end - $start" | bc -l)")
    done
    s=$(printf '%s\n' "${secs[@]}" | median)
    # The same packet bytes canh counted, so the two rates are comparable.
    bytes=$(python3 -c "import json; print(json.load(open('$DIR/summary.json'))['bytes'])")
    printf "%-16s %-10s %10.2f\n" "$(basename "$cap")" "tshark" "$(echo "$bytes * 8 / $s / 1000000000" | bc -l)"
  fi
done
