#!/usr/bin/env bash
# Event-store benchmarks (issue #4), at RECORDS generated records (default 10 million, ~5.6 GB
# of NDJSON made by `canh bench events`: a generated capture's records and alerts, replayed
# with the bundled rules, drawn a connection at a time and given fresh uids, Community IDs,
# hosts, ports and times over a week):
#   1. `canh ingest -` records/s on one core (`taskset -c 0`: the parser and tantivy's indexing
#      and compression threads share it; the NDJSON comes down a pipe from `cat` on another
#      core) and on all cores (one indexing thread per core);
#   2. bytes on disk as a ratio to the NDJSON's;
#   3. p50 and p95 of five analyst queries over the store (`canh bench search`);
#   4. ingesting the same file again (every record already held: nothing written).
source "$(dirname "$0")/common.sh"
RECORDS=${RECORDS:-10000000}
RUNS=${RUNS:-30}
CORES=$(nproc)

EVENTS="$DIR/events-$RECORDS.ndjson"
[ -f "$EVENTS" ] || "$CANH" bench events --records "$RECORDS" --out "$EVENTS" 2>/dev/null
bytes=$(stat -c %s "$EVENTS")
cat "$EVENTS" > /dev/null # the file in the page cache for every run alike, when it fits

held() { "$CANH" store stats --data "$1" | awk '$2 == "days" {print $3}'; }

# ingest DATA_DIR THREADS FEEDER_PIN INGEST_PIN: prints records/s, after checking every record is
# held. The records come down a pipe from `cat` (pinned as FEEDER_PIN says), as they come down a
# socket in service: 5.6 GB do not stay in this machine's page cache (~3 GB), and with the file
# read from disk the ingesting core spent 1.0-1.3 s in the kernel per million records, against
# 0.56 s through the pipe.
ingest() {
  local data=$1 threads=$2 feeder=$3 pin=$4
  rm -rf "$data"
  local s
  s=$(seconds bash -c "$feeder cat '$EVENTS' | $pin '$CANH' ingest - --data '$data' --threads $threads")
  [ "$(held "$data")" = "$RECORDS" ] || { echo "ingest into $data did not hold $RECORDS records" >&2; exit 1; }
  echo "$RECORDS / $s" | bc -l
}

echo "== ingest of $RECORDS records ($(echo "$bytes / $RECORDS" | bc) bytes each as NDJSON)"
feeder=""
[ "$CORES" -gt 1 ] && feeder="taskset -c 1"
one=$(ingest "$DIR/store-1" 1 "$feeder" "taskset -c 0")
printf "one core:        %8.0f records/s\n" "$one"
all=$(ingest "$DIR/store-all" "$CORES" "" "")
printf "all %d cores:     %8.0f records/s (%.0f per core)\n" "$CORES" "$all" "$(echo "$all / $CORES" | bc -l)"

echo "== disk"
stored=$(du -sb "$DIR/store-all/events" | cut -f1)
printf "%.2f GB for %.2f GB of NDJSON: %.2fx, %.0f bytes per record\n" \
  "$(echo "$stored / 10^9" | bc -l)" "$(echo "$bytes / 10^9" | bc -l)" "$(echo "$stored / $bytes" | bc -l)" \
  "$(echo "$stored / $RECORDS" | bc -l)"
for ext in store term idx pos fast; do
  printf "  .%-6s %6.0f MB\n" "$ext" "$(find "$DIR/store-all/events" -name "*.$ext" -printf '%s\n' | awk '{s+=$1} END {print s/1e6}')"
done
rm -rf "$DIR/store-1"

echo "== queries ($RUNS runs each)"
"$CANH" bench search --data "$DIR/store-all" --runs "$RUNS"

echo "== the same file again (every record held already)"
s=$(seconds "$CANH" ingest "$EVENTS" --data "$DIR/store-all" --threads "$CORES")
printf "%8.0f records/s; records held: %s\n" "$(echo "$RECORDS / $s" | bc -l)" "$(held "$DIR/store-all")"
