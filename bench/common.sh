# Sourced by the bench scripts: the repository as working directory, the data directory
# (BENCH_DIR), a release build (or the binary CANH names), and two helpers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIR=${BENCH_DIR:-/var/tmp/canh-bench}
mkdir -p "$DIR"
# CANH=/path/to/canh measures that binary (an older build, for before/after in one run).
if [ -z "${CANH:-}" ]; then
  cargo build --release --quiet
  CANH="${CARGO_TARGET_DIR:-target}/release/canh"
fi

# A province in directory $1: organization so-a, the CA, sensor s1 enrolled and certified into
# $1/id (the server's data directory is $1/data).
province() {
  "$CANH" org add so-a --name "Sở A" --data "$1/data" > /dev/null
  "$CANH" ca init --data "$1/data" > /dev/null
  local token
  token=$("$CANH" sensor enroll s1 --org so-a --data "$1/data" | tail -1)
  "$CANH" sensor certify --token "$token" --out "$1/id" --data "$1/data" > /dev/null
}

# The median of numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Wall-clock seconds of a command, its output discarded (its failure too: check its effect).
seconds() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
