"""Force the bad interleaving of each cache-update strategy, and see who wins.

    python race.py                    all five strategies (4 and 5 need the worker and beat)
    python race.py 1 3                only strategies 1 and 3
    python race.py 5 --slow-reader    strategy 5 with a reader slower than the second delete

Nothing is left to luck. Each thread (A, B: writers; W: a writer; R: a reader) runs the real
code of strategies.py, and may be held after one of its calls to the database or the cache
until another thread has reached a named point (threading.Event). The same interleaving
happens on every run, and each column below shows what one thread did, in order.
"""

import argparse
import json
import sys
import threading
import time

from celery.exceptions import TimeoutError as ResultTimeout
from kombu.utils.url import maybe_sanitize_url

import strategies as s
from celery_task import BROKER_URL, app
from redis_check import require_redis
from store import FEATURED_KEY, REFRESH_EVERY, SECOND_DELETE_AFTER, Database, cache, key, reset

LANE = 24  # width of one thread's column
EVENTS = {"A db.set_price": "A wrote DB", "R db.get": "R read DB", "W cache.delete": "W deleted",
          "A done": "A is done", "B done": "B is done", "R done": "R is done",
          "W done": "W is done", "second delete": "2nd delete"}
WAIT = 10  # seconds any thread may be held before we call the demo stuck
REFRESHED = 4  # the featured product whose price strategy 4 changes


class Race:
    """Threads that run in a forced order, printing each call in their own column."""

    def __init__(self, lanes):
        self.lanes = list(lanes)
        self.log = []        # (time, who, what) for every call, in the order they happened
        self.holds = {}      # (who, call) -> the event that thread waits for after that call
        self.events = {}
        self.threads, self.errors = [], []
        self.lock = threading.Lock()
        print("      " + "".join(f"{title:<{LANE}}" for title in lanes.values()).rstrip())

    def event(self, name):
        with self.lock:
            return self.events.setdefault(name, threading.Event())

    def hold(self, who, after, until):
        """Stop thread `who` right after its call `after` until event `until` is set."""
        self.holds[(who, after)] = until

    def say(self, who, what):
        with self.lock:
            self.log.append((time.monotonic(), who, what))
            print("      " + " " * (LANE * self.lanes.index(who)) + what, flush=True)

    def reached(self, who, call):
        self.event(f"{who} {call}").set()
        until = self.holds.pop((who, call), None)
        if until:
            self.say(who, f"(held until {EVENTS.get(until, until)})")
            if not self.event(until).wait(WAIT):
                raise RuntimeError(f"{who} waited {WAIT} s for {until!r}: the demo is stuck")

    def start(self, who, work, after=None):
        """Run work() in a thread named who, once the event `after` is set (if given)."""
        def body():
            try:
                if after and not self.event(after).wait(WAIT):
                    raise RuntimeError(f"{who} never saw {after!r}")
                work()
            except BaseException as exc:  # re-raised in the main thread by join()
                self.errors.append(exc)
            finally:
                self.event(f"{who} done").set()
        thread = threading.Thread(target=body, name=who)
        self.threads.append(thread)
        thread.start()

    def join(self):
        for thread in self.threads:
            thread.join(2 * WAIT)
        self.threads.clear()
        if self.errors:
            raise self.errors[0]

    def when(self, who, what):
        """The time of the last logged call of `who` that starts with `what`."""
        return [t for t, w, text in self.log if w == who and text.startswith(what)][-1]

    def traced(self, db, cache):
        return Traced(self, db, "db"), Traced(self, cache, "cache")


class Traced:
    """Wraps the database or the cache: each call is printed in the caller's column, and the
    caller is held afterwards if the race says so."""

    def __init__(self, race, target, kind):
        self.race, self.target, self.kind = race, target, kind

    def __getattr__(self, name):
        method = getattr(self.target, name)

        def call(*args, **kwargs):
            result = method(*args, **kwargs)
            who = threading.current_thread().name
            self.race.say(who, describe(self.kind, name, args, result))
            self.race.reached(who, f"{self.kind}.{name}")
            return result
        return call


