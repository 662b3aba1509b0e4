"""newswire's test suite: a package, so its modules import each other as `tests.…` and pytest imports each
test module once, under one name (rootdir-relative, with the project root on sys.path)."""
