"""The navigation bar: each entry is shown only to those the policy lets use it."""
from __future__ import annotations

from flask import current_app, url_for
from flask_login import current_user

from crm.permissions import can

# endpoint, label, the prefix that marks it active, the action it needs (None: every signed-in user)
NAV = (
    ("main.dashboard", "工作台", "main.", None),
    ("visits.my_work", "我的工作", "visits.my_work", "zone.write"),
    ("enterprises.index", "企业库", "enterprises.", None),
    ("projects.index", "项目库", "projects.index", None),
    ("projects.board", "项目看板", "projects.board", None),
    ("visits.index", "走访洽谈", "visits.index", None),
    ("service.index", "企业服务", "service.", None),
    ("chains.index", "产业链", "chains.", None),
    ("compliance.index", "履约监管", "compliance.", None),
    ("land.index", "标准地", "land.", None),
    ("imports.index", "导入", "imports.", "import.run"),
    ("reports.index", "报表", "reports.", "reports.read"),
    ("efficiency.index", "亩均评价", "efficiency.", "reports.read"),
    ("jobs.index", "我的任务", "jobs.", None),
    ("admin.index", "系统管理", "admin.", "admin.manage"),
)


def nav_items() -> list[dict]:
    items = []
    for endpoint, label, prefix, action in NAV:
        if endpoint not in current_app.view_functions:
            continue
        if action is not None and not can(current_user, action):
            continue
        items.append({"url": url_for(endpoint), "label": label, "prefix": prefix})
    return items
