"""After a Redis outage, hand back the tasks this worker had taken but never ran.

Why this is needed (Celery 5.7, kombu 5.7, Redis broker):
  A worker takes messages ahead of time (prefetch). kombu's Redis transport keeps a copy of
  each one in the `unacked` hash until the worker acknowledges it. When the connection
  drops, the worker drops the messages it had not started (they cannot be acknowledged
  on a new connection) and tries to put them back in the queue - with the Redis that just
  went away, so that fails. The copies stay parked in `unacked` until the visibility
  timeout (1 hour by default) hands them out again.

What this consumer step does, on every (re)connect and then every few seconds:
  - it remembers, in Redis (hash `taken-by:<worker name>`), every message this worker took,
    so a worker restarted by a supervisor after a crash knows them too;
  - a message still in `unacked` that this worker no longer holds and is not running:
    if its task has a final result, it ran (only its acknowledgement was lost): the copy
    is removed; otherwise it goes back to the queue (kombu's own restore_by_tag).
Messages taken by other workers are never touched.

The drills' app registers it (drill_app.py); the lesson's app does not. To add it to your own
app (Redis broker), copy this file next to your app module and add, after `app = Celery(...)`:

    from outage import HandBackParkedTasks
    app.steps["consumer"].add(HandBackParkedTasks)

and start each worker under a fixed name (`-n worker1@%h`): restarted under the same name,
it finds the messages its earlier life took.
"""

from celery import bootsteps, signals, states
from celery.utils.log import get_logger
from kombu.utils.json import loads

logger = get_logger(__name__)

CHECK_EVERY = 2.0  # seconds between two looks at the parked messages


def ledger_key(hostname):
    return f"taken-by:{hostname}"


class HandBackParkedTasks(bootsteps.StartStopStep):
    requires = {"celery.worker.consumer.tasks:Tasks"}  # runs once the task consumer exists

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.timer_entry = None
        self.hostname = parent.hostname
        signals.task_received.connect(self.on_received, weak=False)

    def on_received(self, sender=None, request=None, **kwargs):
        try:
            with self.channel.conn_or_acquire() as client:
                client.hset(ledger_key(self.hostname), request.message.delivery_tag, request.id)
        except Exception:  # noqa: BLE001 - Redis went away just now; the check runs again later
            pass

    def start(self, c):
        self.consumer = c
        self.channel = c.task_consumer.channel
        self.check(c)
        self.timer_entry = c.timer.call_repeatedly(CHECK_EVERY, self.check, (c,), priority=10)

    def stop(self, c):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def check(self, c):
        from celery.worker.state import active_requests  # the tasks running in the pool now

        channel = self.channel
        held = set(channel.qos._delivered)  # taken on this connection: ours to run and ack
        running = {r.message.delivery_tag for r in tuple(active_requests)}
        try:
            with channel.conn_or_acquire() as client:
                for tag, task_id in client.hgetall(ledger_key(self.hostname)).items():
                    tag, task_id = tag.decode(), task_id.decode()
                    if tag not in held and tag not in running:
                        self.settle(c, client, tag, task_id)
        except channel.connection_errors:
            pass  # Redis is (still) down: the next check will do it

    def settle(self, c, client, tag, task_id):
        """A message this worker took on an earlier connection (or in an earlier life)."""
        channel = self.channel
        if not client.hexists(channel.unacked_key, tag):
            pass  # acknowledged as usual: nothing is parked
        elif self.finished(c, task_id):  # it ran; only its acknowledgement was lost
            client.pipeline().zrem(channel.unacked_index_key, tag) \
                .hdel(channel.unacked_key, tag).execute()
        else:  # never started (or cut off): back to the queue, in one transaction
            channel.qos.restore_by_tag(tag, client=client)
            logger.warning("handed back task %s: it was parked in unacked when the "
                           "connection to Redis was lost", task_id)
        client.hdel(ledger_key(self.hostname), tag)

    @staticmethod
    def finished(c, task_id):
        backend = c.app.backend
        meta = backend.client.get(backend.get_key_for_task(task_id))  # one plain GET, no retries
        return bool(meta) and loads(meta).get("status") in states.READY_STATES
