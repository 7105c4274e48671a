"""Chapter 02, run as a learner runs it: the package layout, full task names, retries and
the unregistered-task mistake, against a real worker and Redis."""

import re
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT, marked, tour_env
from tests.readme_output import assert_readme_shows

CHAPTER = "02_package_layout"


def test_walkthrough(lab):
    worker = lab.start("worker")
    outputs = [lab.run_step(s).output for s in lab.chapter.steps]
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)  # README's sample output
    registered, submit, _, sms, unregistered = outputs
    # the worker knows exactly the three modules of include=[...], not coupon_task
    names = re.findall(r"\* (celery_task\.\S+)", registered)
    assert sorted(names) == ["celery_task.course_task.add", "celery_task.order_task.make_order",
                             "celery_task.report_task.build_report",
                             "celery_task.user_task.send_sms"]
    # the gateway refused twice per message and Celery retried after 1 s, then 2 s
    retries = re.findall(r"(\d+\.\d+) s  RETRY", sms)
    done = float(re.search(r"(\d+\.\d+) s  SUCCESS", sms).group(1))
    assert len(retries) == 2 and done >= 2.9, sms
    assert worker.count(r"Task celery_task\.user_task\.send_sms\[.*\] retry") == 4
    worker.wait_for(r"Received unregistered task of type 'celery_task\.coupon_task\.issue_coupon'",
                    timeout=5)


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


def test_drill_shutdown(lab, figures):
    """Warm shutdown finishes the running task; cold shutdown cuts it and it runs again."""
    out = lab.run(lab.chapter.command("drill_shutdown"), timeout=120).output
    assert "the task is SUCCESS: {'report': 1, 'run': 1}" in out, out
    assert "the task was cut off, still STARTED" in out, out
    assert "{'report': 2, 'run': 2} (run 2 times)" in out, out
    warm = re.search(r"then exited after ([\d.]+) s", out).group(1)
    cold = re.search(r"the worker exited after ([\d.]+) s", out).group(1)
    figures(f"drill shutdown: warm shutdown waited {warm} s for the running task (SUCCESS, ran once); "
            f"cold shutdown exited in {cold} s, the task ran again on the next worker")


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
