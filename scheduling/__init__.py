"""Scheduling: when crawls run (cron entries, a foreground scheduler, locks). One crawl is one OS process."""
