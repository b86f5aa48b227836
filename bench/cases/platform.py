"""The floor every other figure sits on: endpoints that touch no data."""

from bench.harness import Bench, Result, get

DESCRIPTION = "/healthz and /api/v1/openapi.json at 50 rps for 5 s"


def run(bench: Bench) -> list[Result]:
    return [
        bench.load("platform/healthz", [get("/healthz")], rate=50, duration_s=5),
        bench.load("platform/openapi.json", [get("/api/v1/openapi.json")], rate=50, duration_s=5),
    ]
