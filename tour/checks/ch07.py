"""Chapter 07's exercises (07_workflows/exercises/): each runs on a real worker, the chapter's
ten threads (-P threads -c 10), on the check's private Redis."""

import time

from ..exercises import Ctx, NotYet

CHORDS = """
    from celery.canvas import Signature
    from celery.result import AsyncResult, GroupResult
    from exercises.ex1_chord_total import total_of

    def run(numbers, size):  # in one thread: a result is read with the backend that sent it
        started = time.monotonic()
        result = total_of(numbers, size)
        found = {"took": round(time.monotonic() - started, 2), "type": type(result).__name__}
        if isinstance(result, Signature):
            return {**found, "signature": True}
        if not isinstance(result, (AsyncResult, GroupResult)):
            return {**found, "value": result}
        try:
            found["got"] = result.get(timeout=10)
        except Exception as error:
            found["got_error"] = type(error).__name__ + ": " + str(error)[:120]
            return found
        parent = result.parent
        found["parent"] = type(parent).__name__ if parent is not None else None
        found["sums"] = [child.get(timeout=5) for child in getattr(parent, "results", None) or []]
        return found

    done(big=call(run, list(range(1, 1001)), 100, limit=25),
         small=call(run, list(range(1, 51)), 20, limit=25))
"""

PARTIAL = r"Task celery_task\.partial_sum\[[^\]]+\] succeeded"
TOTAL = r"Task celery_task\.total\[[^\]]+\] succeeded"


def chord_total(ctx: Ctx) -> str:
    worker = ctx.worker()
    since = worker.mark()
    found = ctx.python(CHORDS, timeout=60)
    tens = [sum(range(i, i + 100)) for i in range(1, 1001, 100)]
    cases = (("total_of(1..1000, 100)", found["big"], 500500, tens),
             ("total_of(1..50, 20)", found["small"], 1275, [210, 610, 455]))
    for what, box, wanted, sums in cases:
        if box["hung"]:
            raise NotYet(f"{what} had not returned after {box['seconds']} s: it should send the chord "
                         f"and return its result at once")
        if box["error"]:
            raise NotYet(f"{what} (or reading its result) raised {box['error']}")
        found = box["value"]
        if found.get("signature"):
            raise NotYet(f"{what} returned a signature ({found['type']}): a chord written down, not "
                         f"sent; call it with its body, chord(header)(body), and return what that gives")
        if "got" not in found and "got_error" not in found:
            raise NotYet(f"{what} returned {found['value']!r} ({found['type']}) after {found['took']} s; it "
                         f"should return the chord's result at once (an AsyncResult), and let the "
                         f"caller wait for {wanted}")
        if "got_error" in found:
            raise NotYet(f"the result {what} returned: get(timeout=10) raised {found['got_error']}")
        if found["got"] == sums:
            raise NotYet(f"{what}.get() gave {found['got']}: the {len(sums)} partial sums, not their "
                         f"total; nothing added them up (a chord's body does, once the last one is in)")
        if found["got"] != wanted:
            raise NotYet(f"{what}.get() gave {found['got']!r}; it should give {wanted}")
        if found["parent"] != "GroupResult" or found["sums"] != sums:
            raise NotYet(f"{what}.get() gave {wanted}, but its result's parent is "
                         f"{found['parent'] or 'None'}, not the group of {len(sums)} partial sums: total "
                         f"was not a chord's body (did your process wait for the partial sums itself?)")
    # the worker logs each success a moment after it stored the result: wait for the lines
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        partials, totals = worker.count(PARTIAL, since), worker.count(TOTAL, since)
        if partials >= 13 and totals >= 2:
            break
        time.sleep(0.05)
    if partials < 13 or totals < 2:
        raise NotYet(f"the worker ran partial_sum {partials} times and total {totals} times; for the "
                     f"two chords it should run partial_sum 13 times (10 + 3) and total twice")
    return "500500 from 10 partial sums, 1275 from 3: each total the body of a chord, run by the worker"


PROGRESS_TASK = "exercises.ex2_progress.count_to"


def progress(ctx: Ctx) -> str:
    worker = ctx.worker()
    since = worker.mark()
    client = ctx.client()
    result = client.send_task(PROGRESS_TASK, (10,))
    states, reports, polls = [], [], 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state, info = result.state, result.info
        polls += 1
        if not states or states[-1] != state:
            states.append(state)
        if state == "PROGRESS":
            if not (isinstance(info, dict) and isinstance(info.get("done"), int) and info.get("total") == 10):
                raise NotYet(f"count_to(10) reported PROGRESS with meta {info!r}; it should be "
                             f"{{'done': <steps done>, 'total': 10}}")
            if not reports or reports[-1] != info["done"]:
                reports.append(info["done"])
        if state in ("SUCCESS", "FAILURE"):
            break
        if worker.count(rf"Received unregistered task of type '{PROGRESS_TASK}'", since):
            raise NotYet(f"the worker does not know a task named {PROGRESS_TASK}: count_to is not a task")
        time.sleep(0.02)
    path = " -> ".join(states)
    if result.state == "FAILURE" and type(result.result).__name__ == "NotRegistered":
        raise NotYet(f"the worker does not know a task named {PROGRESS_TASK}: count_to is not a task "
                     f"yet (@app.task)")
    if result.state == "FAILURE":
        raise NotYet(f"count_to(10) failed on the worker: {type(result.result).__name__}: {result.result}"
                     f" ({path})")
    if result.state != "SUCCESS":
        raise NotYet(f"count_to(10) had not finished after 10 s ({path})")
    value = result.get(timeout=5)
    if not reports:
        raise NotYet(f"count_to(10) went {path}: no PROGRESS state in {polls} reads over its run; "
                     f"report it after each step")
    if reports != sorted(reports) or reports[0] < 1 or reports[-1] > 10:
        raise NotYet(f"the PROGRESS reports said done = {reports}; it should go up, from 1 to 10 at most")
    if len(reports) < 3:
        raise NotYet(f"only {len(reports)} PROGRESS reports were seen (done = {reports}) in {polls} reads; "
                     f"report after every step, not once")
    if value != {"done": 10, "total": 10}:
        raise NotYet(f"count_to(10) returned {value!r}; it should return {{'done': 10, 'total': 10}}")
    return f"{len(reports)} PROGRESS reports seen (done {reports[0]} -> {reports[-1]}), then SUCCESS {value}"


CHECKS = {"ex1_chord_total": chord_total, "ex2_progress": progress}
