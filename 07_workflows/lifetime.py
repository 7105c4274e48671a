"""How long a result lives: result_expires, forget(), and a GroupResult saved by id.

    python lifetime.py
"""

from celery import group
from celery.result import GroupResult

from celery_task import add, app
from redis_check import require_redis

TIMEOUT = 20

require_redis(app)
result = add.delay(2, 3)
result.get(timeout=TIMEOUT)
key = f"celery-task-meta-{result.id}"
print(f"[1] add(2, 3) = {result.result}; its key {key[:26]}... expires in "
      f"{app.backend.client.ttl(key)} s (result_expires = {app.conf.result_expires})")
result.forget()
print(f"[2] after forget(): the key exists: {bool(app.backend.client.exists(key))}; "
      f"the state reads {result.state}, as for a task never sent")
jobs = group(add.s(n, n) for n in range(5)).apply_async()
jobs.save()  # stores the list of its children's ids under the group's id
group_id = jobs.id
restored = GroupResult.restore(group_id, app=app)  # e.g. in another request, another process
print(f"[3] saved group {group_id[:8]}-..., restored by id: {len(restored.results)} children, "
      f"results {restored.get(timeout=TIMEOUT)}")
restored.forget()  # the children's results
restored.delete()  # the saved group itself
print(f"[4] after delete(): GroupResult.restore() -> {GroupResult.restore(group_id, app=app)}")
