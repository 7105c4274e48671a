"""Exercise 1, a solution: chord(header)(body) sends the header's tasks and returns the
body's AsyncResult at once; its parent is the header's GroupResult. The worker that stores
the last partial sum sends total with all of them, in header order."""

from celery import chord

from celery_task import partial_sum, total


def total_of(numbers, size=100):
    chunks = [numbers[i:i + size] for i in range(0, len(numbers), size)]
    header = [partial_sum.s(chunk) for chunk in chunks]
    return chord(header)(total.s())
