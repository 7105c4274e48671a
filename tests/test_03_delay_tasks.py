"""Chapter 03, run as a learner runs it: a real worker, the two trap workers, real Redis.

Every claim is checked on the run records the tasks write to Redis (database 6), not on
log lines: when each delayed task started, and how many times it ran.
"""

import json
import re
import time
from datetime import datetime, timezone

import redis as redis_py

from tests.readme_output import assert_readme_shows, readme_shows_code

CHAPTER = "03_delay_tasks"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def runs(lab, task_id):
    client = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "backend"))
    try:
        return [json.loads(item) for item in client.lrange(f"runs:{task_id}", 0, -1)]
    finally:
        client.close()


def sent_ids(output):
    """{label: task id} from the '[n] sent <how> -> id <uuid>' lines of a script."""
    return {how.strip(): task_id for how, task_id in re.findall(rf"sent (.+?)\s+-> id ({UUID})", output)}


def lateness(run):
    """Seconds between the eta the message carried and the moment the run started."""
    return run["started"] - datetime.fromisoformat(run["eta"]).timestamp()


def test_walkthrough(lab):
    """Every step of the README, in order, with the three Procfile workers."""
    for name in lab.chapter.processes:
        if name != "flower":  # the dashboard is optional (tests/test_flower.py starts it)
            lab.start(name)
    steps = iter(lab.chapter.steps)
    printed = []  # each step's output, for the README comparison at the end

    def run_step(step):
        result = lab.run_step(step)
        printed.append(result.output)
        return result

    # 1. delay(), countdown=3 and eta=now+3 s: the delayed ones start at their eta, not before,
    #    and less than 2 s after it; each runs exactly once.
    submit = run_step(next(steps)).output
    ids = sent_ids(submit)
    assert len(ids) == 3, submit
    for how, task_id in ids.items():
        recorded = runs(lab, task_id)
        assert len(recorded) == 1, (how, recorded)
        if "delay(" not in how:
            assert 0 <= lateness(recorded[0]) < 2, (how, recorded)
    late_ms = [int(ms) for ms in re.findall(r"(-?\d+) ms$", submit, re.MULTILINE)]
    assert len(late_ms) == 3 and all(0 <= ms < 2000 for ms in late_ms), submit

    # Revoking a task that already ran is refused, with the reason.
    eta_task = ids["send_sms.apply_async(args=(...), eta=now + 3 s)"]
    too_late = lab.run(f"python revoke.py {eta_task}", exit=1)
    assert "too late: it already ran" in too_late.output

    # 2. naive datetimes, read the way the worker reads them
    naive = run_step(next(steps)).output
    assert re.search(r"now\(timezone\.utc\) \+ 50 s .*\+00:00 .*runs in 50 s", naive), naive

    # 3-5. two delayed tasks held by the worker; the eta one is revoked and never runs
    held = run_step(next(steps)).output
    held_ids = sent_ids(held)
    scheduled = run_step(next(steps)).output
    countdown_id = held_ids["send_sms.apply_async(args=(...), countdown=12)"]
    eta_id = held_ids["send_sms.apply_async(args=(...), eta=now + 12 s)"]
    assert countdown_id in scheduled and eta_id in scheduled, scheduled
    revoke = run_step(next(steps))
    assert runs(lab, eta_id) == []
    assert len(runs(lab, countdown_id)) == 1  # its twin was not revoked: it ran
    lab.procs[0].wait_for(rf"Discarding revoked task: celery_task\.user_task\.send_sms\[{eta_id}\]", timeout=5)
    assert revoke.seconds < 15

    # 6. an SMS that expired while the worker was busy ends REVOKED and never runs
    expires = run_step(next(steps)).output
    stale, fresh = re.findall(rf"-> id ({UUID})", expires)
    assert runs(lab, stale) == [] and len(runs(lab, fresh)) == 1

    # 7. the trap: the short visibility timeout delivers the same SMS again and again; each
    #    copy runs at the due time. The fixed app, sweeping just as often, runs it once.
    trap = run_step(next(steps)).output
    short_id, fixed_id = re.findall(rf"-> id ({UUID})", trap)
    short_runs, fixed_runs = runs(lab, short_id), runs(lab, fixed_id)
    assert len(short_runs) > 1, trap
    assert sum(run["redelivered"] for run in short_runs) == len(short_runs) - 1
    assert len(fixed_runs) == 1, trap
    for run in short_runs + fixed_runs:
        assert 0 <= lateness(run) < 2, run
    assert next(steps, None) is None
    assert_readme_shows(lab.chapter, lab.chapter.steps, printed)  # README's sample output


