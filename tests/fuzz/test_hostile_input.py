"""Hostile values posted to every form and upload route, and thrown at every JSON endpoint.

Routes are discovered from ``app.url_map`` (POST routes, and GET routes answering ``.json``), so
routes added later are exercised without touching this file; path arguments are filled with real
ids from the ``world`` fixture, and a route whose arguments cannot be filled is listed at the end of
the run. Field names come from the forms the app itself renders. Each example starts from a
plausible submission and replaces some fields with hostile values: oversized strings, control
characters (NUL included), SQL and script fragments, bad dates, huge numbers, wrong types, lists.

What must hold for every request: no 5xx; no raw script or onerror attribute in the answer or in
the page it redirects to (stored values are escaped); and nothing stored half-way — a refused
submission (the form shown again) changes no row, an accepted one adds at most one row per table.
Hypothesis runs derandomized with a fixed number of examples, so CI sees the same cases each time.
"""
from __future__ import annotations

import io
import re
import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm import create_app
from tests.fuzz.conftest import STATS

EXAMPLES = 25
SCRIPT = "<script>alert(1)</script>"
ONERROR = '"><img src=x onerror=alert(1)>'
RAW_MARKERS = ("<script>alert(1)", "<img src=x onerror=alert(1)>")
HOSTILE = (
    SCRIPT, ONERROR, "' OR 1=1 --", "'; DROP TABLE projects; --", "1; SELECT pg_sleep(5)", "%", "_", "\\", "/",
    "\x00", "\x00abc", "a\x00b", "\x1b[31m", "\u202e", "\ufeff", "\r\n\r\n", "=HYPERLINK(\"http://x\")", "@SUM(1)",
    "-1", "0", "1e309", "-1e309", "NaN", "inf", "99999999999999999999999999", "1" * 400, "-0.000001",
    "2026-02-30", "0000-00-00", "9999-12-31", "2026-13-01", "31/12/2026", "1900-01-01", "2100-01-01T00:00",
    "true", "null", "[]", "{}", "{{7*7}}", "${7*7}", "../../etc/passwd", "长" * 600, "x" * 70_000,
    # The classes the review found making server errors: NaN and its signalling twin, Unicode digits,
    # ids past the integer keys, 400-digit numbers, months of no real year, tokens of the wrong shape.
    "sNaN", "-sNaN", "Infinity", "²", "①", "١٢", str(2**31), str(2**63), str(2**64), "9" * 400, "9999-12", "0000-01",
    "A" * 80,
)
VALID = {
    "name": "测试名称", "kind": "上门拜访", "visit_date": date.today().isoformat(), "summary": "洽谈内容",
    "source": "其他", "priority": "中", "stage": "接洽", "note": "说明", "month": date.today().strftime("%Y-%m"),
    "amount": "100", "username": "fuzz_user", "display_name": "模糊测试", "password": "long-enough-password-1",
    "role": "officer", "reason": "裁定理由", "title": "总经理", "phone": "13800000000", "text": "备注内容",
}
ENTITY_TABLES = ("projects", "visits", "enterprises", "contacts", "enterprise_notes", "funds_in_place", "capital_increases", "users",
                 "zone_targets", "segment_links", "enterprise_segments", "first_report_conflicts")
FIELD = re.compile(r"<(input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"[^>]*>", re.I)


def _discover():
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    posts, jsons = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        if "POST" in rule.methods:
            posts.append(rule.rule)
        elif rule.rule.endswith(".json"):
            jsons.append(rule.rule)
    return sorted(posts), sorted(jsons)


POST_ROUTES, JSON_ROUTES = _discover()


def hostile_text():
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
        st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    )


def hostile_value():
    # Wrong types arrive as text in a form, or as several values (a list instead of a scalar).
    return st.one_of(hostile_text(), st.lists(hostile_text(), min_size=2, max_size=3))


