"""Exercise 2: a message delivered twice has its effect once.

Goal: `credit(account, cents)` adds cents to the account's balance (the hash `balances`)
once per message, however many times that message is delivered. Redis delivers a message
again when its visibility timeout passes before the ack (exercise 1), or when a worker dies
holding it with acks_late (chapter 08, exercise 2); the copy carries the same task id.

The check sends credit("ada", 500) twice with one task id (what a redelivered copy is),
then credit("ada", 250) twice, each with an id of its own (two payments of the same
amount), and reads the balance: it must be 1000. Look at self.request (bind=True) and at
what Redis's SET does with nx=True: two copies running at the same moment must not both
find "not applied yet".
"""

from celery_task import app


@app.task(bind=True)
def credit(self, account, cents):
    client = self.backend.client
    # TODO: apply each message once: a second delivery of the same message changes nothing
    return client.hincrby("balances", account, cents)
