"""Every page, in a real browser, under the app's Content-Security-Policy: no violation, no console error.

For the city admin, a zone chief and an officer of the demo city: every GET page of ``app.url_map``
that takes no argument, one instance of each page that takes one (a project, visit and enterprise of
the user's zone, the aluminium chain map and gap report, a segment and a firm's mapping page, admin
pages, account pages), the zone-filtered dashboard and chain views, and an import run through the
pages (upload → preview → commit → batch receipt). Each page is loaded, its scripts are given time to
run, and the ``page`` fixture (tests/browser/conftest.py) fails the test on any CSP violation or
console error; the walk also stops at the first page that reports one, naming it.

A GET page added to the app without an entry here fails ``test_every_page_is_walked``.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tests.imports.builders import xlsx
from tests.security import figures

pytestmark = [pytest.mark.no_db, pytest.mark.browser]

CHAIN = "aluminium"
# GET rules that are not pages to walk, and why.
NOT_PAGES = {
    "static": "files",
    "main.healthz": "JSON for the load balancer",
    "auth.login": "walked by sign_in, before the user is signed in",
    "auth.two_factor": "exists only between the password and the code (a demo user has no second factor)",
    "imports.preview": "walked after the upload of the import run",
    "imports.batch": "walked after the commit of the import run",
    "jobs.download": "a file (a job's result)",
}
SCRIPT_WAIT_MS = 300
WALKED: dict[str, dict[str, int]] = {}  # user → endpoint → HTTP status


def _is_file(rule: str) -> bool:
    return rule.endswith((".json", ".xlsx"))


def _page_rules(app) -> dict[str, object]:
    return {r.endpoint: r for r in app.url_map.iter_rules()
            if "GET" in r.methods and not _is_file(r.rule) and r.endpoint not in NOT_PAGES
            and not r.rule.startswith("/api/v1/")}  # JSON for token holders (tests/api), not pages


def _urls(app, username: str) -> list[tuple[str, str]]:
    """(endpoint, URL) for every page, with records of the user's own zone(s) for the arguments."""
    from flask import url_for

    from crm.extensions import db
    from crm.catalog.models import Chain, Segment
    from crm.library.models import Enterprise
    from crm.pipeline.models import Project
    from crm.accounts.models import User
    from crm.visits.models import Visit
    from crm.accounts.zones import Zone
    from crm.permissions import scope

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        project = db.session.scalars(scope(select(Project), Project, user).order_by(Project.id)).first()
        visit = db.session.scalars(scope(select(Visit), Visit, user).order_by(Visit.id)).first()
        enterprise = db.session.scalars(select(Enterprise).where(Enterprise.deleted_at.is_(None))
                                        .order_by(Enterprise.id)).first()
        segment = db.session.scalars(select(Segment).join(Chain, Segment.chain_id == Chain.id)
                                     .where(Chain.code == CHAIN).order_by(Segment.sort_order)).first()
        zone = user.zones[0] if user.zones else db.session.scalars(select(Zone).order_by(Zone.id)).first()
        other_user = db.session.scalars(select(User).where(User.id != user.id).order_by(User.id)).first()
        # A contact and a note are the zone's own: the user's own, on the firm walked.
        from crm.audit.log import acting_as
        from crm.library.service import add_contact, add_note

        with acting_as(db.session, user):
            contact = add_contact(user, enterprise, {"name": f"CSP巡检联系人{username}"})
            note = add_note(user, enterprise, f"CSP巡检备注{username}")
        # A job of the user's, running: its page draws the progress bar and static/js/jobs.js polls it.
        from crm.db import utcnow
        from crm.jobs.models import Job

        job = Job(kind="ledger_export", title=f"CSP巡检任务{username}", owner_id=user.id, state="running",
                  params={}, done=3, total=10, stage="生成台账", started_at=utcnow(), heartbeat_at=utcnow())
        db.session.add(job)
        # An upload of 亩均效益 figures waiting at its dry run (the user's own; its page is the preview).
        from crm.imports.uploads import save_upload

        upload = save_upload(user, zone, "efficiency", "CSP巡检亩均.xlsx",
                             xlsx([["企业名称", "税收（万元）"], ["CSP巡检亩均企业有限公司", 10]]), local=True)

        # 标准地: a parcel of the zone; its pages and 履约监管's open on a signed project.
        from crm.land.service import create_parcel
        from crm.permissions import SYSTEM

        with acting_as(db.session, None):
            parcel = create_parcel(SYSTEM, zone.id, {"code": f"CSP巡检地块{username}", "area": 50, "use": "工业",
                                                     "investment_intensity": 300, "environmental_terms": "废水达标排放"})
        signed = db.session.scalars(scope(select(Project), Project, user).where(
            Project.signed_date.is_not(None), Project.stage != "终止").order_by(Project.id)).first()

        # A 企业诉求 of the user's zone (its page draws the advance form).
        from datetime import date

        from crm.service.models import EnterpriseRequest

        request_ = EnterpriseRequest(zone_id=zone.id, enterprise_id=enterprise.id, category="审批",
                                     received_on=date.today(), deadline=date.today(), description="CSP巡检诉求")
        db.session.add(request_)
        db.session.commit()
        local = db.session.scalars(select(Enterprise).where(  # a firm local to the zone: 包保 and 企业测评
            Enterprise.zone_id == zone.id, Enterprise.deleted_at.is_(None)).order_by(Enterprise.id)).first()
        arguments = {
            "project_id": project.id, "visit_id": visit.id, "enterprise_id": enterprise.id, "code": CHAIN,
            "segment_id": segment.id, "user_id": other_user.id, "zone_id": zone.id,
            "contact_id": contact.id, "note_id": note.id, "job_id": job.id, "token": upload.token,
            "parcel_id": parcel.id,
            "request_id": request_.id,
        }
        with app.test_request_context():
            urls = []
            for endpoint, rule in sorted(_page_rules(app).items()):
                missing = set(rule.arguments) - set(arguments)
                assert not missing, f"{rule.rule}: teach the walk a value for {sorted(missing)}"
                urls.append((endpoint, url_for(endpoint, **{a: arguments[a] for a in rule.arguments})))
            query = {
                "projects.new": {"enterprise_id": enterprise.id}, "visits.new": {"enterprise_id": enterprise.id},
                "service.new": {"enterprise_id": local.id}, "service.assign": {"enterprise_id": local.id},
                "service.rate_officer": {"enterprise_id": local.id},
            }
            for endpoint in ("land.project", "compliance.project"):
                query[endpoint] = {"project_id": signed.id}
            urls = [(e, url_for(e, **query[e])) if e in query else (e, u) for e, u in urls]
            # 亩均效益 pages are a local firm's: one of the user's zone.
            local = db.session.scalars(select(Enterprise).where(Enterprise.zone_id == zone.id,
                                                                Enterprise.deleted_at.is_(None))
                                       .order_by(Enterprise.id)).first()
            urls = [(e, url_for(e, enterprise_id=local.id)) if e in ("efficiency.firm", "efficiency.figures")
                    else (e, u) for e, u in urls]
            # The same pages narrowed to a zone, where the page offers a zone choice; the trash by kind.
            urls += [("main.dashboard", url_for("main.dashboard", zone_id=zone.id)),
                     ("chains.map", url_for("chains.map", code=CHAIN, zone_id=zone.id)),
                     ("chains.gaps", url_for("chains.gaps", code=CHAIN, zone_id=zone.id)),
                     ("projects.index", url_for("projects.index", q="铝", sort="-updated")),
                     ("admin.trash", url_for("admin.trash", kind="visit")),
                     ("admin.trash", url_for("admin.trash", kind="enterprise")),
                     ("admin.trash", url_for("admin.trash", kind="mapping"))]
        db.session.remove()
    return urls


