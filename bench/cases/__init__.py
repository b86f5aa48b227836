"""Benchmark cases: one module each in this folder, found by `python -m bench`.

A case module defines one function:

    def run(bench: bench.harness.Bench) -> list[bench.harness.Result]

and may set DESCRIPTION, a one-line summary shown by `python -m bench --list`.

When run() is called, Django is set up in this process on the migrated circles_bench
database, so a case may seed data with the ORM first, and `bench.server` is a live uvicorn
serving that database. `bench.load(name, requests, rate=..., duration_s=...)` fires the
requests (cycled in order) at a steady rate from a separate process and returns one table
row. Example, a whole case:

    from bench.harness import get

    def run(bench):
        return [bench.load("explore/posts", [get("/api/v1/explore")], rate=50, duration_s=5)]

Keep a case under ~30 s at its defaults: `make bench` runs them all.
"""
