"""Three mistakes a sender makes, and what each one looks like.

    python bad_input.py
"""

from kombu.exceptions import EncodeError

from celery_task import add, app
from last_id import save_last_id
from redis_check import require_redis

require_redis(app)

# [1] Arguments travel as JSON. A set, a model instance or an open file cannot: Celery
#     refuses at send time, before anything reaches Redis.
try:
    add.delay({1, 2}, 3)
except EncodeError as exc:
    print(f"[1] add.delay({{1, 2}}, 3) refused before sending: {exc}")
    print(f"    (task_serializer={app.conf.task_serializer!r}: send str, int, float, bool, None,")
    print("    lists and dicts; pass a database id, not the object)")

# [2] A wrong number of arguments is caught at send time too, when the sender has the task
#     function to check against...
try:
    add.delay(1, 2, 3)
except TypeError as exc:
    print(f"[2] add.delay(1, 2, 3) refused before sending: TypeError: {exc}")

# [3] ...but not when the task is sent by name, as another program (or a service written in
#     another language) would. Then the worker calls add(1, 2, 3) and the task fails.
result = app.send_task("celery_task.add", args=[1, 2, 3])
print(f"[3] app.send_task('celery_task.add', args=[1, 2, 3]) was sent -> id {result.id}")
try:
    result.get(timeout=20)
except TypeError as exc:  # get() re-raises the task's exception here
    print(f"    the worker ran it and it failed: {result.state}, TypeError: {exc}")
except Exception as exc:  # TimeoutError: no worker
    raise SystemExit(f"[!] no answer in 20 s ({exc!r}): is a worker running?")
save_last_id(result.id)
print("[4] saved its id: `python check_result.py` shows the TypeError and the traceback")
