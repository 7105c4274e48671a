from .celery import app
from .run_records import record_run


@app.task(bind=True)
def send_sms(self, mobile, code):
    """'Send' a verification code (it only records the run)."""
    record_run(self)
    return f"code {code} sent to {mobile}"
