"""Chapter 08, deployment: supervisord, systemd, Docker Compose, Flower's Prometheus metrics.

The chapter's deploy/ files and the commands around them, run as a learner runs them: a real
supervisord restarting a SIGKILLed worker (the drill), `celery multi` and the systemd units'
own command lines, the Compose profile checked as text (no Docker engine here), and the
metrics a running Flower serves.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import flower_env, http_get
from tests.readme_output import step_differences
from tour import procs, walkthrough
from tour.redis_server import free_port

CHAPTER = "08_production"
ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / CHAPTER
DEPLOY = FOLDER / "deploy"
MARKER = "# --- deployment (supervisord, systemd, Docker Compose, Flower's metrics) ---"


def deployment_steps(chapter):
    """The walkthrough steps below the deployment marker of steps.toml (this part's own)."""
    text = (chapter.path / "steps.toml").read_text(encoding="utf-8")
    ours = text.split(MARKER, 1)[1]
    return [step for step in chapter.steps if f'run = "{step.run}"' in ours]


def readme() -> str:
    return (FOLDER / "README.md").read_text(encoding="utf-8")


def assert_shown(command, output):
    problems = step_differences(readme(), CHAPTER, [(command, output)])
    assert not problems, "\n\n".join(problems)


def leftovers(folder: Path) -> list[str]:
    """Processes still running in this scratch copy (supervisord, workers, beat)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.cwd().startswith(str(folder)):
                found.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


# --------------------------------------------------------------------------- supervisord

def test_supervised_restart(lab, figures):
    """supervisord restarts a SIGKILLed worker: a new pid, every task completed, none lost."""
    step, = [s for s in deployment_steps(lab.chapter) if s.run == "python supervised_restart.py"]
    result = lab.run(step.run, exit=None, timeout=step.timeout)
    missing = [l for l in result.output.splitlines() if l.startswith("[!] supervisord is not installed")]
    if missing:
        pytest.fail(missing[0])  # never a silent skip: the line says what to install
    assert result.returncode == 0, result.output
    out = result.output
    old, new = map(int, re.search(r"started again: pid (\d+) -> new pid (\d+)", out).groups())
    assert old != new, out
    sent, completed, lost, twice, handed = map(int, re.search(
        r"submitted (\d+), completed (\d+), lost (\d+), ran twice (\d+) \(handed back after "
        r"the restart: (\d+)\)", out).groups())
    assert (sent, completed, lost) == (8, 8, 0), out
    # prefetch 1: the killed worker held only the tasks it ran; each ran again after the restart
    assert 1 <= twice <= 4 and handed == twice, out
    log = (lab.path / "deploy" / "supervisord.log").read_text()
    assert "exited: worker (terminated by SIGKILL; not expected)" in log, log
    assert re.search(r"stopped: worker \(exit status 0\)", log), log  # TERM: a warm shutdown
    assert "processes left: 0" in out and not leftovers(lab.path)
    beats = int(re.search(r"heartbeats beat sent meanwhile \(supervised too\): (\d+)", out)[1])
    assert beats >= 1, out  # beat ran under supervisord too
    assert_shown(step.run, out)
    figures(f"supervised restart, 08_production: pid {old} -> {new}, submitted {sent}, completed "
            f"{completed}, lost {lost}, ran twice {twice}, {result.seconds:.1f} s")


def test_supervisord_missing_is_one_line(lab):
    """Without supervisord on PATH the drill says what to install, in one line, exit 1."""
    bare = procs.VENV_BIN  # python and celery, but no /usr/bin: no supervisord
    assert not shutil.which("supervisord", path=bare)
    result = lab.run("python supervised_restart.py", exit=1, env={"PATH": bare}, timeout=30)
    assert result.output.strip().splitlines() == [
        "[!] supervisord is not installed: install Debian's package (sudo apt-get install "
        "supervisor; macOS: brew install supervisor; anywhere: pip install supervisor), then "
        "run this again"], result.output


def test_supervised_restart_without_redis_is_one_line(lab):
    port = free_port()  # nothing listens there
    result = lab.run("python supervised_restart.py", exit=1, timeout=30,
                     redis_url=f"redis://127.0.0.1:{port}")
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"[!] Redis is not answering at redis://127.0.0.1:{port}/0"), result.output


def test_supervisord_conf_settings():
    """The settings the README explains, on both programs; paths only under %(here)s."""
    conf = (DEPLOY / "supervisord.conf").read_text()
    sections = dict(re.findall(r"^\[([^\]]+)\]\n(.*?)(?=^\[|\Z)", conf, re.M | re.S))
    for program in ("program:worker", "program:beat"):
        body = sections[program]
        settings = dict(re.findall(r"^(\w+)\s*=\s*(.+)$", body, re.M))
        assert settings["stopsignal"] == "TERM" and settings["autorestart"] == "true", settings
        assert settings["killasgroup"] == "true" and int(settings["startsecs"]) > 0, settings
        assert settings["directory"] == "%(here)s/..", settings
    worker = dict(re.findall(r"^(\w+)\s*=\s*(.+)$", sections["program:worker"], re.M))
    assert int(worker["stopwaitsecs"]) >= 30  # longer than any task of the chapter
    assert "-Q supervised -n supervised@%%h" in worker["command"]
    beat = dict(re.findall(r"^(\w+)\s*=\s*(.+)$", sections["program:beat"], re.M))
    assert "-s %(here)s/celerybeat-schedule" in beat["command"]
    paths = re.findall(r"^(?:file|logfile|pidfile|childlogdir|stdout_logfile|serverurl)\s*=\s*(.+)$", conf, re.M)
    assert paths and all("%(here)s" in p for p in paths), paths


# --------------------------------------------------------------------------- systemd

def env_file() -> dict[str, str]:
    return {k: v for k, v in re.findall(r'^([A-Z_]+)="([^"]*)"$', (DEPLOY / "celery.env").read_text(), re.M)}


def exec_line(unit: str, key: str) -> str:
    """The shell command of ExecStart=/bin/sh -c '...' (continuation lines joined)."""
    text = (DEPLOY / unit).read_text().replace("\\\n", " ")
    found = re.search(rf"^{key}=/bin/sh -c '([^']*)'", text, re.M)
    assert found, f"{unit}: no {key}=/bin/sh -c '...'"
    return " ".join(found[1].split())


def test_systemd_units_verify(tmp_path):
    units = ["celery-worker.service", "celery-beat.service"]
    for unit in units:
        used = set(re.findall(r"\$\{(\w+)\}", (DEPLOY / unit).read_text()))
        assert used <= env_file().keys(), f"{unit} uses {used - env_file().keys()}, not in celery.env"
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed here: the units' text checks ran, verify did not")
    for unit in units:
        shutil.copy(DEPLOY / unit, tmp_path / unit)
    done = subprocess.run(["systemd-analyze", "verify", *[str(tmp_path / u) for u in units]],
                          capture_output=True, text=True, timeout=60)
    # verify exits 0 after most mistakes (an unknown key, a bad Type=), printing a warning
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def test_systemd_verify_can_fail(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed here")
    broken = (DEPLOY / "celery-worker.service").read_text().replace("TimeoutStopSec=", "TimeoutStopSek=")
    (tmp_path / "celery-worker.service").write_text(broken)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "celery-worker.service")],
                          capture_output=True, text=True, timeout=60)
    assert "Unknown key 'TimeoutStopSek'" in done.stdout + done.stderr


def wait_for_line(log: Path, pattern: str, timeout: float, proc=None) -> None:
    """Until a line of log matches (a detached worker's log: no pipe to read)."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, log.read_text() if log.exists() else ""):
        assert proc is None or proc.poll() is None, f"exited before {pattern!r} in {log.name}"
        if time.monotonic() > deadline:
            pytest.fail(f"no {pattern!r} in {log.name} within {timeout:.0f} s:\n"
                        + (log.read_text()[-3000:] if log.exists() else "(no log)"))
        time.sleep(0.1)


def worker_options(argv: list[str]) -> list[str]:
    """celery multi's arguments without where files go, the log level and colours."""
    kept, skip = [], False
    for word in argv[1:]:
        if skip or word.startswith(("--pidfile=", "--logfile=", "--loglevel=", "--no-color")):
            skip = False
            continue
        if word == "-l":
            skip = True
            continue
        kept.append(word)
    return kept


def test_celery_multi_start_stop_and_the_beat_unit(lab, tmp_path, figures):
    """`celery multi start` detaches a worker that answers; `stopwait` ends it. The beat
    unit's own command line (celery.env's values, paths moved to tmp_path) starts beat."""
    chapter = lab.chapter
    pidfile = lab.path / "deploy" / "supervised.pid"
    beat = None
    try:
        started = lab.run(chapter.commands["multi_start"], timeout=30)
        assert re.search(r"> supervised@\S+: OK", started.output), started.output
        wait_for_line(lab.path / "deploy" / "supervised.log", r"supervised@\S+ ready\.", 30)
        env = {**env_file(), "CELERY_BIN": os.path.join(procs.VENV_BIN, "celery"),
               "CELERYBEAT_PID_FILE": str(tmp_path / "beat.pid"),
               "CELERYBEAT_LOG_FILE": str(tmp_path / "beat.log"),
               "CELERYBEAT_SCHEDULE": str(tmp_path / "celerybeat-schedule")}
        beat = subprocess.Popen(["/bin/sh", "-c", exec_line("celery-beat.service", "ExecStart")],
                                cwd=lab.path, env=lab.env(env), start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_line(tmp_path / "beat.log", r"beat: Starting", 20, beat)
        stopped = lab.run(chapter.commands["multi_stop"], timeout=60)
        assert re.search(r"> supervised@\S+: DOWN", stopped.output), stopped.output
        assert not pidfile.exists()
    finally:
        if beat is not None and beat.poll() is None:  # /bin/sh and beat under it: TERM, wait
            family = [psutil.Process(beat.pid), *psutil.Process(beat.pid).children(recursive=True)]
            os.killpg(beat.pid, signal.SIGTERM)
            for proc in psutil.wait_procs(family, timeout=15)[1]:
                proc.kill()
            beat.wait(5)
        if pidfile.exists():  # the test failed half-way: the detached worker must not stay
            try:
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    assert_shown(chapter.commands["multi_start"], started.output)
    assert_shown(chapter.commands["multi_stop"], stopped.output)
    # the worker unit runs what multi_start runs: the same node, app and worker options
    unit = shlex.split(exec_line("celery-worker.service", "ExecStart").replace("${", "{").format(**env_file()))
    ours = shlex.split(chapter.commands["multi_start"])
    assert worker_options(unit) == worker_options(ours), (unit, ours)
    assert not leftovers(lab.path)


# --------------------------------------------------------------------------- Docker Compose

def compose_services() -> dict[str, str]:
    """{service name: its block of text}, from docker-compose.yml's `services:`."""
    text = (ROOT / "docker-compose.yml").read_text()
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    return dict(re.findall(r"^  ([\w-]+):\n((?:(?:    .*)?\n)*)", body + "\n", re.M))


def field(block: str, key: str) -> str | None:
    found = re.search(rf"^    {key}: (.+)$", block, re.M)
    return found[1].strip() if found else None


def command_of(block: str) -> list[str]:
    return re.findall(r'"([^"]*)"', field(block, "command") or "")


def ports_of(block: str) -> list[str]:
    return re.findall(r'^      - "([^"]+)"$', block, re.M) if "ports:" in block else []


def assert_warm_stop(name: str, block: str, argv: list[str], folder: str) -> None:
    """The settings every long-running service of the profile shares."""
    assert command_of(block) == argv, (name, command_of(block), argv)
    assert field(block, "stop_signal") == "SIGTERM", name
    grace = int(field(block, "stop_grace_period").rstrip("s"))
    # warm shutdown's time: longer than any task; gunicorn's graceful stop takes up to 30 s
    assert grace >= (60 if "worker" in argv else 31 if argv[0] == "gunicorn" else 10), name
    assert field(block, "working_dir") == f"/app/{folder}", name
    assert field(block, "restart") == "unless-stopped", name
    assert "REDIS_URL: redis://redis:6379" in block and "condition: service_healthy" in block
    assert all(p.startswith("127.0.0.1:") for p in ports_of(block)), (name, ports_of(block))


WEB = "05_django_integration"
WEB_ENV = ('DJANGO_DEBUG: "0"', "DJANGO_SECRET_KEY: ${DJANGO_SECRET_KEY:-}",
           "DJANGO_DB_PATH: /var/lib/luffy/db.sqlite3")


def test_compose_production_profile():
    services = compose_services()
    production = {name: block for name, block in services.items()
                  if field(block, "profiles") == '["production"]'}
    # the default profile still starts Redis alone
    assert field(services["redis"], "profiles") is None
    assert all(field(b, "profiles") for n, b in services.items() if n != "redis")
    procfile = walkthrough.load(FOLDER).processes
    conf = (DEPLOY / "supervisord.conf").read_text()
    supervised = {m[0]: m[1] for m in re.findall(r"^\[program:(\w+)\]\n(?:.*\n)*?command=(.+)$", conf, re.M)}
    expected = {name: shlex.split(line) for name, line in procfile.items() if name != "flower"}
    expected["production-flower"] = shlex.split(procfile["flower"].replace("127.0.0.1", "0.0.0.0"))
    expected["worker"] = shlex.split(supervised["worker"].replace("%%", "%").replace(" -I run_counter", ""))
    expected["beat"] = shlex.split(supervised["beat"].replace("%(here)s", "/var/lib/celery"))
    # chapter 05's site: its gunicorn command bound inside the container, its Procfile's
    # worker, and its beat with the schedule on the volume (/app is not writable there)
    site = walkthrough.load(ROOT / WEB)
    web = {"web": shlex.split(site.commands["web_production"].replace("--bind 127.0.0.1:8000",
                                                                      "--bind 0.0.0.0:8000")),
           "web-worker": shlex.split(site.processes["worker"]),
           "web-beat": shlex.split(site.processes["beat"]) + ["-s", "/var/lib/luffy/celerybeat-schedule"]}
    assert sorted(production) == sorted([*expected, *web, "web-migrate"])
    for name, argv in expected.items():
        assert_warm_stop(name, production[name], argv, CHAPTER)
    assert ports_of(production["production-flower"]) == ["127.0.0.1:5556:5555"]
    for name, argv in web.items():
        block = production[name]
        assert_warm_stop(name, block, argv, WEB)
        assert all(line in block for line in WEB_ENV), name  # DEBUG off, one SQLite file
        assert "      - web-data:/var/lib/luffy\n" in block, name
        assert re.search(r"web-migrate:\n\s+condition: service_completed_successfully", block), name
    # only web publishes, on loopback, the port its SITE_URL names (image URLs point there)
    assert ports_of(production["web"]) == ["127.0.0.1:8000:8000"]
    assert not ports_of(production["web-worker"]) and not ports_of(production["web-beat"])
    for name in ("web", "web-worker"):
        assert "SITE_URL: http://127.0.0.1:8000" in production[name], name
    assert 'DJANGO_SERVE_MEDIA: "1"' in production["web"]  # DEBUG off: the images still served
    # web-migrate: chapter 05's first step, once, before the site and its worker start
    migrate = production["web-migrate"]
    assert command_of(migrate) == shlex.split(site.steps[0].run) == ["python", "manage.py", "migrate"]
    assert field(migrate, "restart") == '"no"' and not ports_of(migrate)
    assert field(migrate, "working_dir") == f"/app/{WEB}" and all(line in migrate for line in WEB_ENV)
    assert "      - web-data:/var/lib/luffy\n" in migrate
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY 08_production/" in dockerfile and "USER celery" in dockerfile
    assert f"COPY {WEB}/ {WEB}/" in dockerfile and re.search(r"chown celery .*/var/lib/luffy", dockerfile)
    assert re.search(r"^gunicorn==\d+\.\d+\.\d+$", (ROOT / "requirements.txt").read_text(), re.M)


# --------------------------------------------------------------------------- Flower metrics

DASHBOARD = ("flower_events_total", "flower_task_runtime_seconds_count", "flower_worker_online",
             "flower_worker_number_of_currently_executing_tasks", "flower_task_prefetch_time_seconds",
             "flower_worker_prefetched_tasks")


def sample(text: str, name: str, **labels) -> float:
    """The sum of a metric's samples with these labels, read by Prometheus' own parser (the
    one prometheus_client, Flower's dependency, ships): not the script's regular expression."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(found.value for family in text_string_to_metric_families(text)
               for found in family.samples
               if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()))


def test_flower_metrics(lab, figures):
    port = free_port()
    started = [lab.start(name, ready=False, env=flower_env(port) if name == "flower" else None)
               for name in ("sms", "reports", "flower")]
    # Ready: each worker's "ready." line (not lab.wait_ready: its probe's ping leaves a reply
    # binding with kombu's default separator, which the chapter's sep=":" workers cannot read)
    for proc, line in zip(started, (r"sms@\S+ ready\.", r"reports@\S+ ready\.", "Visit me at")):
        proc.wait_for(line, timeout=60)
    result = lab.run(lab.chapter.commands["metrics"], env={"FLOWER_PORT": str(port)}, timeout=60)
    out = result.output
    assert "10 x send_sms and 2 x divide(1, 0): 10 succeeded, 2 failed" in out, out
    assert "Flower counted 10 task-succeeded events of send_sms and 2 task-failed of divide" in out
    text = http_get(f"http://127.0.0.1:{port}/metrics")
    for name in DASHBOARD:
        assert re.search(rf"^{name}\{{", text, re.M), f"no {name} in /metrics"
    sms, reports = (re.search(rf"worker=\"({w}@[^\"]+)\"", text)[1] for w in ("sms", "reports"))
    assert sample(text, "flower_events_total", worker=sms, type="task-succeeded", task="celery_task.send_sms") == 10
    assert sample(text, "flower_events_total", worker=reports, type="task-failed", task="celery_task.divide") == 2
    assert sample(text, "flower_task_runtime_seconds_count", task="celery_task.send_sms") == 10
    assert sample(text, "flower_task_runtime_seconds_sum", task="celery_task.send_sms") > 0
    assert sample(text, "flower_worker_online", worker=sms) == 1 == sample(text, "flower_worker_online", worker=reports)
    assert sample(text, "flower_worker_number_of_currently_executing_tasks", worker=sms) == 0
    assert_shown(lab.chapter.commands["metrics"], out)
    figures(f"Flower metrics, 08_production: 10 send_sms and 2 failures counted in /metrics, "
            f"{len(DASHBOARD)} dashboard metrics present, {result.seconds:.1f} s")


def test_show_metrics_without_flower_is_one_line(lab):
    port = free_port()
    result = lab.run(lab.chapter.commands["metrics"], exit=1, env={"FLOWER_PORT": str(port)}, timeout=30)
    assert result.output.strip().splitlines() == [
        f"[!] Flower is not answering at http://127.0.0.1:{port}/metrics: start it (Procfile: "
        "celery -A celery_task flower --address=127.0.0.1), then run this again"], result.output
