"""Benchmarks that turn the tutorial's claims into numbers you reproduce: `make bench`.

    bench/tasks.py      the benchmark's Celery app (tasks that wait, compute, do nothing)
                        and DATABASES, bench's Redis database numbers, declared once
    bench/harness.py    bench's private Redis, its workers, the machine, the records
    bench/pools.py      the same jobs on prefork, threads, eventlet, gevent and solo workers
    bench/latency.py    a no-op task's round trip and throughput, next to Redis' own figures
    bench/cache.py      chapter 05's banner API with and without its cache, under load
    bench/drills.py     the chapters' drills and scripts whose counts the READMEs quote
    bench/first_run.py  a newcomer's wait: a fresh clone to chapter 01's first result
    bench/figures.py    every figure a README quotes, rendered from bench/results/*.json
    bench/RESULTS.md    the recorded figures, the machine, the charts, a history

Speed targets live here, never in tests: tests/test_bench.py only checks that the
benchmarks run and write sane numbers; tests/test_figures.py that the READMEs quote what
bench/results/ recorded.
"""
