"""Chapter 01, run as a learner runs it: real worker processes, real Redis."""

import json
import os
import re
import shlex
import signal
import time

import pytest
import redis as redis_py

from tests import lesson
from tests.readme_output import assert_readme_shows, difference, readme_text, samples, step_differences

CHAPTER = "01_quickstart"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_walkthrough(lab, figures):
    """Every step of the README, in order, with the Procfile's worker."""
    lab.start("worker")
    outputs = [lab.run_step(step).output for step in lab.chapter.steps]
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)  # README's sample output
    submit, _, states, failure, unknown, bad_input, type_error = outputs
    assert submit.count("-> 5  (state SUCCESS)") == 3
    # shaky_add fails twice (RETRY, RETRY), then succeeds
    shaky = states.split("[2]")[1].split("[3]")[0]
    assert re.findall(r"\b(STARTED|RETRY|SUCCESS)\b", shaky)[:6] == [
        "STARTED", "RETRY", "STARTED", "RETRY", "STARTED", "SUCCESS"]
    assert 'ZeroDivisionError: division by zero' in failure
    assert "UNKNOWN" in unknown and "PENDING" not in unknown.split("UNKNOWN")[0]
    assert bad_input.count("refused before sending") == 2
    assert "TypeError: add() takes 2 positional arguments but 3 were given" in type_error
    figures(f"bad input, 01_quickstart: {bad_input.count('refused before sending')} calls refused "
            f"before sending, {type_error.count('FAILURE')} by-name call ended FAILURE; an unknown id "
            f"exits {lab.chapter.steps[4].exit}")


@pytest.mark.parametrize("pool, banner", [
    ("worker_prefork", "prefork"),
    ("worker_threads", "thread"),
])
def test_each_pool_runs_add(lab, pool, banner):
    """The worker commands the README shows for Linux/macOS and Windows all compute add(2, 3)
    (-P solo: test_pending_until_a_worker_starts; -P eventlet: test_lessons_calls_worker_commands)."""
    worker = lab.start(pool)
    assert re.search(rf"concurrency: \d+ \({banner}\)", worker.output()), worker.output()
    result = lab.run("python submit.py")
    assert result.output.count("-> 5  (state SUCCESS)") == 3
    assert worker.count(r"Task celery_task\.add\[.*\] succeeded") == 3


def test_pending_until_a_worker_starts(lab):
    """Tasks sent with no worker wait in Redis (PENDING), and run once a worker starts."""
    sent = lab.run(lab.chapter.command("submit_no_wait"))
    assert "not waiting (--no-wait)" in sent.output
    pending = lab.run("python check_result.py")
    assert "PENDING: the task waits in the queue" in pending.output
    worker = lab.start("worker_solo")  # the Windows-friendly pool: one task at a time
    deadline = time.monotonic() + 20
    while "SUCCESS" not in (out := lab.run("python check_result.py").output):
        assert time.monotonic() < deadline, out
        time.sleep(0.5)
    assert "SUCCESS: the task returned 5" in out
    worker.wait_for(r"Task celery_task\.add\[.*\] succeeded", timeout=10)


def test_no_worker_times_out_with_advice(lab):
    """submit.py never hangs: without a worker it gives up and says what to check."""
    result = lab.run(lab.chapter.command("submit_short_timeout"), exit=1, timeout=30)
    assert 3 <= result.seconds < 20
    assert "Is a worker running" in result.output


def test_redis_down_is_one_clear_line(lab):
    """With nothing listening at REDIS_URL, each script says so in one line within 10 s."""
    for command in ("python submit.py", "python check_result.py 1234", "python watch_states.py"):
        result = lab.run(command, exit=1, timeout=30, redis_url="redis://127.0.0.1:1")
        assert result.seconds < 10, (command, result.seconds)
        problem = [line for line in result.output.splitlines() if line.startswith("[!]")]
        assert problem == [result.output.splitlines()[-1]], result.output
        assert lab.chapter.broker_url("redis://127.0.0.1:1") in problem[0] and "make redis" in problem[0]
        assert "Traceback" not in result.output


# ---------------------------------------------------------------- the lesson's own calls
# The snippets of the lesson's quick start ("celery的快速使用") that belong to this chapter,
# verbatim but for their Chinese comments, run in the scratch copy against a real worker.

# The quick start, "submitting a task" (提交任务.py): the synchronous call...
LESSON_SYNC_CALL = """\
import celery_task

res = celery_task.add(2, 3)
print(res)
"""
# ...and sending the task: `print(res)` prints the new task's id.
LESSON_SUBMIT = """\
import celery_task

res = celery_task.add.apply_async(kwargs={"a": 2, "b": 3})
print(res)
"""


def python(lab, code):
    """Run code with `python -c` in the chapter's scratch copy, as a learner's script."""
    return lab.run(f"python -c {shlex.quote(code)}")


