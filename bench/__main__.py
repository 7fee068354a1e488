"""``python -m bench <name> [--size N] [--small M]``: run ``bench/<name>.py``'s ``run(size=...)`` on PostgreSQL,
at two sizes: N (each benchmark has its default) and M (default N/5), then how each figure grew.

Without ``DATABASE_URL`` the benchmarks use (and create) the ``agencydesk_bench`` database on the
local PostgreSQL; benchmarks that need a given number of rows keep one database per size (``<name>_<size>``,
see ``bench.setup.sized_database``), migrated first and kept between runs with the data they seeded.
A module's ``ENVIRONMENT`` (a dict) is set before Django starts, unless already set (``transactions`` runs on
SQLite that way); a module with ``ONE_SIZE = True`` (the soak) runs once, at ``--size``.
"""

import argparse
import importlib
import inspect
import os
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in ("report", "setup", "floor"))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=names)
    parser.add_argument("--size", type=int, default=None, help="the larger data size (each benchmark has its default)")
    parser.add_argument("--small", type=int, default=None, help="the smaller data size (default: a fifth of --size)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per phase, for the benchmarks that run for a time (load)")
    args = parser.parse_args()

    from bench import report
    from bench.setup import machine, setup_django

    module = importlib.import_module(f"bench.{args.name}")  # before Django starts: it may set the environment
    for key, value in getattr(module, "ENVIRONMENT", {}).items():
        os.environ.setdefault(key, value)
    setup_django()
    large = args.size or module.DEFAULT
    small = args.small or max(1, large // 5)
    results = {}
    options = {"seconds": args.seconds} if args.seconds and "seconds" in inspect.signature(module.run).parameters else {}
    if getattr(module, "ONE_SIZE", False):  # e.g. the soak: one run at --size
        report.SIZE = large
        print(f"{args.name} at {large:,}; {machine()}")
        rows = module.run(size=large, **options) or []
        return 0 if all(r["ok"] for r in rows) else 1
    print(f"{args.name}: sizes {small:,} and {large:,}; {machine()}")
    for size in (small, large):
        report.SIZE = size
        print(f"{args.name} at {size:,}:")
        results[size] = module.run(size=size, **options) or []
    print(f"{args.name}: growth {small:,} -> {large:,}")
    grown = report.growth(args.name, results[small], results[large])
    return 0 if all(r["ok"] for r in (*results[small], *results[large], *grown)) else 1


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.exit(main())
