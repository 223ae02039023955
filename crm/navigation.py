"""The navigation bar, by role: each entry is shown only to roles that can use it."""
from __future__ import annotations

from flask import current_app, url_for
from flask_login import current_user

NAV = (
    ("main.dashboard", "工作台", "main.", None),
    ("visits.my_work", "我的工作", "visits.my_work", {"officer", "chief", "admin"}),
    ("enterprises.index", "企业库", "enterprises.", None),
    ("projects.index", "项目库", "projects.index", None),
    ("projects.board", "项目看板", "projects.board", None),
    ("visits.index", "走访洽谈", "visits.index", None),
    ("chains.index", "产业链", "chains.", None),
    ("imports.index", "导入", "imports.", {"officer", "chief", "admin"}),
    ("reports.index", "报表", "reports.", {"chief", "admin", "viewer"}),
    ("jobs.index", "我的任务", "jobs.", None),
    ("admin.index", "系统管理", "admin.", {"admin"}),
)


def nav_items() -> list[dict]:
    items = []
    for endpoint, label, prefix, roles in NAV:
        if endpoint not in current_app.view_functions:
            continue
        if roles is not None and current_user.role not in roles:
            continue
        items.append({"url": url_for(endpoint), "label": label, "prefix": prefix})
    return items
