"""Redis goes away while a script waits: one `[!]` line, a non-zero exit, no traceback.

Each case starts its own Redis (never the session's, which other tests use), starts a
script with no worker so it waits, stops that Redis mid-wait and watches the script end.
The chapter runs in a scratch copy of its folder (tour/runner.py).
"""

import re
import subprocess
import time

import pytest

from tests.conftest import ROOT
from tour import procs, runner, walkthrough
from tour.redis_server import RedisServer

# chapter, the command as a learner types it, a line that shows it is waiting, and what
# runs first: a command to completion, or a Procfile process ("worker") kept running (the
# scripts of chapters 04 and 06 check that a worker answers before they wait)
CASES = [
    ("01_quickstart", "python submit.py", r"^\[6\] waiting for the results", []),
    ("01_quickstart", "python watch_states.py", r"^\[1\] sent add", []),
    ("02_package_layout", "python submit.py", r"^\[4\] waiting for the results", []),
    ("03_delay_tasks", "python submit.py", r"^\[6\] waiting for the three runs", []),
    ("04_periodic_tasks", "python count_runs.py", r"^\[1\] counting the runs", ["worker"]),
    ("05_django_integration", "python manage.py transaction_demo",
     r"the transaction stays open", ["python manage.py migrate"]),
    ("06_cache_consistency", "python race.py", r"^\[4\] Strategy 4", ["worker"]),
]


@pytest.mark.parametrize("chapter_name, command, waiting, setup", CASES,
                         ids=[f"{c[0]}-{c[1].split()[-1]}" for c in CASES])
def test_redis_gone_mid_wait_is_one_line(tmp_path, chapter_name, command, waiting, setup, figures):
    server = RedisServer.start(tmp_path / "redis")
    try:
        with runner.ChapterRun(walkthrough.load(ROOT / chapter_name), server.url) as run:
            for step in setup:
                if step in run.chapter.processes:
                    run.start(step)
                else:
                    done = run.run(step, timeout=60)
                    assert done.returncode == 0, done.output
            script = procs.Proc("script", command, run.path, run.env()).start()
            run.procs.append(script)  # stopped with the rest, whatever happens
            script.wait_for(waiting, timeout=30)
            time.sleep(0.5)  # well inside its wait
            server.stop()
            stopped = time.monotonic()
            try:
                script.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pytest.fail(f"`{command}` still waiting 15 s after Redis went away:\n"
                            + script.output())
            took = time.monotonic() - stopped
            script._reader.join(5)  # the last lines
            seen, returncode = script.output().splitlines(), script.popen.returncode
    finally:
        server.stop()
    output = "\n".join(seen)
    assert returncode != 0, output
    assert "Traceback" not in output, output
    warnings = [line for line in seen if line.startswith("[!]")]
    assert len(warnings) == 1, output
    assert re.fullmatch(r"\[!\] Redis at redis://127\.0\.0\.1:\d+(/\d+)? went away while this "
                        r"script was waiting\. Start it again .*", warnings[0]), output
    assert seen[-1] == warnings[0], output  # nothing after it
    assert took < 10, f"{took:.1f} s after Redis stopped:\n{output}"
    figures(f"Redis gone mid-wait, {chapter_name} `{command}`: one [!] line, exit "
            f"{returncode}, {took:.1f} s after the stop")
