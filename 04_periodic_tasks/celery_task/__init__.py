"""Chapter 04's Celery package, laid out like the lesson's: the app and its beat schedule in
celery.py (`celery -A celery_task` finds it there), one module of tasks per topic."""
