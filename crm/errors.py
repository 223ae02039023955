"""Errors a service raises for the person at the keyboard; messages are Chinese and name the field."""
from __future__ import annotations


class ServiceError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(ServiceError):
    """Someone saved the record after this form was opened."""

    def __init__(self):
        super().__init__("该记录已被他人修改，请刷新页面查看最新内容后再保存。", field="version")


def check_version(record, submitted_version) -> None:
    """Refuse a save based on another version of the record than the one stored now.

    ``None`` is a caller with no form (CLI, import, tests): nothing to compare. A form posted without its
    version (``""``) is refused as stale, so leaving the field out cannot skip the check.
    """
    if submitted_version is None:
        return
    try:
        version = int(submitted_version)
    except (TypeError, ValueError):
        raise StaleEdit() from None  # not a version this application ever rendered
    if version != record.version:
        raise StaleEdit()
