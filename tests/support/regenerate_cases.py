"""Rewrite tests/cases/<name>/output.json from the current extraction: run from the project root as

    python -m tests.support.regenerate_cases            # every case
    python -m tests.support.regenerate_cases NAME ...   # these cases

then review `git diff tests/cases`: the diff is what the extraction change did to each saved page.
"""

from __future__ import annotations

import argparse

from tests.support.cases import CASES_DIR, OUTPUT, case_dirs, extract_case, record_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="case names (directories of tests/cases); default: all")
    args = parser.parse_args(argv)
    cases = case_dirs()
    unknown = set(args.names) - {case.name for case in cases}
    if unknown:
        parser.error(f"no such case in {CASES_DIR}: {', '.join(sorted(unknown))}")
    for case in cases:
        if args.names and case.name not in args.names:
            continue
        path = case / OUTPUT
        text = record_json(extract_case(case))
        old = path.read_text(encoding="utf-8") if path.exists() else None
        path.write_text(text, encoding="utf-8")
        print(f"{case.name}: {'unchanged' if old == text else 'written' if old is None else 'changed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
