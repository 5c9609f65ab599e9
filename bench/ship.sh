#!/usr/bin/env bash
# Sensor to server over mutual TLS (issue #17): records/s end to end — a sensor analyzing
# generated captures and shipping their records and alerts in batches to `canh server`, which
# checks and restamps them and answers after the commit — against the same captures replayed
# straight into a store (`canh replay --index`), measured in the same run. And syslog lines/s
# over TCP into the store. RUNS runs each, medians.
source "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-400}
FILES=()
for seed in 1 2 3 4; do
  f="$DIR/ship-$seed-$SIZE_MB.pcap"
  [ -f "$f" ] || "$CANH" gen --seed "$seed" --size-mb "$SIZE_MB" --out "$f" > /dev/null 2>&1
  FILES+=("$f")
done
W="$DIR/ship"
rm -rf "$W" && mkdir -p "$W"
province "$W"
port=$((20000 + RANDOM % 20000)); sport=$((port + 1))

records=$("$CANH" replay "${FILES[@]}" --out - --rules bundled:vn-gov 2> /dev/null | wc -l)
echo "== $records records and alerts from ${#FILES[@]} captures of $SIZE_MB MB"

direct=() shipped=()
for _ in $(seq "$RUNS"); do
  rm -rf "$W/direct"
  s=$(seconds "$CANH" replay "${FILES[@]}" --out "$W/logs" --rules bundled:vn-gov --index "$W/direct")
  direct+=("$(echo "$records / $s" | bc -l)")
  # (The spool stays: its sequence numbers go on, as a sensor's do.)
  rm -rf "$W/data/events"
  "$CANH" server --data "$W/data" --listen "127.0.0.1:$port" --sensor-listen "127.0.0.1:$sport" > /dev/null 2>&1 &
  srv=$!
  until (exec 3<> "/dev/tcp/127.0.0.1/$sport") 2> /dev/null; do sleep 0.1; done
  s=$(seconds "$CANH" sensor --pcap "${FILES[@]}" --server "localhost:$sport" --identity "$W/id" --rules bundled:vn-gov)
  held=$("$CANH" search '*' --json --limit 1 --data "$W/data" 2> /dev/null | awk -F': ' '/"total"/ {gsub(",", "", $2); print $2; exit}')
  kill "$srv"; wait "$srv" 2> /dev/null || true
  [ "$held" = "$records" ] || { echo "the server holds $held of $records records" >&2; exit 1; }
  shipped+=("$(echo "$records / $s" | bc -l)")
done
d=$(printf '%s\n' "${direct[@]}" | median); m=$(printf '%s\n' "${shipped[@]}" | median)
printf 'replay --index (direct): %.0f records/s\n' "$d"
printf 'sensor -> mTLS -> server: %.0f records/s (%.2fx of direct)\n' "$m" "$(echo "$m / $d" | bc -l)"

echo "== syslog over TCP"
LINES=${LINES:-200000}
python3 - "$W/syslog.txt" "$LINES" << 'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f"<38>Dec  3 15:00:01 web{i % 50:02d} sshd[{i}]: Failed password for user{i} from 203.0.113.{i % 250} port {40000 + i % 20000} ssh2\n")
PY
tport=$((sport + 1))
rates=()
for _ in $(seq "$RUNS"); do
  rm -rf "$W/data/events"
  "$CANH" server --data "$W/data" --listen "127.0.0.1:$port" --sensor-listen "127.0.0.1:$sport" --syslog-tcp "127.0.0.1:$tport" > /dev/null 2>&1 &
  srv=$!
  until (exec 3<> "/dev/tcp/127.0.0.1/$tport") 2> /dev/null; do sleep 0.1; done
  start=$(date +%s.%N)
  cat "$W/syslog.txt" > "/dev/tcp/127.0.0.1/$tport"
  until [ "$("$CANH" search '_type:syslog' --json --limit 1 --data "$W/data" 2> /dev/null | awk -F': ' '/"total"/ {gsub(",", "", $2); print $2; exit}')" = "$LINES" ]; do sleep 0.05; done
  end=$(date +%s.%N)
  kill "$srv"; wait "$srv" 2> /dev/null || true
  rates+=("$(echo "$LINES / ($end - $start)" | bc -l)")
done
printf 'syslog over TCP into the store: %.0f lines/s\n' "$(printf '%s\n' "${rates[@]}" | median)"
