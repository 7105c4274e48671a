"""Chapter 04, run as a learner runs it: a real worker and a real beat, real Redis.

Runs are counted on the records the tasks write to Redis (database 8), not on log lines.
"""

import json
import re
import time
from datetime import datetime, timedelta

import redis as redis_py

from tests.readme_output import assert_readme_shows, difference, readme_shows_code, readme_text
from tour import procs

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


SCHEDULE = """
import json
from datetime import timedelta
from celery_task.celery import app
entries = {}
for name, entry in app.conf.beat_schedule.items():
    every = entry["schedule"]
    entries[name] = {"task": entry["task"], "args": list(entry.get("args", ())),
                     "seconds": every.total_seconds() if isinstance(every, timedelta) else None,
                     "crontab": None if isinstance(every, timedelta) else
                     {f: sorted(getattr(every, f)) for f in ("minute", "hour", "day_of_week")}}
print(json.dumps(entries))
"""


def beat_schedule(lab):
    """The app's beat_schedule as {name: {task, args, seconds or crontab fields}}."""
    out = lab.run(f"python -c '{SCHEDULE}'").output
    return json.loads(out.strip().splitlines()[-1])


def named_interval(name):
    """What an entry's name promises: add_every_3_seconds -> 3.0; None for other names."""
    found = re.fullmatch(r".*_every_(\d+)_seconds?", name)
    return float(found[1]) if found else None


def runs_of_entry(lab, entry, since):
    client = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "backend"))
    try:
        runs = [json.loads(item) for item in client.lrange(f"runs:{entry['task']}", 0, -1)]
    finally:
        client.close()
    return [run["at"] for run in runs if run["args"] == entry["args"] and run["at"] >= since]


def assert_every_entry_keeps_its_name(lab, schedule, since):
    """Each interval entry's runs, measured since beat started, are as far apart as its
    name says (add_every_1_second 1 s, send_sms_every_3_seconds 3 s, ...): two runs at
    least, each gap within 0.5 s + 15 % of the named interval, so 3 s and 6 s, or 5 s and
    3 s, cannot be mistaken for each other even on a loaded machine. The weekly crontab's
    name is checked against its fields (its runs are a week apart)."""
    deadline = time.monotonic() + 30
    for name, entry in schedule.items():
        if entry["crontab"] is not None:
            weekly = re.fullmatch(r".*_every_monday_at_(\d+)", name)
            assert weekly, f"{name}: the name does not say when it runs"
            assert entry["crontab"] == {"minute": [0], "hour": [int(weekly[1])],
                                        "day_of_week": [1]}, (name, entry)  # Celery: Monday is 1
            continue
        named = named_interval(name)
        assert named is not None, f"{name}: the name does not say how often it runs"
        while len(runs := runs_of_entry(lab, entry, since)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(runs) >= 2, f"{name}: {len(runs)} runs recorded since beat started"
        gaps = [round(later - earlier, 2) for earlier, later in zip(runs, runs[1:])]
        assert all(abs(gap - named) <= 0.5 + 0.15 * named for gap in gaps), (
            f"{name} promises one run per {named:g} s; measured gaps {gaps} s "
            f"(declared schedule {entry['seconds']:g} s)")


def readme_block(chapter, starting: str) -> list[tuple[int, str]]:
    """(line number, text) of the README.md code block whose first line starts so."""
    lines = readme_text(chapter).splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith(starting)
                 and lines[n - 1].startswith("```"))
    end = next(n for n in range(first, len(lines)) if lines[n].startswith("```"))
    return [(n + 1, lines[n]) for n in range(first, end)]


