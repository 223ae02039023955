"""The access matrix: every rule in ``app.url_map``, for every role, on a record of the caller's zone
and on one of another zone, answers what this table says.

Answers: 200; LOGIN (302 to the sign-in page); MOVED (302 elsewhere: the form's redirect after the
action, or the page it sends a signed-in user to); 403 (the role may not use the route at all); 404
(the record is another zone's, or, for an upload, another person's: never 403, which would confirm
that it exists). A POST is a plausible submission from the page's own form (tests/security/routes.py).

Columns, in order: anonymous, officer_a, chief_a, viewer_a, admin (the a's work in 甲园区). "own"
is a record of 甲园区, "other" one of 乙园区 (officer_b's). Routes without a zone-bound argument have
one row, "any". GET rows are for routes answering GET, POST rows for those accepting POST; a route
accepting both has both. A rule added to the app without a row here fails
``test_every_route_has_a_row``.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm import create_app
from crm.audit.models import AuditEntry
from crm.extensions import db
from tests.security import figures
from tests.security.routes import ROLES, Targets, post_data

LOGIN = "302→/login"
MOVED = "302→elsewhere"
# The route answers MOVED with the policy's refusal flashed (the record stays as it was).
REFUSED = "302→elsewhere, refused"
L, M, R = LOGIN, MOVED, REFUSED

# Shorthands for common rows (anonymous, officer_a, chief_a, viewer_a, admin).
ANY_READ = (L, 200, 200, 200, 200)
OTHER_404 = (L, 404, 404, 404, 200)
WRITE_GET = (L, 200, 200, 403, 200)
WRITE_POST = (L, M, M, 403, M)
WRITE_GET_OTHER = (L, 404, 404, 403, 200)
WRITE_POST_OTHER = (L, 404, 404, 403, M)
ADMIN_GET = (L, 403, 403, 403, 200)
ADMIN_POST = (L, 403, 403, 403, M)
SIGNED_IN_POST = (L, M, M, M, M)


def any_(expected):
    return {"any": expected}


def zoned(own, other):
    return {"own": own, "other": other}


# endpoint: (path template, {method: {ownership: expected per role}})
MATRIX: dict[str, tuple[str, dict]] = {
    # --- sign-in and the account ---------------------------------------------------------------
    "auth.login": ("/login", {"GET": any_((200, M, M, M, M)), "POST": any_((M, M, M, M, M))}),
    "auth.two_factor": ("/login/2fa", {"GET": any_((L, M, M, M, M)), "POST": any_((L, M, M, M, M))}),
    "auth.logout": ("/logout", {"POST": any_((L, L, L, L, L))}),
    "auth.change_password": ("/account/password", {"GET": any_(ANY_READ), "POST": any_(SIGNED_IN_POST)}),
    "auth.two_factor_setup": ("/account/2fa", {"GET": any_(ANY_READ)}),
    "auth.two_factor_start": ("/account/2fa/start", {"POST": any_(SIGNED_IN_POST)}),
    "auth.two_factor_confirm": ("/account/2fa/confirm", {"POST": any_(SIGNED_IN_POST)}),
    "auth.two_factor_disable": ("/account/2fa/disable", {"POST": any_(SIGNED_IN_POST)}),
    # --- dashboard ---------------------------------------------------------------------------
    "main.dashboard": ("/?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "main.healthz": ("/healthz", {"GET": any_((200, 200, 200, 200, 200))}),
    # --- the city admin's pages ----------------------------------------------------------------
    "admin.index": ("/admin/", {"GET": any_((L, 403, 403, 403, M))}),
    "admin.users": ("/admin/users", {"GET": any_(ADMIN_GET)}),
    "admin.new_user": ("/admin/users/new", {"GET": any_(ADMIN_GET), "POST": any_(ADMIN_POST)}),
    "admin.edit_user": ("/admin/users/{user}", {"GET": zoned(ADMIN_GET, ADMIN_GET),
                                                "POST": zoned(ADMIN_POST, ADMIN_POST)}),
    "admin.revoke_user_sessions": ("/admin/users/{user}/revoke-sessions", {"POST": zoned(ADMIN_POST, ADMIN_POST)}),
    "admin.reset_user_two_factor": ("/admin/users/{user}/reset-2fa", {"POST": zoned(ADMIN_POST, ADMIN_POST)}),
    "admin.zones": ("/admin/zones", {"GET": any_(ADMIN_GET)}),
    "admin.zone_two_factor": ("/admin/zones/{zone}/2fa", {"POST": zoned(ADMIN_POST, ADMIN_POST)}),
    "admin.security_log": ("/admin/security-log", {"GET": any_(ADMIN_GET)}),
    "admin.audit": ("/admin/audit", {"GET": any_(ADMIN_GET)}),
    "admin.trash": ("/admin/trash", {"GET": any_(ADMIN_GET)}),
    "admin.restore": ("/admin/trash/project/{deleted_project}/restore", {"POST": zoned(ADMIN_POST, ADMIN_POST)}),
    "admin.first_reports": ("/admin/first-reports", {"GET": any_(ADMIN_GET)}),
    "admin.decide_first_report": ("/admin/first-reports/{conflict}", {"POST": any_(ADMIN_POST)}),
    "admin.reopen_first_report": ("/admin/first-reports/{ruled_conflict}/reopen", {"POST": any_(ADMIN_POST)}),
    # --- chains: read by everyone, for their own zone(s); edited by the admin ------------------
    "chains.index": ("/chains/?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "chains.map": ("/chains/{chain}?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "chains.graph": ("/chains/{chain}/graph.json?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "chains.panel": ("/chains/{chain}/segments/{seg}/panel.json?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "chains.gaps": ("/chains/{chain}/gaps?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "chains.gaps_xlsx": ("/chains/{chain}/gaps.xlsx?zone_id={zone}", {"POST": zoned(SIGNED_IN_POST, (L, 404, 404, 404, M))}),
    # The library is city-wide, but the mappings of a firm local to another zone are that zone's: the page
    # opens, and a save answers the form again with the policy's refusal (crm.permissions.refusal).
    "chains.mapping_page": ("/chains/mapping/{enterprise}", {"GET": zoned(WRITE_GET, WRITE_GET),
                                                             "POST": zoned(WRITE_POST, (L, 200, 200, 403, M))}),
    "chains.edit_chain": ("/chains/{chain}/segments", {"GET": any_(ADMIN_GET), "POST": any_(ADMIN_POST)}),
    "chains.delete_link": ("/chains/links/{link}/delete", {"POST": any_(ADMIN_POST)}),
    "chains.edit_segment": ("/chains/segments/{segment}/edit", {"GET": any_(ADMIN_GET), "POST": any_(ADMIN_POST)}),
    "chains.build": ("/chains/build", {"GET": any_(ADMIN_GET), "POST": any_((L, 403, 403, 403, 200))}),  # preview
    "chains.build_template": ("/chains/build/template.xlsx", {"GET": any_(ADMIN_GET)}),
    "chains.build_save": ("/chains/build/save", {"POST": any_(ADMIN_POST)}),
    "chains.set_leading": ("/chains/leading/{zone}", {"POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    # --- the enterprise library (city-wide: a firm local to either zone is everyone's) ----------
    "enterprises.index": ("/enterprises/", {"GET": any_(ANY_READ)}),
    "enterprises.new": ("/enterprises/new", {"GET": any_(WRITE_GET), "POST": any_(WRITE_POST)}),
    "enterprises.detail": ("/enterprises/{enterprise}", {"GET": zoned(ANY_READ, ANY_READ)}),
    # Another zone's local firm is read-only to this zone (crm.permissions.refusal): the edit form
    # answers again with the refusal, and a chief's delete is refused; the admin may do both.
    "enterprises.edit": ("/enterprises/{enterprise}/edit", {"GET": zoned(WRITE_GET, WRITE_GET),
                                                            "POST": zoned(WRITE_POST, (L, 200, 200, 403, M))}),
    "enterprises.delete": ("/enterprises/{enterprise}/delete", {"POST": zoned((L, 403, M, 403, M),
                                                                              (L, 403, R, 403, M))}),
    # Contacts and notes are a zone's own: any writer adds its zone's to any firm; another zone's are 404.
    "enterprises.add_contact": ("/enterprises/{enterprise}/contacts", {"POST": zoned(WRITE_POST, WRITE_POST)}),
    "enterprises.edit_contact": ("/enterprises/{enterprise}/contacts/{contact}/edit",
                                 {"GET": zoned(WRITE_GET, WRITE_GET_OTHER), "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "enterprises.delete_contact": ("/enterprises/{enterprise}/contacts/{contact}/delete",
                                   {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "enterprises.add_note": ("/enterprises/{enterprise}/notes", {"POST": zoned(WRITE_POST, WRITE_POST)}),
    "enterprises.edit_note": ("/enterprises/{enterprise}/notes/{note}/edit",
                              {"GET": zoned(WRITE_GET, WRITE_GET_OTHER), "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "enterprises.delete_note": ("/enterprises/{enterprise}/notes/{note}/delete",
                                {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "enterprises.merge": ("/enterprises/{enterprise}/merge", {"GET": zoned(ADMIN_GET, ADMIN_GET),
                                                              "POST": zoned(ADMIN_POST, ADMIN_POST)}),
    "enterprises.undo_merge": ("/enterprises/merges/{merge}/undo", {"POST": any_(ADMIN_POST)}),
    # --- imports: writers only; an upload is its uploader's alone, a batch its zone's ----------
    "imports.index": ("/imports/", {"GET": any_(WRITE_GET), "POST": any_(WRITE_POST)}),
    "imports.template": ("/imports/template/projects.xlsx", {"GET": any_(WRITE_GET)}),
    "imports.preview": ("/imports/{token}", {"GET": zoned(WRITE_GET, (L, 404, 404, 403, 404))}),
    "imports.report": ("/imports/{token}/report.xlsx", {"GET": zoned(WRITE_GET, (L, 404, 404, 403, 404))}),
    "imports.save_mapping": ("/imports/{token}/mapping", {"POST": zoned(WRITE_POST, (L, 404, 404, 403, 404))}),
    "imports.commit": ("/imports/{token}/commit", {"POST": zoned(WRITE_POST, (L, 404, 404, 403, 404))}),
    "imports.discard": ("/imports/{token}/discard", {"POST": zoned(WRITE_POST, (L, 404, 404, 403, 404))}),
    "imports.batch": ("/imports/batches/{batch}", {"GET": zoned(WRITE_GET, WRITE_GET_OTHER)}),
    "imports.revert": ("/imports/batches/{batch}/revert", {"POST": zoned(ADMIN_POST, ADMIN_POST)}),
    # --- 我的任务: a job is its owner's ("own": the caller's job); the admin sees everyone's ------
    "jobs.index": ("/jobs/", {"GET": any_(ANY_READ)}),
    "jobs.detail": ("/jobs/{job}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "jobs.progress": ("/jobs/{job}.json", {"GET": zoned(ANY_READ, OTHER_404)}),
    "jobs.download": ("/jobs/{job}/download", {"GET": zoned(ANY_READ, OTHER_404)}),
    "jobs.cancel": ("/jobs/{job}/cancel", {"POST": zoned(SIGNED_IN_POST, (L, 404, 404, 404, M))}),
    "jobs.retry": ("/jobs/{job}/retry", {"POST": zoned(SIGNED_IN_POST, (L, 404, 404, 404, M))}),
    # --- projects ------------------------------------------------------------------------------
    "projects.index": ("/projects/", {"GET": any_(ANY_READ)}),
    "projects.board": ("/projects/board", {"GET": any_(ANY_READ)}),
    "projects.new": ("/projects/new?enterprise_id={world_enterprise}", {"GET": any_(WRITE_GET),
                                                                        "POST": any_(WRITE_POST)}),
    "projects.detail": ("/projects/{project}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "projects.edit": ("/projects/{project}/edit", {"GET": zoned(WRITE_GET, WRITE_GET_OTHER),
                                                   "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "projects.change_stage": ("/projects/{project}/stage", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "projects.delete": ("/projects/{project}/delete", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "projects.contract": ("/projects/{project}/contract", {"GET": zoned(WRITE_GET, WRITE_GET_OTHER),
                                                           "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "projects.add_funds": ("/projects/{project}/funds", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "projects.delete_funds": ("/projects/{project}/funds/{funds}/delete",
                              {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "projects.add_increase": ("/projects/{project}/increase", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    # --- 亩均评价: reports readers read a zone's ranking; chiefs set the method and run the year -----
    "efficiency.index": ("/efficiency/?zone_id={zone}", {"GET": zoned((L, 403, 200, 200, 200), (L, 403, 404, 404, 200))}),
    "efficiency.evaluate": ("/efficiency/zones/{zone}/evaluate",
                            {"POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    "efficiency.ranking_xlsx": ("/efficiency/zones/{zone}/ranking.xlsx",
                                {"POST": zoned((L, 403, 200, 200, 200), (L, 403, 404, 404, 200))}),
    "efficiency.zone_method": ("/efficiency/zones/{zone}/method",
                               {"GET": zoned((L, 403, 200, 200, 200), (L, 403, 404, 404, 200)),
                                "POST": zoned((L, 403, M, 403, M), (L, 403, 404, 404, M))}),
    # A firm's figures are its zone's: the zone's readers see them, its writers enter them.
    "efficiency.firm": ("/efficiency/enterprises/{enterprise}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "efficiency.figures": ("/efficiency/enterprises/{enterprise}/figures",
                           {"GET": zoned(WRITE_GET, WRITE_GET_OTHER), "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "efficiency.delete_figures": ("/efficiency/figures/{efficiency_figures}/delete",
                                  {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "efficiency.upload": ("/efficiency/zones/{zone}/import", {"GET": zoned(WRITE_GET, WRITE_GET_OTHER),
                                                              "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "efficiency.preview": ("/efficiency/import/{efficiency_token}", {"GET": zoned(WRITE_GET, (L, 404, 404, 403, 404))}),
    "efficiency.commit": ("/efficiency/import/{efficiency_token}/commit",
                          {"POST": zoned(WRITE_POST, (L, 404, 404, 403, 404))}),
    # --- reports: chiefs, leaders (viewer) and the admin; zone settings for chiefs ---------------
    "reports.index": ("/reports/", {"GET": any_((L, 403, 200, 200, 200))}),
    # A job (crm/jobs): the POST queues the ledger and answers with the way to its download.
    "reports.ledger_xlsx": ("/reports/ledger.xlsx",
                            {"POST": zoned((L, 403, M, M, M), (L, 403, 404, 404, M))}),
    "reports.zone_settings": ("/reports/zones/{zone}/settings",
                              {"GET": zoned((L, 403, 200, 403, 200), (L, 403, 404, 403, 200)),
                               "POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    # --- 标准地: parcels read by the zone, managed by its chiefs; a signed project's parcels and 达产验收 ---
    "land.index": ("/land/?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "land.new": ("/land/new", {"GET": any_((L, 403, 200, 403, 200)), "POST": any_((L, 403, M, 403, M))}),
    "land.detail": ("/land/{parcel}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "land.edit": ("/land/{parcel}/edit", {"GET": zoned((L, 403, 200, 403, 200), (L, 403, 404, 403, 200)),
                                          "POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    "land.delete": ("/land/{parcel}/delete", {"POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    "land.project": ("/land/projects/{project}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "land.take": ("/land/projects/{project}/parcels", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "land.release": ("/land/projects/{project}/parcels/{project_parcel}/delete",
                     {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "land.accept": ("/land/projects/{full_project}/acceptance",
                    {"POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    "land.delete_acceptance": ("/land/projects/{full_project}/acceptance/{acceptance}/delete",
                               {"POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    # --- 履约监管: read by the zone; actuals by whoever changes the project; actions by its chiefs ----
    "compliance.index": ("/compliance/?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "compliance.export": ("/compliance/export.xlsx?zone_id={zone}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "compliance.project": ("/compliance/projects/{project}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "compliance.add_actual": ("/compliance/projects/{project}/actuals", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "compliance.add_developed": ("/compliance/projects/{project}/developed",
                                 {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "compliance.add_action": ("/compliance/projects/{project}/actions",
                              {"POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    "compliance.delete": ("/compliance/projects/{project}/developed/{developed}/delete",
                          {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    # --- visits ---------------------------------------------------------------------------------
    "visits.index": ("/visits/", {"GET": any_(ANY_READ)}),
    "visits.my_work": ("/visits/my-work", {"GET": any_(WRITE_GET)}),
    "visits.new": ("/visits/new?enterprise_id={world_enterprise}", {"GET": any_(WRITE_GET), "POST": any_(WRITE_POST)}),
    "visits.detail": ("/visits/{visit}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "visits.edit": ("/visits/{visit}/edit", {"GET": zoned(WRITE_GET, WRITE_GET_OTHER),
                                             "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "visits.done": ("/visits/{visit}/done", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "visits.delete": ("/visits/{visit}/delete", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    # --- 企业服务 (包保, 企业诉求, 企业测评) --------------------------------------------------------
    "service.index": ("/service/", {"GET": any_(ANY_READ)}),
    "service.new": ("/service/new?enterprise_id={enterprise}", {"GET": zoned(WRITE_GET, WRITE_GET_OTHER),
                                                                "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "service.detail": ("/service/{request}", {"GET": zoned(ANY_READ, OTHER_404)}),
    "service.edit": ("/service/{request}/edit", {"GET": zoned(WRITE_GET, WRITE_GET_OTHER),
                                                 "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "service.advance": ("/service/{request}/advance", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "service.rate": ("/service/{closed_request}/rate", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "service.delete": ("/service/{request}/delete", {"POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "service.assign": ("/service/assign/{enterprise}", {"GET": zoned((L, 403, 200, 403, 200), (L, 403, 404, 403, 200)),
                                                        "POST": zoned((L, 403, M, 403, M), (L, 403, 404, 403, M))}),
    "service.ratings": ("/service/ratings", {"GET": any_(ANY_READ)}),
    "service.rate_officer": ("/service/ratings/new?enterprise_id={enterprise}",
                             {"GET": zoned(WRITE_GET, WRITE_GET_OTHER), "POST": zoned(WRITE_POST, WRITE_POST_OTHER)}),
    "service.settings": ("/service/settings", {"GET": any_((L, 403, 200, 403, 200)), "POST": any_((L, 403, M, 403, M))}),
    "service.export": ("/service/ledger.xlsx", {"GET": any_((L, 403, 200, 200, 200))}),
    # --- API tokens (the /api/v1/ resources have their own matrix: tests/api/test_api_matrix.py) -----
    "api_pages.personal": ("/account/api-tokens", {"GET": any_(ANY_READ), "POST": any_(ANY_READ)}),
    "api_pages.revoke": ("/account/api-tokens/{api_token}/revoke", {"POST": zoned((L, M, M, M, M), (L, 404, 404, 404, 404))}),
    "api_pages.platform": ("/admin/api-tokens", {"GET": any_(ADMIN_GET), "POST": any_((L, 403, 403, 403, 200))}),
    "api_pages.revoke_platform": ("/admin/api-tokens/{platform_token}/revoke", {"POST": any_(ADMIN_POST)}),
    "api_pages.docs": ("/api/docs", {"GET": any_(ANY_READ)}),
}
# Bearer-token routes: answered by tests/api/test_api_matrix.py, which covers each of them.
TOKEN_ENDPOINT_PREFIXES = ("api.", "api-docs.")


def _rules() -> dict[str, set[str]]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and not rule.endpoint.startswith(TOKEN_ENDPOINT_PREFIXES):
            methods.setdefault(rule.endpoint, set()).update(rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"})
    return methods


# POSTs whose plausible body is refused by design (the redirect carries a 'danger' message).
REFUSED_ON_PURPOSE = {
    "auth.two_factor_confirm": "the matrix has no authenticator app: its made-up code is refused",
}
# Cases that answer as the matrix says but show a bug; strict, so a fix makes them fail until removed.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}  # (endpoint, ownership, role) → reason, while a fix is pending

RULES = _rules()
CASES = [
    pytest.param(endpoint, method, own, index, id=f"{endpoint}-{method}-{own}-{ROLES[index]}",
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(endpoint, own, ROLES[index])])]
                 if (endpoint, own, ROLES[index]) in KNOWN_BUGS else [])
    for endpoint, (_, by_method) in MATRIX.items()
    for method, by_own in by_method.items()
    for own, expected in by_own.items()
    for index in range(len(ROLES))
]


def test_every_route_has_a_row(pytestconfig):
    """A rule added to the app (or a method added to a rule) without a row here fails."""
    assert set(MATRIX) == set(RULES), (
        f"missing from MATRIX: {sorted(set(RULES) - set(MATRIX))}; no longer routes: {sorted(set(MATRIX) - set(RULES))}")
    for endpoint, (_, by_method) in MATRIX.items():
        assert set(by_method) == RULES[endpoint], f"{endpoint}: matrix has {set(by_method)}, app has {RULES[endpoint]}"
        for by_own in by_method.values():
            assert set(by_own) in ({"any"}, {"own", "other"})
            assert all(len(expected) == len(ROLES) for expected in by_own.values())
    figures.record(pytestconfig, "access matrix", "checks (route × method × ownership × role)", len(CASES))
    figures.record(pytestconfig, "access matrix", "routes", len(MATRIX))
    figures.record(pytestconfig, "access matrix", "roles", ", ".join(ROLES))


@pytest.fixture
def targets(app, world):
    return Targets(app, world)


def _answer(response) -> object:
    if response.status_code in (301, 302, 303):
        location = response.headers.get("Location", "")
        return LOGIN if location.split("?")[0].endswith("/login") else MOVED
    return response.status_code


@pytest.mark.parametrize("endpoint, method, own, index", CASES)
def test_route_answers_as_the_matrix_says(endpoint, method, own, index, targets, client, login_as, pytestconfig):
    template, by_method = MATRIX[endpoint]
    expected = by_method[method][own][index]
    role = ROLES[index]
    ownership = "own" if own == "any" else own
    path = targets.path(template, role, ownership)
    data = post_data(endpoint, targets, role, ownership) if method == "POST" else None
    if role != "anonymous":
        login_as(getattr(targets.world, role))
    cross_zone_write = method == "POST" and own == "other" and role not in ("admin", "anonymous")
    # A change outside the caller's zones: the audit entry of any record not of its zones. (A contact or
    # note the caller's zone keeps on another zone's firm is its own record, of its own zone.)
    elsewhere = select(func.count(AuditEntry.id)).where(func.coalesce(AuditEntry.zone_id, 0).not_in(
        getattr(targets.world, role).zone_ids)) if cross_zone_write else None
    changes_before = db.session.scalar(elsewhere) if cross_zone_write else None
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data=data, content_type="multipart/form-data")
    figures.add(pytestconfig, "access matrix", "checks run")
    if cross_zone_write:
        # Every change is in the audit log (same transaction): a POST on another zone's record writes nothing.
        written = db.session.scalar(elsewhere) - changes_before
        figures.add(pytestconfig, "access matrix", "cross-zone writes tried (POST on another zone's record)")
        figures.add(pytestconfig, "access matrix", "cross-zone writes done", 1 if written else 0)
        assert written == 0, f"POST {path} as {role} changed {written} records outside its zones"
    answer = _answer(response)
    refused_expected = expected == REFUSED
    expected = MOVED if refused_expected else expected
    if answer != expected:
        body = response.get_data(as_text=True)[:300] if response.mimetype.startswith("text/") else response.mimetype
        pytest.fail(f"{method} {path} as {role} ({own}): {answer}, expected {expected} — "
                    f"{response.headers.get('Location') or body}")
    if method == "POST" and expected == MOVED and endpoint not in REFUSED_ON_PURPOSE:
        # The redirect is the action done, not a refusal flashed on the next page (or, for REFUSED, it is).
        with client.session_transaction() as session:
            errors = [text for category, text in session.get("_flashes", []) if category == "danger"]
        if refused_expected:
            assert errors, f"POST {path} as {role} ({own}) was not refused"
        else:
            assert not errors, f"POST {path} as {role} ({own}) was refused: {errors}"


# --- 保密项目: the same routes on a confidential project of the caller's own zone ---------------------
# project_a (officer_a's) is marked confidential; its visit and funds entry hang off it. Its owner, the
# zone's chief and the admin answer as for their own zone's record ("own"); another officer of the zone
# (officer_a2) and the zone's viewer answer exactly as for another zone's record ("other", in the column
# of officer_a and of viewer_a): 404 for whatever they could otherwise open, never a hint that it exists.
CONFIDENTIAL_ROLES = {"officer_a": ("own", "officer_a"), "chief_a": ("own", "chief_a"), "admin": ("own", "admin"),
                      "officer_a2": ("other", "officer_a"), "viewer_a": ("other", "viewer_a")}
CONFIDENTIAL_ENDPOINTS = sorted(e for e, (template, _) in MATRIX.items()
                                if any(key in template for key in ("{project}", "{visit}", "{funds}")))
CONFIDENTIAL_CASES = [
    pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-confidential-{role}")
    for endpoint in CONFIDENTIAL_ENDPOINTS
    for method in MATRIX[endpoint][1]
    for role in CONFIDENTIAL_ROLES
]


def test_every_project_route_is_checked_on_a_confidential_project():
    assert {"projects.detail", "projects.edit", "projects.change_stage", "projects.delete", "projects.contract",
            "projects.add_funds", "projects.delete_funds", "projects.add_increase", "visits.detail", "visits.edit",
            "visits.done", "visits.delete"} <= set(CONFIDENTIAL_ENDPOINTS)


@pytest.mark.parametrize("endpoint, method, role", CONFIDENTIAL_CASES)
def test_a_confidential_project_answers_as_another_zones_to_masked_readers(
        endpoint, method, role, targets, client, login_as, pytestconfig):
    from crm.extensions import db
    from crm.pipeline.service import update_project
    from tests import factories as f

    world = targets.world
    officer_a2 = f.make_user("officer", [world.zone_a], username="officer_a2")
    update_project(world.officer_a, world.project_a, {"confidential": True})
    db.session.commit()
    ownership, column = CONFIDENTIAL_ROLES[role]
    template, by_method = MATRIX[endpoint]
    expected = by_method[method][ownership][ROLES.index(column)]
    path = targets.path(template, column, "own")
    data = post_data(endpoint, targets, column, "own") if method == "POST" else None
    before = (world.project_a.version, world.visit_a.version)
    login_as(officer_a2 if role == "officer_a2" else getattr(world, role))
    response = client.get(path) if method == "GET" else client.post(path, data=data, content_type="multipart/form-data")
    figures.add(pytestconfig, "access matrix", "confidential-project checks run")
    answer = _answer(response)
    assert answer == expected, f"{method} {path} as {role} on a confidential project: {answer}, expected {expected}"
    if expected == 404 and method == "POST":  # refused: neither the project nor its visit changed
        db.session.expire_all()
        assert (world.project_a.version, world.visit_a.version) == before
        assert world.project_a.deleted_at is None and world.visit_a.deleted_at is None
