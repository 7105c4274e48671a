"""Chapter 08, run as a learner runs it: the Procfile's two workers (sms@, reports@), real
Redis, and the workers the scripts start themselves."""

import re

from tests.readme_output import assert_readme_shows

CHAPTER = "08_production"


def seconds(pattern, text):
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return float(found[1])


# The scripts that start every worker they need themselves: they run in a test of their own,
# beside the others (pytest-xdist), instead of after them.
OWN_WORKERS = ("python priorities.py", "python fairness.py", "python shutdown.py")
DEPLOYMENT = ("supervis", "metrics")  # the deployment steps: tests/test_08_deployment.py


def run_steps(lab, wanted):
    """Run the README's steps that wanted(step) picks, in order; {command: output}."""
    steps = [step for step in lab.chapter.steps if wanted(step.run)
             and not any(word in step.run for word in DEPLOYMENT)]
    outputs = {step.run: lab.run_step(step).output for step in steps}
    assert_readme_shows(lab.chapter, steps, list(outputs.values()))
    return lambda script: outputs[script if script.startswith("celery") else f"python {script}"]


def test_walkthrough_with_the_procfile_workers(lab, figures):
    """The README's steps that use the two workers of its terminals 2 and 3, in order."""
    sms, reports = lab.start("sms"), lab.start("reports")
    out = run_steps(lab, lambda command: command not in OWN_WORKERS)
    assert "2 nodes online." in out("celery -A celery_task status")

    # routing: the SMS wait behind reports on one queue, not on their own
    routing = out("routing.py")
    shared = seconds(r"one queue.*\n    SMS latency: median ([\d.]+) ms", routing)
    own = seconds(r"own queues.*\n    SMS latency: median ([\d.]+) ms", routing)
    own_p95 = seconds(r"own queues.*\n    SMS latency: median [\d.]+ ms, p95 ([\d.]+) ms", routing)
    assert shared > 300 and own < shared / 5 and own_p95 < shared, routing
    figures(f"routing, 08_production: SMS median latency {shared:.0f} ms on one queue, "
            f"{own:.1f} ms on its own")

    # rate limits: each worker ran its share, together faster than one worker could
    rates = out("rate_limits.py")
    counts = {name: int(n) for name, n in re.findall(r"(reports|sms) (\d+)", rates.split("by worker:")[1])}
    assert sum(counts.values()) == 16 and min(counts.values()) >= 4, rates
    took = seconds(r"16 calls ran in ([\d.]+) s", rates)
    alone = int(re.search(r"one worker alone could have run (\d+)", rates)[1])
    assert alone < 16, rates  # two workers did what one could not in that time
    ran = r"Task celery_task\.call_api\[[0-9a-f-]+\] succeeded"
    assert (reports.count(ran), sms.count(ran)) == (counts["reports"], counts["sms"]), rates
    assert out("celery -A celery_task control rate_limit celery_task.call_api 10/m").count(
        "new rate limit set successfully") == 2
    figures(f"rate limit, 08_production: 16 calls at 120/m on 2 workers in {took:.1f} s "
            f"({16 / took:.1f}/s against a limit of 2/s)")

    # time limits: the soft one is caught, the hard one kills and leaves the folder
    limits = out("time_limits.py")
    assert "resize_images(2) after" in limits and "SUCCESS, resized 2 of 2" in limits
    assert re.search(r"SUCCESS, resized [1-4] of 10, stopped by the soft time limit", limits), limits
    assert "FAILURE, TimeLimitExceeded: TimeLimitExceeded(2" in limits
    assert "work folders left behind: 1" in limits
    assert reports.count(r"Hard time limit \(2s\) exceeded for celery_task\.resize_images") == 1

    # memory: every process over the limit was replaced
    memory = out("memory.py")
    over, replaced = len(re.findall(r"over the limit: this process exits", memory)), \
        re.search(r"(\d+) of (\d+) that went over the limit were replaced", memory)
    assert over >= 1 and replaced[1] == replaced[2] == str(over), memory

    # remote control
    remote = out("remote_control.py")
    active = int(re.search(r"active +(\d+):", remote)[1])
    reserved = int(re.search(r"reserved +(\d+):", remote)[1])
    assert active + reserved == 3 and "scheduled 1: build_report" in remote, remote
    assert "refused: pool_grow is not supported with autoscale" in remote
    assert "ok: autoscale now max=4 min=1" in remote
    assert "now 3 pool processes" in remote and "\n    now 1 pool process\n" in remote
    assert "now it reads reports, spare" in remote and remote.rstrip().endswith("now it reads spare")

    # failures: one alert line per failure, in the list and in the worker's log
    failures = out("failures.py")
    assert "the alerts list holds 2 lines" in failures
    assert reports.count(r"WARNING \S+ task failed: celery_task\.divide\[[0-9a-f-]{36}\] "
                         r"ZeroDivisionError: division by zero") == 2


