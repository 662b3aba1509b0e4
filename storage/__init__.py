"""Storage: typed SQLAlchemy models, engine set-up, repository functions, dedup helpers and export."""
