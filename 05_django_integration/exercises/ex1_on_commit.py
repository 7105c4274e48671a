"""Exercise 1: text the buyer only once the order is really in the database.

Goal: `place_order(mobile, course)` saves an Order inside a transaction and has the worker
run `notify_order(order.pk)`, which reads that order from the database; within a few
seconds the order's `notified` is True. The check calls place_order() and watches the order
and the worker.

As written, the task leaves for Redis before the COMMIT, the worker looks for a row that no
other connection can see yet, and fails with Order.DoesNotExist (python manage.py
transaction_demo shows the same race). Look at what Celery 5.4+ added to tasks for Django,
or at transaction.on_commit.
"""

import time

from django.db import transaction

from home.models import Order
from home.tasks import notify_order


def place_order(mobile, course):
    with transaction.atomic():
        order = Order.objects.create(mobile=mobile, course=course)
        # TODO: send notify_order so that the worker runs it after the COMMIT
        notify_order.delay(order.pk)
        time.sleep(2)  # the rest of the checkout (payment, stock) happens in the transaction too
    return order.pk
