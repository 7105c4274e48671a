"""Chapter 06, run as a learner runs it: a real worker and beat, real Redis, a real SQLite
file, and the figures the demos print (DB queries, stale windows) checked against what
each strategy and each fix promises."""

import json
import re


from tests.readme_output import assert_readme_shows

CHAPTER = "06_cache_consistency"


def verdicts(output):
    """{strategy: (db price, cache price, verdict text)} from the `=> strategy N:` lines."""
    found = re.findall(r"=> strategy (\d): DB (\d+), cache (\d+): (.*)", output)
    return {int(n): (int(db), int(cache), verdict) for n, db, cache, verdict in found}


def lane(output, number):
    """The lines printed for strategy `number` (its heading up to its verdict)."""
    return output.split(f"[{number}] Strategy {number}")[1].split("=> strategy")[0]


def figures(output, label):
    """(requests, DB queries) for each line of penetration.py that starts with label."""
    return [(int(r), int(q)) for r, q in
            re.findall(rf"{re.escape(label)} +(\d+) requests -> (\d+) DB queries", output)]


def test_walkthrough(lab):
    """Every step of the README, in order, with the Procfile's worker and beat."""
    worker = lab.start("worker")
    beat = lab.start("beat")
    outputs = [lab.run_step(step).output for step in lab.chapter.steps]
    assert_readme_shows(lab.chapter, lab.chapter.steps, outputs)  # README's sample output
    race, penetration, breakdown, avalanche = outputs

    # race.py: 1-3 end stale for the TTL; 4 and 5 end consistent, after a short window
    result = verdicts(race)
    assert result[1] == (120, 110, "STALE until the TTL ends (60 s)"), race
    assert result[2] == (120, 100, "STALE until the TTL ends (60 s)"), race
    assert result[3] == (120, 100, "STALE until the TTL ends (60 s)"), race
    refresh = re.fullmatch(r"consistent after (\d+\.\d) s \(next refresh\)", result[4][2])
    assert result[4][:2] == (120, 120) and refresh, race
    assert 0.5 <= float(refresh[1]) <= 2.6, race  # at most one beat interval (2 s)
    second = re.fullmatch(r"consistent after (\d+\.\d) s \(2nd delete\)", result[5][2])
    assert result[5][:2] == (120, 120) and second, race
    assert 0.5 <= float(second[1]) <= 2.0, race  # the countdown is 1 s
    # the lesson's four strategies as it describes them: in 1 and 3 a reader between the
    # writer's two calls reads the old price, and the next reader the new one (it heals)
    for number in (1, 3):
        lessons, lasting = lane(race, number).split("What lasts:")
        assert lessons.index("writes DB: 120") < lessons.index("reads cache: 100"), race
        assert "-> R read 100 while the DB held 120; the next reader gets 120" in lessons, race
    # and the lasting interleavings really happened in that order
    one = lane(race, 1).split("What lasts:")[1]
    assert one.index("writes DB: 110") < one.index("writes DB: 120") < one.index(
        "writes cache: 120") < one.index("writes cache: 110")
    three = lane(race, 3).split("What lasts:")[1]
    assert three.index("reads DB: 100") < three.index("writes DB: 120") < three.index(
        "deletes cache entry") < three.index("writes cache: 100")
    delete = re.search(r"deletes entry \(\+(\d\.\d) s\)", lane(race, 5))
    assert delete and 1.0 <= float(delete[1]) <= 2.5, race  # 1 s after the DB write
    assert re.search(r"4 periodic refresh \(beat\) +120 +120 +healed", race)
    worker.wait_for(r"Task celery_task\.delete_key\[.*\] succeeded in .*: 1", timeout=10)
    assert beat.count(r"Scheduler: Sending due task refresh-featured") >= 2

    # penetration.py: caching the miss makes at most 1 DB query per missing id
    repeated, fresh = penetration.split("[3]")
    assert figures(repeated, "plain cache-aside") == [(50, 50)]
    assert figures(repeated, "+ cache the miss") == [(50, 10)]  # 10 ids: 1 query each
    assert figures(repeated, "+ Bloom filter") == [(50, 0)]
    assert figures(fresh, "+ cache the miss") == [(50, 50)]     # new ids: no help
    assert figures(fresh, "+ Bloom filter") == [(50, 0)]
    fp = re.search(r"False positives: (\d+) of 10000", penetration)
    assert fp and int(fp[1]) < 100, penetration  # the formula says 0.22 %
    assert "1000 of 1000 existing ids pass" in penetration
    assert "{'id': 42, 'name': 'product 42', 'price': 100}" in penetration

    # breakdown.py: 50 readers, exactly 1 DB query with the lock, more than 1 without
    without = int(re.search(r"Without a lock: 50 readers -> (\d+) DB", breakdown)[1])
    with_lock = int(re.search(r"With a lock: +50 readers -> (\d+) DB", breakdown)[1])
    assert with_lock == 1 and without > 1, breakdown
    assert without >= 20, breakdown  # a real stampede: the rebuild takes 0.2 s

    # avalanche.py: same total, but jitter flattens the peak
    peaks = [(int(p), int(t)) for p, t in
             re.findall(r"peak: (\d+) DB queries in .* total (\d+)", avalanche)]
    (same_ttl, total_same), (jittered, total_jitter) = peaks
    assert total_same == total_jitter == 100, avalanche
    assert same_ttl >= 60 and jittered * 2 <= same_ttl, avalanche


