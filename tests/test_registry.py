"""The outlet registry: the default file, and one clear error line for each kind of bad file."""

from __future__ import annotations

import pytest

from crawler.discovery.registry import RegistryError, load_registry, select_outlets
from tests.support.cli import run_newswire
from tests.support.paths import PROJECT


def test_default_registry_lists_the_reference_article_outlets():
    outlets = {o.name: o for o in load_registry(PROJECT / "sources.toml")}
    assert set(outlets) == {"Maghrebi.org", "Middle East Eye", "Associated Press", "Reuters"}
    assert outlets["Maghrebi.org"].feeds and outlets["Middle East Eye"].feeds
    for wire in ("Associated Press", "Reuters"):  # no public RSS: robots.txt and news sitemaps
        assert not outlets[wire].feeds and not outlets[wire].sitemaps
        assert outlets[wire].homepage.startswith("https://")
    assert "AP" in outlets["Associated Press"].aliases


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\nrss = []\n', "outlet #1 ('A'): unknown field 'rss'"),
        ('[[outlet]]\nhomepage = "https://a.example/"\n', "outlet #1: field 'name' is required"),
        ('[[outlet]]\nname = "A"\nhomepage = "ftp://a.example/"\n', "outlet #1 ('A'): field 'homepage'"),
        (
            '[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n[[outlet]]\nname = "B"\nhomepage = "https://b/"\n'
            'feeds = "https://b/feed"\n',
            "outlet #2 ('B'): field 'feeds' must be a list",
        ),
        ('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\nlanguage = "english!"\n', "field 'language'"),
        (
            '[[outlet]]\nname = "A"\nhomepage = "https://a/"\n[[outlet]]\nname = "a"\nhomepage = "https://b/"\n',
            "duplicates",
        ),
        ('[[outlet]]\nname = "A"\nhomepage = "http://[::1/"\n', "field 'homepage': malformed"),
        ('[[outlet]]\nname = "A"\nhomepage = "http://exa mple.com/"\n', "contains spaces"),
        ('[[outlet]]\nname = "A"\nhomepage = "https://a/"\nfeeds = ["http://a:99999/f"]\n', "'feeds': malformed"),
        ('[[outlet]]\nname = "A"\nhomepage = "http://a_b..c/"\n', "not a host name"),
        ('[[outlet]]\nname = "A"\nhomepage = "https://a/"\nsitemap_window = "99999999999w"\n', "too long"),
        ("[[outlet]\nname=", "not valid TOML"),
        ("title = 'x'\n", "unknown top-level key 'title'"),
    ],
)
def test_bad_registry_names_file_entry_and_field(tmp_path, body, expected):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_cli_reports_bad_registry_in_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\nfeed = "x"\n', encoding="utf-8")
    result = run_newswire("crawl", "--sources", str(path), "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"newswire: error: {path}: outlet #1 ('A'): unknown field 'feed' (known: "
        "aliases, every, feeds, homepage, language, name, sitemap_window, sitemaps, timezone)"
    ]


def test_outlets_at_any_address_and_selection(tmp_path):
    path = tmp_path / "local.toml"
    path.write_text('[[outlet]]\nname = "Intranet News"\nhomepage = "http://10.1.2.3:8080/"\n', encoding="utf-8")
    outlets = load_registry(path)
    assert outlets[0].slug == "intranet-news" and outlets[0].hosts == {"10.1.2.3"}
    assert select_outlets(outlets, ["intranet news"]) == outlets
    with pytest.raises(RegistryError, match="no outlet named 'Reuters'"):
        select_outlets(outlets, ["Reuters"])


def test_timezone_key(tmp_path):
    path = tmp_path / "tz.toml"
    path.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\ntimezone = "Africa/Casablanca"\n')
    assert load_registry(path)[0].timezone == "Africa/Casablanca"
    path.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(RegistryError, match="field 'timezone': unknown time zone 'Mars/Olympus'"):
        load_registry(path)


def test_follow_citations_setting(tmp_path):
    from crawler.discovery.registry import follow_citations_depth

    path = tmp_path / "f.toml"
    path.write_text('follow_citations = 2\n[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n')
    assert follow_citations_depth(path) == 2
    assert follow_citations_depth(PROJECT / "sources.toml") == 0
    path.write_text('follow_citations = "yes"\n[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n')
    with pytest.raises(RegistryError, match="follow_citations"):
        load_registry(path)


def test_every_key(tmp_path):
    from datetime import timedelta

    path = tmp_path / "every.toml"
    path.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\nevery = "1h30m"\n')
    assert load_registry(path)[0].every == timedelta(minutes=90)
    assert load_registry(PROJECT / "sources.toml")[0].every is None
    for bad, expected in (('"15x"', "not a duration: '15x'"), ('"0m"', "not a positive duration: '0m'"), ("15", "15")):
        path.write_text(f'[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\nevery = {bad}\n')
        with pytest.raises(RegistryError) as info:
            load_registry(path)
        assert f"{path}: outlet #1 ('A'): field 'every': " in str(info.value)
        assert expected in str(info.value) and "\n" not in str(info.value)


def test_sitemap_window_key(tmp_path):
    from datetime import timedelta

    path = tmp_path / "window.toml"
    path.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\nsitemap_window = "2d"\n')
    assert load_registry(path)[0].sitemap_window == timedelta(days=2)
    path.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\nsitemap_window = "soon"\n')
    with pytest.raises(RegistryError, match="field 'sitemap_window': "):
        load_registry(path)
