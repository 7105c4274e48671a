"""Time limits: a soft one the task can catch to clean up, a hard one that kills it.

    python time_limits.py    (with the reports@ worker of the README running)

resize_images has soft_time_limit=1 and time_limit=2 (celery_task.py); they need the prefork
pool (the reports@ worker), which sends SIGUSR1 for the soft limit and kills the pool process
for the hard one. Threads and solo pools cannot interrupt a task: they ignore both.
[1] 2 images: done in 0.6 s, no limit reached.
[2] 10 images: the soft limit interrupts image 4; the task catches SoftTimeLimitExceeded,
    deletes its work folder and returns what it managed.
[3] 10 images and a cleanup that takes 3 s: at 2 s the hard limit kills the process
    mid-cleanup; the caller gets TimeLimitExceeded and the folder stays behind.
"""

import glob
import os
import tempfile
import time

from celery_task import app, resize_images
from own_workers import needs_workers
from redis_check import require_redis

require_redis(app)
needs_workers(app, "reports")
before = set(glob.glob(os.path.join(tempfile.gettempdir(), "resize-*")))


def run(label, *args):
    started = time.monotonic()
    result = resize_images.delay(*args)
    try:
        value = result.get(timeout=15)
        shown = f"resized {value['resized']} of {value['of']}"
        if "stopped" in value:
            shown += f", stopped by the {value['stopped']}"
    except Exception as exc:  # what the caller sees when the task failed
        value, shown = None, f"{type(exc).__name__}: {exc}"
    print(f"{label} after {time.monotonic() - started:.1f} s: {result.state}, {shown}")
    return value


done = run("[1] resize_images(2)", 2)
print(f"    its work folder is gone: {not os.path.exists(done['folder'])}")
done = run("[2] resize_images(10)", 10)
print(f"    it caught SoftTimeLimitExceeded and cleaned up: its work folder is gone: "
      f"{not os.path.exists(done['folder'])}")
run("[3] resize_images(10, cleanup_seconds=3)", 10, 0.3, 3)
left = {path for path in glob.glob(os.path.join(tempfile.gettempdir(), "resize-*"))
        if path not in before and os.path.isdir(path)}
print(f"    the process was killed mid-cleanup: work folders left behind: {len(left)}")
for path in left:  # tidy up what the killed task could not
    for name in os.listdir(path):
        os.unlink(os.path.join(path, name))
    os.rmdir(path)
