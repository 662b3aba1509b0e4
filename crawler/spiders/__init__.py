"""Spiders: navigation only (which URLs to fetch); parsing lives in crawler.listings and crawler.extract."""
