"""Chapter 04, run as a learner runs it: a real worker and a real beat, real Redis.

Runs are counted on the records the tasks write to Redis (database 8), not on log lines.
"""

import json
import re
import time

import redis as redis_py

from tests.readme_output import assert_readme_shows

CHAPTER = "04_periodic_tasks"
ADD = "celery_task.course_task.add"


def add_runs(lab, since=0.0, until=float("inf")):
    """Start times of the runs of the 1-second entry (add(1, 2)), oldest first."""
    client = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "backend"))
    try:
        runs = [json.loads(item) for item in client.lrange(f"runs:{ADD}", 0, -1)]
    finally:
        client.close()
    return [run["at"] for run in runs if run["args"] == [1, 2] and since <= run["at"] < until]


def wait_for_runs(lab, count, since, timeout):
    deadline = time.monotonic() + timeout
    while len(runs := add_runs(lab, since)) < count:
        assert time.monotonic() < deadline, f"only {len(runs)} runs of add(1, 2) after {timeout} s"
        time.sleep(0.2)
    return runs


def test_walkthrough(lab):
    """Every step of the README, in order, with the Procfile's worker and beat."""
    lab.start("worker")
    lab.start("beat")
    preview, count, aps = lab.chapter.steps
    outputs = []  # each step's output, for the README comparison at the end

    # 1. the preview: the lesson's crontab fires at every minute of 8 o'clock on Mondays
    out = lab.run_step(preview).output
    outputs.append(out)
    assert re.search(r"\* 8 \* \* 1 .*60 Monday fires: Mon 08:00, 08:01, 08:02, \.\.\. 08:59", out), out
    assert re.search(r"0 8 \* \* 1 .* 1 Monday fire: Mon 08:00$", out, re.MULTILINE), out
    # the 1 s entry's next fires are 1 s apart; the fixed crontab's are a week apart
    line = re.search(r"^ +add_every_1_second .*$", out, re.MULTILINE).group(0)
    seconds = [int(h) * 3600 + int(m) * 60 + int(s)
               for h, m, s in re.findall(r"(\d\d):(\d\d):(\d\d)", line)]
    assert [(b - a) % 86400 for a, b in zip(seconds, seconds[1:])] == [1, 1], line
    assert re.search(r"add_every_monday_at_8 .*Mon (\d\d-\d\d) 08:00:00, Mon (\d\d-\d\d) 08:00:00", out)
    # both Shanghai settings put the fire at 08:00 Shanghai; the default (UTC) at 16:00
    assert re.search(r"enable_utc=True +this app +-> Mon \S+ 08:00:00", out)
    assert re.search(r"timezone=None, enable_utc=True .*-> Mon \S+ 16:00:00 = 08:00 UTC", out)

    # 2. beat with a 1 s interval, over a 6 s window: 6 runs, give or take one
    started = time.time()
    out = lab.run_step(count).output
    outputs.append(out)
    finished = time.time()
    window = float(re.search(r"runs in those ([\d.]+) s", out).group(1))
    ran = int(re.search(r"add_every_1_second +ran +(\d+)", out).group(1))
    assert abs(ran - window / 1) <= 1, out
    recorded = add_runs(lab, started, finished)
    assert ran <= len(recorded) <= ran + 2, (ran, recorded)
    gaps = [later - earlier for earlier, later in zip(recorded, recorded[1:])]
    assert gaps and all(0.5 < gap < 1.5 for gap in gaps), gaps
    sms = int(re.search(r"send_sms_every_3_seconds +ran +(\d+)", out).group(1))
    assert abs(sms - window / 3) <= 1, out
    order = int(re.search(r"make_order_every_5_seconds +ran +(\d+)", out).group(1))
    assert abs(order - window / 5) <= 1, out
    assert re.search(r"add_every_monday_at_8 +ran +0 ", out), out

    # 3. APScheduler: every second, in the script's own process, for 3 s
    out = lab.run_step(aps).output
    outputs.append(out)
    pids = set(re.findall(r"add\(3, 5\) = 8  \(run \d+, process (\d+)", out))
    assert len(pids) == 1 and f"inside this process {pids.pop()}" in out, out
    assert re.search(r"cron\[hour='8-23'\] +\w{3} \S+ 08:00, \w{3} \S+ 09:00", out), out
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)  # README's sample output


def test_worker_with_beat_for_development(lab):
    """`worker -B` runs beat inside the worker: the 1 s entry runs about once a second."""
    since = time.time()
    worker = lab.start("worker_with_beat")
    runs = wait_for_runs(lab, 4, since, timeout=15)
    gaps = [later - earlier for earlier, later in zip(runs, runs[1:])]
    assert all(0.5 < gap < 1.5 for gap in gaps), gaps
    assert "beat: Starting" in worker.output()


def test_two_beats_send_everything_twice(lab):
    """Why 'one beat, ever': a second beat sends every entry again."""
    lab.start("worker")
    lab.start("beat")
    lab.start("beat")
    out = lab.run("python count_runs.py --seconds 4").output
    window = float(re.search(r"runs in those ([\d.]+) s", out).group(1))
    ran = int(re.search(r"add_every_1_second +ran +(\d+)", out).group(1))
    assert abs(ran - 2 * window) <= 2, out


def test_count_runs_says_what_is_missing(lab):
    """No worker: say so at once. A worker but no beat: nothing runs, and the script says why."""
    no_worker = lab.run("python count_runs.py --seconds 2", exit=1, timeout=20)
    assert "no worker answered" in no_worker.output and no_worker.seconds < 10
    lab.start("worker")
    no_beat = lab.run("python count_runs.py --seconds 2", exit=1, timeout=20)
    assert "nothing ran in 2 s. Is beat running" in no_beat.output
    assert "celery -A celery_task beat -l info" in no_beat.output


def test_redis_down_is_one_clear_line(lab):
    """count_runs.py needs Redis and says so in one line; preview and APScheduler need none."""
    result = lab.run("python count_runs.py --seconds 2", exit=1, timeout=30,
                     redis_url="redis://127.0.0.1:1")
    assert result.seconds < 10
    problem = [line for line in result.output.splitlines() if line.startswith("[!]")]
    assert problem == [result.output.splitlines()[-1]], result.output
    assert lab.chapter.broker_url("redis://127.0.0.1:1") in problem[0] and "make redis" in problem[0]
    assert "Traceback" not in result.output
    lab.run("python preview.py --count 1", redis_url="redis://127.0.0.1:1")
    aps = lab.run("python aps_demo.py --seconds 2", redis_url="redis://127.0.0.1:1")
    assert re.search(r"\[2\] [1-3] runs in", aps.output), aps.output
