"""Benchmarks for `make bench` (`python -m bench --help`). Cases live in bench/cases/."""
