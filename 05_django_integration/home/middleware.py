"""Two small middlewares (listed first in settings.MIDDLEWARE)."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django_redis.exceptions import ConnectionInterrupted
from kombu.exceptions import OperationalError as BrokerError
from kombu.utils.url import maybe_sanitize_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

REDIS_DOWN = (ConnectionInterrupted, BrokerError, RedisConnectionError, RedisTimeoutError)


def count_queries(get_response):
    """Add an X-DB-Queries header: how many SQL queries this request ran. A request served
    from the cache says 0 (works with DEBUG on or off, unlike connection.queries)."""

    def middleware(request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = get_response(request)
        response["X-DB-Queries"] = str(queries)
        return response

    return middleware


class RedisDownMiddleware:
    """Redis down (cache, broker or results): answer 503 and say so, instead of a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # Celery sometimes wraps the connection error (RuntimeError "... must be restarted"
        # from the result backend): look at the causes too.
        causes = []
        while exception is not None and len(causes) < 5:
            causes.append(exception)
            exception = exception.__cause__ or exception.__context__
        if any(isinstance(cause, REDIS_DOWN) for cause in causes):
            return JsonResponse(
                {"detail": f"Redis is not answering at {maybe_sanitize_url(settings.REDIS_URL).rstrip('/')}. "
                           "Start it with `make redis`, then try again."},
                status=503)
        return None

