"""Redis goes away while a script waits: one `[!]` line, a non-zero exit, no traceback.

Each case starts its own Redis (never the session's, which other tests use), starts a
script with no worker so it waits, stops that Redis mid-wait and watches the script end.
The chapter runs in a copy of its folder: the scripts save ids and databases there.
"""

import queue
import re
import shutil
import subprocess
import threading
import time

import pytest

from tests.conftest import ROOT, private_databases
from tour import procs, walkthrough
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


def start_worker(command, folder, env, tmp_path):
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(procs.split(command), cwd=folder, env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return worker


def read_lines(stream, lines):
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@pytest.mark.parametrize("chapter_name, command, waiting, setup", CASES,
                         ids=[f"{c[0][:2]}-{c[1].split()[-1]}" for c in CASES])
def test_redis_gone_mid_wait_is_one_line(tmp_path, chapter_name, command, waiting, setup, figures):
    chapter = walkthrough.load(ROOT / chapter_name)
    folder = tmp_path / chapter_name
    shutil.copytree(chapter.path, folder, ignore=shutil.ignore_patterns("__pycache__"))
    server = RedisServer.start(tmp_path / "redis")
    env = procs.chapter_env(server.url, {"PYTHONDONTWRITEBYTECODE": "1",
                                         **private_databases(tmp_path)})
    background = []
    try:
        for step in setup:
            if step in chapter.processes:
                background.append(start_worker(chapter.processes[step], folder, env, tmp_path))
            else:
                subprocess.run(procs.split(step), cwd=folder, env=env, check=True,
                               capture_output=True, timeout=60)
        proc = subprocess.Popen(procs.split(command), cwd=folder, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines, seen = queue.Queue(), []
        threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + 30
        while not any(re.search(waiting, line) for line in seen):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"`{command}` ended before waiting:\n" + "\n".join(seen)
            seen.append(line)
        time.sleep(0.5)  # well inside its wait
        server.stop()
        stopped = time.monotonic()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"`{command}` still waiting 15 s after Redis went away:\n" + "\n".join(seen))
        took = time.monotonic() - stopped
        while (line := lines.get(timeout=5)) is not None:
            seen.append(line)
    finally:
        for worker in background:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        server.stop()
    output = "\n".join(seen)
    assert proc.returncode != 0, output
    assert "Traceback" not in output, output
    warnings = [line for line in seen if line.startswith("[!]")]
    assert len(warnings) == 1, output
    assert re.fullmatch(r"\[!\] Redis at redis://127\.0\.0\.1:\d+(/\d+)? went away while this "
                        r"script was waiting\. Start it again .*", warnings[0]), output
    assert seen[-1] == warnings[0], output  # nothing after it
    assert took < 10, f"{took:.1f} s after Redis stopped:\n{output}"
    figures(f"Redis gone mid-wait, {chapter_name} `{command}`: one [!] line, exit "
            f"{proc.returncode}, {took:.1f} s after the stop")
