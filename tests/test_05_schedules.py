"""Chapter 05, the schedule and the results in the database (django-celery-beat and
django-celery-results), against the real site, worker and beat: the interval of the banner
refresh changed in the admin while beat runs (by the walkthrough's `edit_schedule` over
HTTP, and by headless Chromium clicking through the admin), measured from the refresh times
the worker writes into the cache; results stored in the database and listed in the admin;
and why the project's own result backend stays Redis (transaction_demo with "django-db").

The fixtures are chapter 05's own (tests/test_05_django_integration.py): a temporary SQLite
file per test, migrated once per module with BANNER_REFRESH_SECONDS=3, so the
refresh-banner-cache row starts at every 3 seconds."""

import json
import re
import secrets
import shlex
import shutil
import sqlite3
import time

import redis as redis_py

from tests.readme_output import assert_readme_shows
from tests.test_05_django_integration import REFRESH, loaded_site, migrated_db, site  # noqa: F401

CHAPTER = "05_django_integration"
# The walkthrough's last steps, run here with their own processes (test_05_django_integration's
# walkthrough runs the others): the README shows them in this order.
EDIT_SCHEDULE = "python manage.py edit_schedule 2"
COMPARE_BACKENDS = "python manage.py compare_backends"
STEPS = (EDIT_SCHEDULE, COMPARE_BACKENDS)
# The README's figures are for its refresh period (5 s); the tests run with REFRESH (3 s).
AS_IF = {rf"\b(every|at most) {REFRESH} s\b": r"\1 5 s",
         rf"\bedit_schedule {REFRESH}\b": "edit_schedule 5"}
CHANGED = r"DatabaseScheduler: Schedule changed\."


def refresh_times(lab, count, after, timeout):
    """filled_at of the next `count` refreshes by beat later than `after` (a time.time()),
    read from the cached list itself, as the worker's refresh_banner_cache wrote it."""
    cache = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "cache"))
    found, deadline = [], time.monotonic() + timeout
    try:
        while len(found) < count:
            assert time.monotonic() < deadline, f"only {len(found)} refreshes after {timeout} s"
            raw = cache.get(":1:banner_list")
            entry = json.loads(raw) if raw else None
            if entry and entry["filled_by"] == "beat" and entry["filled_at"] > max([after, *found]) + 0.01:
                found.append(entry["filled_at"])
            time.sleep(0.05)
    finally:
        cache.close()
    return found


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def sql(site, statement, *params):
    with sqlite3.connect(site.db, timeout=20) as db:
        return db.execute(statement, params).fetchall()


