"""Chapter 01's exercises (01_quickstart/exercises/): each runs on a real worker."""

import time

from ..exercises import Ctx, NotYet


def expect(what: str, box: dict, wanted, shown) -> None:
    """A driver's call(...) box must hold `wanted` (said as `shown`): else the hint."""
    if box["hung"]:
        raise NotYet(f"{what} had not returned after {box['seconds']} s")
    if box["error"]:
        raise NotYet(f"{what} raised {box['error']}; it should return {shown!r}")
    if box["value"] != wanted:
        raise NotYet(f"{what} returned {box['value']!r}; it should return {shown!r}")


def register(ctx: Ctx) -> str:
    worker = ctx.worker()
    since = worker.mark()
    result = ctx.client().send_task("exercises.ex1_register.multiply", (6, 7))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if result.ready():
            value = result.get(propagate=False)
            if result.failed() and "never registered" in repr(value):
                raise NotYet("the worker does not know a task named exercises.ex1_register.multiply: "
                             "multiply is not a task yet (@app.task)")
            if value != 42:
                raise NotYet(f"multiply(6, 7) ran on the worker and returned {value!r}, not 42")
            return "multiply(6, 7) ran on the worker: 42"
        if worker.count(r"Received unregistered task of type 'exercises\.ex1_register\.multiply'", since):
            raise NotYet("the worker does not know a task named exercises.ex1_register.multiply: "
                         "multiply is not a task yet (@app.task)")
        time.sleep(0.1)
    raise NotYet("multiply(6, 7) got no result within 10 s")


def timeout(ctx: Ctx) -> str:
    ctx.worker()
    found = ctx.python("""
        from celery_task import add
        from exercises.ex2_timeout import result_or_none
        slow = add.delay(2, 3)                      # takes 2 s
        early = call(result_or_none, slow.id, 0.5, limit=1.5)
        late = call(result_or_none, slow.id, 5, limit=6) if not early["hung"] else None
        unknown = call(result_or_none, "no-such-task-id", 0.5, limit=1.5)
        done(early=early, late=late, unknown=unknown)
    """)
    early, late, unknown = found["early"], found["late"], found["unknown"]
    if early["hung"]:
        raise NotYet("result_or_none(id, 0.5) for add(2, 3), which takes 2 s, had not returned "
                     "after 1.5 s: it waits without a timeout")
    for what, box, wanted in (("result_or_none(id, 0.5) while add(2, 3) still runs", early, None),
                              ("result_or_none(id, 5) for add(2, 3)", late, 5),
                              ("result_or_none('no-such-task-id', 0.5)", unknown, None)):
        expect(what, box, wanted, wanted)
    return (f"None after {early['seconds']} s while running, 5 once done, "
            f"None after {unknown['seconds']} s for an unknown id")


def outcome(ctx: Ctx) -> str:
    ctx.worker()
    found = ctx.python("""
        from celery_task import add, divide
        from exercises.ex3_outcome import outcome
        bad, good = divide.delay(1, 0), add.delay(2, 3)
        done(bad=call(outcome, bad.id, limit=12), good=call(outcome, good.id, limit=12))
    """, timeout=30)
    for what, box, wanted in (("outcome(<id of divide(1, 0)>)", found["bad"], ["FAILURE", "ZeroDivisionError"]),
                              ("outcome(<id of add(2, 3)>)", found["good"], ["SUCCESS", 5])):
        expect(what, box, wanted, tuple(wanted))
    return "('FAILURE', 'ZeroDivisionError') for divide(1, 0), ('SUCCESS', 5) for add(2, 3)"


CHECKS = {"ex1_register": register, "ex2_timeout": timeout, "ex3_outcome": outcome}
