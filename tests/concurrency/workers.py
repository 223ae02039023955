"""A worker process for the concurrency tests: its own app, engine and signed-in test clients.

Started with the ``spawn`` method, so nothing is shared with the parent but the database file or
server. It answers commands from its queue until it gets ``None``: each command is a POST made by
a user signed in through the real sign-in form, optionally after waiting at a barrier with the
other workers, so that several processes hit the same record at the same moment.
"""
from __future__ import annotations

import time
import traceback

STALE_TEXT = "已被他人修改"
LOCKED_TEXT = "database is locked"


def _slow(function, state):
    """Wrap a service so it sleeps before doing its work: every racer reads before any writes."""

    def wrapped(*args, **kwargs):
        if state["delay"]:
            time.sleep(state["delay"])
        return function(*args, **kwargs)

    return wrapped


def run(url: str, password: str, commands, results, barrier) -> None:
    try:
        from crm import create_app
        from crm.pipeline import service as project_service
        from crm.visits import service as visit_service

        state = {"delay": 0.0}
        project_service.update_project = _slow(project_service.update_project, state)
        visit_service.update_visit = _slow(visit_service.update_visit, state)
        # As in production: an unhandled error is a 500 page, not an exception in the test client.
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "PROPAGATE_EXCEPTIONS": False})
        clients = {}

        def client_for(username):
            if username not in clients:
                client = app.test_client()
                response = client.post("/login", data={"username": username, "password": password})
                if response.status_code != 302:
                    raise RuntimeError(f"sign-in of {username} failed: HTTP {response.status_code}")
                clients[username] = client
            return clients[username]

        results.put({"ready": True})
        while (command := commands.get()) is not None:
            client = client_for(command["user"])
            state["delay"] = command.get("delay", 0.0)
            if command.get("sync"):
                barrier.wait(timeout=30)
            outcomes = []
            for data in command["posts"]:
                response = client.post(command["path"], data=data)
                body = response.get_data(as_text=True)
                flashes = ""
                if 300 <= response.status_code < 400:
                    # Follow once to read the flash the user would see.
                    followed = client.get(response.headers["Location"])
                    flashes = followed.get_data(as_text=True)
                outcomes.append({
                    "status": response.status_code,
                    "location": response.headers.get("Location", ""),
                    "stale": STALE_TEXT in body or STALE_TEXT in flashes,
                    "locked": LOCKED_TEXT in body or LOCKED_TEXT in flashes,
                })
            results.put({"user": command["user"], "outcomes": outcomes})
    except Exception:  # reported to the parent, which fails the test with it
        results.put({"error": traceback.format_exc()})


def hold_lock(url: str, commands, results) -> None:
    """Another writer: for each command, take the database's write lock, say "locked", and hold it for
    ``seconds`` or, without them, until the next command; then roll back and say "released".

    SQLite: BEGIN IMMEDIATE (readers go on, as WAL lets them). PostgreSQL: every table locked IN
    EXCLUSIVE MODE, which likewise lets reads through and makes every write wait.
    """
    try:
        if url.startswith("sqlite"):
            import sqlite3

            connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)

            def take() -> None:
                connection.execute("BEGIN IMMEDIATE")

            def release() -> None:
                connection.execute("ROLLBACK")
        else:
            import psycopg
            from sqlalchemy.engine import make_url

            parts = make_url(url)
            connection = psycopg.connect(host=parts.host, port=parts.port, user=parts.username,
                                         password=parts.password, dbname=parts.database)

            def take() -> None:
                tables = [row[0] for row in connection.execute(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'")]
                connection.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")

            def release() -> None:
                connection.rollback()
        results.put({"ready": True})
        while (command := commands.get()) is not None:
            take()
            results.put({"locked": True})
            if command.get("seconds") is not None:
                time.sleep(command["seconds"])
            else:
                commands.get()
            release()
            results.put({"released": True})
        connection.close()
    except Exception:  # reported to the parent, which fails the test with it
        results.put({"error": traceback.format_exc()})


def import_ledger(url: str, rows: int, results) -> None:
    """A large import: ``rows`` new enterprises from a CSV, committed with ``import_and_commit`` as the
    CLI and a job worker do. Says "ready" once the file is read, "writing"/"written" (monotonic
    clock) around the part that writes, then "done" with the batch's row count after the commit."""
    try:
        from crm import create_app
        from crm.audit.log import acting_as
        from crm.extensions import db
        from crm.accounts.zones import Zone
        from crm.imports import service
        from crm.permissions import SYSTEM
        from sqlalchemy import select
        from tests.factories import valid_uscc

        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        lines = ["企业名称,统一社会信用代码,所属行业,主营产品"]
        lines += [f"大批导入{i:06d}号精密制造有限公司,{valid_uscc(10_000_000 + i)},制造业,铝型材" for i in range(rows)]
        data = "\n".join(lines).encode("utf-8")
        real_write = service._write_staged

        def announced(*args, **kwargs):
            results.put({"writing": time.monotonic()})
            try:
                return real_write(*args, **kwargs)
            finally:
                results.put({"written": time.monotonic()})

        service._write_staged = announced
        with app.app_context():
            zone = db.session.scalar(select(Zone).order_by(Zone.id))
            table = service.read_table(data, "大批企业.csv", max_bytes=50 * 1024 * 1024, max_rows=rows)
            results.put({"ready": time.monotonic()})
            with acting_as(db.session, None):
                batch = service.import_and_commit(SYSTEM, "enterprises", table, None, zone,
                                                  "大批企业.csv")
            results.put({"done": time.monotonic(), "rows": batch.row_count})
            db.session.remove()
            db.engine.dispose()
    except Exception:  # reported to the parent, which fails the test with it
        results.put({"error": traceback.format_exc()})
