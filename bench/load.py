"""Load test: gunicorn (production settings, 4 workers) on 127.0.0.1, driven from a second process.

    python -m bench.load [--database-url URL] [--users 50] [--seconds 60] [--workers 4]

The server runs ``deploy/gunicorn.conf.py`` against the city data set (``BENCH_DATABASE_URL_CITY``
or --database-url; PostgreSQL preferred), with Redis for rate-limit counters. The driver is a
separate process with one thread per virtual user: each signs in through the real form (CSRF
token parsed from it), then loops over a mixed workload — enterprise list and search, project
board, My work, dashboard, project detail, and logging a visit (GET the form, POST it with its
CSRF and one-time tokens) — until the time is up or its request budget is spent. Only 127.0.0.1
is ever contacted. It reports requests/s, p50/p95 and errors, then stops gunicorn.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MAX_REQUESTS_PER_USER = 2000
SEARCHES = ("铝箔", "lvbo", "电池", "光伏", "ly", "医药", "食品", "江州", "苏州", "hong")
TOKEN = re.compile(r'name="(csrf_token|submission_token)"[^>]*value="([^"]*)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Session:
    """One virtual user's cookies over plain HTTP/1.1 to 127.0.0.1."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        payload = None
        if body is not None:
            payload = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.getheader("Location", ""), data
        finally:
            connection.close()


def _tokens(html: bytes) -> dict[str, str]:
    return dict(TOKEN.findall(html.decode("utf-8", "replace")))


