"""The WSGI entry point: runserver serves this application (so would gunicorn or uWSGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luffy_api.settings")
application = get_wsgi_application()
