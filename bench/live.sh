#!/usr/bin/env bash
# Live capture (issue #17): packets/s and Gbit/s a sensor takes off a veth pair, whether the
# kernel dropped any, and the sensor's CPU seconds per Gbit. tcpreplay sends a generated
# capture into one end of a veth pair inside a network namespace, at each rate of RATES
# (Mbit/s; `topspeed`: as fast as it can), while `canh sensor --iface` captures the other end
# with the bundled rules, its records to /dev/null and every frame into its packet store (as a
# shipping sensor keeps them). Needs root. Both run on this machine's cores: tcpreplay's own
# CPU is taken from what the sensor could have.
source "$(dirname "$0")/common.sh"
SIZE_MB=${SIZE_MB:-300}
RATES=${RATES:-"1000 2000 4000 topspeed"}
WORKERS=${WORKERS:-"1 2"}
f="$DIR/live-$SIZE_MB.pcap"
[ -f "$f" ] || "$CANH" gen --seed 7 --size-mb "$SIZE_MB" --out "$f" > /dev/null 2>&1
W="$DIR/live"
rm -rf "$W" && mkdir -p "$W"
ns="canh-bench-$$"
ip netns add "$ns"
trap 'ip netns del "$ns" 2> /dev/null || true' EXIT
in_ns() { ip netns exec "$ns" "$@"; }
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
in_ns ip link add va type veth peer name vb
for end in va vb; do in_ns ip link set "$end" mtu 9000 up; done

frames=$(tcpdump -nr "$f" 2> /dev/null | wc -l)
echo "== $f: $frames frames; sensor: --rules bundled:vn-gov, records to /dev/null, packet store on"
printf '%-8s %-9s %10s %10s %12s %9s %8s %9s %10s\n' workers asked sent_Mbps received kernel_drop drop_pct cpu_s Gbit cpu_s/Gbit
for w in $WORKERS; do
  for rate in $RATES; do
    rm -rf "$W/packets" "$W/stats.json"
    in_ns /usr/bin/time -f '%U %S' -o "$W/cpu" "$CANH" sensor --iface vb --workers "$w" --out - \
      --rules bundled:vn-gov --packets "$W/packets" --packets-max-mib 4096 --stats-json "$W/stats.json" \
      > /dev/null 2> "$W/sensor.err" &
    pid=$!
    until grep -q "capturing on vb" "$W/sensor.err" 2> /dev/null; do sleep 0.1; done
    if [ "$rate" = topspeed ]; then speed=(-t); else speed=(--mbps "$rate"); fi
    in_ns tcpreplay -i va "${speed[@]}" "$f" > "$W/tcpreplay.out" 2>&1
    sleep 1
    # The sensor is `time`'s child: signal it (by its name), not time.
    pkill -TERM -x canh || true
    wait "$pid" 2> /dev/null || true
    sent=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i == "Mbps,") print $(i - 1)}' "$W/tcpreplay.out" | head -1)
    read -r received dropped bytes < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(sum(w["capture"]["received"] for w in s["workers"]), sum(w["capture"]["kernel_dropped"] for w in s["workers"]), s["bytes"])
' "$W/stats.json")
    cpu=$(tail -1 "$W/cpu" | awk '{print $1 + $2}')
    gbit=$(echo "$bytes * 8 / 1000000000" | bc -l)
    printf '%-8s %-9s %10s %10s %12s %8.3f%% %8.1f %9.2f %10.2f\n' "$w" "$rate" "$sent" "$received" "$dropped" \
      "$(echo "100 * $dropped / ($received + $dropped)" | bc -l)" "$cpu" "$gbit" "$(echo "$cpu / $gbit" | bc -l)"
  done
done
