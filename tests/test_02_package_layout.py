"""Chapter 02, run as a learner runs it: the package layout, full task names, retries and
the unregistered-task mistake, against a real worker and Redis."""

import json
import re
import signal
import subprocess
import sys
import time

import redis as redis_py

from tests import lesson
from tests.conftest import ROOT, marked, tour_env
from tests.readme_output import assert_readme_shows, readme_text, step_differences

CHAPTER = "02_package_layout"


def assert_readme_shows_command(lab, key, output):
    """README.md's sample output under `$ <the [commands] entry key>` matches this real run."""
    command = lab.chapter.command(key)
    problems = step_differences(readme_text(lab.chapter), lab.chapter.name, [(command, output)])
    assert not problems, "\n\n".join(problems)


def test_walkthrough(lab):
    worker = lab.start("worker")
    outputs = [lab.run_step(s).output for s in lab.chapter.steps]
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)  # README's sample output
    registered, submit, _, sms, unregistered = outputs
    # the worker knows exactly the three modules of include=[...], not coupon_task
    names = re.findall(r"\* (celery_task\.\S+)", registered)
    assert sorted(names) == ["celery_task.course_task.add", "celery_task.order_task.make_order",
                             "celery_task.user_task.send_sms"]
    # the gateway refused twice per message and Celery retried after 1 s, then 2 s
    retries = re.findall(r"(\d+\.\d+) s  RETRY", sms)
    done = float(re.search(r"(\d+\.\d+) s  SUCCESS", sms).group(1))
    assert len(retries) == 2 and done >= 2.9, sms
    assert "[3] result after 2 retries: 'SMS to 13800138000 accepted on call 3'" in sms, sms
    assert worker.count(r"Task celery_task\.user_task\.send_sms\[.*\] retry") == 4
    worker.wait_for(r"Received unregistered task of type 'celery_task\.coupon_task\.issue_coupon'",
                    timeout=5)


def test_watch_sms_counts_the_retries_the_workers_gateway_asks_for(lab):
    """The gateway's failures are the worker's setting: watch_sms.py reports what happened."""
    lab.start("worker", env={"SMS_GATEWAY_FAILURES": "3"})
    out = lab.run("python watch_sms.py", timeout=60).output
    assert "fails the first 3" in out and "[3] result after 3 retries: " in out, out
    assert "accepted on call 4'" in out, out


# --- the lesson's own calls, as it types them, against this chapter's package ------------
# The lesson's app module (its celery.py under "the package layout") lists these modules.
LESSONS_INCLUDE = ["celery_task.course_task", "celery_task.order_task", "celery_task.user_task"]

# the package layout, and again under "delayed tasks" ("before, we submitted with
# res = order_task.make_order.apply_async()"): make_order takes no arguments
LESSON_MAKE_ORDER = """\
from celery_task import user_task, order_task
res = order_task.make_order.apply_async()
print(res)
"""

# running async tasks, way one: apply_async with no time, runs at once
LESSON_APPLY_ASYNC = """\
from celery_task import user_task, order_task
user_task.send_sms.apply_async(args=(200, 50))
"""

# running async tasks, way two: delay
LESSON_DELAY = """\
from celery_task import user_task, order_task
res = user_task.send_sms.delay("1526589745", "8888")
print(res)
"""

def run_snippet(lab, name, code):
    """Write a lesson snippet into the scratch copy (never the chapter folder) and run it."""
    (lab.path / name).write_text(code, encoding="utf-8")
    return lab.run(f"python {name}", timeout=30).output


def wait_for_result(lab, task_id, timeout=30):
    backend = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "backend"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = backend.get(f"celery-task-meta-{task_id}")
        if meta and json.loads(meta)["status"] in ("SUCCESS", "FAILURE"):
            return json.loads(meta)
        time.sleep(0.1)
    raise AssertionError(f"task {task_id}: no final result within {timeout} s")


def test_lessons_calls_include_the_lessons_modules(lab):
    """The lesson's include=[...] is the app's: the worker imports exactly those modules."""
    done = lab.run('python -c "from celery_task.celery import app; print(list(app.conf.include))"')
    assert done.output.strip().splitlines()[-1] == repr(LESSONS_INCLUDE), done.output


