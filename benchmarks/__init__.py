"""zkmargin's benchmarks, installed as ``zkmargin.benchmarks`` (this folder, mapped in pyproject.toml).

The library of ``zkmargin bench``: :mod:`~zkmargin.benchmarks.prover_bench` (cases, worker processes,
timings, snarkjs side by side), :mod:`~zkmargin.benchmarks.margin_cases` (the margin models at portfolio
sizes) and :mod:`~zkmargin.benchmarks.report` (CSV, markdown, JSON, matplotlib plots). The other
modules here are stand-alone scripts (``python -P benchmarks/NAME.py``); importing them runs nothing.
Not collected by the test run; nothing in the core package imports this one.
"""
