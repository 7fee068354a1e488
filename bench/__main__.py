"""``python -m bench <name> [--size N]``: run ``bench/<name>.py``'s ``run(size=...)`` on PostgreSQL.

Without ``DATABASE_URL`` the benchmarks use (and create) the ``agencydesk_bench`` database on the
local PostgreSQL; it is migrated first, and the data each benchmark seeds is kept between runs.
"""
import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in ("report", "setup"))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=names)
    parser.add_argument("--size", type=int, default=None, help="data size (each benchmark has its default)")
    args = parser.parse_args()

    from bench.setup import setup_django

    setup_django()
    module = importlib.import_module(f"bench.{args.name}")
    results = module.run(size=args.size) if args.size else module.run()
    return 0 if all(r["ok"] for r in results or []) else 1


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.exit(main())
