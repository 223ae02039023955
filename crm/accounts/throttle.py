"""Sign-in throttling (ASVS 2.2.1): failed sign-ins counted per account and per client address.

Counts live in a ``limits`` storage: ``memory://`` counts per process, ``redis://`` lets every
worker share them. A moving window: an account with 5 failures in the last 15 minutes is refused
until the oldest of them is 15 minutes old. Refused attempts are not counted (so a refusal cannot
keep an account locked for ever) and check no password. A successful sign-in clears its account's
count; the address count is left to run out, or one good account would reset an attacker's address.
When the storage cannot be reached, sign-in fails (an error page) rather than going unthrottled.
"""
from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

EXTENSION_KEY = "lianzhao_login_throttle"


class LoginThrottle:
    def __init__(self, storage: Storage, per_account: int, per_address: int, window_minutes: int):
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.window_minutes = window_minutes
        self.account_limit = RateLimitItemPerMinute(per_account, window_minutes, namespace="lianzhao-login-account")
        self.address_limit = RateLimitItemPerMinute(per_address, window_minutes, namespace="lianzhao-login-address")

    @classmethod
    def from_config(cls, config) -> LoginThrottle:
        return cls(
            storage_from_string(config["RATELIMIT_STORAGE_URI"]),
            per_account=config["LOGIN_FAILURES_PER_ACCOUNT"],
            per_address=config["LOGIN_FAILURES_PER_ADDRESS"],
            window_minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"],
        )

    @staticmethod
    def account_key(username: str) -> str:
        # "Admin" and " admin" are the same account to an attacker guessing its password.
        return (username or "").strip().lower()[:64] or "-"

    def _checks(self, username: str, address: str | None):
        yield self.account_limit, self.account_key(username)
        yield self.address_limit, address or "-"

    def wait_seconds(self, username: str, address: str | None) -> int:
        """0 when a sign-in may be tried now, else the seconds until one may (at least 1)."""
        wait = 0.0
        now = time.time()
        for item, key in self._checks(username, address):
            if not self.limiter.test(item, key):
                reset_at = self.limiter.get_window_stats(item, key).reset_time
                wait = max(wait, reset_at - now, 1)
        return math.ceil(wait)

    def record_failure(self, username: str, address: str | None) -> None:
        for item, key in self._checks(username, address):
            self.limiter.hit(item, key)

    def clear_account(self, username: str) -> None:
        self.limiter.clear(self.account_limit, self.account_key(username))


def init_throttle(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = LoginThrottle.from_config(app.config)


def login_throttle() -> LoginThrottle:
    return current_app.extensions[EXTENSION_KEY]


def wait_message(seconds: int) -> str:
    return f"登录失败次数过多，请 {max(1, math.ceil(seconds / 60))} 分钟后再试"
