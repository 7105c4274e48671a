"""Checks the scripts of this chapter make: is Redis there, and did it go away mid-wait?

    from redis_check import require_redis
    require_redis(app)   # first thing in a script: one clear line and exit 1 if Redis is down

From then on, an exception caused by a lost Redis connection (redis-py's ConnectionError or
TimeoutError, kombu's OperationalError, Celery's "Retry limit exceeded ... result store"
RuntimeError) ends the script with one `[!]` line and exit code 1; any other error keeps its
traceback. Passwords are never printed: kombu's maybe_sanitize_url shows redis://:**@host.
"""

import logging
import os
import re
import sys
import threading

import redis
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

LOST = (redis.ConnectionError, redis.TimeoutError, OperationalError, ConnectionError)
REDIS_URL_FORM = re.compile(r"rediss?://([^@/]*@)?[^:/@]+(:\d+)?/?")  # [:password@]host[:port]


def require_redis(app):
    """Exit with one line when REDIS_URL is malformed or Redis does not answer."""
    if not REDIS_URL_FORM.fullmatch(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")):
        sys.exit("[!] REDIS_URL is malformed: expected redis://[:password@]host[:port] "
                 "(no database number: each chapter adds its own), e.g. redis://127.0.0.1:6379")
    where = maybe_sanitize_url(app.conf.broker_url)
    exit_when_redis_goes_away(where, app)
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


def exit_when_redis_goes_away(where, app=None):
    if app is not None:
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
