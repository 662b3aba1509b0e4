"""newswire's own Scrapy signals (sent with crawler.signals.send_catch_log)."""

article_stored = object()
"""A new article was stored. Arguments: `item` (the ExtractedArticle). The spider follows its citations
(--follow-citations) from here: pipelines store, spiders navigate."""