def price(value, product_id=None):
    """The price in a cached value: one product, or product_id in the featured list."""
    if value is None:
        return None
    data = json.loads(value) if isinstance(value, str) else value
    if "products" in data:
        return next(p["price"] for p in data["products"] if p["id"] == product_id)
    return data["price"]


def describe(kind, name, args, result):
    if (kind, name) == ("db", "get"):
        return f"reads DB: {result['price']}"
    if (kind, name) == ("db", "set_price"):
        return f"writes DB: {args[1]}"
    if (kind, name) == ("db", "featured"):
        return "reads DB: featured"
    if (kind, name) == ("cache", "get"):
        return "reads cache: miss" if result is None else f"reads cache: {price(result, REFRESHED)}"
    if (kind, name) == ("cache", "set"):
        return f"writes cache: {price(args[1], REFRESHED)}"
    if (kind, name) == ("cache", "delete"):
        return "deletes cache entry"
    return f"{kind}.{name}{args}"


class Row:
    """One strategy's outcome: what the database and the cache hold at the end, and how long
    the cache stays wrong. Its verdict goes under the strategy's timeline, the rest in the
    summary table."""

    def __init__(self, number, name, interleaving, product_id, db_price, cache_price,
                 stale_for=None, healed_by=""):
        self.number, self.name, self.interleaving = number, name, interleaving
        self.db, self.cache = db_price, cache_price
        self.stale = db_price != cache_price
        if self.stale:
            self.until = f"the TTL ends ({cache.ttl(key(product_id))} s)"
            self.verdict = f"STALE until {self.until}"
        else:
            self.until = f"{healed_by}, {stale_for:.1f} s"
            self.verdict = f"consistent after {stale_for:.1f} s ({healed_by})"


def concluded(row):
    """Print the verdict under a strategy's timeline; return the row for the summary."""
    print(f"    => strategy {row.number}: DB {row.db}, cache {row.cache}: {row.verdict}")
    return row


def fail(message):
    sys.exit(f"[!] {message}")


def lessons_case(db, pid, update):
    """The lesson's words for strategies 1 and 3: a reader that comes between the writer's
    DB write and its cache call gets the old value. It does, and the next reader does not."""
    reset([pid])
    s.read(db, cache, pid)  # the cache holds the price: 100
    race = Race({"W": "W: writer, sets 120", "R": "R: reader"})
    tdb, tcache = race.traced(db, cache)
    race.hold("W", after="db.set_price", until="R done")
    race.start("W", lambda: update(tdb, tcache, pid, 120))
    race.start("R", lambda: s.read(tdb, tcache, pid), after="W db.set_price")
    race.join()
    race.start("R", lambda: s.read(tdb, tcache, pid))  # the next reader
    race.join()
    first = next(text.split(": ")[1] for _, who, text in race.log if who == "R")
    print(f"    -> R read {first} while the DB held {db.get(pid)['price']}; the next reader gets "
          f"{price(cache.get(key(pid)))}: it heals at once")


def strategy_1(db):
    pid = 1
    print("[1] Strategy 1: update the DB, then the cache. The lesson's case first: a\n"
          "    reader comes between the writer's two calls.")
    lessons_case(db, pid, s.update_db_then_cache)
    reset([pid])
    s.read(db, cache, pid)  # the cache holds the price: 100
    print("    What lasts: two writers, A sets 110, then B sets 120. A is held between\n"
          "    its two writes until B is done.")
    race = Race({"A": "A: writer, sets 110", "B": "B: writer, sets 120"})
    tdb, tcache = race.traced(db, cache)
    race.hold("A", after="db.set_price", until="B done")
    race.start("A", lambda: s.update_db_then_cache(tdb, tcache, pid, 110))
    race.start("B", lambda: s.update_db_then_cache(tdb, tcache, pid, 120), after="A db.set_price")
    race.join()
    return concluded(Row(1, "update DB, then cache", "A:db B:db B:cache A:cache", pid,
                         db.get(pid)["price"], price(cache.get(key(pid)))))


