"""Chapter 06's exercises (06_cache_consistency/exercises/): the learner's cache code runs
against the chapter's Redis cache (database 14 of the check's private server) and its
SQLite database; the second delete of exercise 2 runs on a real worker."""

from ..exercises import Ctx, NotYet

PASSES = """
    from store import Database, cache, key, reset
    from exercises.ex1_ttl_jitter import JITTER, TTL, read_product
    ids = list(range(301, 351))
    reset(ids)
    db = Database(latency=0)  # counted, not slowed down

    def one_pass():
        boxes = []
        for product_id in ids:
            boxes.append(call(read_product, db, product_id, limit=3))
            if boxes[-1]["hung"] or boxes[-1]["error"]:
                break
        return boxes

    first = one_pass()
    after_first = db.queries
    ttls = [cache.pttl(key(i)) for i in ids]
    second = one_pass()
    after_second = db.queries - after_first
    missing = call(read_product, db, 5000, limit=3)
    done(ttl=TTL, jitter=JITTER, first=first, second=second, after_first=after_first,
         after_second=after_second, ttls=ttls, missing=missing,
         wanted=[{"id": i, "name": f"product {i}", "price": 100} for i in ids])
"""


def ttl_jitter(ctx: Ctx) -> str:
    found = ctx.python(PASSES)
    ttl, jitter, ttls = found["ttl"], found["jitter"], found["ttls"]
    for which in ("first", "second"):
        for product_id, box, wanted in zip(range(301, 351), found[which], found["wanted"]):
            what = f"read_product(db, {product_id}) ({which} pass)"
            if box["hung"]:
                raise NotYet(f"{what} had not returned after {box['seconds']} s")
            if box["error"]:
                extra = ("; ex= takes whole seconds (an int), px= milliseconds"
                         if "must be datetime.timedelta or int" in box["error"] else "")
                raise NotYet(f"{what} raised {box['error']}{extra}")
            if box["value"] != wanted:
                raise NotYet(f"{what} returned {box['value']!r}; it should return {wanted!r}")
        if which == "first" and found["after_first"] != 50:
            raise NotYet(f"the first pass over 50 uncached products cost {found['after_first']} "
                         f"database queries; it should cost 50 (one per miss)")
        if which == "first":
            check_ttls(ttls, ttl, jitter)
    if found["after_second"]:
        raise NotYet(f"the second pass cost {found['after_second']} database queries; every product "
                     f"was cached by the first, so it should cost none")
    missing = found["missing"]
    if missing["hung"] or missing["error"] or missing["value"] is not None:
        got = (f"had not returned after {missing['seconds']} s" if missing["hung"] else
               f"raised {missing['error']}" if missing["error"] else f"returned {missing['value']!r}")
        raise NotYet(f"read_product(db, 5000), a product that does not exist, {got}; it should return None")
    low, high = min(ttls) / 1000, max(ttls) / 1000
    return (f"50 misses -> 50 queries, then 0; TTLs spread from {low:.1f} to {high:.1f} s "
            f"({ttl} s + up to {jitter} s)")


def check_ttls(ttls: list[int], ttl: float, jitter: float) -> None:
    """Every entry's PTTL (ms) within [TTL, TTL + JITTER] s (a few seconds' slack for the
    time the passes took), spread over a quarter of JITTER at least."""
    lasting = sum(1 for t in ttls if t == -1)
    if lasting:
        raise NotYet(f"{lasting} of the 50 cached entries have no TTL (PTTL -1): they would stay "
                     f"for ever, stale after the next price change; give each one TTL + jitter")
    if not jitter or jitter < 1:
        raise NotYet(f"JITTER is {jitter!r}: keep it at 30 s (the check measures the spread against it)")
    outside = [t for t in ttls if not (ttl * 1000 - 5000 <= t <= (ttl + jitter) * 1000 + 1000)]
    if outside:
        raise NotYet(f"{len(outside)} of the 50 entries have a TTL outside {ttl} to {ttl + jitter} s, "
                     f"e.g. {outside[0] / 1000:.1f} s")
    spread = (max(ttls) - min(ttls)) / 1000
    if spread < jitter / 4:
        raise NotYet(f"the 50 TTLs lie within {spread:.1f} s of each other ({min(ttls) / 1000:.1f} to "
                     f"{max(ttls) / 1000:.1f} s): they would still expire together; draw a new "
                     f"random jitter of up to {jitter} s for each entry")