def test_scripts_without_a_worker_say_what_to_check(lab):
    """No worker: the scripts that need one stop within seconds and name the command."""
    lab.run("python submit.py --seconds 30 --no-wait")
    revoke = lab.run("python revoke.py", exit=1, timeout=20)
    assert "no worker answered" in revoke.output and "celery -A celery_task worker" in revoke.output
    expires = lab.run("python expires.py", exit=1, timeout=20)
    assert "no worker answered" in expires.output
    trap = lab.run("python visibility_trap.py", exit=1, timeout=20)
    assert "celery -A visibility_apps:short worker -l info -P solo" in trap.output
    for result in (revoke, expires, trap):
        assert result.seconds < 10, result


def test_redis_down_is_one_clear_line(lab):
    """With nothing listening at REDIS_URL, each script says so in one line within 10 s."""
    for command in ("python submit.py --seconds 3", "python revoke.py 1234", "python expires.py",
                    "python visibility_trap.py"):
        result = lab.run(command, exit=1, timeout=30, redis_url="redis://127.0.0.1:1")
        assert result.seconds < 10, (command, result.seconds)
        problem = [line for line in result.output.splitlines() if line.startswith("[!]")]
        assert problem == [result.output.splitlines()[-1]], result.output
        assert lab.chapter.broker_url("redis://127.0.0.1:1") in problem[0] and "make redis" in problem[0]
        assert "Traceback" not in result.output
    # naive_eta.py only builds messages: it needs no Redis at all
    lab.run("python naive_eta.py", redis_url="redis://127.0.0.1:1")


VISIBILITY = """
import json
import visibility_apps
from celery_task.celery import app
def three(app):
    conf = app.conf
    return [conf.broker_transport_options.get("visibility_timeout"),
            conf.result_backend_transport_options.get("visibility_timeout"),
            conf.get("visibility_timeout")]
print(json.dumps({"app": three(app), "fixed": three(visibility_apps.fixed),
                  "short": three(visibility_apps.short)}))
"""
DELAY = re.compile(r"--(?:seconds|countdown)[ =](\d+(?:\.\d+)?)")
DEFAULT = re.compile(r'add_argument\("--(?:seconds|countdown)", type=float, default=(\d+(?:\.\d+)?)')


def longest_delay(chapter):
    """The longest countdown/eta the chapter asks for: in its steps and commands, in its
    README (exercises included) and in its scripts' defaults (submit.py's 50 s)."""
    texts = [step.run for step in chapter.steps] + list(chapter.commands.values())
    texts += [(chapter.path / name).read_text(encoding="utf-8") for name in ("README.md", "README.zh-CN.md")]
    delays = [float(d) for text in texts for d in DELAY.findall(text)]
    delays += [float(d) for script in chapter.path.glob("*.py") for d in DEFAULT.findall(script.read_text())]
    return max(delays)


def test_visibility_timeouts_agree_and_outlast_every_delay(lab):
    """Celery's docs ask for the same visibility timeout in three places (the broker's
    transport options, the result backend's, and `visibility_timeout` for delayed tasks).
    The chapter's app and the trap's fixed app must set all three to one value, longer than
    the longest countdown or eta the chapter uses; only the trap app may be short."""
    values = json.loads(lab.run(f"python -c '{VISIBILITY}'").output.strip().splitlines()[-1])
    longest = longest_delay(lab.chapter)
    assert longest >= 50, longest  # submit.py's default, the lesson's "in 50 seconds"
    for name in ("app", "fixed"):
        three = values[name]
        assert len(set(three)) == 1 and three[0] is not None, (
            f"{name}: broker, result backend and visibility_timeout differ: {three}")
        assert three[0] > longest, (
            f"{name}: visibility timeout {three[0]} s is not longer than the longest delay "
            f"the chapter uses ({longest:g} s): delayed tasks would be delivered twice")
    assert values["fixed"] == values["app"], values
    assert values["short"][0] < 8, values  # the trap: shorter than visibility_trap.py's countdown


