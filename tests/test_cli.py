"""The CLI: every command documented (help with an example, and in the README), export, status, stories,
outlets and feeds in this process (CliRunner: real exit codes), demo and `python -m crawler` as processes."""

from __future__ import annotations

import csv
import io
import json
import re

import click
import feedparser
from click.testing import CliRunner

from crawler.cli import cli
from tests.support.cli import newswire, run_newswire
from tests.support.newsweb import Crawl
from tests.support.paths import PROJECT


def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command, with the words that invoke it (`schedule install`), groups included."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found += _walk(command, (*prefix, name))
    return found


COMMANDS = _walk(cli)


def test_every_command_has_help_with_example_and_is_in_readme():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    runner = CliRunner()
    names = {" ".join(words) for words, _ in COMMANDS}
    assert names >= {"crawl", "feeds", "export", "status", "demo", "schedule install", "schedule run"}
    for words, command in COMMANDS:
        name = " ".join(words)
        result = runner.invoke(cli, [*words, "--help"])
        assert result.exit_code == 0, name
        assert "Example: newswire " + name in result.output, name
        assert f"newswire {name}" in readme, f"README does not show `newswire {name}`"
        for option in command.params:
            for flag in option.opts:
                if flag.startswith("--") and flag != "--help":
                    assert flag in readme, f"README does not mention {name} {flag}"


def test_python_dash_m_and_scrapy_list():
    import subprocess
    import sys

    result = run_newswire("--help")
    assert result.returncode == 0 and "crawl" in result.stdout
    scrapy = subprocess.run([sys.executable, "-m", "scrapy", "list"], capture_output=True, text=True, cwd=PROJECT)
    assert scrapy.returncode == 0 and scrapy.stdout.split() == ["news"], scrapy.stderr  # scrapy.cfg at the root


