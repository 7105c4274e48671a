"""Settings of the luffy_api project (chapter 05). Everything a learner or a test may need
to change comes from an environment variable with a development default:

    DJANGO_SECRET_KEY       signing key (the default is for development only, see below;
                            set but empty counts as not set)
    DJANGO_DEBUG            1 (default) or 0
    DJANGO_SERVE_MEDIA      1 or 0 (default: as DJANGO_DEBUG): Django itself serves MEDIA_ROOT
                            under /media/ (docker-compose.yml's web service, where no nginx
                            stands in front of gunicorn, sets 1 with DEBUG off)
    DJANGO_DB_PATH          the SQLite file (default: db.sqlite3 in this folder)
    SITE_URL                how browsers reach this site (default http://127.0.0.1:8000, where
                            `python manage.py runserver` listens); set it when the server
                            listens elsewhere (`runserver 8001`): the commands and the worker
                            build URLs from it
    REDIS_URL               the Redis server (default redis://127.0.0.1:6379); this chapter
                            uses its databases 9 (broker), 10 (results) and 11 (Django cache)
    BANNER_REFRESH_SECONDS  how often beat refreshes the cached banner list (default 5), read
                            once: by the migration that puts that schedule in the database
    THUMBNAIL_SECONDS       how long rebuild_thumbnails pretends each banner takes (default
                            0.5), so its progress bar has steps to show
    DJANGO_NUM_PROXIES      how many proxies stand in front of the site (default 0): DRF's
                            throttles identify a client by REMOTE_ADDR, or by that many
                            addresses from the end of X-Forwarded-For
"""

import os
import sys
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# --- security: loud development defaults ---------------------------------------------------
DEV_SECRET_KEY = "django-insecure-DEVELOPMENT-ONLY-set-DJANGO_SECRET_KEY-before-deploying"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or DEV_SECRET_KEY  # Compose: ${...:-} is ""
DEBUG = os.environ.get("DJANGO_DEBUG", "1").lower() in ("1", "true", "yes", "on")
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is off but DJANGO_SECRET_KEY is not set: refusing to run with the "
        "development key. Set DJANGO_SECRET_KEY to a long random string.")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

# --- where this site is reached ------------------------------------------------------------
# Absolute image URLs are built from SITE_URL, not from the request: a Celery task has no
# request to take the host from (the lesson's last problem; see home/serializers.py).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_celery_beat",  # the beat schedule in the database, edited in the admin
    "django_celery_results",  # task results in the database, listed in the admin
    "home",
]

MIDDLEWARE = [
    "home.middleware.count_queries",  # X-DB-Queries header: how often a request hit the DB
    "home.middleware.RedisDownMiddleware",  # Redis down: a 503 with one clear sentence
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "luffy_api.urls"
WSGI_APPLICATION = "luffy_api.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- the database: SQLite, in a file the environment can move (tests use a temp folder) -----
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB_PATH", BASE_DIR / "db.sqlite3"),
        "OPTIONS": {
            # web, worker and management commands write to the same file: take the write
            # lock when a transaction starts and wait up to 20 s for it ("database is locked")
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: one server, one database per job ------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
if not re.fullmatch(r"rediss?://([^@/]*@)?[^:/@]+(:\d+)?", REDIS_URL):  # [:password@]host[:port]
    sys.exit("[!] REDIS_URL is malformed: expected redis://[:password@]host[:port] "
             "(no database number: each chapter adds its own), e.g. redis://127.0.0.1:6379")

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"{REDIS_URL}/11",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 2,  # a Redis that is down is noticed within seconds
            "SOCKET_TIMEOUT": 2,
            # values stored as JSON, so `redis-cli -n 11 get :1:banner_list` is readable
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
        },
    }
}

# Celery reads every CELERY_* setting (luffy_api/celery.py: namespace="CELERY").
CELERY_BROKER_URL = f"{REDIS_URL}/9"
CELERY_RESULT_BACKEND = f"{REDIS_URL}/10"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]  # never pickle: a pickled message can run code on load
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 24 * 3600
# Tasks with base=ResultInDatabase (home/results.py) store their results in the database
# instead (django-celery-results); the worker imports that module as it starts.
CELERY_IMPORTS = ["home.results"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True  # a worker started before Redis waits
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# .delay() also subscribes to the task's result; with Redis down, give up after 3 s, not 20 s
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"timeout": 3.0}}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0,
                                    "interval_step": 0.5, "interval_max": 1}

# --- the banners -----------------------------------------------------------------------------
BANNER_COUNT = 4                # how many banners the home page shows (the lesson's setting)
BANNER_CACHE_KEY = "banner_list"
BANNER_CACHE_SECONDS = 60       # a safety net: if beat stops, the cached list expires anyway
BANNER_REFRESH_SECONDS = float(os.environ.get("BANNER_REFRESH_SECONDS", "5"))

# --- the schedule lives in the database (django-celery-beat) --------------------------------
# beat reads its entries from the PeriodicTask table (edit them in the admin, beat notices
# within seconds) instead of a CELERY_BEAT_SCHEDULE dict. "refresh-banner-cache" is created
# by the migration home/migrations/0002_refresh_banner_schedule.py, every
# BANNER_REFRESH_SECONDS. No CELERY_BEAT_SCHEDULE here on purpose: DatabaseScheduler copies
# its entries into the table each time beat starts, over what the admin changed.
CELERY_BEAT_SCHEDULER = "luffy_api.schedulers:DatabaseScheduler"

# --- the rest of a normal Django project ----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"  # the sample images ship in media/banner/
# Serve MEDIA_ROOT from Django (luffy_api/urls.py): while DEBUG is on, as runserver does; with
# DEBUG off only when asked for, where nothing else serves the images (a demo, not a CDN).
SERVE_MEDIA = os.environ.get("DJANGO_SERVE_MEDIA", "1" if DEBUG else "0").lower() in ("1", "true", "yes", "on")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
}


# --- the progress bar and the SMS limits (home/progress_views.py, home/tasks.py) ------------
# rebuild_thumbnails makes a small copy of every banner's image in MEDIA_ROOT/thumbs/ and
# sleeps this long per banner: long enough for a progress bar to have something to show.
THUMBNAIL_SECONDS = float(os.environ.get("THUMBNAIL_SECONDS", "0.5"))
THUMBNAIL_SIZE = (240, 90)
# POST /api/sms/ (SmsView): at most 5 accepted requests a minute per client (DRF's
# ScopedRateThrottle, scope "sms"; its history lives in the Django cache, Redis db 11, under
# :1:throttle_sms_<client address>). More get 429 Too Many Requests with a Retry-After.
# NUM_PROXIES = 0: the client is REMOTE_ADDR and X-Forwarded-For is ignored. DRF's default
# (None) would take a client's own X-Forwarded-For header as its address: anyone could
# escape the limit by sending a new one with each request. Behind one proxy (nginx), set 1.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"sms": "5/min"}
REST_FRAMEWORK["NUM_PROXIES"] = int(os.environ.get("DJANGO_NUM_PROXIES", "0"))
