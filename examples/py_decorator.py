# SPDX-License-Identifier: MIT
"""Record a small Python program with @perflog, then read its trace back.

Which inputs make `fib_memo` and `collatz` slow? A profiler gives their total time; the
trace gives every call with its arguments. Usage: python py_decorator.py [trace.zst]
"""
import sys

import perflog
from perflog import perflog as pl


@pl
def collatz(n):
    steps = 0
    while n != 1:
        n = 3 * n + 1 if n % 2 else n // 2
        steps += 1
    return steps


@pl(args=["word"], result=True)
def normalize(word, table=None):
    return word.strip().lower()


@pl
def handle(request_id, numbers):
    with perflog.action("parse", count=len(numbers)):
        words = [normalize(f" N{n} ") for n in numbers]
    perflog.log("parsed", words=len(words))
    return sum(collatz(n) for n in numbers)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "py_decorator.zst"
    perflog.start(path)
    for i in range(200):
        handle(i, [1 + (i * 7919 + k * 104729) % 50000 for k in range(5)])
    perflog.stop()

    # Read it back: the five slowest collatz calls, with their input.
    starts, slow = {}, []
    for rec in perflog.read(path):
        if rec["kind"] == "start" and rec["type"].endswith("collatz"):
            starts[rec["task"]] = rec["fields"]
        elif rec["kind"] == "end" and rec["task"] in starts:
            slow.append((rec["duration_ns"], starts.pop(rec["task"])))
    slow.sort(key=lambda t: t[0], reverse=True)
    print(f"{path}: the 5 slowest collatz() calls")
    for ns, fields in slow[:5]:
        print(f"  {ns / 1000:8.1f} us  n={fields.get('n')}")


if __name__ == "__main__":
    main()