def test_walkthrough(lab):
    """Every step of the README, in order, with the Procfile's worker and beat; then every
    beat entry's measured interval against its name."""
    lab.start("worker")
    beat_started = time.time()
    beat = lab.start("beat")
    preview, count, aps = lab.chapter.steps
    outputs = []  # each step's output, for the README comparison at the end

    # 1. the preview: the lesson's crontab fires at every minute of 8 o'clock on Mondays
    out = lab.run_step(preview).output
    # every time says its zone: the app's (Asia/Shanghai) and this machine's, the log lines' clock
    assert re.search(rf"^    = \w{{3}} [\d-]+ [\d:]+ {time.strftime('%Z')} on this machine's clock", out,
                     re.MULTILINE), out
    assert "beat_schedule (Asia/Shanghai time):" in out, out
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
    # beat ran add every second for as long as the step lasted (its window, plus the script's
    # start and end, which take seconds more when the machine is busy)
    assert ran <= len(recorded) <= (finished - started) / 1 + 1, (ran, finished - started, recorded)
    gaps = [later - earlier for earlier, later in zip(recorded, recorded[1:])]
    assert gaps and all(0.5 < gap < 1.5 for gap in gaps), gaps
    sms = int(re.search(r"send_sms_every_3_seconds +ran +(\d+)", out).group(1))
    assert abs(sms - window / 3) <= 1, out
    order = int(re.search(r"make_order_every_5_seconds +ran +(\d+)", out).group(1))
    assert abs(order - window / 5) <= 1, out
    assert re.search(r"add_every_monday_at_8 +ran +0 ", out), out

    # 3. APScheduler: every second, in the script's own process, for 3 s
    out = lab.run_step(aps).output
    # one clock with the worker's and beat's log lines: this machine's, its zone printed
    zone = time.strftime("%Z")
    clocks = re.findall(r"^ +(\d\d:\d\d:\d\d)\.\d{3} (\S+)  add\(3, 5\) = 8", out, re.MULTILINE)
    assert clocks and all(z == zone for _, z in clocks), (zone, out)
    h, m, sec = map(int, clocks[-1][0].split(":"))
    now = time.localtime()
    behind = (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec - (h * 3600 + m * 60 + sec)) % 86400
    assert behind < 60, out  # printed on the local clock (not 8 hours off), a moment ago
    assert "(Asia/Shanghai time)" in out, out
    outputs.append(out)
    pids = set(re.findall(r"add\(3, 5\) = 8  \(run \d+, process (\d+)", out))
    assert len(pids) == 1 and f"inside this process {pids.pop()}" in out, out
    # the lesson's job fires on the hour, between 08:00 and 23:00 (which hours come next
    # depends on the time of day in Shanghai)
    fires = re.search(r"cron\[hour='8-23'\] +\w{3} \S+ (\d\d):00, \w{3} \S+ (\d\d):00", out)
    assert fires, out
    first, second = map(int, fires.groups())
    assert 8 <= first <= 23 and second == (first + 1 if first < 23 else 8), out
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)  # README's sample output

    # 4. every entry of beat_schedule runs as often as its name says, measured
    assert_every_entry_keeps_its_name(lab, beat_schedule(lab), beat_started)

    # the README's beat banner is what beat printed (its `...` marks the lines left out)
    problem = difference(readme_block(lab.chapter, "celery beat v"), beat.output().splitlines(), CHAPTER)
    assert not problem, problem


def test_worker_with_beat_for_development(lab):
    """`worker -B` runs beat inside the worker: the 1 s entry runs about once a second.
    The first run is left out: beat sends it at start-up, and it waits for the pool to be
    ready, so the gap to the second can be any length below a second."""
    since = time.time()
    worker = lab.start("worker_with_beat")
    runs = wait_for_runs(lab, 5, since, timeout=15)[1:]
    gaps = [later - earlier for earlier, later in zip(runs, runs[1:])]
    assert all(0.5 < gap < 1.5 for gap in gaps), gaps
    assert "beat: Starting" in worker.output()


