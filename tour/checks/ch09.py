"""Chapter 09's exercises (09_scale_out/exercises/): each runs on a real worker.

The chapter's scripts start Redis, RabbitMQ, Sentinels and hosts of their own; its checks
need none of that: a worker of the chapter's app on the checks' private Redis, on loopback
(REDIS_URL; BROKER_URL and RESULT_BACKEND unset). The chapter has no Procfile, so the checks
name the worker's command."""

import time
import uuid

from ..exercises import Ctx, NotYet

WORKER = "celery -A celery_task worker -l info -c 2"
COUNTDOWN = 3.0


def copies_in_broker(ctx: Ctx, task_id: str) -> int:
    """Messages of task_id still in Redis: in a queue, or delivered and unacknowledged."""
    broker = ctx.redis("broker")
    held = sum(task_id in message for message in broker.hvals("unacked"))
    for key in broker.scan_iter(_type="list"):
        held += sum(task_id in message for message in broker.lrange(key, 0, -1))
    return held


def visibility(ctx: Ctx) -> str:
    worker = ctx.worker(command=WORKER)
    backend, key = ctx.redis("backend"), f"check-{uuid.uuid4().hex[:8]}"
    since = worker.mark()
    sent_at = time.time()
    result = ctx.client().send_task("exercises.ex1_visibility.remind", (key,), countdown=COUNTDOWN)
    # every copy is due at the same moment: count until 1 s after it (sooner once it ran twice)
    due = time.monotonic() + COUNTDOWN
    while time.monotonic() < due + 1 and int(backend.hget("reminders", key) or 0) < 2:
        time.sleep(0.1)
    # then until no copy is left: none in Redis (a copy put back in a queue runs at once), and
    # every copy the worker received has run
    settle = time.monotonic() + 4
    while time.monotonic() < settle and (
            copies_in_broker(ctx, result.id)
            or int(backend.hget("reminders", key) or 0) < worker.count(rf"remind\[{result.id}\] received", since)):
        time.sleep(0.1)
    runs = int(backend.hget("reminders", key) or 0)
    if runs == 0:
        raise NotYet(f"remind, sent with countdown={COUNTDOWN:g}, had not run {COUNTDOWN + 1:g} s later")
    if runs > 1:
        received = worker.count(rf"remind\[{result.id}\] received", since)
        options = ctx.python("""
            from exercises.ex1_visibility import app
            done(timeout=app.conf.broker_transport_options.get("visibility_timeout"))
        """)
        raise NotYet(f"remind, sent once with countdown={COUNTDOWN:g}, was received {received} times and "
                     f"ran {runs} times: Redis hands a message out again once it has been unacknowledged "
                     f"longer than the visibility timeout (yours: {options['timeout']} s). It should run once")
    value = result.get(timeout=5)
    waited = value["ran_at"] - sent_at
    if waited < COUNTDOWN - 0.5:
        raise NotYet(f"remind ran {waited:.1f} s after it was sent; its countdown was {COUNTDOWN:g} s")
    return f"remind, sent with countdown={COUNTDOWN:g}, ran once, {waited:.1f} s after it was sent"


def idempotent(ctx: Ctx) -> str:
    worker = ctx.worker(command=WORKER)
    backend, account = ctx.redis("backend"), f"ada-{uuid.uuid4().hex[:8]}"
    client, name = ctx.client(), "exercises.ex2_idempotent.credit"
    since = worker.mark()
    twice = str(uuid.uuid4())
    sent = [client.send_task(name, (account, 500), task_id=twice),
            client.send_task(name, (account, 500), task_id=twice),  # the redelivered copy
            client.send_task(name, (account, 250)),
            client.send_task(name, (account, 250))]
    ids = "|".join({result.id for result in sent})
    finished = rf"\[({ids})\] (succeeded|raised)"
    deadline = time.monotonic() + 10
    while worker.count(finished, since) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    count = worker.count(finished, since)
    if count < 4:
        raise NotYet(f"of 4 deliveries of credit, {count} had finished after 10 s")
    failed = [result for result in sent if result.failed()]
    if failed:
        raise NotYet(f"credit({account!r}, ...) failed: {failed[0].result!r}")
    balance = int(backend.hget("balances", account) or 0)
    if balance != 1000:
        why = {1500: "the second delivery of the same message was applied again",
               750: "two payments of 250, each a message of its own, were applied as one"}
        raise NotYet(f"credit(500) delivered twice (one task id) and two credit(250) left the "
                     f"balance at {balance} cents; it should be 1000"
                     + (f": {why[balance]}" if balance in why else ""))
    return "credit(500) delivered twice and two credit(250) left 1000 cents: the copy changed nothing"


CHECKS = {"ex1_visibility": visibility, "ex2_idempotent": idempotent}