def test_lessons_calls_run_against_the_package(lab):
    worker = lab.start("worker")
    # make_order, submitted as the lesson does, then looked up by id as the lesson does
    order_id = run_snippet(lab, "lesson_make_order.py", LESSON_MAKE_ORDER).strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", order_id), order_id
    assert wait_for_result(lab, order_id)["result"] == "order created"
    # the lesson's result check by id; in the package the app is in celery_task.celery
    check = run_snippet(lab, "lesson_check_result.py", lesson.check_result(order_id, app_module="celery_task.celery"))
    assert check.splitlines() == ["任务执行成功了", "order created"], check
    # send_sms with apply_async(args=...) and with delay(...): the numbers the lesson passes
    assert run_snippet(lab, "lesson_apply_async.py", LESSON_APPLY_ASYNC) == ""
    sms_id = run_snippet(lab, "lesson_delay.py", LESSON_DELAY).strip()
    assert wait_for_result(lab, sms_id)["result"] == "SMS to 1526589745 accepted on call 3"
    worker.wait_for(r"send_sms\[[0-9a-f-]+\] succeeded in [\d.]+s: 'SMS to 200 accepted on call 3'",
                    timeout=30)
    assert worker.count("unregistered") == 0 and worker.count("TypeError") == 0


def test_find_app_takes_an_app_under_any_name(lab):
    """`-A celery_task` finds the app in celery_task/celery.py even when it is not called
    `app` (celery/app/utils.py find_app: the first Celery instance in the module)."""
    module = lab.path / "celery_task" / "celery.py"
    module.write_text(module.read_text().replace("app = Celery(", "my_app = Celery(")
                      .replace("app.conf.update(", "my_app.conf.update("), encoding="utf-8")
    done = lab.run("python -c \"from celery.app.utils import find_app; "
                   "print(find_app('celery_task').main)\"")
    assert done.output.strip().splitlines()[-1] == "celery_task", done.output


def test_adding_the_module_fixes_unregistered(lab):
    """With coupon_task imported by the worker (-I), the same script gets its result."""
    worker = lab.start("worker_with_coupons")
    result = lab.run("python send_unregistered.py")
    assert "the worker ran it: 'coupon for user 7'" in result.output
    assert worker.count("unregistered") == 0


def test_redis_down_is_one_clear_line(lab):
    for command in ("python submit.py", "python check_result.py 1234", "python watch_sms.py",
                    "python send_unregistered.py"):
        result = lab.run(command, exit=1, timeout=30, redis_url="redis://127.0.0.1:1")
        assert result.seconds < 10
        assert result.output.splitlines() == [
            f"[!] Redis is not answering at {lab.chapter.broker_url('redis://127.0.0.1:1')}. Start it with `make redis` "
            "(or `docker compose up -d --wait`), then run this again."], result.output


# --- failure drills: each script runs its own worker, so no lab.start() here -----------

def test_drill_worker_killed_loses_nothing(lab, figures):
    """SIGKILL a pool process, then the whole worker: all 20 acks_late tasks complete."""
    out = lab.run(lab.chapter.command("drill_worker_killed"), timeout=120).output
    counts = re.search(r"submitted (\d+), completed (\d+), lost (\d+), ran more than once (\d+)", out)
    submitted, completed, lost, twice = map(int, counts.groups())
    assert (submitted, completed, lost) == (20, 20, 0), out
    assert twice >= 1, out  # the killed ones ran again: at-least-once delivery
    figures(f"drill worker killed: 2 kills (a pool process, then the whole worker); "
            f"submitted {submitted}, completed {completed}, lost {lost}, ran twice {twice}")


def test_drill_redis_outage_loses_nothing(lab, figures):
    """Redis down 5 s, then 30 s, with 20 tasks in flight: every one completes within 60 s of
    Redis coming back (the visibility timeout is the chapter's 1 hour), none twice."""
    out = lab.run(lab.chapter.command("drill_redis_outage"), timeout=180).output
    rounds = re.findall(r"; down for (\d+) s.*?completed (\d+) of (\d+), ([\d.]+) s after "
                        r"Redis came back; lost (\d+) \(parked in unacked (\d+)\), ran twice (\d+)",
                        out, re.DOTALL)
    assert [(down, done, sent, lost) for down, done, sent, _, lost, _, _ in rounds] == [
        ("5", "20", "20", "0"), ("30", "20", "20", "0")], out
    total = re.search(r"outages of 5 s and 30 s: submitted (\d+), completed (\d+), lost (\d+), "
                      r"ran twice (\d+)\n +the worker (survived|crashed (\d+) time)", out)
    submitted, completed, lost, twice = map(int, total.groups()[:4])
    assert (submitted, completed, lost) == (40, 40, 0), out
    crashes = int(total.group(6) or 0)
    assert (crashes > 0) == ("the supervisor started it again" in out), out
    fate = (f"the worker crashed {crashes} time(s), restarted by the drill's supervisor"
            if crashes else "the worker survived both")
    figures(f"drill Redis outage (5 s, 30 s; 20 tasks in flight each): lost {lost}, "
            f"ran twice {twice}, all done {rounds[0][3]} s and {rounds[1][3]} s after Redis "
            f"came back; {fate}")


