"""Benchmarks run by ``manage.py benchmark``: each module exposes ``run() -> rows``."""
