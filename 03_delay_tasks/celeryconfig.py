"""Chapter 03's settings. celery_task/celery.py reads them with
`app.config_from_object("celeryconfig")`, Celery's convention: a plain module whose
lowercase names are settings (https://docs.celeryq.dev/en/stable/userguide/configuration.html).
visibility_apps.py reads the same module, then changes one number.
"""

import os

# REDIS_URL says where Redis runs; each chapter adds its own database numbers.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
broker_url = f"{REDIS_URL}/5"      # the queue
result_backend = f"{REDIS_URL}/6"  # states, return values, and the run records of this chapter

task_serializer = "json"           # tasks travel as JSON: readable, and no pickle
result_serializer = "json"
accept_content = ["json"]
result_expires = 24 * 3600         # results are kept for one day
enable_utc = True                  # the default (chapter 04 explains this setting)
broker_connection_retry_on_startup = True  # a worker started before Redis waits for it
redis_socket_connect_timeout = 3   # notice a Redis that is down within 3 s
broker_connection_timeout = 2      # `celery inspect` with Redis down: its error in 3 s, not 7

# The Redis broker puts a message back in the queue when the worker that took it has not
# acknowledged it within `visibility_timeout` seconds. A worker acknowledges a delayed task
# only after running it, so this must be longer than the longest countdown/eta you will
# ever use, or the task is delivered again (and runs again). Celery's default is 1 hour;
# 12 hours here. Celery's docs ask for the same value in all three places below.
VISIBILITY_TIMEOUT = 12 * 3600
broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT}
result_backend_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT}
visibility_timeout = VISIBILITY_TIMEOUT
