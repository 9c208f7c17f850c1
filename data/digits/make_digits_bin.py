"""Builds data/digits/digits.u8 from scikit-learn's bundled copy of the 8x8 digits.

Usage (any Python 3 with only the standard library):

    pip download --no-deps -d /tmp/skl scikit-learn
    python3 data/digits/make_digits_bin.py /tmp/skl/scikit_learn-*.whl

The wheel's `sklearn/datasets/data/digits.csv.gz` holds 1,797 rows of 64 pixel values (0..16,
row-major 8x8) followed by the class (0..9). The output is the same numbers, one byte each,
65 bytes per row, in the same order: 116,805 bytes. The script prints the SHA-256 of the
source and of the output; src/training/tasks.rs checks the output's length, value ranges,
class counts and FNV-1a hash.
"""
import gzip
import hashlib
import sys
import zipfile

wheel = sys.argv[1]
with zipfile.ZipFile(wheel) as z:
    raw = z.read("sklearn/datasets/data/digits.csv.gz")
rows = [list(map(int, line.split(","))) for line in gzip.decompress(raw).decode().split("\n") if line]
assert len(rows) == 1797 and all(len(r) == 65 for r in rows)
assert all(0 <= v <= 16 for r in rows for v in r[:64]) and all(0 <= r[64] <= 9 for r in rows)
out = bytes(v for r in rows for v in r)
with open(__file__.rsplit("/", 1)[0] + "/digits.u8", "wb") as f:
    f.write(out)
print("source digits.csv.gz sha256", hashlib.sha256(raw).hexdigest(), len(raw), "bytes")
print("digits.u8 sha256", hashlib.sha256(out).hexdigest(), len(out), "bytes")
print("class counts", [sum(r[64] == c for r in rows) for c in range(10)])
