"""`python -m crawler` runs the newswire CLI."""

from crawler.cli import main

if __name__ == "__main__":
    main()