def test_slow_reader_beats_the_second_delete_and_refresh_needs_beat(lab):
    """With only a worker: a reader slower than the delay leaves strategy 5 stale, and
    strategy 4 says beat is missing instead of waiting forever."""
    lab.start("worker")
    slow = lab.run(lab.chapter.command("race_slow_reader"), timeout=30).output
    assert verdicts(slow) == {5: (120, 100, "STALE until the TTL ends (60 s)")}, slow
    assert "deletes nothing" in lane(slow, 5)
    no_beat = lab.run(lab.chapter.command("race_refresh_only"), exit=1, timeout=30)
    assert no_beat.output.splitlines()[-1].startswith(
        "[!] the featured list was not refreshed within 5 s: is beat running"), no_beat.output
    assert no_beat.seconds < 15


def test_strategies_1_to_3_need_no_celery_and_4_5_ask_for_a_worker(lab):
    done = lab.run(lab.chapter.command("race_without_celery"), timeout=30).output
    assert [v[2].split()[0] for v in verdicts(done).values()] == ["STALE"] * 3, done
    assert "[4] Summary" in done
    asking = lab.run("python race.py", exit=1, timeout=30)
    assert asking.seconds < 10
    last = asking.output.splitlines()[-1]
    assert last.startswith("[!] no Celery worker answers on redis://") and lab.chapter.broker_url("") in last


def test_redis_down_is_one_clear_line(lab):
    """With nothing listening at REDIS_URL, each script says so in one line within 10 s."""
    for step in lab.chapter.steps:
        result = lab.run(step.run, exit=1, timeout=30, redis_url="redis://127.0.0.1:1")
        assert result.seconds < 10, (step.run, result.seconds)
        problem = [line for line in result.output.splitlines() if line.startswith("[!]")]
        assert problem == [result.output.splitlines()[-1]], result.output
        assert lab.chapter.url("redis://127.0.0.1:1", "broker") in problem[0] and "make redis" in problem[0]
        assert "Traceback" not in result.output


CALLS = """
import json
import strategies as s
from store import Database, cache, key, reset
calls = []
class Recorded:
    def __init__(self, target, kind):
        self.target, self.kind = target, kind
    def __getattr__(self, name):
        method = getattr(self.target, name)
        def call(*args, **kwargs):
            calls.append(self.kind + "." + name)
            return method(*args, **kwargs)
        return call
real_delete_key = s.delete_key
class DeleteKey:
    def apply_async(self, args, countdown):
        calls.append("delete_key in %gs" % countdown)
        return real_delete_key.apply_async(args, countdown=countdown)
s.delete_key = DeleteKey()
db = Database()
out = {}
for name in ("update_db_then_cache", "delete_cache_then_update_db", "update_db_then_delete_cache",
             "update_db_only", "delayed_double_delete"):
    reset([7]); s.read(db, cache, 7); calls.clear()
    getattr(s, name)(Recorded(db, "db"), Recorded(cache, "cache"), 7, 130)
    out[name] = [calls[:], db.get(7)["price"], cache.get(key(7))]
for name in ("read miss", "read hit"):
    if name == "read miss": reset([7])
    calls.clear()
    s.read(Recorded(db, "db"), Recorded(cache, "cache"), 7)
    out[name] = [calls[:], db.get(7)["price"], json.loads(cache.get(key(7)))["price"]]
print(json.dumps(out))
"""


def test_each_strategy_calls_the_database_and_the_cache_in_its_order(lab):
    """The real strategies.py against the real SQLite file and Redis, with every call to the
    database and the cache recorded in order: the order IS each strategy (2 and 3 differ
    only in it), so it is checked directly, not through race.py's printed lines."""
    out = lab.run(f"python -c '{CALLS}'").output
    calls = json.loads(out.strip().splitlines()[-1])
    cached = '{"id": 7, "name": "product 7", "price": 130}'
    assert calls == {
        "update_db_then_cache": [["db.set_price", "cache.set"], 130, cached],
        "delete_cache_then_update_db": [["cache.delete", "db.set_price"], 130, None],
        "update_db_then_delete_cache": [["db.set_price", "cache.delete"], 130, None],
        "update_db_only": [["db.set_price"], 130, '{"id": 7, "name": "product 7", "price": 100}'],
        "delayed_double_delete": [["cache.delete", "db.set_price", "delete_key in 1s"], 130, None],
        "read miss": [["cache.get", "db.get", "cache.set"], 100, 100],
        "read hit": [["cache.get"], 100, 100],
    }, calls
