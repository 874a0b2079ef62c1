"""Benchmarks for Share Desk: real gunicorn servers, figures as ratios against in-run baselines.

Run with ``make bench`` (or ``.venv/bin/python -m bench``); not part of ``make test``.
``BENCH_QUICK=1`` shrinks sizes and durations for a smoke run of the harness itself.
"""
