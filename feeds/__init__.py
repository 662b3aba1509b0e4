"""Feeds: pure builders (entries in, RSS/Atom bytes out), HTML sanitizing, and writing feed files."""
