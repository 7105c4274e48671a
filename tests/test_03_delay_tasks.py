"""Chapter 03, run as a learner runs it: a real worker, the two trap workers, real Redis.

Every claim is checked on the run records the tasks write to Redis (database 6), not on
log lines: when each delayed task started, and how many times it ran.
"""

import json
import re
from datetime import datetime

import redis as redis_py

from tests.readme_output import assert_readme_shows

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
    lab.procs[0].wait_for(rf"Discarding revoked task: celery_task\.send_sms\[{eta_id}\]", timeout=5)
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
import celery_task, visibility_apps
def three(app):
    conf = app.conf
    return [conf.broker_transport_options.get("visibility_timeout"),
            conf.result_backend_transport_options.get("visibility_timeout"),
            conf.get("visibility_timeout")]
print(json.dumps({"app": three(celery_task.app), "fixed": three(visibility_apps.fixed),
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
