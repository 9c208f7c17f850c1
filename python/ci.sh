#!/usr/bin/env bash
# CI step of the Python package: a fresh virtual environment, the wheel built and installed
# by pip (maturin as build backend), pytest (+ numpy and Dask's `distributed` for the sweep
# test), and the suite, which compares every call with the CLI's JSON. Fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
echo "-- the CLI the tests compare with"
cargo build --release --quiet --bin mfrnn
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
echo "-- fresh venv in $venv: pip install ./python pytest distributed"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet ./python pytest distributed
echo "-- pytest"
# From the tests' folder, so that `import mfrnn` is the installed wheel.
(cd python/tests && "$venv/bin/python" -m pytest -q -p no:cacheprovider .)
echo "-- python step: $((SECONDS - start)) s"