def _check(page, browser_log, where: str) -> None:
    assert browser_log.csp_violations == [], f"CSP violation on {where}: {browser_log.csp_violations}"
    assert browser_log.console_errors == [], f"console error on {where}: {browser_log.console_errors}"


def _visit(page, browser_log, url: str) -> int:
    response = page.goto(url)
    page.wait_for_timeout(SCRIPT_WAIT_MS)  # charts fetch their data and draw after load
    _check(page, browser_log, url)
    assert response is not None
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), url
    return response.status


def _import_run(page, browser_log, tmp_path, username: str, statuses: dict) -> None:
    """Upload a one-firm ledger, see its preview, commit it, see the batch receipt."""
    ledger = tmp_path / f"CSP巡检-{username}.xlsx"
    ledger.write_bytes(xlsx([["企业名称", "统一社会信用代码"], [f"CSP巡检企业（{username}）有限公司", None]]))
    page.goto("/imports/")
    page.get_by_label("台账文件（.xlsx 或 .csv）").set_input_files(str(ledger))
    page.get_by_label("导入内容").select_option("enterprises")
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_url(re.compile(r"/imports/[A-Za-z0-9_-]{32}$"))
    page.wait_for_timeout(SCRIPT_WAIT_MS)
    _check(page, browser_log, page.url)
    statuses["imports.preview"] = 200
    page.once("dialog", lambda dialog: dialog.accept())  # the “确认导入？” confirmation (data-confirm)
    page.get_by_test_id("commit").click()
    page.wait_for_url(re.compile(r"/imports/batches/\d+$"))
    page.wait_for_timeout(SCRIPT_WAIT_MS)
    _check(page, browser_log, page.url)
    statuses["imports.batch"] = 200


