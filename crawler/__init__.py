"""newswire's crawler: the Scrapy project, the registry of outlets, extraction and the CLI."""

__version__ = "0.1.0"
