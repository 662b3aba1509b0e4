"""Benchmarks, run by hand from the project root as modules: `python -m bench.extraction`, `python -m
bench.dedup`, … (see the README's Benchmarks section). A package so that its modules, and the tests that
check its scorers, import each other as `bench.…` without editing sys.path."""