def strategy_2(db):
    pid = 2
    reset([pid])
    s.read(db, cache, pid)
    print("[2] Strategy 2: delete the cache entry, then update the DB. A reader comes\n"
          "    between the writer's delete and its DB write.")
    race = Race({"W": "W: writer, sets 120", "R": "R: reader"})
    tdb, tcache = race.traced(db, cache)
    race.hold("W", after="cache.delete", until="R done")
    race.start("W", lambda: s.delete_cache_then_update_db(tdb, tcache, pid, 120))
    race.start("R", lambda: s.read(tdb, tcache, pid), after="W cache.delete")
    race.join()
    return concluded(Row(2, "delete cache, then DB", "W:del R:miss,db,set W:db", pid,
                         db.get(pid)["price"], price(cache.get(key(pid)))))


def strategy_3(db):
    pid = 3
    print("[3] Strategy 3: update the DB, then delete the cache entry. The lesson's case\n"
          "    first (\"like strategy 1\"): a reader between the writer's two calls.")
    lessons_case(db, pid, s.update_db_then_delete_cache)
    reset([pid])  # not cached: the entry has just expired
    print("    What lasts: the entry has just expired; a reader reads the DB before the\n"
          "    write and fills the cache after the writer's delete.")
    race = Race({"W": "W: writer, sets 120", "R": "R: reader"})
    tdb, tcache = race.traced(db, cache)
    race.hold("R", after="db.get", until="W done")
    race.start("R", lambda: s.read(tdb, tcache, pid))
    race.start("W", lambda: s.update_db_then_delete_cache(tdb, tcache, pid, 120), after="R db.get")
    race.join()
    return concluded(Row(3, "update DB, then delete", "R:miss,db W:db,del R:set", pid,
                         db.get(pid)["price"], price(cache.get(key(pid)))))