def test_two_beats_send_everything_twice(lab):
    """Why 'one beat, ever': a second beat sends every entry again."""
    lab.start("worker")
    lab.start("beat")
    lab.start("beat")
    out = lab.run("python count_runs.py --seconds 4", exit=1).output
    window = float(re.search(r"runs in those ([\d.]+) s", out).group(1))
    ran = int(re.search(r"add_every_1_second +ran +(\d+)", out).group(1))
    assert abs(ran - 2 * window) <= 2, out
    # the verdict follows the counts: no "follow the schedule", one [!] line naming two beats
    assert "follow the schedule, give" not in out, out
    assert re.fullmatch(r"\[!\] the counts do not follow the schedule: \w+ ran \d+ times, expected "
                        r"about \d+ \([\d.]+x\)\. Is more than one beat running\? Stop all but one\.",
                        out.splitlines()[-1]), out


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


# The lesson's code for this chapter, verbatim (code only, without its Chinese comments).
# From "执行定时任务" (periodic tasks), the summary's step 1: the block the lesson writes into
# celery_task/celery.py, its indentation (tabs) and its entries exactly as printed.
LESSON_SCHEDULE = """
app.conf.timezone = "Asia/Shanghai"
app.conf.enable_utc = False

from datetime import timedelta
from celery.schedules import crontab

app.conf.beat_schedule = {
\t'send_sms_3_seconds': {
\t\t'task': 'celery_task.user_task.send_sms',
\t\t'schedule': timedelta(seconds=3),
\t\t'args': ("15052585635", "5202"),
\t},
\t'make_order_5_seconds': {
\t\t'task': 'celery_task.order_task.make_order',
\t\t'schedule': timedelta(seconds=3),
\t},
\t'add_every_1_seconds': {
\t\t'task': 'celery_task.course_task.add',
\t\t'schedule': crontab(hour=8, day_of_week=1),
\t\t'args': (3, 5),
\t},
}
"""
# The same summary's steps 2 and 3: the lesson's worker (with eventlet) and beat commands.
LESSON_WORKER = "celery -A celery_task worker -l info -P eventlet"
LESSON_BEAT = "celery -A celery_task beat -l info"




def test_lessons_calls_periodic_tasks(lab):
    """The lesson's schedule, pasted at the end of this chapter's celery.py, runs unchanged
    with the lesson's two commands: beat sends its three entries, the eventlet worker runs
    them (make_order with no arguments), every 3 s for the entry named "5 seconds". A beat
    that ran with this chapter's enable_utc=True first says it resets its saved state."""
    assert readme_shows_code(lab.chapter, LESSON_SCHEDULE)
    assert lab.chapter.commands["lesson_worker"] == LESSON_WORKER
    assert lab.chapter.processes["beat"] == LESSON_BEAT
    beat = lab.start("beat")  # the chapter's own beat runs once: it saves utc_enabled=True
    beat.wait_for(r"Sending due task", timeout=10)  # its state is saved by then
    beat.stop()
    lab.procs.remove(beat)
    with open(lab.path / "celery_task" / "celery.py", "a", encoding="utf-8") as app_module:
        app_module.write(LESSON_SCHEDULE)
    worker = lab.start("lesson_worker")
    assert "(eventlet)" in worker.output() and "EventletDeprecationWarning" in worker.output()
    beat = lab.start("beat")
    beat.wait_for(r"Reset: UTC changed from enabled to disabled", timeout=10)
    assert "Timezone changed" not in beat.output()  # the time zone itself did not change

    schedule = beat_schedule(lab)  # the three entries, as the app now has them
    assert list(schedule) == ["send_sms_3_seconds", "make_order_5_seconds", "add_every_1_seconds"]
    assert schedule["make_order_5_seconds"]["seconds"] == 3, schedule  # its name says 5
    assert schedule["make_order_5_seconds"]["args"] == []  # sent with no arguments
    assert schedule["add_every_1_seconds"]["crontab"] == {  # every minute of 8 o'clock, Mondays
        "minute": list(range(60)), "hour": [8], "day_of_week": [1]}

    since = time.time()
    out = lab.run("python count_runs.py --seconds 6").output
    for name in ("send_sms_3_seconds", "make_order_5_seconds"):
        assert re.search(rf"^ +{name} +ran +[1-3] +expected about 2 \(one per 3 s\)", out, re.MULTILINE), out
    assert re.search(r"add_every_1_seconds +ran +0 .*<crontab: \* 8 \* \* 1 ", out), out
    for name in ("send_sms_3_seconds", "make_order_5_seconds"):
        runs = runs_of_entry(lab, schedule[name], since)
        gaps = [later - earlier for earlier, later in zip(runs, runs[1:])]
        assert gaps and all(2.4 < gap < 3.6 for gap in gaps), (name, runs)  # 3 s, not 5
    assert worker.count(r"Task celery_task\.order_task\.make_order\[.*\] succeeded in .*: 'order created'") >= 2
    assert "TypeError" not in worker.output()


