"""Feeds: pure builders (entries in, RSS/Atom/JSON Feed bytes out), HTML sanitizing, feed files and the feed server."""
