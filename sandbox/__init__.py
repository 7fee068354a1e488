"""A stand-in for the outside systems AgencyDesk talks to: its own process, its own SQLite file.

It never imports Django nor touches the back office's database. ``python -m sandbox --port 8001``
serves every simulated system under its own prefix (``/benefits/v1/`` for the benefits platform)
and a control surface under ``/_sandbox/`` (knobs for latency and faults, stats, reset).
"""
