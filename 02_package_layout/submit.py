"""Send one task from each module of the package and wait for the results.

    python submit.py

Tasks are sent from outside the package, as a web project would: import the task, call
.delay(). The worker runs them; this script only waits (at most 30 s each).
"""

import random

from celery.exceptions import TimeoutError as ResultTimeout

from celery_task.celery import app
from celery_task.course_task import add
from celery_task.order_task import make_order
from celery_task.user_task import send_sms
from last_id import save_last_id
from redis_check import require_redis

require_redis(app)
code = f"{random.randint(0, 9999):04d}"  # a fresh code: the fake gateway fails twice per message
sent = [
    (send_sms, send_sms.delay("13800138000", code)),
    (make_order, make_order.delay()),
    (add, add.delay(2, 3)),
]
for number, (task, result) in enumerate(sent, start=1):
    # task.name is the full name the worker looks the task up by: package.module.function
    print(f"[{number}] sent {task.name} -> id {result.id}")
save_last_id(sent[0][1].id)

print("[4] waiting for the results (at most 30 s each)")
for task, result in sent:
    short_name = task.name.rsplit(".", 1)[1]
    try:
        value = result.get(timeout=30, propagate=False)  # a task's exception is returned
    except ResultTimeout:
        raise SystemExit(f"[!] {task.name}: no result after 30 s. Is the worker running "
                         "(celery -A celery_task worker -l info) and does it list this task "
                         "(celery -A celery_task inspect registered)?")
    print(f"    {short_name} -> {'FAILURE: ' if result.failed() else ''}{value!r}")
print("[5] send_sms's id is in .last_task_id: `python check_result.py` looks it up")
