"""Exercise 1, a solution: delay_on_commit() hands the message to transaction.on_commit, so
it leaves for Redis after the COMMIT (and never, if the transaction rolls back)."""

import time

from django.db import transaction

from home.models import Order
from home.tasks import notify_order


def place_order(mobile, course):
    with transaction.atomic():
        order = Order.objects.create(mobile=mobile, course=course)
        notify_order.delay_on_commit(order.pk)
        time.sleep(2)  # the rest of the checkout (payment, stock) happens in the transaction too
    return order.pk
