#!/usr/bin/env bash
# The scale-out transport (issue #17): records/s from a sensor through a three-node NATS
# JetStream cluster on loopback (stream and done bucket replicated three times) into INDEXERS
# indexers, against the direct mutual-TLS path into `canh server`, measured in the same run:
# from the sensor's start until the stores hold every record. RUNS runs each, medians. Needs
# Debian's nats-server.
source "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-300}
INDEXERS=${INDEXERS:-2}
f="$DIR/nats-$SIZE_MB.pcap"
[ -f "$f" ] || "$CANH" gen --seed 11 --size-mb "$SIZE_MB" --out "$f" > /dev/null 2>&1
W="$DIR/nats"
rm -rf "$W" && mkdir -p "$W"
province "$W"
records=$("$CANH" replay "$f" --out - --rules bundled:vn-gov 2> /dev/null | wc -l)
echo "== $records records and alerts from a capture of $SIZE_MB MB; $INDEXERS indexers"
held() { "$CANH" search '*' --json --limit 1 --data "$1" 2> /dev/null | awk -F': ' '/"total"/ {gsub(",", "", $2); print $2; exit}'; }
base=$((20000 + RANDOM % 20000))

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done; }
trap cleanup EXIT

measure() {
direct=() nats=()
for run in $(seq "$RUNS"); do
  # Direct: sensor -> mutual TLS -> server.
  rm -rf "$W/data/events" "$W/id/packets"
  "$CANH" server --data "$W/data" --listen "127.0.0.1:$base" --sensor-listen "127.0.0.1:$((base + 1))" > /dev/null 2>&1 &
  srv=$!
  until (exec 3<> "/dev/tcp/127.0.0.1/$((base + 1))") 2> /dev/null; do sleep 0.1; done
  s=$(seconds "$CANH" sensor "${INPUT[@]}" --server "localhost:$((base + 1))" --identity "$W/id" --no-packets)
  [ "$(held "$W/data")" = "$records" ] || { echo "the server holds $(held "$W/data") of $records" >&2; exit 1; }
  kill "$srv"; wait "$srv" 2> /dev/null || true
  direct+=("$(echo "$records / $s" | bc -l)")

  # Through JetStream: a fresh three-node cluster each run.
  urls=""
  for i in 0 1 2; do
    routes=""
    for j in 0 1 2; do [ "$i" = "$j" ] || routes="$routes nats-route://127.0.0.1:$((base + 20 + j)),"; done
    rm -rf "$W/n$i-$run" && mkdir -p "$W/n$i-$run"
    cat > "$W/n$i.conf" << EOF
server_name: n$i
listen: 127.0.0.1:$((base + 10 + i))
max_payload: 8MB
jetstream { store_dir: "$W/n$i-$run" }
cluster { name: canh, listen: 127.0.0.1:$((base + 20 + i)), routes: [${routes%,}] }
EOF
    nats-server -c "$W/n$i.conf" > /dev/null 2>&1 &
    pids+=($!)
    urls="$urls${urls:+,}nats://127.0.0.1:$((base + 10 + i))"
  done
  stores=()
  for k in $(seq "$INDEXERS"); do
    rm -rf "$W/idx$k"
    "$CANH" indexer --nats "$urls" --data "$W/idx$k" --name "idx$k" > /dev/null 2> "$W/idx$k.log" &
    pids+=($!)
    stores+=("$W/idx$k")
  done
  # The clock starts once the cluster has elected its leaders and the indexers consume.
  for k in $(seq "$INDEXERS"); do
    until grep -q consuming "$W/idx$k.log"; do sleep 0.1; done
  done
  start=$(date +%s.%N)
  "$CANH" sensor "${INPUT[@]}" --nats "$urls" --identity "$W/id" > /dev/null 2>&1
  while :; do
    total=0
    for d in "${stores[@]}"; do total=$((total + $(held "$d" || echo 0))); done
    [ "$total" -ge "$records" ] && break
    sleep 0.2
  done
  end=$(date +%s.%N)
  [ "$total" = "$records" ] || { echo "the indexers hold $total of $records" >&2; exit 1; }
  nats+=("$(echo "$records / ($end - $start)" | bc -l)")
  cleanup; pids=()
  sleep 1
done
}

INPUT=(--pcap "$f" --rules bundled:vn-gov)
measure
d=$(printf '%s\n' "${direct[@]}" | median); n=$(printf '%s\n' "${nats[@]}" | median)
printf 'capture: sensor -> mTLS -> server: %.0f records/s\n' "$d"
printf 'capture: sensor -> JetStream (3 nodes, R3) -> %s indexers: %.0f records/s (%.2fx of mTLS)\n' "$INDEXERS" "$n" "$(echo "$n / $d" | bc -l)"

# Transport-bound: records already made (NDJSON), so that no packet analysis paces the
# stream; the baseline is `canh ingest` of the same file straight into a store.
EVENTS=${EVENTS:-1000000}
ev="$DIR/nats-events-$EVENTS.ndjson"
[ -f "$ev" ] || "$CANH" bench events --records "$EVENTS" --out "$ev" > /dev/null 2>&1
records=$(wc -l < "$ev")
echo "== $records records (canh bench events), shipped as they are (--records)"
ing=()
for _ in $(seq "$RUNS"); do
  rm -rf "$W/ingest"
  s=$(seconds "$CANH" ingest "$ev" --data "$W/ingest")
  ing+=("$(echo "$records / $s" | bc -l)")
done
INPUT=(--records "$ev")
measure
i=$(printf '%s\n' "${ing[@]}" | median); d=$(printf '%s\n' "${direct[@]}" | median); n=$(printf '%s\n' "${nats[@]}" | median)
printf 'records: canh ingest (straight into a store): %.0f records/s\n' "$i"
printf 'records: sensor -> mTLS -> server: %.0f records/s (%.2fx of ingest)\n' "$d" "$(echo "$d / $i" | bc -l)"
printf 'records: sensor -> JetStream (3 nodes, R3) -> %s indexers: %.0f records/s (%.2fx of ingest)\n' "$INDEXERS" "$n" "$(echo "$n / $i" | bc -l)"
