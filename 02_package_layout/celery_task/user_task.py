from . import sms_gateway
from .celery import app


@app.task(
    autoretry_for=(sms_gateway.GatewayDown,),  # retry on this exception instead of failing
    retry_backoff=1,          # wait 1 s, then 2 s, then 4 s ... between tries
    retry_backoff_max=30,     # never more than 30 s
    retry_jitter=False,       # exact delays here; in production keep jitter on (the default)
    max_retries=5,            # then give up: the task ends FAILURE
)
def send_sms(phone, code):
    """Send a verification code. The gateway fails at first; Celery retries it for us."""
    receipt = sms_gateway.send(phone, f"Your code is {code}")
    return f"SMS to {phone} accepted on call {receipt['accepted_on_call']}"
