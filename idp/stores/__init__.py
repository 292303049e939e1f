"""Storage: the only package that talks to SQL (SQLAlchemy) or Redis (redis-py)."""
