"""The password policy (ASVS 2.1): 8 to 64 characters, not a common password, not the username.

No composition rules (ASVS 2.1.9): any character counts, spaces and Chinese included.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_LENGTH = 8
MAX_LENGTH = 64
# A username this short would refuse too much if any password containing it were refused.
MIN_USERNAME_TO_MATCH = 3
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(
            line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
        )


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be used (a Chinese sentence for the person), or None if it may."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 位"
    lowered = password.lower()
    if lowered in common_passwords():
        return "这是常见密码，容易被猜中，请换一个"
    name = (username or "").strip().lower()
    if name and (lowered == name or (len(name) >= MIN_USERNAME_TO_MATCH and name in lowered)):
        return "密码不能包含用户名"
    return None
