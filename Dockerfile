# The image of docker-compose.yml's `production` profile (chapter 08, and chapter 05's Django
# site beside it): the pinned requirements and the two chapters' folders, run as an
# unprivileged user (never root: Celery warns about it). /var/lib/celery holds chapter 08's beat
# schedule, /var/lib/luffy chapter 05's SQLite file and beat schedule (volumes, written by it).
#   docker compose --profile production up -d --build
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY 08_production/ 08_production/
COPY 05_django_integration/ 05_django_integration/
RUN useradd --system --no-create-home celery && mkdir -p /var/lib/celery /var/lib/luffy \
    && chown celery /var/lib/celery /var/lib/luffy
USER celery
WORKDIR /app/08_production
