#!/usr/bin/env bash
# canh replay against Suricata on the same machine, in the same run, alternating the two:
# the anchors' mix (see bench/replay.sh), every parser on in both, and every file hashed whole
# in both (md5, sha1, sha256): Suricata's HTTP body limits lifted and its reassembly depth set to
# canh's (8 MiB), its EVE log writing flow, dns, http (extended), tls (extended) and files
# (force-hash). Single-threaded (canh --workers 1, Suricata --runmode single) and with two
# workers (canh --workers 2, Suricata --runmode autofp).
#
# Figures, each the median of RUNS: wall seconds; engine seconds (canh's summary "elapsed",
# Suricata's own "time elapsed"); CPU seconds (user + system) per Gbit of packet bytes; peak RSS;
# and the records each wrote, side by side.
#
# WHOLE_FILES=0 leaves Suricata's own limits (100 KiB of each HTTP body, 1 MiB of each stream):
# it then hashes files only in part, and does less work than canh.
#
# Suricata is built from source as ../shared/benchmarks/ANCHORS.md says (OISF/suricata), and
# found at SURICATA (default /opt/suricata/bin/suricata) with its installed suricata.yaml.
source "$(dirname "$0")/common.sh"
RUNS=${RUNS:-5}
SURICATA=${SURICATA:-/opt/suricata/bin/suricata}
SURICATA_YAML=${SURICATA_YAML:-$(dirname "$(dirname "$SURICATA")")/etc/suricata/suricata.yaml}
CAP=${CAP:-$DIR/mix-500mb.pcap}
WHOLE_FILES=${WHOLE_FILES:-1}
[ -x "$SURICATA" ] || { echo "no Suricata at $SURICATA (build it as ANCHORS.md says)"; exit 1; }
[ -f "$CAP" ] || { echo "no capture $CAP (bash bench/replay.sh writes the mix)"; exit 1; }
python3 -c 'import yaml' 2>/dev/null || { echo "needs PyYAML (pip install pyyaml)"; exit 1; }

# Suricata's configuration: the installed one, with the outputs and limits above.
CONF="$DIR/suricata-bench.yaml"
python3 - "$SURICATA_YAML" "$CONF" "$WHOLE_FILES" <<'EOF'
import sys, yaml
src, dst, whole = sys.argv[1:]
text = open(src).read()
conf = yaml.safe_load(text.split("---", 1)[1] if text.startswith("%YAML") else text)
eve = {"eve-log": {"enabled": True, "filetype": "regular", "filename": "eve.json", "types": [
    "flow",
    {"dns": {}},
    {"http": {"extended": True}},
    {"tls": {"extended": True}},
    {"files": {"force-magic": False, "force-hash": ["md5", "sha1", "sha256"]}},
]}}
conf["outputs"] = [eve]
conf.setdefault("stats", {})["enabled"] = False
if whole == "1":
    conf["stream"]["reassembly"]["depth"] = "8mb"
    htp = conf["app-layer"]["protocols"]["http"]["libhtp"]["default-config"]
    htp["request-body-limit"] = 0
    htp["response-body-limit"] = 0
conf["logging"]["outputs"] = [{"console": {"enabled": True}}]
open(dst, "w").write("%YAML 1.1\n---\n" + yaml.safe_dump(conf, sort_keys=False))
EOF

bits=$(python3 -c "
import struct
f = open('$CAP', 'rb'); f.read(24); n = 0
while True:
    h = f.read(16)
    if len(h) < 16: break
    incl, orig = struct.unpack('<II', h[8:16]); n += orig; f.seek(incl, 1)
print(n * 8)")
cat "$CAP" > /dev/null

# One run: its figures on one line (wall, engine, cpu, rss_kib).
run_canh() {
  /usr/bin/time -f "%e %U %S %M" -o "$DIR/time.txt" "$CANH" replay "$CAP" --workers "$1" --out "$DIR/canh-logs" \
    --summary-json "$DIR/canh-summary.json" > /dev/null 2>&1
  read -r wall user sys rss < "$DIR/time.txt"
  engine=$(python3 -c "import json; print(json.load(open('$DIR/canh-summary.json'))['elapsed_s'])")
  echo "$wall $engine $(echo "$user + $sys" | bc -l) $rss"
}
run_suricata() {
  rm -rf "$DIR/suricata-logs" && mkdir -p "$DIR/suricata-logs"
  /usr/bin/time -f "%e %U %S %M" -o "$DIR/time.txt" "$SURICATA" -v -c "$CONF" -S /dev/null -k none \
    --runmode "$1" -r "$CAP" -l "$DIR/suricata-logs" > "$DIR/suricata.out" 2>&1
  read -r wall user sys rss < "$DIR/time.txt"
  # "... time elapsed 1.234s" (Suricata's own measure of the packet processing).
  engine=$(grep -o 'time elapsed [0-9.]*s' "$DIR/suricata.out" | grep -o '[0-9.]*' | tail -1)
  echo "$wall ${engine:-nan} $(echo "$user + $sys" | bc -l) $rss"
}
col() { awk -v c="$1" '{print $c}' | median; }

printf "%-28s %9s %9s %8s %13s %9s\n" case "wall s" "engine s" "Gbit/s" "CPU s/Gbit" "RSS MiB"
for mode in single two; do
  canh_rows=(); suri_rows=()
  workers=$([ "$mode" = single ] && echo 1 || echo 2)
  runmode=$([ "$mode" = single ] && echo single || echo autofp)
  for _ in $(seq "$RUNS"); do
    suri_rows+=("$(run_suricata "$runmode")")
    canh_rows+=("$(run_canh "$workers")")
  done
  for who in suricata canh; do
    if [ "$who" = canh ]; then rows=("${canh_rows[@]}"); label="canh --workers $workers"; else rows=("${suri_rows[@]}"); label="Suricata --runmode $runmode"; fi
    wall=$(printf '%s\n' "${rows[@]}" | col 1); engine=$(printf '%s\n' "${rows[@]}" | col 2)
    cpu=$(printf '%s\n' "${rows[@]}" | col 3); rss=$(printf '%s\n' "${rows[@]}" | col 4)
    printf "%-28s %9.3f %9.3f %8.2f %13.3f %9.0f\n" "$label" "$wall" "$engine" \
      "$(echo "$bits / $engine / 1000000000" | bc -l)" "$(echo "$cpu / ($bits / 1000000000)" | bc -l)" \
      "$(echo "$rss / 1024" | bc -l)"
  done
done

echo "records (last runs): canh | Suricata EVE"
python3 - "$DIR/canh-summary.json" "$DIR/suricata-logs/eve.json" <<'EOF'
import json, sys, collections
canh = json.load(open(sys.argv[1]))["records"]
eve = collections.Counter(json.loads(l).get("event_type") for l in open(sys.argv[2]))
for c, s in [("conn", "flow"), ("dns", "dns"), ("http", "http"), ("ssl", "tls"), ("files", "fileinfo"), ("weird", "anomaly")]:
    print(f"  {c:6} {canh.get(c, 0):>8}   {s:9} {eve.get(s, 0):>8}")
EOF
