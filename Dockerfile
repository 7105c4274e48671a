# The image of docker-compose.yml's `production` profile (chapter 08): the pinned requirements
# and the chapter's folder, run as an unprivileged user (never root: Celery warns about it).
#   docker compose --profile production up -d --build
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY 08_production/ 08_production/
RUN useradd --system --no-create-home celery && mkdir -p /var/lib/celery \
    && chown celery /var/lib/celery
USER celery
WORKDIR /app/08_production
