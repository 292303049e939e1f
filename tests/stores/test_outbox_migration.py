"""Migration 0004 on a database that already holds mail: bodies of delivered and given-up
messages go, waiting ones keep theirs; it runs back down too."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import column
from sqlalchemy import create_engine
from sqlalchemy import insert
from sqlalchemy import table
from sqlalchemy import text

from idp.stores.db import UTCDateTime
from idp.stores.migrate import alembic_config
from idp.stores.migrate import upgrade
from tests.conftest import DATABASE
from tests.conftest import postgresql_database

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def fresh_url(tmp_path) -> Iterator[str]:
    if DATABASE == "postgresql":
        with postgresql_database(f"idp_mig_{uuid.uuid4().hex[:8]}") as url:
            yield url
    else:
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        upgrade(url)
        yield url


def test_delivered_and_given_up_bodies_are_dropped_by_the_upgrade(fresh_url):
    from alembic import command

    command.downgrade(alembic_config(fresh_url), "0003")
    engine = create_engine(fresh_url)
    try:
        with engine.begin() as conn:
            # The table as 0003 left it (no template column), with the service's own date type.
            outbox = table("mail_outbox", *(column(n, UTCDateTime()) for n in ("created_at", "next_attempt_at",
                           "sent_at", "failed_at")), column("to_addr"), column("subject"), column("body_text"),
                           column("attempts"))
            for subject, sent, failed in (("waiting", None, None), ("sent", NOW, None), ("failed", None, NOW)):
                conn.execute(insert(outbox).values(
                    created_at=NOW, next_attempt_at=NOW, sent_at=sent, failed_at=failed, to_addr="a@example.com",
                    subject=subject, body_text="unlock: https://x/unlock/t", attempts=1))
        upgrade(fresh_url)
        with engine.connect() as conn:
            bodies = dict(conn.execute(text("SELECT subject, body_text FROM mail_outbox")).all())
        assert bodies == {"waiting": "unlock: https://x/unlock/t", "sent": None, "failed": None}
        command.downgrade(alembic_config(fresh_url), "0003")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM mail_outbox")).scalar() == 3
    finally:
        engine.dispose()
