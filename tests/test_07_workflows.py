"""Chapter 07, run as a learner runs it: a real worker with ten threads, real Redis."""

import re

from tests.readme_output import assert_readme_shows

CHAPTER = "07_workflows"


def numbers_after(text, label):
    """The integers of the `a -> b -> c` sequence printed after label."""
    found = re.search(re.escape(label) + r"[^\d]*((?:\d+(?: -> )?)+)", text)
    assert found, (label, text)
    return [int(n) for n in found.group(1).split(" -> ") if n]


def test_walkthrough(lab, figures):
    """Every step of the README, in order, with the Procfile's worker."""
    worker = lab.start("worker")
    outputs = [lab.run_step(step).output for step in lab.chapter.steps]
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)
    signatures, chain, grouped, chords, chunks, deadlock, progress, lifetime, eager, tests = outputs

    # signatures: called here, sent, partial, piped, immutable
    assert "sig() calls it here, like add(2, 3): 5" in signatures
    assert "sends it to a worker: 5" in signatures and "add(5, 10) = 15" in signatures
    assert re.findall(r"^    = (\d+)$", signatures, re.M) == ["15", "2"]

    # chain: the result; a failing first step fails the others, which never ran
    assert "-> stored the top 3 words: {'the': 5, 'work': 3, 'page': 2}" in chain
    broken = chain.split("[2]")[1]
    assert broken.count("FAILURE LookupError") == 3
    parse_id, store_id = re.findall(r"^    (?:parse|store) +([0-9a-f]{8})-\.\.\. ", broken, re.M)
    for short_id in (parse_id, store_id):
        assert worker.count(rf"Task celery_task\.\w+\[{short_id}[0-9a-f-]*\] received") == 0
    assert chain.count("the errback ran once") == 1 and "celery_task.fetch [" in chain

    # group: every value, in order; completed_count() grows to 20; faster than one by one
    assert "results in order: True" in grouped
    counts = numbers_after(grouped, "completed_count() while it ran:")
    assert counts == sorted(counts) and counts[-1] == 20 and len(counts) >= 3, counts
    one_by_one = float(re.search(r"one by one: 20 x nap\(0\.5\) took ([\d.]+) s", grouped)[1])
    together = float(re.search(r"as a group: +20 x nap\(0\.5\) took ([\d.]+) s", grouped)[1])
    assert one_by_one >= 10 and together < one_by_one / 2, (one_by_one, together)
    figures(f"group, 07_workflows: 20 x 0.5 s one by one {one_by_one:.1f} s, as a group "
            f"{together:.1f} s ({one_by_one / together:.1f}x)")

    # chord: the total, the Redis backend's collected results, the failing header
    assert "total = 500500 (sum(range(1, 1001)) = 500500)" in chords
    collected = numbers_after(chords, "celery-taskset-meta-<group id>.j while it ran:")
    assert collected == sorted(collected) and collected[-1] <= 10, collected
    assert re.search(r"the body never ran: FAILURE, ChordError: Dependency [0-9a-f-]{36} raised "
                     r"TypeError\(\"unsupported operand", chords), chords
    assert re.search(r"errback ran in the worker: celery_task\.total \[[0-9a-f-]{36}\] raised "
                     r"ChordError", chords), chords

    # chunks: the message counts, and the same sum every way
    assert re.search(r"one by one: 1000 messages, .* sum 999000", chunks)
    assert re.search(r"add\.chunks\(pairs, 100\): 10 messages, .* sum 999000", chunks)
    assert re.search(r"add\.starmap\(pairs\): 1 message, .* sum 999000", chunks)
    assert "100x fewer messages" in chunks

    # deadlock: Celery's guard, every slot waiting, the chain that fixes it
    assert "FAILURE, RuntimeError: Never call result.get() within a task!" in deadlock
    first = float(re.search(r"the first finished after ([\d.]+) s, by giving up with TimeoutError", deadlock)[1])
    gave_up = int(re.search(r"(\d+) of 10 gave up", deadlock)[1])
    assert first >= 4.4 and 1 <= gave_up <= 10, deadlock  # due in 1 s, 0.5 s of work, 3 s timeout
    assert "| double() -> 10: no task waits" in deadlock

    # progress: intermediate PROGRESS values were seen before SUCCESS
    reports = int(re.search(r"after (\d+) PROGRESS reports seen", progress)[1])
    assert reports >= 5, progress  # a poll every 30 ms of a job reporting every 100 ms
    first, last = map(int, re.search(r"from done=(\d+) to (\d+)", progress).groups())
    assert first < last <= 20, progress
    assert numbers_after(progress, "completed_count() went")[-1] == 10

    # result lifetime
    assert 3500 <= int(re.search(r"expires in (\d+) s", lifetime)[1]) <= 3600
    assert "the key exists: False; the state reads PENDING" in lifetime
    assert "results [0, 2, 4, 6, 8]" in lifetime and "GroupResult.restore() -> None" in lifetime

    # the eager trap: the same call passes eagerly and fails for real
    assert "ran here -> ['be', 'not', 'or', 'to']: SUCCESS" in eager
    assert "with a worker: FAILURE, EncodeError: TypeError('Object of type set is not JSON serializable')" in eager

    # the learner's own tests: all seven pass, with their worker on its own queue
    assert re.search(r"\b7 passed\b", tests) and "failed" not in tests and "error" not in tests.lower()


def test_a_learners_worker_never_takes_the_tests_tasks(lab):
    """test_tasks.py uses its own queue: the chapter's worker running beside it takes none."""
    worker = lab.start("worker")
    result = lab.run("python -m pytest test_tasks.py")
    assert re.search(r"\b7 passed\b", result.output), result.output
    assert worker.count(r"Task celery\.ping\[") == 0
    assert worker.count(r"Task celery_task\.\w+\[.*\] received") == 0


def test_redis_down_is_one_clear_line(lab):
    """With nothing listening at REDIS_URL, a script says so in one line within 10 s."""
    for command in ("python signatures.py", "python group_demo.py"):
        result = lab.run(command, exit=1, timeout=30, redis_url="redis://127.0.0.1:1")
        assert result.seconds < 10, (command, result.seconds)
        assert result.output.strip().splitlines()[-1].startswith("[!] Redis is not answering at")
        assert "Traceback" not in result.output