def lessons_check(lab, task_id):
    """The lesson's result script for task_id (the lesson: put the id printed when the
    task was sent in its `id = '...'` line); the lines it printed."""
    return python(lab, lesson.check_result(task_id)).output.splitlines()


def sent_id(lab, code):
    """Run code that sends a task and prints its AsyncResult; the id it printed."""
    printed = python(lab, code).output.strip()
    assert re.fullmatch(UUID, printed), printed
    return printed


def wait_for_state(lab, task_id, state, timeout=20):
    """Poll the result backend (Redis, every 20 ms) until the task's state is state."""
    backend = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "backend"))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            meta = backend.get(f"celery-task-meta-{task_id}")
            if meta and json.loads(meta)["status"] == state:
                return
            time.sleep(0.02)
    finally:
        backend.close()
    raise AssertionError(f"task {task_id} never reached {state} within {timeout} s")


def frozen(worker):
    """Stop the worker and its pool (SIGSTOP to its process group): a task's state holds
    still until thaw(worker)."""
    os.killpg(worker.pid, signal.SIGSTOP)


def thaw(worker):
    os.killpg(worker.pid, signal.SIGCONT)


def test_lessons_calls_submit_and_check_the_result(lab):
    """The lesson's calls work as written: the direct call runs in the caller, apply_async
    prints an id, and the lesson's result script says the right thing in each state it
    names. Run with the lesson's own id, it says "waiting" for a task nobody sent."""
    worker = lab.start("worker")  # the lesson's Celery 5 command: celery -A celery_task worker -l info
    received = r"Task celery_task\.\w+\[.*\] received"
    before = worker.count(received)
    direct = python(lab, LESSON_SYNC_CALL)
    assert direct.output.splitlines() == ["5"] and direct.seconds >= 2, direct  # add sleeps 2 s
    assert worker.count(received) == before  # it ran here: the worker never heard of it

    task_id = sent_id(lab, LESSON_SUBMIT)
    worker.wait_for(rf"Task celery_task\.add\[{task_id}\] succeeded in .*: 5$", timeout=20)
    assert lessons_check(lab, task_id) == ["任务执行成功了", "5"]
    # As the lesson wrote it: its id was never sent to this Redis, and PENDING reads "waiting"
    assert lessons_check(lab, lesson.LESSONS_ID) == ["任务等待中被执行"]

    failed = sent_id(lab, "import celery_task\nprint(celery_task.divide.delay(1, 0))")
    wait_for_state(lab, failed, "FAILURE")
    assert lessons_check(lab, failed) == ["任务失败"]

    running = sent_id(lab, LESSON_SUBMIT)
    wait_for_state(lab, running, "STARTED")  # task_track_started=True: add sleeps 2 s
    frozen(worker)
    try:
        assert lessons_check(lab, running) == ["任务已经开始被执行"]
    finally:
        thaw(worker)

    retrying = sent_id(lab, "import celery_task\nprint(celery_task.shaky_add.delay(2, 3))")
    wait_for_state(lab, retrying, "RETRY")  # for 1 s (countdown=1), twice
    frozen(worker)
    try:
        assert lessons_check(lab, retrying) == ["任务异常后正在重试"]
    finally:
        thaw(worker)
    for task in (running, retrying):
        wait_for_state(lab, task, "SUCCESS")  # thawed, both carry on and succeed
    assert lessons_check(lab, retrying) == ["任务执行成功了", "5"]


def test_lessons_calls_worker_commands(lab):
    """The lesson's worker commands: Celery 4's order is refused (exit 2) with the text the
    README shows, with and without -P eventlet; its Windows worker, -P eventlet, runs the
    lesson's task and starts with eventlet's deprecation warning, as the README shows."""
    command = lab.chapter.command("lesson_worker_celery4")
    assert command == "celery worker -A celery_task -l info"  # the lesson's, to the letter
    refused = lab.run(command, exit=2, timeout=30)
    problems = step_differences(readme_text(lab.chapter), CHAPTER, [(command, refused.output)])
    assert not problems, "\n".join(problems)
    assert "Error: No such option '-A'." in refused.output
    with_eventlet = lab.run(command + " -P eventlet", exit=2, timeout=30)
    tail = refused.output.splitlines()
    assert with_eventlet.output.splitlines()[-len(tail):] == tail, with_eventlet.output

    worker = lab.start("worker_eventlet")
    assert re.search(r"concurrency: \d+ \(eventlet\)", worker.output()), worker.output()
    shown = next(s for s in samples(readme_text(lab.chapter))
                 if s.command == lab.chapter.command("worker_eventlet"))
    problem = difference(shown.output, worker.output().splitlines(), CHAPTER)
    assert not problem, f"README line {shown.line}: `$ {shown.command}`:\n{problem}"
    task_id = sent_id(lab, LESSON_SUBMIT)
    worker.wait_for(rf"Task celery_task\.add\[{task_id}\] succeeded in .*: 5$", timeout=20)
    assert lessons_check(lab, task_id) == ["任务执行成功了", "5"]
