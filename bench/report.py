"""How every benchmark reports a figure: a row for people and one JSON line for programs.

``ratio`` is ``value / limit``, where ``limit`` was measured in the same run on the same machine
(e.g. the same query as plain SQL). ``better`` says which way is good: for a cost (seconds, bytes)
``ok`` means ``ratio <= goal``; for a rate (rows/s) it means ``ratio >= goal``.
"""
import json
import statistics
import time
from collections.abc import Callable


def figure(bench: str, name: str, *, value: float, unit: str, limit: float, goal: float, better: str = "lower",
           note: str = "") -> dict:
    ratio = value / limit if limit else float("inf")
    ok = ratio <= goal if better == "lower" else ratio >= goal
    row = {"bench": bench, "figure": name, "value": round(value, 6), "unit": unit, "limit": round(limit, 6),
           "ratio": round(ratio, 4), "goal": goal, "ok": ok}
    sign = "<=" if better == "lower" else ">="
    print(f"  {name:<48} {value:>12.4g} {unit:<8} limit {limit:>10.4g}  ratio {ratio:>7.3f} (goal {sign} {goal})  "
          f"{'ok' if ok else 'MISSED'}{'  ' + note if note else ''}")
    print(json.dumps(row))
    return row


def median_seconds(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
