"""Chapter 09, the Sentinel part: a Redis primary on host a, its replica on host b, three
Sentinels, workers on b and c; the primary is killed while tasks flow (failover.py)."""

import re
import subprocess
from pathlib import Path

import psutil

from tests.readme_output import step_differences

CHAPTER = "09_scale_out"
FOLDER = Path(__file__).resolve().parent.parent / CHAPTER


def namespaces_left() -> list[str]:
    """Namespaces named cbri<n>-<host> of a run that has ended (another test's run still
    going keeps its own). hosts.py names them by its pid, or by its pid % 100000."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("cbri")]
    alive = {str(pid) for pid in psutil.pids()} | {str(pid % 100000) for pid in psutil.pids()}
    return [ns for ns in names if re.match(r"cbri(\d+)", ns)[1] not in alive]


def ours(folder: Path) -> list[str]:
    """redis-server, Sentinels and workers of this run still alive: the Sentinels' config files
    and the workers' cwd are in the scratch copy or the run's temporary folder."""
    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            line = " ".join(proc.info["cmdline"] or [])
            if ("redis" in (proc.info["name"] or "") and "failover-" in line) or \
                    (proc.cwd().startswith(str(folder)) and proc.pid != psutil.Process().pid):
                found.append(f"{proc.pid} {line}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def counts(out: str) -> tuple[int, int, int, int]:
    found = re.search(r"submitted (\d+), completed (\d+), lost (\d+), ran twice (\d+)", out)
    assert found, out
    return tuple(map(int, found.groups()))


def test_failover_through_sentinel(lab, figures):
    step, = [s for s in lab.chapter.steps if s.run == "python failover.py"]
    out = lab.run_step(step).output
    assert "[!]" not in out, out
    # the failover happened: the new primary is the old replica's address, and it says so itself
    replica = re.search(r"replica on host b \(([\d.]+:\d+), --replicaof", out)[1]
    promoted = re.search(r"the Sentinels promoted the replica ([\d.]+:\d+) ([\d.]+) s after", out)
    assert promoted and promoted[1] == replica, out
    assert "the old replica on host b is now: master" in out, out
    submitted, completed, lost, twice = counts(out)
    assert submitted == completed == 60 and lost == 0, out
    # "lost" as the replication paragraph reports it is what the counts said
    before = int(re.search(r"of the 20 tasks sent before the kill, (\d+) lost", out)[1])
    assert before <= lost == 0, out
    per_host = [int(n) for n in re.findall(r"worker@host[bc]: (\d+)", out)]
    assert sum(per_host) == completed and min(per_host) > 0, out
    restarts = int(re.search(r"worker restarts: (\d+)", out)[1])
    assert twice <= 2 * 8 * (restarts + 1), out  # at most what the workers held (prefetch 4 x 2)
    gap = float(re.search(r"the producer had no broker for ([\d.]+) s", out)[1])
    failover = float(promoted[2])
    assert 0 < failover <= gap, out  # the producer cannot send before a primary exists
    problems = step_differences((FOLDER / "README.md").read_text(encoding="utf-8"), CHAPTER,
                                [(step.run, out)])
    assert not problems, "\n\n".join(problems)
    figures(f"Sentinel failover, 09_scale_out: promoted after {failover:.1f} s, producer without "
            f"a broker {gap:.1f} s, submitted {submitted}, completed {completed}, lost {lost}, "
            f"ran twice {twice}, worker restarts {restarts}")
    assert namespaces_left() == [] and ours(lab.path) == []
