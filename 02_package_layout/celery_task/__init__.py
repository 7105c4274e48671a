"""The lesson's Celery package. `celery -A celery_task` imports this package, then finds
the app in its submodule `celery_task.celery` (that is why the module is named celery.py)."""
