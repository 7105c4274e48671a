# Load the Celery app whenever Django starts (runserver, manage.py commands), so that
# @shared_task tasks bind to it and .delay() sends to the broker configured in settings.py.
from .celery import app as celery_app

__all__ = ("celery_app",)
