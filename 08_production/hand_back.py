"""Hand back, at once, the tasks a worker had taken but never finished, when it comes back.

The same consumer step as chapter 02's outage.py (its drills show why it is needed), copied
here as that chapter suggests. With Redis as the broker, a task the worker took keeps a copy
in the `unacked` hash until it is acknowledged. A worker killed with SIGKILL (or the OOM
killer, or a lost machine) never gets to put its copies back, and kombu hands them out again
only after the visibility timeout: one hour by default. With this step:

  - every message this worker takes is noted in Redis (hash `taken-by:<worker name>`);
  - when the worker starts again under the same name (supervisord restarts it, -n reports@%h),
    and every 2 s after that, a noted message it no longer holds and is not running goes
    back to the queue; if the task has a final result already, only the copy is removed.

Messages taken by other workers are never touched. celery_task.py registers it:

    app.steps["consumer"].add(HandBackParkedTasks)
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
            logger.warning("handed back task %s: taken by this worker before it was "
                           "restarted or lost its connection, never finished", task_id)
        client.hdel(ledger_key(self.hostname), tag)

    @staticmethod
    def finished(c, task_id):
        backend = c.app.backend
        meta = backend.client.get(backend.get_key_for_task(task_id))  # one plain GET, no retries
        return bool(meta) and loads(meta).get("status") in states.READY_STATES
