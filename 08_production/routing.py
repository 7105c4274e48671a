"""Queues and routing: a slow report must not hold up a fast SMS.

    python routing.py        (with the two workers of the README running: sms@, reports@)

[1] one queue for everything: 6 reports of 1 s each, then 20 SMS, all on queue "sms": the
    SMS wait behind the reports (what happens with a single default queue).
[2] one queue per kind of work, as task_routes sends them: reports to "reports" (its own
    worker), SMS to "sms". Each SMS's latency is the time from sending it to the moment a
    worker started it (one clock: this machine's).
"""

import time

from celery_task import app, build_report, send_sms
from own_workers import median_p95, needs_workers
from redis_check import require_redis

REPORTS, SMS, TIMEOUT = 6, 20, 30

require_redis(app)
needs_workers(app, "sms", "reports")


def run(report_queue):
    reports = [build_report.apply_async((n, 1.0), queue=report_queue) for n in range(REPORTS)]
    sent = []
    for n in range(SMS):
        sent.append((time.time(), send_sms.apply_async((f"1380013{n:04d}",))))
        time.sleep(0.02)
    latencies = [result.get(timeout=TIMEOUT)["ran_at"] - at for at, result in sent]
    for report in reports:
        report.get(timeout=TIMEOUT)
    return median_p95(latencies)


print(f"[1] one queue: {REPORTS} x build_report(1 s) and then {SMS} x send_sms, all on \"sms\"")
shared = run("sms")
print(f"    SMS latency: median {shared[0] * 1000:.1f} ms, p95 {shared[1] * 1000:.1f} ms")
print(f"[2] own queues (task_routes): reports on \"reports\", SMS on \"sms\"")
own = run("reports")
print(f"    SMS latency: median {own[0] * 1000:.1f} ms, p95 {own[1] * 1000:.1f} ms")
print(f"[3] with its own queue and worker, the median SMS waited {shared[0] / own[0]:.0f}x less "
      f"({shared[0] * 1000:.1f} ms -> {own[0] * 1000:.1f} ms)")