def test_drill_redis_restart(lab, figures):
    """With the append-only file a restart loses nothing; without persistence it does."""
    out = lab.run(lab.chapter.command("drill_redis_restart"), timeout=120).output
    assert re.search(r"lost with the append-only file: 0; without persistence: [1-9]", out), out
    assert out.count("the worker reconnected by itself") == 2, out
    figures("drill Redis restart: 2 restarts with tasks queued; " + re.search(
        r"lost with the append-only file: \d+; without persistence: \d+", out).group(0))


def test_drill_requeue_loop(lab, figures):
    """reject_on_worker_lost: a task that kills its process runs again and again until it is
    revoked; with retry_on_worker_lost and max_retries=3 it runs 4 times, then FAILURE."""
    out = lab.run(lab.chapter.command("drill_requeue_loop"), timeout=120).output
    assert_readme_shows_command(lab, "drill_requeue_loop", out)
    looped = int(re.search(r"it has run (\d+) times and is still STARTED", out).group(1))
    assert looped >= 3, out
    stopped = re.search(r"revoked it: the loop stopped after (\d+) runs \(state REVOKED\)", out)
    # 3 runs when the revoke came first, 4 when a redelivery was already under way (the README
    # shows `...` there): never more
    assert stopped and 3 <= int(stopped[1]) <= 4, out
    guarded = re.search(r"it ran (\d+) times in ([\d.]+) s, then FAILURE: WorkerLostError", out)
    assert guarded and guarded.group(1) == "4", out
    figures(f"drill requeue loop: reject_on_worker_lost alone ran the task {looped} times (until "
            f"revoked); with retry_on_worker_lost, max_retries=3: 4 runs in {guarded.group(2)} s, "
            "then FAILURE")


def test_drill_shutdown(lab, figures):
    """Warm shutdown finishes the running task; cold shutdown cuts it, and the worker puts its
    message back as it exits (with a 1-hour visibility timeout it runs again at once); soft
    shutdown lets a 2 s task finish within its 3 s."""
    out = lab.run(lab.chapter.command("drill_shutdown"), timeout=120).output
    assert_readme_shows_command(lab, "drill_shutdown", out)
    assert "the task is SUCCESS: {'report': 1, 'run': 1}" in out, out
    assert "the task was cut off, still STARTED" in out, out
    assert "back in the queue already: 1 in the queue, 0 unacknowledged" in out, out
    assert "{'report': 2, 'run': 2} (run 2 times)" in out, out
    assert "the task is SUCCESS: {'report': 3, 'run': 1}" in out, out
    warm = re.search(r"then exited after ([\d.]+) s", out).group(1)
    cold = re.search(r"the worker exited after ([\d.]+) s", out).group(1)
    again = re.search(r"build_report\(2\) finished ([\d.]+) s later", out).group(1)
    soft = float(re.search(r"gave it 3 s, then exited after ([\d.]+) s", out).group(1))
    assert soft >= 3, out  # the soft shutdown waits its whole timeout
    figures(f"drill shutdown: warm waited {warm} s for the running task (ran once); cold exited "
            f"in {cold} s, the task ran again {again} s after a new worker started (visibility "
            f"timeout 1 h); soft (3 s) exited after {soft} s, the 2 s task done (ran once)")


def test_ctrl_c_stops_everything_the_tour_started(redis_url):
    env = tour_env(redis_url)
    # started as nohup would start it, with SIGINT ignored: Ctrl-C must stop it all the same
    tour = subprocess.Popen([sys.executable, "-m", "tour", "02"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.monotonic() + 60
    for line in tour.stdout:  # wait until the worker is up and a step is running
        if "(1/" in line or time.monotonic() > deadline:
            break
    assert marked(env), "the tour started no process"
    tour.send_signal(signal.SIGINT)  # what Ctrl-C at the terminal sends
    out = tour.communicate(timeout=60)[0]
    assert tour.returncode == 130, out
    assert "interrupted: stopping everything the tour started" in out
    assert not [p.cmdline() for p in marked(env)], out
    assert "02_package_layout │" in out and "(interrupted)" in out, out  # the summary table