# The lesson's code for this chapter, verbatim (code only, without its Chinese comments). Each
# runs with `python -c` in the chapter's scratch copy, against the chapter's real worker.
# From "celery执行延迟任务" (running delayed tasks): send_sms 50 s from now, its eta built with
# the naive datetime.utcnow().
LESSON_DELAYED = """
from celery_task import user_task, order_task

from datetime import datetime, timedelta

eta = datetime.utcnow() + timedelta(seconds=50)
res = user_task.send_sms.apply_async(args=(200, 50), eta=eta)
print(res)
"""
# From the same section, how tasks were sent before: make_order, with no arguments.
LESSON_BEFORE = """
from celery_task import user_task, order_task
res = order_task.make_order.apply_async()
"""
# From "执行异步任务" (running asynchronous tasks), way one: apply_async without a time.
LESSON_WAY_ONE = """
from celery_task import user_task, order_task
user_task.send_sms.apply_async(args=(200, 50))
"""
# From the same section, way two: delay.
LESSON_WAY_TWO = """
from celery_task import user_task, order_task
res = user_task.send_sms.delay("1526589745", "8888")
print(res)
"""




def test_lessons_calls_run_unchanged(lab):
    """Every call of the lesson's delayed- and asynchronous-task sections works as written
    against this chapter: the package import, utcnow()'s eta (the worker reads the naive
    value as UTC, so the SMS goes out 50 s later, not 8 h off), make_order() with no
    arguments, apply_async without a time, and delay."""
    assert readme_shows_code(lab.chapter, LESSON_DELAYED)
    worker = lab.start("worker")
    mark = worker.mark()

    before = time.time()
    delayed = lab.run(f"python -c '{LESSON_DELAYED}'").output
    after = time.time()
    eta_id = re.findall(UUID, delayed)[-1]  # print(res) prints the task id

    for snippet in (LESSON_BEFORE, LESSON_WAY_ONE):
        lab.run(f"python -c '{snippet}'")
    delay_id = re.findall(UUID, lab.run(f"python -c '{LESSON_WAY_TWO}'").output)[-1]
    # make_order() with no arguments, and the two immediate SMS, succeed at once
    worker.wait_for(r"Task celery_task\.order_task\.make_order\[.*\] succeeded in .*: 'order created'",
                    timeout=15, since=mark)
    worker.wait_for(rf"Task celery_task\.user_task\.send_sms\[{delay_id}\] succeeded in .*: "
                    r"'code 8888 sent to 1526589745'", timeout=15, since=mark)
    received = re.findall(rf"Task celery_task\.user_task\.send_sms\[({UUID})\] received",
                          worker.output(mark))
    way_one = [task_id for task_id in received if task_id not in (eta_id, delay_id)]
    assert len(way_one) == 1, (received, eta_id, delay_id)
    worker.wait_for(rf"Task celery_task\.user_task\.send_sms\[{way_one[0]}\] succeeded in .*: "
                    r"'code 50 sent to 200'", timeout=15, since=mark)
    assert [run["eta"] for run in runs(lab, way_one[0])] == [None]  # no time given: at once

    # the delayed one: due 50 s after it was sent, on the UTC clock
    # (a naive value read as the machine's or Shanghai's time would be hours off) ...
    deadline = time.monotonic() + 70
    while not (recorded := runs(lab, eta_id)):
        assert time.monotonic() < deadline, worker.output(mark)
        time.sleep(0.2)
    sent_eta = datetime.fromisoformat(recorded[0]["eta"])  # the eta as the message carried it
    assert sent_eta.utcoffset() is None, recorded  # naive: utcnow() says nothing of its zone
    due = sent_eta.replace(tzinfo=timezone.utc).timestamp()  # read as UTC, as the worker does
    assert before + 50 - 1 <= due <= after + 50 + 1, (before, after, recorded)
    # ... and it ran once, when due: the SMS went out 50 s later, as the lesson promised
    assert len(recorded) == 1 and 0 <= recorded[0]["started"] - due < 2, recorded
    worker.wait_for(rf"Task celery_task\.user_task\.send_sms\[{eta_id}\] succeeded in .*: "
                    r"'code 50 sent to 200'", timeout=5, since=mark)
