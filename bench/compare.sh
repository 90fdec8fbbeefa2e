#!/usr/bin/env bash
# Alternator against implicit and Spark on the same files; prints a markdown table (see BENCHMARKS.md).
# Usage: bench/compare.sh [--rounds 2] [--threads 2] [--skip-spark] [--skip-implicit] [--quick] [--scale100m]
#        [--python PY [--only-python]]   (PY: a python with alternator and rusket installed)
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/compare.py "$@"