def test_schedule_and_results_walkthrough(lab, loaded_site, browser, figures):
    """The README's two steps, then the same site by hand in headless Chromium, all with one
    web server, worker and beat: the interval changed through the real admin while beat runs
    (edit_schedule: another interval for the task), the same round trip with the result in
    Redis and in the database; then in the browser the other admin edit, the interval's own
    "every" (2 -> 1), which IntervalSchedule's post_save signal reports to beat, and the
    database results listed in the admin with the task's name and arguments."""
    password = secrets.token_urlsafe(12)
    lab.run("python manage.py createsuperuser --noinput --username admin --email admin@example.com",
            env={"DJANGO_SUPERUSER_PASSWORD": password})
    lab.start("web")
    worker = lab.start("worker")
    beat = lab.start("beat")
    assert "scheduler -> luffy_api.schedulers.DatabaseScheduler" in beat.output()
    mark = beat.mark()
    steps = [step for name in STEPS for step in lab.chapter.steps if step.run == name]
    edit, compare = (lab.run_step(step).output for step in steps)
    assert_readme_shows(lab.chapter, steps, [edit, compare], as_if=AS_IF)

    # edit_schedule: 3 s before, 2 s after, measured from the cache; one reload, no restart
    found = re.search(r"every ([\d.]+) s before, every ([\d.]+) s after; beat noticed ([\d.]+) s", edit)
    before, after, noticed = map(float, found.groups())
    assert abs(before - REFRESH) < 0.5 and abs(after - 2) < 0.5, edit
    # beat sleeps until its next due task (at most 5 s), then reads PeriodicTasks.last_update
    assert 0 < noticed <= min(REFRESH, 5) + 0.5, edit
    assert beat.count(CHANGED, since=mark) == 1, beat.output(mark)
    assert sql(loaded_site, "SELECT i.every, i.period FROM django_celery_beat_periodictask t JOIN "
               "django_celery_beat_intervalschedule i ON t.interval_id = i.id WHERE t.name = ?",
               "refresh-banner-cache") == [(2, "seconds")]
    (hashed, staff, superuser), = sql(loaded_site, "SELECT password, is_staff, is_superuser "
                                      "FROM auth_user WHERE username = 'schedule-editor'")
    assert hashed.startswith("!") and (staff, superuser) == (1, 0)  # unusable, not a superuser
    figures(f"edit_schedule, 05_django_integration: every {before:.1f} s -> {after:.1f} s, "
            f"beat noticed {noticed:.1f} s after the admin's save")

    # compare_backends: each result where its task says
    rows = sql(loaded_site, "SELECT status, task_args, worker FROM django_celery_results_taskresult "
               "WHERE task_name = 'home.results.echo_in_db'")
    assert len(rows) == 22 and {status for status, _, _ in rows} == {"SUCCESS"}, rows  # 2 x (10 + 1)
    assert all(worker_name.startswith("celery@") for _, _, worker_name in rows)
    assert sorted(json.loads(args) for _, args, _ in rows)[:2] == ["(0,)", "(0,)"]
    results = redis_py.Redis.from_url(lab.chapter.url(lab.redis_url, "backend"))
    metas = [json.loads(results.get(key)) for key in results.scan_iter("celery-task-meta-*")]
    results.close()
    echoes = [m for m in metas if m["result"] in range(11) and m["status"] == "SUCCESS"]
    assert len(echoes) == 11, metas  # echo's 10 + 1 in Redis db 10, none of echo_in_db's
    assert "args" not in echoes[0], echoes[0]  # no CELERY_RESULT_EXTENDED for Redis (home/results.py)
    assert worker.count(r"Task home\.results\.echo_in_db\[.*\] succeeded") == 22
    medians = dict(re.findall(r"\[\d\] (.+?) *: median +([\d.]+) ms", compare))
    figures("compare_backends, 05_django_integration: median round trip "
            + ", ".join(f"{name} {value} ms" for name, value in medians.items()))

    # by hand in the admin: the interval "every 2 seconds" itself, 2 -> 1
    page = browser.new_page()
    page.goto(loaded_site.url + "/admin/django_celery_beat/intervalschedule/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.click("text=every 2 seconds")  # its refreshes were measured by edit_schedule above
    mark = beat.mark()
    page.fill("#id_every", "1")
    page.click("input[name=_save]")
    page.wait_for_selector("li.success")
    assert "every second" in page.inner_text("li.success")  # every=1: "every second"
    saved = time.time()
    beat.wait_for(CHANGED, timeout=2 + 5, since=mark)
    new = gaps(refresh_times(lab, 3, saved, 2 + 10))
    assert all(abs(gap - 1) < 0.5 for gap in new), new
    assert beat.count(r"beat: Starting") == 1  # the same beat all along
    figures(f"admin in Chromium, 05_django_integration: the interval's every 2 -> 1, "
            f"refreshes then {', '.join(f'{g:.2f}' for g in new)} s apart")
    page.goto(loaded_site.url + "/admin/django_celery_beat/periodictask/")
    assert "every second" in page.locator("tr", has_text="refresh-banner-cache").inner_text()

    # the results stored in the database, in the admin: echo_in_db's, none of echo's
    page.goto(loaded_site.url + "/admin/django_celery_results/taskresult/")
    text = page.inner_text("#result_list")
    assert text.count("home.results.echo_in_db") == 22 and text.count("SUCCESS") == 22, text
    assert "home.results.echo\n" not in text and "home.results.echo\t" not in text
    page.locator("#result_list tbody tr").first.locator("th a").click()  # the newest, in full
    shown = page.inner_text("#content")
    assert "home.results.echo_in_db" in shown and '"(10,)"' in shown, shown


def test_results_in_the_database_for_every_task_break_transaction_demo(lab, loaded_site):
    """Why CELERY_RESULT_BACKEND stays Redis: with "django-db" the worker stores each state in
    SQLite, and transaction_demo holds SQLite's write lock while it waits for that state, so
    the worker cannot even record STARTED; the demo gives up and rolls back."""
    settings = lab.path / "luffy_api" / "settings.py"
    text = settings.read_text()
    assert 'CELERY_RESULT_BACKEND = f"{REDIS_URL}/10"' in text
    settings.write_text(text.replace('CELERY_RESULT_BACKEND = f"{REDIS_URL}/10"',
                                     'CELERY_RESULT_BACKEND = "django-db"'))
    lab.start("worker")
    stuck = lab.run("python manage.py transaction_demo --timeout 2", exit=1, timeout=60)
    assert "[!] no answer from the worker after 2 s" in stuck.output, stuck.output
    assert sql(loaded_site, "SELECT count(*) FROM home_order") == [(0,)]  # rolled back


# The README's "Important Warning about Time Zones" fix, as it shows it
RESET_LAST_RUN = '''from django_celery_beat.models import PeriodicTask, PeriodicTasks
PeriodicTask.objects.all().update(last_run_at=None)
PeriodicTasks.update_changed()
'''

CRONTAB_ZONES = '''
from django.test import override_settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks
before = PeriodicTasks.last_change()
PeriodicTask.objects.all().update(last_run_at="2026-01-01T00:00:00Z")
''' + RESET_LAST_RUN + '''
print("RESET", PeriodicTask.objects.exclude(last_run_at=None).count(), PeriodicTasks.last_change() > before)
with override_settings(TIME_ZONE="Asia/Shanghai"):
    print("ZONE TIME_ZONE", CrontabSchedule().timezone)
with override_settings(TIME_ZONE="Asia/Shanghai", CELERY_TIMEZONE="Asia/Shanghai"):
    print("ZONE CELERY_TIMEZONE", CrontabSchedule().timezone)
'''


def test_time_zone_of_a_crontab_row_and_the_reset(lab, loaded_site):
    """A CrontabSchedule added in the admin defaults to CELERY_TIMEZONE, else UTC: not Django's
    TIME_ZONE. And the README's reset of last_run_at (after a time-zone change) runs as shown
    and marks the schedule as changed for beat."""
    from tests.readme_output import readme_shows_code

    assert readme_shows_code(lab.chapter, RESET_LAST_RUN)
    out = lab.run(f"python manage.py shell -c {shlex.quote(CRONTAB_ZONES)}").output
    assert "RESET 0 True" in out, out
    assert "ZONE TIME_ZONE UTC" in out, out
    assert "ZONE CELERY_TIMEZONE Asia/Shanghai" in out, out


def test_beat_before_migrate_and_the_settings_schedule(lab, site, migrated_db):
    """Beat started on a database without tables (the walkthrough's order: the Procfile
    first) waits for migrate, and a SIGTERM while it waits stops it at once with exit code 0
    (beat's own handler would otherwise build a second scheduler, which would wait in turn).
    And why settings.py has no CELERY_BEAT_SCHEDULE: DatabaseScheduler copies its entries into
    the table each time beat starts (setup_schedule -> update_from_dict), over the row."""
    beat = lab.start("beat")
    beat.wait_for(r"beat: waiting for the database: \d+ migrations not applied", timeout=20)
    lab.procs.remove(beat)
    assert beat.stop() == 0, beat.output()  # 0, not -9: it did not have to be killed
    assert "Traceback" not in beat.output()

    shutil.copy(migrated_db, site.db)
    settings = lab.path / "luffy_api" / "settings.py"
    settings.write_text(settings.read_text() + '\nCELERY_BEAT_SCHEDULE = {"refresh-banner-cache": '
                        '{"task": "home.tasks.refresh_banner_cache", "schedule": 7.0}}\n')
    interval = ("SELECT i.every FROM django_celery_beat_periodictask t JOIN "
                "django_celery_beat_intervalschedule i ON t.interval_id = i.id WHERE t.name = ?")
    assert sql(site, interval, "refresh-banner-cache") == [(REFRESH,)]
    lab.start("beat")  # ready at "beat: Starting...", just before its scheduler sets up
    deadline = time.monotonic() + 20
    while sql(site, interval, "refresh-banner-cache") != [(7,)]:
        assert time.monotonic() < deadline, sql(site, interval, "refresh-banner-cache")
        time.sleep(0.1)
