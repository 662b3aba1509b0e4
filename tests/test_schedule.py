"""Cron entries (issue 5, item 1): schedules per interval, install/list/remove on a crontab file, the command itself."""

from __future__ import annotations

import itertools
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import crontab
import pytest
from croniter import croniter

from crawler.discovery.registry import load_registry
from scheduling.commands import CrawlInvocation, parse_crawl
from scheduling.cron import (
    DEFAULT_LOG,
    CronEntry,
    cron_schedule,
    outlet_intervals,
    parse_line,
    plan_entries,
    scheduled_crawls,
    spread_offsets,
)
from scheduling.crontab_file import CronError, install, list_entries, remove
from tests.support.cli import newswire

SUNDAY = datetime(2026, 1, 4)  # cron's weeks (and our offsets) start on Sunday 00:00
M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

USER_TAB = """\
# Edit this file to introduce tasks to be run by cron.
#
# m h  dom mon dow   command
MAILTO=me@example.org
PATH="/usr/local/bin:/usr/bin:/bin"
0  5 * * 1 tar -zcf /var/backups/home.tgz /home/   # weekly backup
#comment right before a job
@daily  /usr/bin/backup
*/5 * * * * date +\\%s >> /tmp/ticks
# 30 * * * * a disabled job

  # an indented comment\r
15 3 * * *\t/bin/true\t# tab-separated
not a cron line at all
"""


def plan(tmp_path: Path, groups: dict[timedelta, list[str]], workdir: Path | None = None, **kw) -> list[CronEntry]:
    workdir = workdir or tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    options = {
        "python": "/opt/venv/bin/python",
        "db_url": "sqlite:///news.db",
        "sources": Path("sources.toml"),
        "feeds_dir": Path("public/feeds"),
        "log_file": Path(DEFAULT_LOG),
    }
    return plan_entries(groups, workdir=workdir, **{**options, **kw})


def read(path: Path) -> str:
    """The file's text exactly (read_text() would turn the carriage return of USER_TAB into a newline)."""
    return path.read_bytes().decode()


def fire_times(schedule: str, count: int, start: datetime = SUNDAY) -> list[datetime]:
    times = croniter(schedule, start - timedelta(seconds=1))
    return [times.get_next(datetime) for _ in range(count)]


# --- schedules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "offset", "expected"),
    [
        (M, 0 * M, "* * * * *"),
        (15 * M, 0 * M, "*/15 * * * *"),
        (15 * M, 7 * M, "7-59/15 * * * *"),
        (30 * M, 29 * M, "29-59/30 * * * *"),
        (H, 0 * M, "0 * * * *"),
        (H, 42 * M, "42 * * * *"),
        (2 * H, 0 * M, "0 */2 * * *"),
        (6 * H, 5 * H + 17 * M, "17 5-23/6 * * *"),
        (D, 0 * M, "0 0 * * *"),
        (D, 13 * H + 5 * M, "5 13 * * *"),
        (timedelta(weeks=1), 3 * D + 2 * H + 1 * M, "1 2 * * 3"),
    ],
)
def test_schedule_fires_every_interval_at_its_offset(every, offset, expected):
    schedule = cron_schedule(every, offset=offset)
    assert schedule == expected
    count = min(50, timedelta(weeks=1) // every)
    assert fire_times(schedule, count) == [SUNDAY + offset + k * every for k in range(count)]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("30s", "30s"),
        ("90s", "1m30s"),
        ("7m", "7m"),
        ("45m", "45m"),
        ("90m", "1h30m"),
        ("5h", "5h"),
        ("2d", "2d"),
        ("36h", "1d12h"),
        ("2w", "2w"),
    ],
)
def test_intervals_cron_cannot_express_are_refused_clearly(text, written):
    from scheduling.durations import parse_duration

    with pytest.raises(ValueError) as info:
        cron_schedule(parse_duration(text))
    message = str(info.value)
    assert message.startswith(f"cron cannot run every {written}: choose")
    assert "15m" in message and "12h" in message and "1d or 1w" in message


def test_offset_outside_the_interval_is_refused():
    with pytest.raises(ValueError, match="offset"):
        cron_schedule(15 * M, offset=15 * M)


