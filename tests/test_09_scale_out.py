"""Chapter 09, the hosts part: real network namespaces (as root; loopback otherwise), a real
Redis on host a, real workers on hosts b and c."""

import re
import subprocess

import psutil

from tests.readme_output import assert_readme_shows

CHAPTER = "09_scale_out"
HOSTS_PART = ("python spread.py", "python cut_off.py")


def namespaces_left() -> list[str]:
    """Namespaces named cbri<pid>-<host> whose run (that pid) has ended: left behind. (A run
    still going, another test's, keeps its own.)"""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("cbri")]
    return [ns for ns in names if not psutil.pid_exists(int(re.match(r"cbri(\d+)", ns)[1]))]


def test_hosts_spread_and_a_host_cut_off(lab, figures):
    steps = [step for step in lab.chapter.steps if step.run in HOSTS_PART]
    outputs = [lab.run_step(step).output for step in steps]
    assert_readme_shows(lab.chapter, steps, outputs)
    spread, cut = outputs

    # the tasks spread over both hosts, counted from the results
    counts = {host: int(n) for host, n in re.findall(r"worker@host(b|c) ran (\d+)", spread)}
    assert sum(counts.values()) == 40 and min(counts.values()) >= 5, spread

    # host c cut off: everything completed (on b), nothing lost
    found = re.search(r"submitted (\d+), completed (\d+), lost (\d+), ran twice (\d+)", cut)
    submitted, completed, lost, twice = map(int, found.groups())
    assert (submitted, completed, lost) == (20, 20, 0), cut
    assert re.search(r"they came from worker@hostb 20$", cut, re.M), cut  # c's never arrived
    held = int(re.search(r"while Redis held (\d+) unacknowledged", cut)[1])
    assert held >= 2 and twice <= held, cut
    figures(f"host cut off, 09_scale_out: submitted {submitted}, completed {completed}, "
            f"lost {lost}, ran twice {twice} ({held} unacknowledged at the cut)")
    assert namespaces_left() == []


def test_loopback_when_namespaces_cannot_be_made(lab):
    """LOOPBACK=1 (what a machine without root gets): the same walkthrough, said in one line."""
    result = lab.run("python spread.py", env={"LOOPBACK": "1"}, timeout=60)
    assert "[1] hosts a, b, c all on 127.0.0.1 (no namespaces: LOOPBACK=1 asked for it)" in result.output
    assert re.search(r"worker@hostb ran \d+, worker@hostc ran \d+", result.output)
    assert "198.18." not in result.output


def test_clean_removes_what_a_killed_run_left(lab):
    """A run killed with SIGKILL leaves its namespaces: `python hosts.py clean` removes those of
    runs that have ended, never those of a run still going (another test's, here)."""
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no process has any more
    subprocess.run(["ip", "netns", "add", f"cbri{dead.pid}-a"], check=True)
    result = lab.run("python hosts.py clean")
    assert f"cbri{dead.pid}-a" in result.output and f"cbri{dead.pid}-a" not in namespaces_left()
