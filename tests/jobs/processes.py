"""Processes for the multi-process job tests, started with ``spawn`` so they share nothing with the test
but the database and the queue: an app process answering requests through its own app and engine, and
a job worker (``crm.jobs.queue.run_worker``, what ``flask jobs worker`` runs)."""
from __future__ import annotations

import hashlib
import time
import traceback


def settings(url: str, queue_url: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": url, "JOBS_QUEUE_URL": queue_url, "JOBS_IN_PROCESS": False,
            "JOBS_HEARTBEAT_SECONDS": 1, "JOBS_STALE_SECONDS": 3, "PROPAGATE_EXCEPTIONS": False}


def app_process(url: str, queue_url: str, password: str, commands, results) -> None:
    """Answer commands ``{"user", "method", "path", "data"?}`` with what the browser would see."""
    try:
        import io

        from crm import create_app

        app = create_app("testing", settings(url, queue_url))
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
            data = dict(command.get("data") or {})
            for name, value in list(data.items()):
                if isinstance(value, tuple):  # (bytes, filename): a file field
                    data[name] = (io.BytesIO(value[0]), value[1])
            if command["method"] == "get":
                response = client.get(command["path"])
            else:
                response = client.post(command["path"], data=data, content_type="multipart/form-data")
            body = response.get_data()
            answer = {"status": response.status_code, "location": response.headers.get("Location", ""),
                      "mimetype": response.mimetype, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            if response.mimetype.startswith(("text/", "application/json")):
                answer["text"] = body.decode("utf-8", "replace")
            results.put(answer)
    except Exception:
        results.put({"error": traceback.format_exc()})


def worker_process(url: str, queue_url: str, pause_stage: str | None = None, paused=None) -> None:
    """A job worker. With ``pause_stage``, it stops for a long while right after reporting that stage
    (setting ``paused``), so a test can kill it in the middle of a job."""
    from crm import create_app
    from crm.jobs import queue, service

    if pause_stage:
        real = service.Progress.__call__

        def pausing(progress, done, total, stage):
            real(progress, done, total, stage)
            if stage == pause_stage:
                paused.set()
                time.sleep(600)

        service.Progress.__call__ = pausing
    app = create_app("testing", settings(url, queue_url))
    queue.run_worker(app, workers=1)
