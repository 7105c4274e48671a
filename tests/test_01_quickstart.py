"""Chapter 01, run as a learner runs it: real worker processes, real Redis."""

import re
import time

import pytest

from tests.readme_output import assert_readme_shows

CHAPTER = "01_quickstart"


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
    ("worker_eventlet", "eventlet"),
])
def test_each_pool_runs_add(lab, pool, banner):
    """The worker commands the README shows for Linux/macOS and Windows all compute add(2, 3)."""
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