def drive(port: int, users: list[dict], seconds: float, seed: int, out: Path) -> None:
    """The load generator (a separate process): one thread per user, bounded in time and count."""
    deadline = time.monotonic() + seconds
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    error_examples: list[str] = []
    lock = threading.Lock()

    def record(kind: str, started: float, ok: bool, detail: str = "") -> None:
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            samples[kind].append(elapsed)
            if not ok:
                errors[kind] += 1
                if len(error_examples) < 10:
                    error_examples.append(f"{kind}: {detail}")

    def user_loop(index: int, user: dict) -> None:
        rng = random.Random(seed + index)
        session = Session(port)
        started = time.perf_counter()
        try:
            status, _, html = session.request("GET", "/login")
            tokens = _tokens(html)
            status, location, _ = session.request("POST", "/login", {
                "username": user["username"], "password": user["password"],
                "csrf_token": tokens.get("csrf_token", "")})
            record("sign in", started, status == 302, f"HTTP {status}")
            if status != 302:
                return
        except OSError as error:
            record("sign in", started, False, repr(error))
            return
        count = 0
        while time.monotonic() < deadline and count < MAX_REQUESTS_PER_USER:
            count += 1
            roll = rng.random()
            started = time.perf_counter()
            try:
                if roll < 0.12:
                    kind, path = "enterprise list", f"/enterprises/?page={rng.randint(1, 20)}"
                elif roll < 0.25:
                    kind, path = "enterprise search", "/enterprises/?" + urlencode({"q": rng.choice(SEARCHES)})
                elif roll < 0.37:
                    kind, path = "project board", "/projects/board"
                elif roll < 0.52:
                    kind, path = "my work", "/visits/my-work"
                elif roll < 0.65:
                    kind, path = "dashboard", "/"
                elif roll < 0.88:
                    kind, path = "project detail", f"/projects/{rng.choice(user['projects'])}"
                else:
                    project = rng.choice(user["projects_with_firm"])
                    status, _, html = session.request(
                        "GET", f"/visits/new?enterprise_id={project[1]}&project_id={project[0]}")
                    record("visit form", started, status == 200, f"HTTP {status}")
                    tokens = _tokens(html)
                    started = time.perf_counter()
                    status, location, _ = session.request(
                        "POST", f"/visits/new?enterprise_id={project[1]}", {
                            "csrf_token": tokens.get("csrf_token", ""),
                            "submission_token": tokens.get("submission_token", ""),
                            "project_id": str(project[0]), "kind": "上门拜访",
                            "visit_date": date.today().isoformat(), "our_leader": "招商局局长",
                            "summary": f"压测走访 {secrets.token_hex(4)}", "next_step": "安排现场考察",
                            "next_step_due": date.today().isoformat()})
                    record("log a visit", started, status == 302 and "/visits/" in location,
                           f"HTTP {status} → {location}")
                    continue
                status, _, _ = session.request("GET", path)
                record(kind, started, status == 200, f"HTTP {status} {path}")
            except OSError as error:
                record("connection", started, False, repr(error))

    threads = [threading.Thread(target=user_loop, args=(i, u), daemon=True) for i, u in enumerate(users)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    wall = time.perf_counter() - began
    every = [v for values in samples.values() for v in values]

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0

    report = {
        "seconds": round(wall, 1), "users": len(users), "requests": len(every),
        "rps": round(len(every) / wall, 1), "p50_ms": round(pct(every, 0.5), 1), "p95_ms": round(pct(every, 0.95), 1),
        "errors": sum(errors.values()), "error_examples": error_examples,
        "by_kind": {k: {"n": len(v), "p50_ms": round(pct(v, 0.5), 1), "p95_ms": round(pct(v, 0.95), 1),
                        "errors": errors.get(k, 0)} for k, v in sorted(samples.items())},
    }
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


def _users(database_url: str, count: int, password: str) -> list[dict]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        people = conn.execute(text(
            "SELECT u.username, uz.zone_id FROM users u JOIN user_zones uz ON uz.user_id = u.id "
            "WHERE u.role IN ('officer', 'chief') ORDER BY u.role DESC, u.id")).all()
        projects: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pid, zone_id, firm in conn.execute(text(
                "SELECT id, zone_id, enterprise_id FROM projects WHERE deleted_at IS NULL ORDER BY id")):
            if len(projects[zone_id]) < 500:
                projects[zone_id].append((pid, firm))
    engine.dispose()
    chosen = [people[i % len(people)] for i in range(count)]
    return [{"username": name, "password": password, "projects": [p for p, _ in projects[zone]],
             "projects_with_firm": projects[zone]} for name, zone in chosen]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL_CITY", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_city"))
    parser.add_argument("--redis-url", default=os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: run as the load generator
    args = parser.parse_args(argv)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    if args.drive:
        spec = json.loads(Path(args.drive).read_text())
        drive(spec["port"], spec["users"], spec["seconds"], spec["seed"], Path(spec["out"]))
        return 0

    from bench.generate import BENCH_PASSWORD

    url = args.database_url
    if url.startswith("sqlite"):
        print("note: SQLite under gunicorn needs ALLOW_SQLITE=1; PostgreSQL is the production recipe")
    port = _free_port()
    env = {**os.environ, "LIANZHAO_CONFIG": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "DATABASE_URL": url, "RATELIMIT_STORAGE_URI": args.redis_url, "GUNICORN_BIND": f"{HOST}:{port}",
           "GUNICORN_WORKERS": str(args.workers), "GUNICORN_ACCESS_LOG": str(out / "gunicorn-access.log"),
           "ALLOW_SQLITE": "1" if url.startswith("sqlite") else "0", "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = open(out / "gunicorn.log", "w")
    server = subprocess.Popen([str(gunicorn), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(120):
            try:
                status, _, _ = Session(port).request("GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"gunicorn did not answer on {HOST}:{port}; see {out / 'gunicorn.log'}")
        users = _users(url, args.users, BENCH_PASSWORD)
        spec = out / "load-spec.json"
        result_file = out / "load.json"
        spec.write_text(json.dumps({"port": port, "users": users, "seconds": args.seconds, "seed": args.seed,
                                    "out": str(result_file)}))
        print(f"gunicorn ({args.workers} workers) on {HOST}:{port} against {url}; "
              f"{args.users} users for {args.seconds:.0f}s", flush=True)
        subprocess.run([sys.executable, "-m", "bench.load", "--drive", str(spec)], cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True, timeout=args.seconds + 300)
        report = json.loads(result_file.read_text())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    print(f"{report['requests']} requests in {report['seconds']}s: {report['rps']} req/s, "
          f"p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, errors {report['errors']}")
    print(f"{'request':18} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}")
    for kind, row in report["by_kind"].items():
        print(f"{kind:18} {row['n']:>6} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['errors']:>6}")
    for example in report["error_examples"]:
        print("  error:", example)
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
