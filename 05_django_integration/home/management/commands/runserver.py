"""`python manage.py runserver`, listening on DJANGO_PORT (default 8000) unless a port is
given. Only the default changes: the tests start the same command on a free port, so they
never collide with a server you are running yourself."""

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand


class Command(RunserverCommand):
    default_port = settings.PORT