def wait_for_refresh(newer_than, timeout):
    """Poll the cached featured list until beat's refresh has read the DB after newer_than."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cached = cache.get(FEATURED_KEY)
        if cached and json.loads(cached)["read_at"] > newer_than:
            return json.loads(cached)
        time.sleep(0.02)
    fail(f"the featured list was not refreshed within {timeout:.0f} s: is beat running "
         "(celery -A celery_task beat -l info), and a worker?")


def strategy_4(db):
    pid = REFRESHED
    reset([pid])
    print(f"[4] Strategy 4: periodic refresh. Writers only update the DB; beat sends\n"
          f"    refresh_featured every {REFRESH_EVERY:g} s and a worker rewrites the cached list.")
    timeout = 2 * REFRESH_EVERY + 1  # a refresh comes every REFRESH_EVERY s; allow two
    refreshed = wait_for_refresh(time.time(), timeout)  # start just after a refresh
    race = Race({"W": "W: writer, sets 120", "R": "R: reader", "beat": "beat + worker"})
    race.say("beat", f"refresh: {price(refreshed, pid)}")
    tdb, tcache = race.traced(db, cache)
    race.start("W", lambda: s.update_db_only(tdb, tcache, pid, 120))
    race.start("R", lambda: s.read_featured(tdb, tcache), after="W db.set_price")
    race.join()
    written = race.when("W", "writes DB")
    refreshed = wait_for_refresh(time.time(), timeout)
    stale_for = time.monotonic() - written
    race.say("beat", f"refresh: {price(refreshed, pid)} (+{stale_for:.1f} s)")
    race.start("R", lambda: s.read_featured(tdb, tcache))
    race.join()
    return concluded(Row(4, "periodic refresh (beat)", "W:db R:cache(old)", pid,
                         db.get(pid)["price"], price(cache.get(FEATURED_KEY), pid), stale_for,
                         "next refresh"))


def strategy_5(db, slow_reader):
    pid = 5
    reset([pid])
    s.read(db, cache, pid)
    if slow_reader:
        print(f"[5] Strategy 5: delayed double delete, with a reader slower than the\n"
              f"    {SECOND_DELETE_AFTER:g} s delay: it writes the old price after the second delete.")
    else:
        print(f"[5] Strategy 5: delayed double delete: strategy 2, plus a delete_key task\n"
              f"    sent with countdown={SECOND_DELETE_AFTER:g}, which a worker runs. Strategy 3's reader again.")
    race = Race({"W": "W: writer, sets 120", "R": "R: reader", "worker": "worker"})
    tdb, tcache = race.traced(db, cache)
    race.hold("W", after="cache.delete", until="R db.get")
    race.hold("R", after="db.get", until="second delete" if slow_reader else "W done")
    sent = []

    def writer():
        sent.append(s.delayed_double_delete(tdb, tcache, pid, 120))
        race.say("W", f"sends delete_key ({SECOND_DELETE_AFTER:g} s)")

    race.start("W", writer)
    race.start("R", lambda: s.read(tdb, tcache, pid), after="W cache.delete")
    race.event("W done").wait(WAIT)
    if not sent:
        race.join()  # raises what went wrong in the writer
    try:
        deleted = sent[0].get(timeout=SECOND_DELETE_AFTER + 10)
    except ResultTimeout:
        race.event("second delete").set()
        race.join()
        fail("the second delete did not run within "
             f"{SECOND_DELETE_AFTER + 10:g} s: is a worker running (celery -A celery_task worker -l info)?")
    done = time.monotonic()
    after = f"(+{done - race.when('W', 'writes DB'):.1f} s)"  # after the write
    race.say("worker", f"deletes entry {after}" if deleted else f"deletes nothing {after}")
    race.event("second delete").set()
    race.join()
    stale_for = done - race.when("R", "writes cache")  # from the stale write to the 2nd delete
    race.start("R", lambda: s.read(tdb, tcache, pid))  # the next reader
    race.join()
    return concluded(Row(5, "delayed double delete", "W:del R:miss,db W:db R:set", pid,
                         db.get(pid)["price"], price(cache.get(key(pid))), stale_for, "2nd delete"))


def summary(rows):
    print(f"[{rows[-1].number + 1}] Summary: the price at the end (the last write set 120)")
    print(f"    {'strategy / bad interleaving':<30}{'DB':<5}{'cache':<7}{'stale?':<8}until")
    for row in rows:
        stale = "STALE" if row.stale else "healed"
        print(f"    {row.number} {row.name:<28}{row.db:<5}{row.cache:<7}{stale:<8}{row.until}")
        print(f"      {row.interleaving}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies", nargs="*", type=int, metavar="N",
                        help="which strategies to run (1-5, default all)")
    parser.add_argument("--slow-reader", action="store_true",
                        help="strategy 5: the reader writes after the second delete")
    args = parser.parse_args()
    chosen = args.strategies or [1, 2, 3, 4, 5]
    if not set(chosen) <= {1, 2, 3, 4, 5}:
        parser.error("strategies are numbered 1 to 5")

    require_redis(app)
    if {4, 5} & set(chosen) and not app.control.ping(timeout=2, limit=1):
        fail(f"no Celery worker answers on {maybe_sanitize_url(BROKER_URL)}: start one with "
             "`celery -A celery_task worker -l info` (strategy 4 also needs beat)")
    db = Database()
    runs = {1: strategy_1, 2: strategy_2, 3: strategy_3, 4: strategy_4,
            5: lambda db: strategy_5(db, args.slow_reader)}
    rows = [runs[n](db) for n in chosen]
    if len(rows) > 1:
        summary(rows)


if __name__ == "__main__":
    main()
