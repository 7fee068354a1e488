"""How every benchmark reports a figure: a row for people and one JSON line for programs.

``ratio`` is ``value / limit``, where ``limit`` was measured in the same run on the same machine
(e.g. the same query as plain SQL). ``better`` says which way is good: for a cost (seconds, bytes)
``ok`` means ``ratio <= goal``; for a rate (rows/s) it means ``ratio >= goal``.

Every benchmark runs at two sizes (``python -m bench`` sets ``SIZE`` before each); the JSON lines carry
it. ``grows`` says how a figure's cost should grow with the data: ``"flat"`` (a page, a peak of memory)
or ``"linear"`` (a job over every match); ``growth()`` then prints, for each such figure, its cost at
the larger size over its cost at the smaller one against that expectation (goal: at most twice it),
so that a change turning linear into quadratic shows at once.
"""

import json
import statistics
import time
from collections.abc import Callable

SIZE: int | None = None  # the size being measured, set by ``python -m bench``
GROWTH_GOAL = 2.0


def figure(
    bench: str, name: str, *, value: float, unit: str, limit: float, goal: float, better: str = "lower", note: str = "", grows: str | None = None
) -> dict:
    ratio = value / limit if limit else float("inf")
    ok = ratio <= goal if better == "lower" else ratio >= goal
    row = {
        "bench": bench,
        "figure": name,
        "value": round(value, 6),
        "unit": unit,
        "limit": round(limit, 6),
        "ratio": round(ratio, 4),
        "goal": goal,
        "ok": ok,
        "size": SIZE,
    }
    sign = "<=" if better == "lower" else ">="
    print(
        f"  {name:<52} {value:>10.4g} {unit:<6} limit {limit:>10.4g}  ratio {ratio:>7.3f} (goal {sign} {goal})  "
        f"{'ok' if ok else 'MISSED'}{'  ' + note if note else ''}"
    )
    print(json.dumps(row))
    return {**row, "grows": grows, "better": better}


def growth(bench: str, small: list[dict], large: list[dict]) -> list[dict]:
    """For each figure with an expected growth: its cost at the larger size over the smaller one's."""
    before = {row["figure"]: row for row in small}
    rows = []
    for row in large:
        first = before.get(row["figure"])
        if not row.get("grows") or not first or not first["value"] or not row["value"]:
            continue
        # A cost grows with its value; a rate's cost grows as the rate falls.
        grew = row["value"] / first["value"] if row["better"] == "lower" else first["value"] / row["value"]
        expected = 1.0 if row["grows"] == "flat" else row["size"] / first["size"]
        ratio = grew / expected
        result = {
            "bench": bench,
            "figure": f"{row['figure']}: growth",
            "value": round(grew, 4),
            "unit": "x",
            "limit": expected,
            "ratio": round(ratio, 4),
            "goal": GROWTH_GOAL,
            "ok": ratio <= GROWTH_GOAL,
            "size": row["size"],
            "from_size": first["size"],
        }
        print(
            f"  {result['figure']:<52} {grew:>10.3g} x      expected {expected:>7.3g} ({row['grows']})  ratio {ratio:>7.3f} "
            f"(goal <= {GROWTH_GOAL})  {'ok' if result['ok'] else 'MISSED'}  ({first['size']:,} -> {row['size']:,})"
        )
        print(json.dumps(result))
        rows.append(result)
    return rows


def median_seconds(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reset_peak_rss() -> None:
    """Reset this process's VmHWM (Linux), so the next peak measured is the next step's own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory (VmHWM) in MB; 0 where /proc does not say."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