# From the lesson's closing "补充" (supplement) on APScheduler: its snippet, verbatim.
LESSON_APS = """from apscheduler.schedulers.blocking import BlockingScheduler
scheduler = BlockingScheduler()
@scheduler.scheduled_job('cron', hour='8-23')
def request_update_status():
    print('Doing job')

scheduler.start()
"""
# Runs the snippet's file as `python lesson_aps.py` would, with APScheduler's own log lines
# shown (logging at DEBUG), so the scheduler says when it will next wake up.
SHOW_SCHEDULER_LOG = ("import logging, runpy; logging.basicConfig(level=logging.DEBUG); "
                      "runpy.run_path(\"lesson_aps.py\", run_name=\"__main__\")")


def test_lessons_calls_apscheduler(lab):
    """The lesson's APScheduler snippet runs as written: start() blocks, and its job's next
    run is on the hour, the next one from 08:00 to 23:00 on this machine's clock (its
    BlockingScheduler() takes the machine's zone): 'cron' leaves minute and second at 0."""
    assert readme_shows_code(lab.chapter, LESSON_APS)
    (lab.path / "lesson_aps.py").write_text(LESSON_APS, encoding="utf-8")
    proc = procs.Proc("lesson_aps", f"python -c '{SHOW_SCHEDULER_LOG}'", lab.path, lab.env())
    lab.procs.append(proc)  # stopped with the lab, also if an assert fails
    now = datetime.now().astimezone()
    proc.start()
    found = proc.wait_for(r"Next wakeup is due at (\S+ \S+) \(in", timeout=15)
    due = datetime.fromisoformat(found[1])
    expected = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while expected.hour < 8:
        expected += timedelta(hours=1)
    assert (due.minute, due.second, due.microsecond) == (0, 0, 0) and 8 <= due.hour <= 23, found[0]
    assert due == expected, (found[0], expected)
    assert "Added job \"request_update_status\"" in proc.output(), proc.output()
    time.sleep(1)
    assert proc.running(), proc.output()  # start() blocks: the scheduler keeps running
    assert "Traceback" not in proc.output(), proc.output()


def test_try_this_utc_time_zone(lab):
    """Try this 4: with timezone = "UTC" the preview prints UTC times (the Monday entry at
    08:00 UTC, 16:00 in Shanghai), and a beat that ran with Asia/Shanghai resets its state."""
    beat = lab.start("beat")  # saves tz='Asia/Shanghai'
    beat.wait_for(r"Sending due task", timeout=10)  # its state is saved by then
    beat.stop()
    lab.procs.remove(beat)
    app_module = lab.path / "celery_task" / "celery.py"
    text = app_module.read_text(encoding="utf-8")
    assert text.count('app.conf.timezone = "Asia/Shanghai"') == 1
    app_module.write_text(text.replace('app.conf.timezone = "Asia/Shanghai"', 'app.conf.timezone = "UTC"'),
                          encoding="utf-8")
    out = lab.run("python preview.py --count 2").output
    assert "beat_schedule (UTC time):" in out, out
    assert re.search(r"add_every_monday_at_8 .* Mon \S+ 08:00:00, Mon \S+ 08:00:00$", out, re.MULTILINE), out
    beat = lab.start("beat")
    beat.wait_for(r"Reset: Timezone changed from 'Asia/Shanghai' to 'UTC'", timeout=10)
