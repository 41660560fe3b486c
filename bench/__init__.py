"""Benchmarks: each module bench_*.py has main(quick=False) -> list of row dicts, printing its
figure beside a baseline measured in the same run. Run them all with `python -m bench`."""