def test_export_jsonl_and_filters(first_crawl: Crawl, tmp_path):
    result = newswire("export", "--db", first_crawl.db_url, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 11
    assert sum(r["is_original"] for r in records) == 9  # eleven articles, nine stories (one wire story thrice)
    for record in records:
        assert {
            "url",
            "canonical_url",
            "outlet",
            "title",
            "authors",
            "published",
            "language",
            "text",
            "fetched_at",
        } <= set(record)
        assert isinstance(record["authors"], list)
        assert record["published"] is None or re.search(r"[+-]\d\d:\d\d$", record["published"])  # its own offset
        assert record["fetched_at"].endswith("+00:00")
    out = tmp_path / "ledger.jsonl"
    result = newswire("export", "--db", first_crawl.db_url, "--outlet", "Maghreb Ledger", "--out", str(out))
    assert {json.loads(line)["outlet"] for line in out.read_text().splitlines()} == {"Maghreb Ledger"}
    result = newswire("export", "--db", first_crawl.db_url, "--since", "2025-07-23T12:00:00Z")
    dates = [json.loads(line)["published"] for line in result.stdout.splitlines()]
    assert dates and all(d >= "2025-07-23T12:00:00" for d in dates)
    assert len(dates) < 10


def test_export_csv(first_crawl: Crawl):
    result = newswire("export", "--db", first_crawl.db_url, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 11
    assert all(isinstance(json.loads(r["authors"]), list) for r in rows)
    assert any("\n\n" in r["text"] for r in rows)  # paragraphs survive CSV quoting


def test_export_bad_date_is_one_line(first_crawl: Crawl):
    result = newswire("export", "--db", first_crawl.db_url, "--since", "not a date at all")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "--since" in result.stderr


def test_status_lists_outlets_and_runs(first_crawl: Crawl):
    result = newswire("status", "--db", first_crawl.db_url)
    assert result.exit_code == 0, result.stderr
    assert "Maghreb Ledger" in result.stdout and "Al-Khabar" in result.stdout
    assert "#1" in result.stdout and "partial" in result.stdout
    assert "2 share their exact text with another outlet" in result.stdout


def test_demo_runs_offline_and_writes_readable_feeds(tmp_path):
    result = run_newswire("demo", "--dir", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert "11 new" in result.stdout
    parsed = feedparser.parse((tmp_path / "demo" / "feeds" / "all.atom").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 9  # one item per story: the wire story runs thrice
    assert (tmp_path / "demo" / "feeds" / "outlet" / "desert-wire.rss").exists()


def test_demo_never_deletes_a_directory_it_did_not_make(tmp_path):
    precious = tmp_path / "thesis.txt"
    precious.write_text("years of work")
    result = newswire("demo", "--dir", str(tmp_path))
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert precious.read_text() == "years of work"


def test_cli_database_error_is_one_line(tmp_path):
    result = newswire("status", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.exit_code == 3
    assert result.stderr.startswith("newswire: error: database:") and "Traceback" not in result.stderr


def test_stories_command_and_story_and_citation_exports(first_crawl: Crawl):
    result = newswire("stories", "--db", first_crawl.db_url, "--min-outlets", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("original:") == 1 and "3 outlet(s)" in result.stdout
    assert "original: Desert Wire" in result.stdout and "also: Maghreb Ledger, Atlas Review" in result.stdout
    everything = newswire("stories", "--db", first_crawl.db_url)
    assert everything.stdout.count("original:") == 9
    stories = [
        json.loads(line) for line in newswire("export", "--db", first_crawl.db_url, "--stories").stdout.splitlines()
    ]
    assert len(stories) == 9
    [shared] = [s for s in stories if len(s["outlets"]) > 1]
    assert shared["outlets"] == ["Atlas Review", "Desert Wire", "Maghreb Ledger"]
    assert [c["outlet"] for c in shared["copies"] if c["is_original"]] == ["Desert Wire"]
    graph = newswire("export", "--db", first_crawl.db_url, "--citations", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(graph)))
    assert {"citing": "Atlas Review", "cited": "Desert Wire", "articles": "2"} in rows
    assert any(r["citing"] == "Maghreb Ledger" and r["cited"] == "Reuters" for r in rows)


def test_outlets_suggest_lists_cited_outlets_missing_from_the_registry(first_crawl: Crawl):
    import tomllib

    result = newswire("outlets", "--db", first_crawl.db_url, "--suggest")
    assert result.exit_code == 0, result.stderr
    assert 'name = "Reuters"' in result.stdout and 'name = "Middle East Eye"' in result.stdout
    assert 'name = "Desert Wire"' not in result.stdout  # in the registry: resolved, not suggested
    stanzas = tomllib.loads(result.stdout.replace('homepage = "https://"  #', 'homepage = "https://x/" #'))
    assert all(set(o) == {"name", "aliases", "homepage"} for o in stanzas["outlet"])
    listing = newswire("outlets", "--db", first_crawl.db_url)
    assert "Desert Wire: 3 articles" in listing.stdout


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4}"  # crawler.logs.LOG_DATEFORMAT


def test_every_command_takes_the_logging_options():
    for words, command in COMMANDS:
        if not isinstance(command, click.Group):
            flags = {flag for option in command.params for flag in option.opts}
            assert {"-q", "-v", "--log-file"} <= flags, " ".join(words)


def test_feeds_default_is_not_the_feeds_package_and_its_line_is_timestamped(first_crawl: Crawl, tmp_path):
    result = newswire("feeds", "--db", first_crawl.db_url, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "public" / "feeds" / "all.rss").is_file() and not (tmp_path / "feeds").exists()
    assert re.fullmatch(rf"{STAMP} INFO wrote \d+ feeds to {tmp_path}/public/feeds \(9 items in the merged feed\)\n",
                        result.stdout), result.stdout  # fmt: skip
    # without a base URL the self links are file:// URLs no subscriber can follow: said, once
    (warning,) = result.stderr.splitlines()
    assert re.fullmatch(rf"{STAMP} WARNING no --base-url .*: the feeds' self links are file:// URLs of .*", warning)
    old_names = newswire("feeds", "--db", first_crawl.db_url, "--out", str(tmp_path / "old"), "--items", "2")
    assert old_names.exit_code == 0 and "(2 items in the merged feed)" in old_names.stdout  # earlier cron lines


def test_log_file_quiet_and_verbose(first_crawl: Crawl, tmp_path):
    log = tmp_path / "cron.log"
    for _ in range(2):
        result = newswire(
            "feeds", "--db", first_crawl.db_url, "--feeds-dir", str(tmp_path / "f"), "--log-file", str(log),
            "--base-url", "https://news.example/feeds/",
        )  # fmt: skip
        assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and all(re.match(rf"{STAMP} INFO wrote \d+ feeds", line) for line in lines)  # appended
    quiet = newswire(
        "feeds", "--db", first_crawl.db_url, "--feeds-dir", str(tmp_path / "q"), "-q", "--base-url", "https://n/"
    )
    assert quiet.exit_code == 0 and quiet.stdout == "" and (tmp_path / "q" / "all.json").is_file()
    exported = newswire("export", "--db", first_crawl.db_url, "--format", "csv", "-q")
    assert exported.stderr == "" and len(list(csv.DictReader(io.StringIO(exported.stdout)))) == 11  # data stays
    both = newswire("status", "--db", first_crawl.db_url, "-q", "-v")
    assert both.exit_code == 2 and both.stderr == "newswire: error: -q and -v contradict each other; choose one\n"
    nowhere = newswire("status", "--db", first_crawl.db_url, "--log-file", str(tmp_path / "no" / "dir" / "x.log"))
    assert nowhere.exit_code == 2 and nowhere.stderr.startswith("newswire: error: --log-file: cannot write")


def test_export_logs_its_count_with_a_timestamp_on_stderr(first_crawl: Crawl):
    result = newswire("export", "--db", first_crawl.db_url, "--citations")
    assert result.exit_code == 0
    assert re.fullmatch(rf"{STAMP} INFO exported \d+ citation links\n", result.stderr), result.stderr


def test_stories_and_outlets_as_json_and_saying_when_nothing_matched(first_crawl: Crawl):
    stories = newswire("stories", "--db", first_crawl.db_url, "--json", "--min-outlets", "2")
    [shared] = json.loads(stories.stdout)
    assert shared["outlets"] == ["Atlas Review", "Desert Wire", "Maghreb Ledger"] and stories.stderr == ""
    assert len(json.loads(newswire("stories", "--db", first_crawl.db_url, "--json").stdout)) == 9
    none = newswire("stories", "--db", first_crawl.db_url, "--since", "2099-01-01", "--min-outlets", "2")
    assert none.exit_code == 0 and none.stdout == ""
    assert re.fullmatch(rf"{STAMP} INFO no story matched \(--since '2099-01-01', --min-outlets 2\)\n", none.stderr)
    as_json = newswire("stories", "--db", first_crawl.db_url, "--since", "2099-01-01", "--json")
    assert json.loads(as_json.stdout) == [] and "no story matched" in as_json.stderr
    outlets = {o["name"]: o for o in json.loads(newswire("outlets", "--db", first_crawl.db_url, "--json").stdout)}
    assert outlets["Desert Wire"]["articles"] == 3 and outlets["Desert Wire"]["last_fetched_at"].endswith("+00:00")
    suggested = json.loads(newswire("outlets", "--db", first_crawl.db_url, "--suggest", "--json").stdout)
    assert "Reuters" in {s["name"] for s in suggested} and "Desert Wire" not in {s["name"] for s in suggested}


def test_expected_errors_carry_their_exit_code_in_process(first_crawl: Crawl, tmp_path):
    cases = [
        (["status", "--db", first_crawl.db_url, "-s", "DOWNLOAD_TIMEOUT=abc"], 2, "expected a number"),
        (["status", "--db", f"sqlite:///{tmp_path / 'missing.db'}"], 2, "--db:"),
        (["export", "--db", first_crawl.db_url, "--stories", "--citations"], 2, "choose one"),
        (["crawl", "--sources", str(tmp_path / "none.toml"), "--db", f"sqlite:///{tmp_path / 'x.db'}"], 2, "none"),
    ]
    for args, code, text in cases:
        result = newswire(*args)
        assert result.exit_code == code, (args, result.stderr)
        assert result.stderr.startswith("newswire: error:") and text in result.stderr and result.stderr.count("\n") == 1


def test_text_output_shows_control_characters_of_stored_data_as_escapes(first_crawl: Crawl, tmp_path):
    """A title with a terminal escape (stored before extraction dropped control characters) reached the terminal:
    `stories`, `outlets` and `status` print it escaped; JSON escapes it anyway."""
    import shutil
    import sqlite3

    db = tmp_path / "copy.db"
    shutil.copy(first_crawl.db_path, db)
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE articles SET title = 'Owned \x1b]0;pwned\x07 \x1b[2J title'")
        connection.execute("UPDATE outlets SET name = name || ' \x9b31m'")
    for command in ("stories", "outlets", "status"):
        result = newswire(command, "--db", f"sqlite:///{db}")
        assert result.exit_code == 0 and result.stdout, result.stderr
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.stdout), command
    assert "Owned \\x1b]0;pwned\\x07 \\x1b[2J title" in newswire("stories", "--db", f"sqlite:///{db}").stdout


def test_usage_errors_missing_directories_and_counts_read_as_one_line(first_crawl: Crawl, tmp_path):
    typo = run_newswire("crawl", "--limt", "3")  # click's own errors, in a real process as a shell sees them
    assert typo.returncode == 2
    assert typo.stderr == (
        "newswire: error: No such option '--limt'. (Did you mean one of: '--limit', '--quiet'?) "
        "(see: newswire crawl --help)\n"
    )
    unknown = run_newswire("crawlx")
    assert unknown.returncode == 2 and unknown.stderr.startswith("newswire: error: No such command 'crawlx'.")
    missing = newswire("export", "--db", first_crawl.db_url, "--out", str(tmp_path / "no-such-dir" / "x.jsonl"))
    assert missing.exit_code == 2
    assert (
        missing.stderr
        == f"newswire: error: {tmp_path}/no-such-dir/x.jsonl: the directory {tmp_path}/no-such-dir does not exist\n"
    )
    one = newswire("export", "--db", first_crawl.db_url, "--outlet", "Desert Wire", "--out", str(tmp_path / "d.jsonl"))
    count = len((tmp_path / "d.jsonl").read_text().splitlines())
    assert one.exit_code == 0 and f"exported {count} article{'s' if count != 1 else ''}\n" in one.stdout + one.stderr