def test_walkthrough_scripts_with_their_own_workers(lab, figures):
    """The README's steps whose scripts start (and stop) every worker they need."""
    out = run_steps(lab, lambda command: command in OWN_WORKERS)

    # priorities: 0 first from a backlog; prefetched 9s still run before new 0s
    priorities = out("priorities.py")
    assert "the first 10 it ran had priority 0: True" in priorities
    ahead = int(re.search(r"(\d+) priority-9 tasks ran before", priorities)[1])
    assert 1 <= ahead <= 8, priorities


    # fairness: stuck short tasks, fewer with prefetch 1, none with acks_late too
    fairness = out("fairness.py")
    stuck = [int(n) for n in re.findall(r"(\d+) of 7 short tasks waited behind", fairness)]
    assert len(stuck) == 3 and stuck[0] >= 1 and stuck[2] == 0 and stuck[0] >= stuck[1], fairness
    figures(f"prefetch, 08_production: short tasks stuck behind a long one: {stuck[0]} of 7 "
            f"(defaults), {stuck[1]} (prefetch 1), {stuck[2]} (prefetch 1 + acks_late)")


    # shutdown: warm and soft finish the report, cold cuts it off; the ETA task comes back
    shutdown = out("shutdown.py")
    warm = seconds(r"warm: SIGTERM -> exited after ([\d.]+) s", shutdown)
    soft = seconds(r"soft: SIGQUIT -> exited after ([\d.]+) s", shutdown)
    cold = seconds(r"cold: SIGQUIT -> exited after ([\d.]+) s", shutdown)
    assert re.search(r"warm: .*the report is SUCCESS; back in the queue: the ETA task$", shutdown, re.M)
    assert re.search(r"soft: .*the report is SUCCESS; back in the queue: the ETA task$", shutdown, re.M)
    assert re.search(r"cold: .*the report is PENDING; back in the queue: the report and the ETA task$",
                     shutdown, re.M)
    assert cold < warm and soft >= 3.0, shutdown  # soft waits its 3 s in full
    figures(f"shutdown, 08_production: exited after warm {warm:.1f} s, soft {soft:.1f} s, "
            f"cold {cold:.1f} s (a report of 2 s, signalled while it ran)")



def test_a_script_without_its_workers_says_which_to_start(lab):
    """No worker running: one line naming the worker and the command that starts it."""
    result = lab.run("python routing.py", exit=1, timeout=30)
    assert result.output.strip().splitlines()[-1].startswith(
        "[!] no worker sms@"), result.output
    assert "celery -A celery_task worker -l info -Q sms,api -n sms@%h" in result.output
    assert "Traceback" not in result.output


def test_redis_down_is_one_clear_line(lab):
    for command in ("python routing.py", "python shutdown.py"):
        result = lab.run(command, exit=1, timeout=30, redis_url="redis://127.0.0.1:1")
        assert result.seconds < 10, (command, result.seconds)
        assert result.output.strip().splitlines()[-1].startswith("[!] Redis is not answering at")
        assert "Traceback" not in result.output
