"""What every script of this chapter does first: `require_redis(app)`.

    from celery_task import add, app
    from redis_check import require_redis
    require_redis(app)

One line and exit code 1, instead of a traceback, when Redis cannot be used:
- REDIS_URL is malformed:               [!] REDIS_URL is malformed: expected redis://...
- Redis does not answer (within 3 s):   [!] Redis is not answering at redis://...
- Redis goes away later, while the script waits for a result:
                                        [!] Redis at redis://... went away while ...
Any other error keeps its traceback. A password in REDIS_URL is never printed: kombu's
maybe_sanitize_url shows it as redis://:**@host:port, as the worker's banner does.
"""

import logging
import os
import re
import sys
import threading

import redis
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

# [:password@]host[:port], and no database number: each chapter adds its own
WELL_FORMED = re.compile(r"rediss?://([^@/]*@)?[^:/@]+(:\d+)?")
# What a lost connection raises: redis-py's ConnectionError or TimeoutError, kombu's
# OperationalError, or the built-in ConnectionError
LOST = (redis.ConnectionError, redis.TimeoutError, OperationalError, ConnectionError)


def require_redis(app):
    """Exit with one line unless REDIS_URL is well formed and Redis answers; from then on,
    exit with one line, too, if Redis goes away."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    if not WELL_FORMED.fullmatch(url):
        sys.exit("[!] REDIS_URL is malformed: expected redis://[:password@]host[:port] "
                 "(no database number: each chapter adds its own), e.g. redis://127.0.0.1:6379")
    where = maybe_sanitize_url(app.conf.broker_url)  # never print a password
    exit_when_redis_goes_away(app, where)
    try:
        app.backend.client.ping()
    except Exception:  # redis-py raises ConnectionError, TimeoutError, AuthenticationError...
        sys.exit(f"[!] Redis is not answering at {where}. Start it with `make redis` "
                 "(or `docker compose up -d --wait`), then run this again.")


def caused_by_lost_redis(exc):
    """True when exc, or an exception it was raised from, is a lost connection."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, LOST):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def exit_when_redis_goes_away(app, where):
    """From now on, an exception caused by a lost Redis connection (Celery's "Retry limit
    exceeded ... result store" RuntimeError among them) ends the script with one line."""
    # A script gives up after about 2 s instead of retrying: it says so and exits, while
    # the worker (which never calls this) keeps retrying until Redis is back.
    app.conf.result_backend_always_retry = False
    app.conf.result_backend_transport_options = {
        **(app.conf.result_backend_transport_options or {}),
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 1,
                         "interval_max": 1},
    }
    # Celery logs its own CRITICAL lines while it gives up; our one line replaces them.
    logging.getLogger("celery").addHandler(logging.NullHandler())
    message = (f"[!] Redis at {where} went away while this script was waiting. Start it again "
               "(`make redis` or `docker compose up -d --wait`), then run this again.")
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def say_and_exit():
        sys.stdout.flush()
        print(message, file=sys.stderr, flush=True)
        # Exit at once: the clean-up at a normal exit talks to Redis again (pending results
        # unsubscribe) and would print tracebacks of its own. Also ends worker threads.
        os._exit(1)

    def hook(kind, exc, tb):
        if caused_by_lost_redis(exc):
            say_and_exit()
        previous_hook(kind, exc, tb)

    def thread_hook(args):
        if caused_by_lost_redis(args.exc_value):
            say_and_exit()
        previous_thread_hook(args)

    sys.excepthook, threading.excepthook = hook, thread_hook
