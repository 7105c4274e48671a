"""Benchmarks that turn the tutorial's claims into numbers you reproduce: `make bench`.

    bench/tasks.py    the benchmark's Celery app (tasks that wait, compute, do nothing)
    bench/pools.py    the same jobs on prefork, threads, eventlet, gevent and solo workers
    bench/latency.py  a no-op task's round trip and throughput, next to Redis' own figures
    bench/RESULTS.md  the figures of the last run, the machine, the charts, a history

Speed targets live here, never in tests: tests/test_bench.py only checks that the
benchmarks run and write sane numbers.
"""
