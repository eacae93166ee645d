#!/usr/bin/env python3
"""Writes the CPython-made pickle fixtures in this directory.

Run from this directory with the Python 3 standard library only:

    python3 gen.py

Nothing here is ever unpickled: the malicious samples are built with
__reduce__, which only describes a call. The outputs are committed; this
script records how they were made (CPython 3.11.7 here).
"""
import collections
import datetime
import decimal
import os
import pickle
import subprocess

data = {
    "ints": [0, 1, -1, 255, 256, 65535, 2**31 - 1, -2**31, 2**63, -2**70, 2**100],
    "floats": [0.0, 1.5, -2.25e300, float("inf")],
    "text": ["", "ascii", "ünïcödé", "x" * 300],
    "bytes": [b"", b"\x00\xff", b"y" * 300, bytearray(b"ba")],
    "containers": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], {}, {1, 2}, frozenset([3]), {"k": [1, {2: 3}]}],
    "misc": [None, True, False, complex(1, -2), collections.OrderedDict(a=1),
             collections.defaultdict(list), datetime.datetime(2024, 5, 6, 7, 8, 9),
             datetime.date(2020, 1, 1), decimal.Decimal("1.5"), slice(1, 2, 3), range(4)],
}
shared = [1, 2]
data["shared"] = [shared, shared]  # memo references

for proto in range(0, 6):
    with open(f"plain_p{proto}.pkl", "wb") as f:
        f.write(pickle.dumps(data, protocol=proto))


class Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


payloads = {
    "evil_os_system": Call(os.system, "echo pwned"),
    "evil_subprocess": Call(subprocess.check_output, ["id"]),
    "evil_eval": Call(eval, "__import__('os').system('id')"),
}
for name, obj in payloads.items():
    for proto in (0, 2, 4):
        with open(f"{name}_p{proto}.pkl", "wb") as f:
            f.write(pickle.dumps(obj, protocol=proto))
