"""Self-tests of tests/readme_output.py: on strings, no process started.

The chapter tests call assert_readme_shows with real runs; these prove the rule both ways:
what varies between runs is masked, and a changed count, result, state or message, a missing
or extra line, fails with the README line and the real line side by side.
"""

from tests.readme_output import difference, mask, samples, step_differences

README = """# 01
```
$ celery -A celery_task worker -l info
```

```
$ python submit.py
[1] sent add.delay(2, 3) -> id 3c411c48-7b04-4408-a07c-2c04bf6df9a0
[2] waiting (at most 20 s); it is now 16:36:25.224 (local time, UTC+00:00)
    add.delay(2, 3) -> 5  (state SUCCESS, took 2.0 s)
$ python check_result.py
[1] task 3c411c48-... (read from .last_task_id)
[2] FAILURE: the task raised ZeroDivisionError('division by zero')
    Traceback (most recent call last):
      ...
    ZeroDivisionError: division by zero
```

1. Try:
   ```
   $ python check_result.py
   [1] task ...
   ...
   ```
"""

SUBMIT = """[1] sent add.delay(2, 3) -> id 0a46f503-0000-4186-ab4f-4dc8354724ff
[2] waiting (at most 20 s); it is now 09:01:02.003 (local time, UTC+08:00)
    add.delay(2, 3) -> 5  (state SUCCESS, took 12.25 s)
"""

CHECK = """[1] task 0a46f503-0000-4186-ab4f-4dc8354724ff (read from .last_task_id)
[2] FAILURE: the task raised ZeroDivisionError('division by zero')
    Traceback (most recent call last):
      File "/somewhere/celery/app/trace.py", line 453, in trace_task
        R = retval = fun(*args, **kwargs)
    ZeroDivisionError: division by zero
"""


def runs(submit=SUBMIT, check=CHECK):
    return [("python submit.py", submit), ("python check_result.py", check)]


def test_samples_are_the_lines_under_each_command():
    found = samples(README)
    assert [s.command for s in found] == ["celery -A celery_task worker -l info", "python submit.py",
                                          "python check_result.py", "python check_result.py"]
    assert found[0].output == []
    assert [text for _, text in found[1].output][0].startswith("[1] sent add.delay")
    assert found[2].line == 11 and found[2].output[0][0] == 12  # README line numbers
    assert [text for _, text in found[3].output] == ["[1] task ...", "..."]  # list indent removed


def test_a_real_run_that_differs_only_in_masked_values_passes():
    assert step_differences(README, "01", runs()) == []


def test_the_masks():
    assert mask("-> id 3c411c48-7b04-4408-a07c-2c04bf6df9a0 and 3c411c48-...") == "-> id <id> and <id>"
    assert mask("at 2026-11-27T16:36:41.906777+00:00, [2026-11-27 16:56:36,976: INFO") == \
        "at <date>T<time>, [<date> <time>: INFO"
    assert mask("Sat 11-28 00:54:35, Wed 2026-12-02 04:25, Tue 12-01 08:00") == \
        "Sat <day> <time>, Wed <date> <time>, Tue <day> 08:00"  # weekdays stay
    assert mask("[1] it is Sat 2026-11-28 00:54:34", "04_periodic_tasks") == "[1] it is <weekday> <date> <time>"
    assert mask("cron[day_of_week='1', hour='8'] Tue 12-01 08:00", "04_periodic_tasks") == \
        "cron[day_of_week='1', hour='8'] Tue <day> 08:00"
    assert mask("took 2.0 s, 2.0s, +1.9 s, 82 ms, 2-11 ms, (183/s)") == "took <n> s, <n>s, <n> s, <n> ms, <n> ms, (<n>/s)"
    assert mask("pid 25324, process 7, ForkPoolWorker-3") == "pid <pid>, process <pid>, ForkPoolWorker-<n>"
    assert mask("redis://:**@127.0.0.1:6379/7 celery@vm drill@my-host.lan") == \
        "redis://:**@127.0.0.1:<port>/7 celery@<host> drill@<host>"
    assert mask("at 0x7f3a2c1b5e10 (log: /tmp/drill-worker-zns9d0_o.log)") == "at 0x<addr> (log: /tmp/<file>)"
    # what the README must get right stays: counts, results, settings, whole seconds
    kept = "ran 4 times, countdown=12, every 5 s, visibility_timeout 43200 s, <freq: 1.00 second>, -> 5"
    assert mask(kept) == kept


def test_a_changed_result_fails_with_both_lines():
    problems = step_differences(README.replace("-> 5  (state", "-> 6  (state"), "01", runs())
    assert len(problems) == 1, problems
    assert "`python submit.py` (README line 7) differs from the real run" in problems[0]
    assert "README line 10: 'add.delay(2, 3) -> 6  (state SUCCESS, took 2.0 s)'" in problems[0]
    assert "real line 3: 'add.delay(2, 3) -> 5  (state SUCCESS, took 12.25 s)'" in problems[0]


def test_a_changed_state_or_message_fails():
    assert step_differences(README, "01", runs(check=CHECK.replace("FAILURE", "SUCCESS")))
    assert step_differences(README, "01", runs(submit=SUBMIT.replace("waiting", "waited")))


def test_a_line_the_readme_leaves_out_fails_unless_it_says_dots():
    longer = SUBMIT + "[3] one more line\n"
    problem = difference([(1, line) for line in SUBMIT.splitlines()], longer.splitlines())
    assert "the real output goes on" in problem and "'[3] one more line'" in problem, problem
    assert not difference([(1, line) for line in SUBMIT.splitlines()] + [(9, "...")], longer.splitlines())
    middle = SUBMIT.splitlines()
    problem = difference([(1, middle[0]), (2, middle[2])], middle)
    assert "README line 2: 'add.delay(2, 3)" in problem and "real line 2: '[2] waiting" in problem, problem


def test_a_line_the_real_run_lacks_fails():
    problem = difference([(5, "[1] a"), (6, "[2] b")], ["[1] a"])
    assert "README line 6: '[2] b'" in problem and "(the output has ended)" in problem, problem
    problem = difference([(5, "..."), (6, "[2] b")], ["[1] a"])
    assert "README line 6: '[2] b'" in problem, problem


def test_dots_match_in_order_only():
    real = ["[1] a", "x", "[2] b", "y", "[3] c"]
    assert not difference([(1, "[1] a"), (2, "..."), (3, "[2] b"), (4, "..."), (5, "[3] c")], real)
    problem = difference([(1, "[1] a"), (2, "..."), (3, "[3] c"), (4, "..."), (5, "[2] b")], real)
    assert "README line 5: '[2] b'" in problem, problem


def test_a_step_without_sample_output_or_missing_from_the_readme_fails():
    problems = step_differences(README, "01", [("celery -A celery_task worker -l info", "ready.")])
    assert "the README shows no output" in problems[0], problems
    problems = step_differences(README, "01", [("python watch_states.py", "[1] sent")])
    assert "README.md shows no `$ python watch_states.py`" in problems[0], problems


def test_steps_take_the_readme_blocks_in_order():
    """Two steps with the same command take its first and second block, in that order."""
    second = "[1] task 0a46f503-0000-4186-ab4f-4dc8354724ff\nanything"
    assert step_differences(README, "01", runs() + [("python check_result.py", second)]) == []
    problems = step_differences(README, "01", runs() + [("python check_result.py", "nothing alike")])
    assert "(README line 21) differs" in problems[0], problems
