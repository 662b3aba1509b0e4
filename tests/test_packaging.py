"""A plain `pip install -e .` has none of the extras: every single-machine command must work without them.

These tests hide the extras' packages (redis, psycopg) and the test dependencies from a fresh interpreter,
as a base install would lack them, then import every module of the single-machine path and run each of its
commands; the commands that need an extra answer in one line which extra to install. `.ci/newcomer` does the
same for real, in fresh virtual environments, before the tests run.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.support.paths import PROJECT
from tests.support.serving import fetch

# what only an extra (postgres, distributed) or the test dependencies install
NOT_IN_A_BASE_INSTALL = (
    "redis", "psycopg", "psycopg2", "pandas", "duckdb", "polars", "datasets", "playwright", "datasketch", "pytest",
)  # fmt: skip

_HIDE = f"""
import importlib.abc, sys

class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {NOT_IN_A_BASE_INSTALL!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


def _python_without_extras(code: str, *, cwd: Path = PROJECT, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter to which the extras' packages look uninstalled."""
    return subprocess.run(
        [sys.executable, "-c", _HIDE + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def _newswire_without_extras(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`newswire ARGS` as a base install runs it."""
    return _python_without_extras(
        f"from crawler.cli import main\nsys.argv = ['newswire', *{list(args)!r}]\nmain()", cwd=cwd, timeout=300
    )


def test_every_module_outside_the_shared_crawl_imports_without_the_extras():
    result = _python_without_extras(
        """
        import importlib, pkgutil
        failed, imported = [], 0
        for package in ("crawler", "storage", "feeds", "scheduling"):
            root = importlib.import_module(package)
            for info in pkgutil.walk_packages(root.__path__, package + "."):
                if info.name.startswith("crawler.frontier") or ".migrations" in info.name:
                    continue
                try:
                    importlib.import_module(info.name)
                    imported += 1
                except Exception as exc:
                    failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
        try:  # the hiding works: the shared crawl's package does need redis
            importlib.import_module("crawler.frontier.connection")
        except ImportError:
            hidden = True
        else:
            hidden = False
        print(json.dumps({"failed": failed, "imported": imported, "hidden": hidden}))
    """.replace("import importlib, pkgutil", "import importlib, json, pkgutil")
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["hidden"], "redis was not hidden: this test would prove nothing"
    assert report["imported"] > 100
    assert report["failed"] == []


def test_each_single_machine_command_runs_without_the_extras(tmp_path):
    """The README's first command (`newswire demo`), then every command a user runs on its database."""
    demo = _newswire_without_extras("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "crawl #1 partial" in demo.stdout + demo.stderr and (tmp_path / "demo" / "feeds" / "all.rss").is_file()
    db = f"sqlite:///{tmp_path / 'demo' / 'newswire.db'}"
    commands = {
        "status": ("status", "--db", db),
        "status --json": ("status", "--db", db, "--json"),
        "stories": ("stories", "--db", db),
        "outlets": ("outlets", "--db", db),
        "feeds": ("feeds", "--db", db, "--out", str(tmp_path / "published"), "--base-url", "https://news.example/"),
        "export": ("export", "--db", db, "--format", "parquet", "--out", str(tmp_path / "corpus.parquet")),
        "export csv": ("export", "--db", db, "--format", "csv", "--out", str(tmp_path / "corpus.csv")),
        "export warc": ("export", "--db", db, "--format", "warc", "--out", str(tmp_path / "corpus.warc.gz")),
        "reextract": ("reextract", "--db", db, "--sources", str(tmp_path / "demo" / "sources.toml")),
    }
    for name, args in commands.items():
        result = _newswire_without_extras(*args, cwd=tmp_path)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
    assert (tmp_path / "published" / "all.atom").is_file() and (tmp_path / "corpus.parquet").stat().st_size > 1000
    with socket.socket() as probe:  # a free loopback port for `serve`
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", _HIDE + f"from crawler.cli import main\nsys.argv = {_serve_args(db, port)!r}\nmain()"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        page = _get_when_up(f"http://127.0.0.1:{port}/", server)
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert b"<html" in page.lower(), err.decode()[-2000:]
    shared = _newswire_without_extras("status", "--db", db, "--frontier", "redis://127.0.0.1:6379/0", cwd=tmp_path)
    assert shared.returncode == 2 and "newswire[distributed]" in shared.stderr, shared.stderr[-2000:]


def _serve_args(db: str, port: int) -> list[str]:
    return ["newswire", "serve", "--db", db, "--port", str(port), "--base-url", f"http://127.0.0.1:{port}/"]


def _get_when_up(url: str, server: subprocess.Popen[bytes], within: float = 60) -> bytes:
    """GET `url` once the server answers (a bounded wait); fail if the server exits first."""
    deadline = time.monotonic() + within
    while True:
        if server.poll() is not None:
            raise AssertionError(f"serve exited {server.returncode}: {server.stderr.read().decode()[-2000:]}")
        try:
            status, _headers, body = fetch(url)
            if status == 200:
                return body
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {within:.0f} s")
        time.sleep(0.2)


def test_a_base_install_asked_for_an_extra_says_which_in_one_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    (tmp_path / "sources.toml").write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n')
    cases = [
        (("crawl", "--frontier", "redis://127.0.0.1:6379/0", "--db", db), "newswire[distributed]"),
        (("worker", "--frontier", "redis://127.0.0.1:6379/0", "--db", db), "newswire[distributed]"),
        (("status", "--db", "postgresql+psycopg://postgres@127.0.0.1:5432/test"), "newswire[postgres]"),
        (("crawl", "--db", "postgresql+psycopg://postgres@127.0.0.1:5432/test"), "newswire[postgres]"),
    ]
    for args, extra in cases:
        result = _newswire_without_extras(*args, cwd=tmp_path)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (args, result.stderr[-2000:])
        assert len(lines) == 1 and lines[0].startswith("newswire: error:") and extra in lines[0], (args, lines)


LOCKED_EXTRAS = ("postgres", "distributed", "test")  # what constraints.txt covers (.ci/refresh-lock)


def test_the_lock_pins_every_requirement_within_its_bounds():
    """constraints.txt holds every package pyproject.toml asks for (the base install and the locked extras), each
    at a version its lower bound allows: a dependency added without refreshing the lock fails here."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [
        *project["dependencies"],
        *(r for extra in LOCKED_EXTRAS for r in project["optional-dependencies"][extra]),
    ]
    pins = {}
    for line in (PROJECT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", " ")):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    assert len(pins) > 50
    for spec in map(Requirement, wanted):
        pinned = pins.get(canonicalize_name(spec.name))
        assert pinned is not None, f"{spec.name} is not in constraints.txt: run bash .ci/refresh-lock"
        assert spec.specifier.contains(pinned, prereleases=True), f"{spec.name}=={pinned} is outside {spec}"
