"""Failed sign-ins are throttled per account and per client address (ASVS 2.2.1)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from crm.accounts import service
from crm.accounts.throttle import LoginThrottle
from tests import factories as f
from tests.security.conftest import events, sign_in, signed_in_user_id

THROTTLED = "登录失败次数过多，请 15 分钟后再试"


@pytest.fixture
def password_checks(monkeypatch):
    """Count every password hash check the sign-in makes."""
    calls = []
    real = service.check_password_hash

    def counting(pwhash, password):
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(service, "check_password_hash", counting)
    return calls


def test_the_sixth_attempt_on_an_account_is_refused_unchecked_even_with_the_right_password(
        world, client, password_checks):
    # Five failures from five addresses: it is the account's count that runs out.
    for n in range(5):
        response = sign_in(client, "officer_a", f"wrong-password-{n}", address=f"198.51.100.{n + 1}")
        assert response.status_code == 200 and "用户名或密码错误" in response.get_data(as_text=True)
    assert len(password_checks) == 5
    response = sign_in(client, "officer_a", f.PASSWORD, address="198.51.100.99")
    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    assert len(password_checks) == 5  # no password was checked
    assert signed_in_user_id(client) is None
    # Any spelling of the account name counts against the same account.
    assert sign_in(client, " OFFICER_A ", f.PASSWORD, address="198.51.100.98").status_code == 429
    throttled = events("login_throttled")
    # Sign-in names are exact, so the second names no account; the log keeps what was typed.
    assert [(e.user_id, e.username, e.address) for e in throttled] == [
        (world.officer_a.id, "officer_a", "198.51.100.99"), (None, " OFFICER_A ", "198.51.100.98")]
    # Another account is not affected.
    assert sign_in(client, "chief_a", address="198.51.100.99").status_code == 302


def test_an_unknown_account_is_throttled_the_same_way(world, client):
    for n in range(5):
        assert sign_in(client, "nobody_here", f"wrong-password-{n}", address=f"198.51.100.{n + 1}").status_code == 200
    response = sign_in(client, "nobody_here", "wrong-password-x", address="198.51.100.50")
    assert response.status_code == 429 and THROTTLED in response.get_data(as_text=True)


def test_twenty_failures_from_one_address_throttle_that_address_for_every_account(world, client, password_checks):
    for n in range(20):
        # A different (mostly unknown) username every time: only the address is common.
        assert sign_in(client, f"guess{n}", "wrong-password-1", address="203.0.113.7").status_code == 200
    response = sign_in(client, "officer_a", f.PASSWORD, address="203.0.113.7")
    assert response.status_code == 429 and THROTTLED in response.get_data(as_text=True)
    assert len(password_checks) == 20
    # Another address is independent: the same right password signs in there.
    assert sign_in(client, "officer_a", f.PASSWORD, address="203.0.113.8").status_code == 302


def test_a_successful_sign_in_clears_the_accounts_count(world, client, fresh_client):
    for n in range(4):
        assert sign_in(client, "officer_a", f"wrong-password-{n}", address="198.51.100.1").status_code == 200
    other = fresh_client()
    assert sign_in(other, "officer_a", address="198.51.100.2").status_code == 302
    for n in range(5):  # a full five again
        assert sign_in(client, "officer_a", f"wrong-password-{n}", address="198.51.100.1").status_code == 200
    assert sign_in(client, "officer_a", address="198.51.100.1").status_code == 429


def test_a_success_does_not_clear_the_addresss_count(world, client):
    """Else an attacker with one good account could reset the count of the address they guess from."""
    for n in range(19):
        assert sign_in(client, f"guess{n}", "wrong-password-1", address="203.0.113.9").status_code == 200
    assert sign_in(client, "officer_b", address="203.0.113.9").status_code == 302
    client.post("/logout")
    assert sign_in(client, "guess-last", "wrong-password-1", address="203.0.113.9").status_code == 200
    assert sign_in(client, "officer_a", address="203.0.113.9").status_code == 429


def test_separate_addresses_count_separately(world, client):
    """38 failures in all, but 19 from each of two addresses: neither address is throttled."""
    for n in range(19):
        assert sign_in(client, f"guess{n}", "wrong-password-1", address="192.0.2.1").status_code == 200
        assert sign_in(client, f"other{n}", "wrong-password-1", address="192.0.2.2").status_code == 200
    assert sign_in(client, "officer_a", address="192.0.2.1").status_code == 302
    client.post("/logout")
    assert sign_in(client, "officer_b", address="192.0.2.2").status_code == 302


def test_the_wait_is_in_whole_minutes_and_shrinks_as_the_window_moves(app, monkeypatch):
    throttle = LoginThrottle.from_config({"RATELIMIT_STORAGE_URI": "memory://", "LOGIN_FAILURES_PER_ACCOUNT": 2,
                                          "LOGIN_FAILURES_PER_ADDRESS": 100, "LOGIN_FAILURE_WINDOW_MINUTES": 15})
    throttle.record_failure("u", "192.0.2.1")
    assert throttle.wait_seconds("u", "192.0.2.1") == 0
    throttle.record_failure("u", "192.0.2.1")
    wait = throttle.wait_seconds("u", "192.0.2.1")
    assert 14 * 60 < wait <= 15 * 60
    from crm.accounts.throttle import wait_message

    assert wait_message(wait) == THROTTLED
    assert wait_message(61) == "登录失败次数过多，请 2 分钟后再试"
    assert wait_message(1) == "登录失败次数过多，请 1 分钟后再试"


# --- the client address behind a proxy ------------------------------------------------------------


def test_without_proxy_fix_x_forwarded_for_is_ignored(world, app, client):
    assert not isinstance(app.wsgi_app, ProxyFix)
    client.post("/login", data={"username": "officer_a", "password": "wrong-password-1"},
                headers={"X-Forwarded-For": "203.0.113.50"})
    assert events("login_failed")[-1].address == "127.0.0.1"


def test_with_proxy_fix_the_forwarded_address_is_logged_and_throttled(world, app, client, monkeypatch):
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    for n in range(20):
        response = client.post("/login", data={"username": f"guess{n}", "password": "wrong-password-1"},
                               headers={"X-Forwarded-For": "203.0.113.50"})
        assert response.status_code == 200
    assert events("login_failed")[-1].address == "203.0.113.50"
    blocked = client.post("/login", data={"username": "officer_a", "password": f.PASSWORD},
                          headers={"X-Forwarded-For": "203.0.113.50"})
    assert blocked.status_code == 429
    # The proxy is one machine; its other clients are not throttled.
    allowed = client.post("/login", data={"username": "officer_a", "password": f.PASSWORD},
                          headers={"X-Forwarded-For": "203.0.113.51"})
    assert allowed.status_code == 302


@pytest.mark.no_db
@pytest.mark.parametrize(("hops", "forwarded", "expected"), [
    (0, "203.0.113.5", "127.0.0.1"),
    (1, "203.0.113.5", "203.0.113.5"),
    (1, "10.9.9.9, 203.0.113.5", "203.0.113.5"),  # only the last hop, the one our proxy added, is trusted
    (2, "198.51.100.4, 203.0.113.5", "198.51.100.4"),
])
def test_proxy_fix_x_for_sets_how_many_forwarded_hops_are_trusted(hops, forwarded, expected):
    from crm import create_app

    from flask import request

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "PROXY_FIX_X_FOR": hops})
    assert isinstance(app.wsgi_app, ProxyFix) == (hops > 0)
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    assert app.test_client().get("/healthz", headers={"X-Forwarded-For": forwarded}).status_code == 200
    assert seen == [expected]


# --- shared counts (Redis) -------------------------------------------------------------------------


@pytest.mark.no_db
def test_the_storage_comes_from_config_and_redis_is_not_contacted_at_start_up():
    from limits.storage import MemoryStorage, RedisStorage

    from crm import create_app
    from crm.accounts.throttle import EXTENSION_KEY

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert isinstance(app.extensions[EXTENSION_KEY].storage, MemoryStorage)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://",
                                 "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})  # nothing listens there
    assert isinstance(app.extensions[EXTENSION_KEY].storage, RedisStorage)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.no_db
def test_two_workers_on_redis_share_their_counts(redis_url):
    settings = {"RATELIMIT_STORAGE_URI": redis_url, "LOGIN_FAILURES_PER_ACCOUNT": 5,
                "LOGIN_FAILURES_PER_ADDRESS": 20, "LOGIN_FAILURE_WINDOW_MINUTES": 15}
    worker_1, worker_2 = LoginThrottle.from_config(settings), LoginThrottle.from_config(settings)
    for _ in range(3):
        worker_1.record_failure("officer_a", "192.0.2.1")
    for _ in range(2):
        worker_2.record_failure("Officer_A", "192.0.2.2")
    assert worker_1.wait_seconds("officer_a", "192.0.2.3") > 0
    assert worker_2.wait_seconds("officer_a", "192.0.2.3") > 0
    worker_2.clear_account("officer_a")
    assert worker_1.wait_seconds("officer_a", "192.0.2.3") == 0
    assert worker_1.wait_seconds("someone_else", "192.0.2.1") == 0
