"""What the tests share, one copy of each: paths (paths.py), the article factory (articles.py), the local
news web with a registry and a database beside it (newsweb.py), the database readers (db.py), the two
ways to run `newswire` (cli.py), and the saved extraction cases (cases.py; `python -m
tests.support.regenerate_cases` rewrites their output.json)."""
