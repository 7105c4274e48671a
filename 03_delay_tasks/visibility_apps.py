"""Two copies of the chapter's app for the visibility-timeout trap. They differ in ONE number.

    celery -A visibility_apps:short worker -l info -P solo    visibility_timeout = 2 s  (the trap)
    celery -A visibility_apps:fixed worker -l info -P solo    visibility_timeout = 12 h (the fix)

`python visibility_trap.py` sends the same delayed send_sms through each and counts the runs.

Two demo-only settings, the same in both apps:
- global_keyprefix gives each app its own queue and its own list of unacknowledged messages
  inside database 5. Without it, the worker with the shortest visibility timeout would hand
  back every app's delayed messages (on a shared broker, the shortest timeout wins).
- kombu looks for overdue messages only about every 100 s by default (a sweep every 10 s,
  of which every 10th really scans). Both apps scan every second, so the demo takes seconds.
"""

from celery import Celery

from celery_task import BACKEND_URL, BROKER_URL, COMMON_SETTINGS, VISIBILITY_TIMEOUT

SHORT_TIMEOUT = 2  # seconds: shorter than the countdown visibility_trap.py uses


def make_app(name, visibility_timeout):
    app = Celery(name, broker=BROKER_URL, backend=BACKEND_URL)
    app.conf.update(
        COMMON_SETTINGS,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "global_keyprefix": f"{name}:",    # its own keys in database 5 (see above)
            "unacked_restore_interval": 1,     # look for overdue messages every second...
            "unacked_restore_throttle": 1,     # ...and really scan each time
        },
        result_backend_transport_options={"visibility_timeout": visibility_timeout},
        visibility_timeout=visibility_timeout,
    )
    # No task to declare: `@app.task` in celery_task.py registers send_sms (and busy) with
    # every app of the process (the decorator's shared=True default), so these apps have it.
    return app


short = make_app("short", SHORT_TIMEOUT)           # the trap: 2 s
fixed = make_app("fixed", VISIBILITY_TIMEOUT)      # the fix: 12 h, as in celery_task.py
