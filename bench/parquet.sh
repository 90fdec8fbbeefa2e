#!/usr/bin/env bash
# Reading Parquet against our text reader and against pandas read_parquet + scipy CSR, on the
# same 5M interactions. Alternates the contenders round by round (shared 2-core VMs are noisy)
# and prints every run; BENCHMARKS.md keeps each one's best and median.
#
# Usage: bench/parquet.sh [--rounds 7]     (after cargo build --release)
# Needs a python with pandas, pyarrow and scipy: $PY, default the peers venv; pyarrow is not in
# ../shared/bench/peers/setup.sh's venv, so e.g.
#   python3 -m venv /tmp/alt-pq-venv && /tmp/alt-pq-venv/bin/pip install pandas pyarrow scipy
#   PY=/tmp/alt-pq-venv/bin/python bench/parquet.sh
# Data in /tmp/alt-pq-bench (nothing written in the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=7
[ "${1:-}" = "--rounds" ] && ROUNDS="$2"
PY="${PY:-$HOME/.cache/alternator-peers/bin/python}"
BIN="$PWD/target/release/alternator"
D=/tmp/alt-pq-bench
mkdir -p "$D"
if [ ! -f "$D/s5m.tsv" ]; then
  "$PY" ../shared/bench/gen_synth.py --users 100000 --items 50000 --nnz 5000000 --seed 1 --out "$D/s5m.tsv"
fi
if [ ! -f "$D/s5m.parquet" ]; then
  "$PY" bench/parquet_make.py "$D/s5m.tsv" "$D/s5m.parquet" "$D/s5m_parts" --parts 4
fi
secs() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
for r in $(seq "$ROUNDS"); do
  echo "round $r"
  echo "  alternator inspect s5m.tsv          $(secs "$BIN" inspect "$D/s5m.tsv" --json)"
  echo "  alternator inspect s5m.parquet      $(secs "$BIN" inspect "$D/s5m.parquet" --json)"
  echo "  alternator inspect s5m_parts/       $(secs "$BIN" inspect "$D/s5m_parts" --json)"
  echo "  pandas read_parquet s5m.parquet     $("$PY" bench/pandas_parquet_load.py "$D/s5m.parquet" | sed 's/.*"load_s": \([0-9.]*\).*/\1/')"
  echo "  pandas read_parquet s5m_parts/      $("$PY" bench/pandas_parquet_load.py "$D/s5m_parts" | sed 's/.*"load_s": \([0-9.]*\).*/\1/')"
done