def upload():
    return st.one_of(
        st.binary(max_size=300).map(lambda b: (b, "ledger.xlsx")),
        st.sampled_from([b"", b"PK\x03\x04" + b"\x00" * 50, "企业名称,统一社会信用代码\n<script>alert(1)</script>,1\n"
                         .encode("utf-8"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100]).map(
            lambda b: (b, "ledger.csv")),
    )


class Targets:
    """Values for path arguments, from the world fixture and the chains the test database holds."""

    def __init__(self, world):
        from crm.extensions import db
        from crm.pipeline.models import FirstReportConflict
        from crm.catalog.models import Segment, SegmentLink
        from crm.library.service import add_contact, add_note

        contact = add_contact(world.admin, world.enterprise, {"name": "联系人甲"})
        note = add_note(world.admin, world.enterprise, "备注甲")
        db.session.commit()
        extra = {"entry_id": self._funds_entry, "merge_id": self._merge, "batch_id": self._batch, "job_id": self._job,
                 "figures_id": self._efficiency_figures,
                 "parcel_id": self._parcel,
                 "request_id": self._request, "token_id": self._api_token}
        made = {}
        for name, make in extra.items():
            try:
                made[name] = make(world)
                db.session.commit()
            except Exception:  # the route is then listed as not exercised, with this reason
                db.session.rollback()
                made[name] = None
        segment = db.session.scalar(select(Segment).order_by(Segment.id))
        link = db.session.scalar(select(SegmentLink).order_by(SegmentLink.id))
        conflict = db.session.scalar(select(FirstReportConflict.id).order_by(FirstReportConflict.id))
        self.values = {
            "project_id": world.project_a.id, "visit_id": world.visit_a.id, "enterprise_id": world.enterprise.id,
            "zone_id": world.zone_a.id, "user_id": world.officer_b.id, "contact_id": contact.id,
            "note_id": note.id,
            "segment_id": segment.id if segment else None, "link_id": link.id if link else None,
            "code": segment.chain.code if segment else None, "seg": segment.code if segment else None,
            "kind": "project", "record_id": world.project_b.id, "conflict_id": conflict,
            "token": uuid.uuid4().hex, **made,
        }

    @staticmethod
    def _efficiency_figures(world):
        """Last year's 亩均效益 figures of a firm local to zone A."""
        from datetime import date

        from crm.efficiency.service import save_figures
        from tests import factories as f

        firm = f.make_enterprise(world.admin, name="模糊测试亩均企业有限公司", zone_id=world.zone_a.id)
        return save_figures(world.admin, firm, date.today().year - 1, {"land_mu": 10, "tax": 100}).id

    @staticmethod
    def _api_token(world):
        """A personal API token of officer_a's (the revoke routes take its id)."""
        from crm.api.tokens import create_personal_token

        return create_personal_token(world.officer_a, "模糊测试令牌", "read", 30)[0].id

    @staticmethod
    def _request(world):
        """A 企业诉求 of zone A (officer_a's), taken on the world's firm."""
        from datetime import date

        from crm.service.service import create_request

        return create_request(world.officer_a, world.enterprise, {
            "category": "审批", "received_on": date.today(), "description": "模糊测试诉求", "deadline": None}).id

    @staticmethod
    def _job(world):
        """A finished export of officer_a's, with its file (another person's job is 404 to them)."""
        from crm.extensions import db
        from crm.jobs.models import Job, JobFile

        job = Job(kind="ledger_export", title="模糊测试任务", owner_id=world.officer_a.id, state="done", params={})
        job.file = JobFile(filename="台账.xlsx", content_type="application/octet-stream", size=2, data=b"PK")
        db.session.add(job)
        db.session.flush()
        return job.id

    @staticmethod
    def _parcel(world):
        """A parcel of zone A (标准地)."""
        from crm.land.service import create_parcel

        return create_parcel(world.admin, world.zone_a.id, {"code": "模糊地块", "area": 10, "use": "工业"}).id

    @staticmethod
    def _funds_entry(world):
        from crm.ledger.service import add_funds
        from crm.pipeline.service import change_stage

        change_stage(world.officer_a, world.project_a, "签约", contract_investment=1000, on_date=date.today())
        return add_funds(world.officer_a, world.project_a, date.today().replace(day=1), 100).id

    @staticmethod
    def _merge(world):
        from crm.admin.merges import merge_enterprises
        from tests import factories as f

        duplicate = f.make_enterprise(world.admin, name="江苏宏达铝业股份有限公司")
        merge_enterprises(world.admin, world.enterprise, duplicate)
        from crm.extensions import db
        from crm.library.models import EnterpriseMerge

        return db.session.scalar(select(EnterpriseMerge.id).order_by(EnterpriseMerge.id.desc()))

    @staticmethod
    def _batch(world):
        from crm.extensions import db
        from crm.imports.models import ImportBatch

        batch = ImportBatch(zone_id=world.zone_a.id, actor_id=world.officer_a.id, kind="enterprises",
                            filename="台账.xlsx", row_count=0, changes={"created": {}, "updated": {}})
        db.session.add(batch)
        db.session.flush()
        return batch.id

    def fill(self, rule: str) -> str | None:
        missing = []

        def value(match):
            name = match.group(1).split(":")[-1]
            filled = self.values.get(name)
            if filled is None:
                missing.append(name)
                return match.group(0)
            return str(filled)

        path = re.sub(r"<([^>]+)>", value, rule)
        if missing:
            STATS["skipped"][rule] = "no value for " + ", ".join(missing)
            return None
        return path


def _counts():
    from crm.extensions import db
    from crm.pipeline.models import Project  # noqa: F401 - the metadata is loaded

    tables = db.metadata.tables
    return {name: db.session.scalar(select(func.count()).select_from(tables[name]))
            for name in ENTITY_TABLES if name in tables}


def _fields(client, path: str, detail_pages: list[str]) -> tuple[list[str], set[str]]:
    """Field names (and which are file inputs) from the route's own form, else from the pages
    whose forms post to it, else from the detail pages of the world's records."""
    names, files = [], set()
    pages = [path] + detail_pages
    for page in pages:
        response = client.get(page)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        html = response.get_data(as_text=True)
        for tag in FIELD.finditer(html):
            name = tag.group(2)
            if name in ("csrf_token", "next", "back") or name in names:
                continue
            names.append(name)
            if 'type="file"' in tag.group(0):
                files.add(name)
        if page == path and names:
            break
    return names, files


def _assert_escaped(body: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, f"raw {marker!r} in {where}"


class Clients:
    """One test client per user, each signed in through the real sign-in form (session rules,
    idle and absolute timeouts, apply as they do for a person)."""

    def __init__(self, app, users: dict):
        from crm.extensions import db
        from tests.conftest import FreshContextClient
        from tests.factories import PASSWORD

        app.test_client_class = FreshContextClient
        self.clients = {}
        for who, user in users.items():
            client = app.test_client()
            response = client.post("/login", data={"username": user.username, "password": PASSWORD})
            assert response.status_code == 302, f"sign-in of {user.username}: HTTP {response.status_code}"
            self.clients[who] = client
        db.session.expire_all()

    def __getitem__(self, who):
        return self.clients[who]


@pytest.fixture
def fuzz_env(app, world):
    clients = Clients(app, {"admin": world.admin, "officer": world.officer_a})
    # Signed in for real: a detail page answers 200, not a redirect to the sign-in page.
    assert clients["officer"].get(f"/projects/{world.project_a.id}").status_code == 200
    return {"world": world, "clients": clients, "targets": Targets(world)}


def _version_check_refuses_garbage() -> bool:
    """Whether ``check_version`` answers a non-numeric version as a stale edit (not a ValueError → 500)."""
    from crm.errors import check_version, ServiceError

    try:
        check_version(type("Record", (), {"version": 1})(), "<script>")
    except ServiceError:
        return True
    except ValueError:
        return False
    return True


# Routes whose edit forms carry ``version``: a hostile version is a 500 until check_version refuses
# non-numbers (the fix is in bench/RESULTS.md, "recommended changes"). Non-strict: they pass once fixed.
VERSIONED_ROUTES = {"/projects/<int:project_id>/contract", "/projects/<int:project_id>/edit",
                    "/projects/<int:project_id>/stage", "/visits/<int:visit_id>/edit",
                    "/enterprises/<int:enterprise_id>/edit"}


@pytest.mark.parametrize("rule", POST_ROUTES)
def test_post_route_survives_hostile_input(rule, fuzz_env, request):
    world, clients = fuzz_env["world"], fuzz_env["clients"]
    if rule in VERSIONED_ROUTES and not _version_check_refuses_garbage():
        request.applymarker(pytest.mark.xfail(reason="check_version: int() of a hostile version is a 500",
                                              raises=(AssertionError, ValueError), strict=False))
    path = fuzz_env["targets"].fill(rule)
    if path is None:
        pytest.skip(STATS["skipped"][rule])
    query = f"?enterprise_id={world.enterprise.id}&project_id={world.project_a.id}"
    detail_pages = [f"/projects/{world.project_a.id}", f"/enterprises/{world.enterprise.id}",
                    f"/visits/{world.visit_a.id}", "/admin/first-reports"]
    names, files = _fields(clients["admin"], path + query, detail_pages)
    STATS["routes"].add(rule)

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(who=st.sampled_from(["admin", "officer"]),
           hostile=st.dictionaries(st.sampled_from(names or ["name"]), hostile_value(), max_size=4),
           upload_data=upload(), version=st.one_of(st.none(), hostile_text()))
    def case(who, hostile, upload_data, version):
        client = clients[who]
        data: dict = {name: VALID[name] for name in names if name in VALID}
        data["submission_token"] = uuid.uuid4().hex
        if version is not None and "version" in names:
            data["version"] = version
        data.update({k: v for k, v in hostile.items() if k not in files})
        for name in files:
            content, filename = upload_data
            data[name] = (io.BytesIO(content), filename)
        before = _counts()
        response = client.post(path + query, data=data, content_type="multipart/form-data")
        STATS["cases"] += 1
        status = response.status_code
        assert status < 500, f"{rule} as {who}: HTTP {status} for {hostile!r}"
        body = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
        _assert_escaped(body, f"{rule} answer")
        after = _counts()
        changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
        if status == 200 and response.mimetype == "text/html":
            # The form came back: the submission was refused, so nothing may have been stored.
            assert not changed, f"{rule} refused but stored {changed} for {hostile!r}"
        else:
            # Accepted: one record created (or one removed by a delete route), never a partial set.
            assert all(-1 <= d <= 1 for d in changed.values()) or rule.startswith("/imports"), \
                f"{rule} stored {changed} for {hostile!r}"
        if 300 <= status < 400 and response.headers.get("Location", "").startswith("/"):
            followed = client.get(response.headers["Location"])
            assert followed.status_code < 500, f"{rule} → {response.headers['Location']}: HTTP {followed.status_code}"
            if followed.mimetype == "text/html":
                _assert_escaped(followed.get_data(as_text=True), f"{rule} → {response.headers['Location']}")

    case()


@pytest.mark.parametrize("rule", JSON_ROUTES)
def test_json_endpoint_survives_hostile_arguments(rule, fuzz_env):
    world, clients = fuzz_env["world"], fuzz_env["clients"]
    targets = fuzz_env["targets"]
    STATS["routes"].add(rule)
    arguments = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(who=st.sampled_from(["admin", "officer"]),
           path_values=st.fixed_dictionaries({a: st.one_of(st.none(), hostile_text()) for a in arguments}),
           zone=st.one_of(st.none(), hostile_text()))
    def case(who, path_values, zone):
        client = clients[who]

        def value(match):
            name = re.sub(r"^[^:]+:", "", match.group(1))
            given_value = path_values.get(name)
            if given_value is None or "int:" in match.group(1):
                return str(targets.values.get(name) or 1)
            return re.sub(r"[/?#]", "", given_value) or "x"

        path = re.sub(r"<([^>]+)>", value, rule)
        response = client.get(path, query_string={"zone_id": zone} if zone is not None else None)
        STATS["cases"] += 1
        assert response.status_code < 500, f"{path} zone_id={zone!r}: HTTP {response.status_code}"
        if response.status_code == 200 and response.is_json:
            assert response.get_json() is not None

    case()


def test_every_post_route_was_considered():
    """Guard against discovery silently finding nothing (an app that failed to register routes)."""
    assert len(POST_ROUTES) >= 20
    assert JSON_ROUTES
