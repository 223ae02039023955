"""A database of its own per concurrency module: a SQLite file always, and a scratch PostgreSQL database
in the run that names one (``TEST_DATABASE_URL``: .ci/run's second pass), so no test skips."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgres_url(suffix: str) -> str | None:
    """The scratch database ``<test database>_<suffix>`` on the test run's server, or None."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    parts = make_url(url)
    return parts.set(database=f"{parts.database}_{suffix}").render_as_string(hide_password=False)


def backends(suffix: str) -> list[str]:
    return ["sqlite"] + (["postgresql"] if postgres_url(suffix) else [])


def scratch_database(backend: str, tmp_path_factory, suffix: str):
    """Yield the URL of an empty database (made anew, dropped afterwards on PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(suffix) / f'{suffix}.db'}"
        return
    url = postgres_url(suffix)
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