@pytest.mark.parametrize("username", ["admin", "chief1", "officer1"])
def test_every_page_runs_under_the_csp(username, page, browser_log, live_server, tmp_path):
    sign_in(page, username)
    _check(page, browser_log, "/login")
    statuses: dict[str, int] = {"auth.login": 200}
    for endpoint, url in _urls(live_server.app, username):
        # Asked first without drawing it: Chromium logs a refused page (403) as a console error.
        status = page.context.request.get(url, max_redirects=0).status
        assert status in (200, 302, 403), f"{url} as {username}: HTTP {status}"
        if status != 403:
            assert _visit(page, browser_log, url) == 200, url
            STATS["pages"] += 1
            status = 200
        statuses[endpoint] = 200 if 200 in (status, statuses.get(endpoint)) else status
    _import_run(page, browser_log, tmp_path, username, statuses)
    STATS["pages"] += 2
    WALKED[username] = statuses
    if username == "admin":  # the admin may open every page: each one was drawn, not refused
        refused = sorted(e for e, s in statuses.items() if s != 200)
        assert not refused, f"the admin was refused {refused}"
    print(f"\nCSP walk as {username}: {len(statuses)} pages, {sum(1 for s in statuses.values() if s == 200)} "
          f"drawn (HTTP 200), {STATS['pages']} page loads so far")


STATS = {"pages": 0}


def test_every_page_is_walked(live_server, pytestconfig):
    """A GET page added to the app must be walked (or listed in NOT_PAGES with the reason)."""
    pages = set(_page_rules(live_server.app)) | {"imports.preview", "imports.batch", "auth.login"}
    if "admin" not in WALKED:
        pytest.skip("the walk did not run in this session (run the whole module)")
    assert pages <= set(WALKED["admin"]), sorted(pages - set(WALKED["admin"]))
    summary = f"{len(pages)} distinct pages, {STATS['pages']} page loads over {len(WALKED)} users: " + ", ".join(
        f"{user} {sum(1 for s in statuses.values() if s == 200)}" for user, statuses in WALKED.items())
    print(f"\nCSP walk: {summary}")
    figures.record(pytestconfig, "CSP walk (browser)", "pages without a CSP violation or console error", summary)
