"""Exercise 2: a verification code that goes stale is never sent late.

Goal: `send_code(mobile, code)` sends send_sms so that a worker that gets to it more than
1 s after it was sent drops it unrun (the task ends REVOKED) instead of sending a code that
is no longer valid; a worker that is free runs it at once. It returns what apply_async
returns.

The check keeps every worker process busy for 2.5 s, calls send_code("13800000000", "1111")
and waits: that SMS must end REVOKED having run 0 times. Then, the worker free again, it
calls send_code("13800000000", "2222"): SUCCESS, run 1 time. Look up the options of
apply_async in Celery's "Calling Tasks" guide (and what expires.py does).
"""

from celery_task import user_task


def send_code(mobile, code):
    # TODO: a worker that reaches this SMS more than 1 s after it was sent must drop it
    return user_task.send_sms.apply_async(args=(mobile, code))
