"""python manage.py transaction_demo: .delay() inside a transaction sends the task before
the row it needs is committed; delay_on_commit() sends it after the COMMIT.

Both halves create an order in transaction.atomic() and send notify_order(order_id) to the
worker, which starts by reading the order from the database.

To make the race come out the same way every time, the first half keeps its transaction
open until the worker has tried. A real view does the same by accident whenever something
slow follows the .delay() (another query, an HTTP call, a big template): the bug then shows
up now and then, in production, under load."""

import time

from celery.exceptions import TimeoutError as ResultTimeout
from django.core.management.base import BaseCommand
from django.db import transaction

from home.management.redis_check import require_redis
from home.models import Order
from home.tasks import notify_order
from luffy_api.celery import app

WORKER_HINT = ("Is the worker running (celery -A luffy_api worker -l info), "
               "against the same REDIS_URL and DJANGO_DB_PATH?")


def wait_until_notified(order_id, timeout):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if Order.objects.get(pk=order_id).notified:
            return time.monotonic() - started
        time.sleep(0.05)
    raise SystemExit(f"[!] order {order_id} still not notified after {timeout:g} s. {WORKER_HINT}")


class Command(BaseCommand):
    help = "Show why .delay() inside transaction.atomic() fails, and how delay_on_commit() fixes it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=15, help="seconds to wait for the worker")

    def handle(self, *args, timeout, **options):
        require_redis(app)

        print("[1] the bug: notify_order.delay() inside transaction.atomic()")
        with transaction.atomic():
            order = Order.objects.create(mobile="13800138000", course="Celery in practice")
            print(f"    BEGIN; INSERT order {order.pk} (not committed: no other connection sees it)")
            result = notify_order.delay(order.pk)  # the message leaves for Redis right now
            print(f"    notify_order.delay({order.pk}) sent at once -> id {result.id}")
            print("    the transaction stays open until the worker has tried")
            try:
                result.get(timeout=timeout, propagate=False)  # the worker runs before our COMMIT
            except ResultTimeout:  # leaving the block with an exception rolls the order back
                raise SystemExit(f"[!] no answer from the worker after {timeout:g} s. {WORKER_HINT}")
        if not result.failed():
            raise SystemExit(f"[!] expected the task to fail, it ended {result.state}. {WORKER_HINT}")
        error = result.result
        print(f"    the worker: {result.state}, {type(error).__name__}: {error}")
        order.refresh_from_db()
        print(f"    COMMIT; order {order.pk} is in the database now, notified={order.notified}: "
              "the buyer never gets the SMS")

        print("[2] the fix: notify_order.delay_on_commit() inside transaction.atomic()")
        with transaction.atomic():
            order = Order.objects.create(mobile="13800138000", course="Celery in practice")
            print(f"    BEGIN; INSERT order {order.pk}")
            notify_order.delay_on_commit(order.pk)  # = transaction.on_commit(lambda: ....delay(...))
            print(f"    notify_order.delay_on_commit({order.pk}) sent nothing yet: it runs after COMMIT")
        print("    COMMIT; now the task is sent")
        took = wait_until_notified(order.pk, timeout)
        print(f"    the worker read order {order.pk} and texted the buyer {took:.2f} s later: notified=True")

        print("[3] and when the transaction rolls back, nothing is sent at all")
        try:
            with transaction.atomic():
                order = Order.objects.create(mobile="13800138000", course="Celery in practice")
                notify_order.delay_on_commit(order.pk)
                print(f"    BEGIN; INSERT order {order.pk}; delay_on_commit({order.pk}); then an error")
                raise ValueError("payment declined")
        except ValueError as exc:
            print(f"    ROLLBACK ({exc}): order {order.pk} never existed, and no task was sent")
