"""Write the security log (ASVS 7.1, 7.3): a row in ``security_events`` and one line to a logger.

Nothing commits here: the caller's request or command commits the entry with the rest of its work.
Text from outside (a username as typed, a detail) is escaped first, so a newline cannot start a
forged entry in a line-based log: ``\\n`` becomes the two characters backslash-n, any other C0/C1
control character or DEL becomes ``\\xNN``, U+2028/U+2029 ``\\uNNNN``, and a backslash is doubled
so that the escaped form stays unambiguous.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC

from flask import has_request_context, request

from crm.db import utcnow
from crm.extensions import db
from crm.accounts.security_events import SECURITY_EVENTS, SecurityEvent

logger = logging.getLogger("lianzhao.security")
# Failures and refusals are warnings, so they reach a log configured at WARNING.
_WARNINGS = frozenset({"login_failed", "login_throttled", "totp_failed"})


def escape_control(text: str | None) -> str:
    out = []
    for ch in text or "":
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def record_event(event: str, *, user=None, username: str | None = None, detail: str = "",
                 address: str | None = None) -> SecurityEvent:
    """Log ``event`` for ``user`` (or for the ``username`` typed, when no account matched).

    ``address`` defaults to the client address of the current request (after ProxyFix).
    """
    if event not in SECURITY_EVENTS:
        raise ValueError(f"unknown security event {event!r}")
    if address is None and has_request_context():
        address = request.remote_addr
    if username is None:
        username = user.username if user is not None else ""
    entry = SecurityEvent(
        at=utcnow(),
        event=event,
        user_id=user.id if user is not None else None,
        username=escape_control(username)[:300],
        address=escape_control(address)[:64],
        detail=escape_control(detail)[:500],
    )
    db.session.add(entry)
    logger.log(
        logging.WARNING if event in _WARNINGS else logging.INFO,
        "%s",
        json.dumps({
            "at": entry.at.astimezone(UTC).isoformat(timespec="seconds"),
            "event": event, "user_id": entry.user_id, "username": entry.username,
            "address": entry.address, "detail": entry.detail,
        }, ensure_ascii=False),
    )
    return entry
