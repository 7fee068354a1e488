"""Benchmarks: ``python -m bench <name> [--size N]``. Each figure is a ratio against a limit
measured in the same run on the same machine (see ``bench.report``)."""
