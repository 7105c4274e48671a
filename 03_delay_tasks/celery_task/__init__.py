"""Chapter 03's Celery package, laid out like the lesson's (chapter 02 explains the layout):
the app in celery.py (`celery -A celery_task` finds it there), one module of tasks per topic.
The lesson's `from celery_task import user_task, order_task` imports two of them."""
