"""Two copies of the chapter's app for the visibility-timeout trap. They differ in ONE number.

    celery -A visibility_apps:short worker -l info -P solo    visibility_timeout = 2 s  (the trap)
    celery -A visibility_apps:fixed worker -l info -P solo    visibility_timeout = 12 h (the fix)

`python visibility_trap.py` sends the same delayed send_sms through each and counts the runs.

Both read the chapter's settings (celeryconfig.py), then change the visibility timeout in
its three places, plus two demo-only settings, the same in both apps:
- global_keyprefix gives each app its own queue and its own list of unacknowledged messages
  inside database 5. Without it, the worker with the shortest visibility timeout would hand
  back every app's delayed messages (on a shared broker, the shortest timeout wins).
- kombu looks for overdue messages only about every 100 s by default (a sweep every 10 s,
  of which every 10th really scans). Both apps scan every second, so the demo takes seconds.
"""

from celery import Celery

import celeryconfig

# The task is the chapter's send_sms: `@app.task` in celery_task/user_task.py registers it
# with every app of the process (the decorator's shared=True default), so including its
# module gives these apps the same task, by the same name.
TASKS = ["celery_task.user_task"]

short = Celery("short", include=TASKS)
short.config_from_object("celeryconfig")
short.conf.broker_transport_options = {
    "visibility_timeout": 2,           # the trap: shorter than visibility_trap.py's countdown
    "global_keyprefix": "short:",      # its own keys in database 5 (see above)
    "unacked_restore_interval": 1,     # look for overdue messages every second...
    "unacked_restore_throttle": 1,     # ...and really scan each time
}
short.conf.result_backend_transport_options = {"visibility_timeout": 2}
short.conf.visibility_timeout = 2

fixed = Celery("fixed", include=TASKS)
fixed.config_from_object("celeryconfig")
fixed.conf.broker_transport_options = {
    "visibility_timeout": celeryconfig.VISIBILITY_TIMEOUT,  # the fix: 12 h, as in celeryconfig.py
    "global_keyprefix": "fixed:",
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
fixed.conf.result_backend_transport_options = {"visibility_timeout": celeryconfig.VISIBILITY_TIMEOUT}
fixed.conf.visibility_timeout = celeryconfig.VISIBILITY_TIMEOUT
