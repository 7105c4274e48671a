"""Exercise 2, a solution: expires=1 puts "not after now + 1 s" in the message; a worker
that takes the task later marks it REVOKED and never runs it (celery/worker/request.py
checks it when the task arrives and again just before it would run)."""

from celery_task import user_task


def send_code(mobile, code):
    return user_task.send_sms.apply_async(args=(mobile, code), expires=1)
