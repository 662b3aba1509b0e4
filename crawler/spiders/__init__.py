"""Spiders: navigation only (which URLs to fetch); parsing lives in crawler.discovery.listings and crawler.extract."""