def test_spread_is_deterministic_per_workdir_and_keeps_one_workdirs_entries_apart():
    intervals = [15 * M, H, 2 * H, D]
    offsets = spread_offsets(intervals, Path("/srv/news"))
    assert offsets == spread_offsets(list(reversed(intervals)), Path("/srv/news"))
    assert len({tuple(spread_offsets([H], Path(f"/srv/news{i}")).values()) for i in range(20)}) > 5
    runs = {every: set(fire_times(cron_schedule(every, offset=offsets[every]), D // every)) for every in intervals}
    every_run = sorted(t for times in runs.values() for t in times)
    assert len(every_run) == sum(len(times) for times in runs.values())  # no two entries start together
    assert min(b - a for a, b in itertools.pairwise(every_run)) >= 7 * M


# --- planning --------------------------------------------------------------------------------


def test_plan_uses_absolute_paths_and_one_entry_per_interval(tmp_path):
    entries = plan(
        tmp_path, {D: ["Reuters"], 15 * M: ["Middle East Eye", "O'Brien & Sons"]}, base_url="https://n.example/f/"
    )
    work = (tmp_path / "work").resolve()
    assert [e.schedule.count("/15") for e in entries] == [1, 0]  # shortest interval first
    assert fire_times(entries[1].schedule, 2)[1] - fire_times(entries[1].schedule, 2)[0] == D
    for entry in entries:
        assert entry.workdir == work
        assert entry.command.startswith(f"cd {work} && ")
        assert "/opt/venv/bin/python -m crawler crawl" in entry.command
        assert f"--sources {work}/sources.toml --db sqlite:///{work}/news.db" in entry.command
        assert (
            f"feeds --db sqlite:///{work}/news.db --feeds-dir {work}/public/feeds --base-url https://n.example/f/"
            in (entry.command)
        )
        assert entry.command.count(f">> {work}/{DEFAULT_LOG} 2>&1") == 2
    assert "--outlet 'Middle East Eye' --outlet 'O'\"'\"'Brien & Sons'" in entries[0].command
    assert "--outlet Reuters" in entries[1].command and "Middle East Eye" not in entries[1].command


def test_plan_errors_name_the_interval_and_its_outlets(tmp_path):
    with pytest.raises(ValueError, match=r"cron cannot run every 45m: .* \(outlets: A, B\)"):
        plan(tmp_path, {15 * M: ["C"], 45 * M: ["A", "B"]})
    with pytest.raises(ValueError, match=r"every 2d: .* \(all outlets\)"):
        plan(tmp_path, {2 * D: []})
    with pytest.raises(ValueError, match="absolute path"):
        plan(tmp_path, {H: []}, python="python3")
    with pytest.raises(ValueError, match="in-memory"):
        plan(tmp_path, {H: []}, db_url="sqlite://")
    with pytest.raises(ValueError, match="line break"):
        plan(tmp_path, {H: ["Evil\nnews"]})


def test_database_urls(tmp_path):
    pg = "postgresql+psycopg://news:p%40ss@db.example/news"
    (entry,) = plan(tmp_path, {H: []}, db_url=pg)
    assert f"--db {pg} " in entry.command
    assert "p\\%40ss" in entry.render() and "p%40ss" not in entry.render()  # cron reads a bare % as a newline
    assert parse_line(entry.render()) == entry
    (entry,) = plan(tmp_path, {H: []}, db_url=f"sqlite:///{tmp_path}/elsewhere.db")
    assert f"--db sqlite:///{tmp_path}/elsewhere.db " in entry.command


def test_outlet_intervals_from_the_registry(tmp_path):
    path = tmp_path / "sources.toml"
    stanza = '[[outlet]]\nname = "{}"\nhomepage = "https://{}.example/"\n'
    path.write_text(stanza.format("A", "a") + stanza.format("B", "b") + 'every = "30m"\n')
    outlets = [(o.name, o.every) for o in load_registry(path)]
    assert outlet_intervals(outlets, 30 * M) == {30 * M: []}  # everyone alike: no --outlet, later outlets too
    assert outlet_intervals(outlets, H) == {30 * M: ["B"], H: ["A"]}
    assert outlet_intervals([("A", None), ("A", None)], 30 * M, whole_registry=False) == {30 * M: ["A"]}
    (entry,) = plan(tmp_path, outlet_intervals(outlets, 30 * M))
    assert "--outlet" not in entry.command


# --- install, list, remove on a crontab file --------------------------------------------------


def test_install_list_remove_keep_the_users_lines_byte_for_byte(tmp_path):
    tab = tmp_path / "crontab"
    tab.write_bytes(USER_TAB.encode())
    tab.chmod(0o640)
    entries = plan(tmp_path, {15 * M: ["A"], D: ["B"]})
    lines = install(entries, tab).written
    assert lines == [e.render() for e in entries]
    text = tab.read_bytes().decode()
    assert text == USER_TAB + "".join(line + "\n" for line in lines)
    assert stat.S_IMODE(tab.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # replaced atomically, no leftovers
    assert list_entries(tab) == entries

    again = plan(tmp_path, {H: []})
    install(again, tab)  # replaces this workdir's entries, in place
    assert read(tab) == USER_TAB + again[0].render() + "\n"
    install(again, tab)
    assert read(tab) == USER_TAB + again[0].render() + "\n"

    assert remove(tab, tmp_path / "work") == 1
    assert tab.read_bytes() == USER_TAB.encode()
    assert remove(tab, tmp_path / "work") == 0 and list_entries(tab) == []


def test_entries_go_where_the_old_ones_were(tmp_path):
    tab = tmp_path / "crontab"
    old = plan(tmp_path, {H: []})
    tab.write_text(f"# mine\n{old[0].render()}\n0 4 * * * /bin/mine\n")
    new = plan(tmp_path, {15 * M: ["A"], D: ["B"]})
    install(new, tab)
    assert read(tab) == f"# mine\n{new[0].render()}\n{new[1].render()}\n0 4 * * * /bin/mine\n"


def test_other_workdirs_entries_survive(tmp_path):
    tab = tmp_path / "crontab"
    ours = plan(tmp_path, {H: []})
    theirs = plan(tmp_path, {D: []}, workdir=tmp_path / "theirs")
    install(theirs, tab)
    install(ours, tab)
    assert list_entries(tab) == theirs + ours
    assert list_entries(tab, tmp_path / "theirs") == theirs
    install(plan(tmp_path, {30 * M: []}), tab)
    assert list_entries(tab)[0] == theirs[0]
    assert remove(tab, tmp_path / "work") == 1
    assert list_entries(tab) == theirs
    install(ours, tab)
    assert remove(tab, None) == 2  # every workdir's
    assert read(tab) == ""


def test_missing_file_and_last_line_without_newline(tmp_path):
    tab = tmp_path / "new" / "crontab"
    tab.parent.mkdir()
    assert list_entries(tab) == [] and remove(tab) == 0 and not tab.exists()
    entries = plan(tmp_path, {H: []})
    install(entries, tab)
    assert read(tab) == entries[0].render() + "\n"
    tab.write_text("0 4 * * * /bin/mine")
    install(entries, tab)
    assert read(tab) == "0 4 * * * /bin/mine\n" + entries[0].render() + "\n"  # cron needs the newline


def test_lines_that_only_look_like_ours_are_left_alone(tmp_path):
    tab = tmp_path / "crontab"
    work = (tmp_path / "work").resolve()
    lookalikes = f"# 0 * * * * disabled # newswire:{work}\necho hi # newswire:{work}\n"
    tab.write_text(lookalikes)
    assert list_entries(tab) == []
    assert remove(tab) == 0
    install(plan(tmp_path, {H: []}), tab)
    assert read(tab).startswith(lookalikes)


# --- the user's crontab, through the crontab program ------------------------------------------


@pytest.fixture
def fake_crontab(tmp_path, monkeypatch):
    """A `crontab` program keeping the table in a file: `-l` prints it, `crontab FILE` replaces it."""
    store = tmp_path / "spool"
    program = tmp_path / "crontab"
    program.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = -l ]; then\n'
        f'  [ -f {store} ] || {{ echo "no crontab for $USER" >&2; exit 1; }}\n'
        f"  exec cat {store}\n"
        "fi\n"
        f'grep -q "refuse me" "$1" && {{ echo "errors in crontab file" >&2; exit 1; }}\n'
        f'cp "$1" {store}\n'
    )
    program.chmod(0o755)
    monkeypatch.setattr(crontab, "CRON_COMMAND", str(program))
    return store


def test_users_crontab(tmp_path, fake_crontab):
    assert list_entries() == []
    entries = plan(tmp_path, {H: []})
    install(entries)
    assert read(fake_crontab) == entries[0].render() + "\n"
    assert list_entries() == entries
    fake_crontab.write_text(USER_TAB + read(fake_crontab))
    assert remove(None, tmp_path / "work") == 1
    assert read(fake_crontab) == USER_TAB
    fake_crontab.write_text("refuse me\n")
    with pytest.raises(CronError, match="crontab refused the new table: errors in crontab file"):
        install(entries)


def test_no_crontab_program(monkeypatch, tmp_path):
    monkeypatch.setattr(crontab, "CRON_COMMAND", str(tmp_path / "nowhere" / "crontab"))
    with pytest.raises(CronError, match="no crontab program"):
        list_entries()


# --- the command cron runs ---------------------------------------------------------------------


def test_command_is_valid_shell_and_the_cli_has_its_options(tmp_path):
    (entry,) = plan(tmp_path, {H: ["It's News"]}, base_url="https://n.example/")
    for shell in ("sh", "bash"):
        assert subprocess.run([shell, "-n", "-c", entry.command]).returncode == 0
    crawl, feeds = newswire("crawl", "--help"), newswire("feeds", "--help")
    assert crawl.exit_code == 0 and feeds.exit_code == 0
    assert all(option in crawl.stdout for option in ("--sources", "--db", "--outlet"))
    assert all(option in feeds.stdout for option in ("--db", "--feeds-dir", "--base-url"))


@pytest.mark.parametrize(
    ("crawl_exit", "feeds_run"), [(0, True), (1, True), (2, False), (3, False), (70, False), (75, False)]
)
def test_command_runs_feeds_after_a_complete_or_partial_crawl_only(tmp_path, crawl_exit, feeds_run):
    """Run the entry's command with /bin/sh (as cron does), a stand-in interpreter recording its arguments."""
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    calls = tmp_path / "calls"
    python.write_text(
        '#!/bin/sh\nprintf "%s|" "$PWD" "$@" >> ' + str(calls) + "\necho >> " + str(calls) + "\n"
        f'echo "ran $3"\n[ "$3" = crawl ] && exit {crawl_exit}\nexit 0\n'
    )
    python.chmod(0o755)
    (entry,) = plan(tmp_path, {H: ["It's News", "$(touch pwned)"]}, python=str(python), base_url="https://n/")
    work = tmp_path / "work"
    cron_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # cron's spare environment
    result = subprocess.run(["/bin/sh", "-c", entry.command], capture_output=True, text=True, env=cron_env)
    assert result.stderr == ""
    recorded = [line.split("|")[:-1] for line in read(calls).splitlines()]
    crawl = [str(work.resolve()), "-m", "crawler", "crawl", "--sources", f"{work.resolve()}/sources.toml"]
    crawl += ["--db", f"sqlite:///{work.resolve()}/news.db", "--outlet", "It's News", "--outlet", "$(touch pwned)"]
    assert recorded[0] == crawl
    assert len(recorded) == (2 if feeds_run else 1)
    if feeds_run:
        assert recorded[1][3:] == [
            "feeds",
            "--db",
            f"sqlite:///{work.resolve()}/news.db",
            "--feeds-dir",
            f"{work.resolve()}/public/feeds",
            "--base-url",
            "https://n/",
        ]
    assert (work / DEFAULT_LOG).read_text() == "ran crawl\n" + ("ran feeds\n" if feeds_run else "")
    assert not (work / "pwned").exists() and not os.path.exists("pwned")


# --- reading entries back: which crawl, and when (for `newswire status`) ------------------------


def test_the_crawl_of_an_entry_reads_back(tmp_path):
    (entry,) = plan(tmp_path, {H: ["It's News", "$(touch pwned)"]}, crawl_args=["--due"], base_url="https://n/")
    work = (tmp_path / "work").resolve()
    assert parse_crawl(entry.command) == CrawlInvocation(
        f"sqlite:///{work}/news.db", ("It's News", "$(touch pwned)"), True
    )
    (plain,) = plan(tmp_path, {H: []})
    assert parse_crawl(plain.command) == CrawlInvocation(f"sqlite:///{work}/news.db", (), False)
    assert parse_crawl("/usr/bin/backup --all") is None and parse_crawl("echo 'unbalanced") is None


def test_next_crawl_is_the_entrys_next_firing_and_with_due_waits_for_polling(tmp_path):
    work = tmp_path / "work"
    entries = plan(tmp_path, {15 * M: ["A"]}) + plan(tmp_path, {D: ["B"]}, workdir=tmp_path / "other")
    assert scheduled_crawls(entries, "sqlite:///elsewhere.db", work) == []
    [every_15m] = scheduled_crawls(entries, "sqlite:///news.db", work)  # the other workdir's database is its own
    assert every_15m.covers("a") and not every_15m.covers("B")
    now = datetime(2026, 1, 5, 9, 0, 30, tzinfo=UTC)
    fires = fire_times(every_15m.entry.schedule, 2, now.astimezone().replace(tzinfo=None))
    assert every_15m.next_crawl(now) == fires[0].astimezone(UTC) and now < fires[0].astimezone(UTC) <= now + 15 * M
    due_at = now + 2 * H
    assert every_15m.next_crawl(now, due_at) == every_15m.next_crawl(now)  # without --due, cron crawls anyway
    [due] = scheduled_crawls(plan(tmp_path, {15 * M: []}, crawl_args=["--due"]), "sqlite:///news.db", work)
    assert due.covers("anything") and due_at < due.next_crawl(now, due_at) <= due_at + 15 * M