SLOW_READER = """
    import time
    from celery_task import app
    from store import SECOND_DELETE_AFTER, Database, cache, key, reset
    from strategies import read
    from exercises.ex2_double_delete import update_price
    with app.producer_or_acquire() as producer:  # connected now, not in the timed call
        producer.connection.ensure_connection(max_retries=3)
    product = 7
    reset([product])
    db = Database(latency=0)
    read(db, cache, product)              # cached at price 100
    old = cache.get(key(product))
    started = time.monotonic()
    box = call(update_price, db, product, 120, limit=5)
    right_after = cache.get(key(product))
    price = db.get(product)["price"]
    time.sleep(max(0.0, 0.3 - (time.monotonic() - started)))
    cache.set(key(product), old, ex=60)   # the slow reader writes the old price back
    stale_at = time.monotonic() - started
    gone_at = None
    watched = SECOND_DELETE_AFTER + 1.5
    while time.monotonic() - started < watched:
        if cache.get(key(product)) is None:
            gone_at = time.monotonic() - started
            break
        time.sleep(0.01)
    done(box=box, old=old, right_after=right_after, price=price, stale_at=stale_at,
         gone_at=gone_at, delay=SECOND_DELETE_AFTER, watched=watched)
"""

RAN = r"Task celery_task\.delete_key\[[^\]]+\] succeeded"


def double_delete(ctx: Ctx) -> str:
    worker = ctx.worker()
    since = worker.mark()
    found = ctx.python(SLOW_READER, timeout=20)
    box, delay = found["box"], found["delay"]
    if box["hung"]:
        raise NotYet(f"update_price(db, 7, 120) had not returned after {box['seconds']} s")
    if box["error"]:
        raise NotYet(f"update_price(db, 7, 120) raised {box['error']}")
    if found["price"] != 120:
        raise NotYet(f"after update_price(db, 7, 120) the database says price {found['price']}, not 120")
    if found["right_after"] is not None:
        raise NotYet("right after update_price(db, 7, 120) returned, the cache still held "
                     f"{found['right_after']}: delete the entry first, before the database write")
    if box["seconds"] > 0.9 * delay:
        raise NotYet(f"update_price took {box['seconds']} s to return: the writer waited; send the "
                     f"second delete to the worker with a delay and return at once")
    runs = worker.count(RAN, since)
    if found["gone_at"] is not None and not runs:
        try:  # the worker's log line may come a moment after the delete itself
            worker.wait_for(RAN, timeout=3, since=since)
            runs = worker.count(RAN, since)
        except TimeoutError:
            pass
    if found["gone_at"] is None:
        stale = (f"the old price 100 the slow reader wrote back at {found['stale_at']:.1f} s was still "
                 f"cached {found['watched']:g} s after the update")
        if runs:
            times = "" if runs == 1 else f" {runs} times"
            raise NotYet(f"the worker ran delete_key{times}, but too early: {stale}; the second delete "
                         f"must wait SECOND_DELETE_AFTER ({delay:g} s) first")
        raise NotYet(f"no worker ran celery_task.delete_key: {stale}; send it to the worker "
                     f"(a plain delete_key(...) call runs it in your process, at once)")
    if not runs:
        raise NotYet(f"the stale entry was gone at {found['gone_at']:.1f} s, but no worker ran "
                     f"celery_task.delete_key: the second delete must be the worker's")
    if found["gone_at"] < delay * 0.8:
        raise NotYet(f"the second delete ran {found['gone_at']:.1f} s after the update; it should wait "
                     f"SECOND_DELETE_AFTER ({delay:g} s), longer than a slow read")
    return (f"update_price returned in {box['seconds']:.2f} s, the entry gone; old price back at "
            f"{found['stale_at']:.1f} s, deleted by the worker at {found['gone_at']:.1f} s")


CHECKS = {"ex1_ttl_jitter": ttl_jitter, "ex2_double_delete": double_delete}
