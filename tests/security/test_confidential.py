"""保密项目: a confidential project is seen in full only by its owner, the chiefs of its zone and the
city admin. Every other officer and viewer of the zone counts it in every figure but, on every list,
board, panel and export, sees it only as "保密项目" — no name, enterprise, credit code, amounts or
notes — and its pages (and those of its visits and funds) answer 404, as another zone's record would.

The world: 甲园区's officer_a owns a confidential project (its own firm, amounts, notes, a funds entry,
a visit logged by a second officer of the zone); officer_a2 (another officer of 甲园区) and viewer_a
see it masked; officer_a, chief_a and the admin see it in full. Every secret text below must be absent
from every page a masked reader gets, and present where the full readers look.
"""
from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.extensions import db
from crm.permissions import MASKED_NAME
from tests import factories as f
from tests.security import figures
from tests.security.routes import CHAIN
from tests.exports import fetch

TODAY = date.today()
MONTH = TODAY.strftime("%Y-%m")
SIGNED_ON = TODAY - timedelta(days=60)

NAME = "绝密铝箔扩产项目"
FIRM = "绝密铝箔科技有限公司"
USCC = f.valid_uscc(4242)
DESCRIPTION = "绝密备注内容"
FUNDS_NOTE = "绝密到资备注"
SUMMARY = "绝密洽谈纪要"
NEXT_STEP = "绝密下一步"
# Amounts, as a page (thousands separators) or a workbook's XML (plain) writes them.
AMOUNTS = ("98765", "98,765", "87654", "87,654", "7654.32", "7,654")
SECRETS = (NAME, FIRM, USCC, DESCRIPTION, FUNDS_NOTE, SUMMARY, NEXT_STEP, *AMOUNTS)
MASKED_ROLES = ("officer_a2", "viewer_a")
FULL_ROLES = ("officer_a", "chief_a", "admin")


class Secret:
    """The world plus the confidential project and what hangs off it."""

    def __init__(self, world):
        from crm.catalog.models import Chain, Segment
        from crm.ledger.service import add_funds, update_commitments
        from crm.pipeline.service import change_stage, update_project

        self.world = world
        w = world
        self.officer_a2 = f.make_user("officer", [w.zone_a], username="officer_a2")
        self.segment = db.session.scalars(select(Segment).join(Chain, Segment.chain_id == Chain.id)
                                          .where(Chain.code == CHAIN).order_by(Segment.sort_order)).first()
        self.firm = f.make_enterprise(w.admin, name=FIRM, uscc=USCC)
        # The zone's open project, in the same segment and signed too, so no total equals a secret.
        update_project(w.officer_a, w.project_a, {"planned_investment": Decimal(1000), "segments": [self.segment]})
        change_stage(w.officer_a, w.project_a, "签约", contract_investment=Decimal(1000), on_date=SIGNED_ON)
        add_funds(w.officer_a, w.project_a, TODAY.replace(day=1), Decimal(100))
        self.project = f.make_project(w.officer_a, self.firm, name=NAME, planned_investment=Decimal("98765.43"),
                                      land_area=Decimal("43.21"), description=DESCRIPTION, segments=[self.segment])
        change_stage(w.officer_a, self.project, "签约", contract_investment=Decimal("87654.32"), on_date=SIGNED_ON)
        update_commitments(w.officer_a, self.project, {"due_registered": TODAY - timedelta(days=10)})
        self.funds = add_funds(w.officer_a, self.project, TODAY.replace(day=1), Decimal("7654.32"), FUNDS_NOTE)
        # Logged by the other officer of the zone before the project was marked 保密.
        self.visit = f.make_visit(self.officer_a2, project=self.project, summary=SUMMARY, next_step=NEXT_STEP,
                                  next_step_due=TODAY)
        db.session.commit()

    def mark(self, confidential: bool = True):
        from crm.pipeline.service import update_project

        update_project(self.world.officer_a, self.project, {"confidential": confidential})
        db.session.commit()

    def user(self, role: str):
        return self.officer_a2 if role == "officer_a2" else getattr(self.world, role)


@pytest.fixture
def secret(world) -> Secret:
    made = Secret(world)
    made.mark()
    return made


def page_text(response) -> str:
    """What a reader gets: HTML unescaped, JSON decoded, a workbook's XML unzipped."""
    if response.mimetype == "application/json":
        return json.dumps(response.get_json(), ensure_ascii=False)
    if response.mimetype.endswith("spreadsheetml.sheet"):
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            return html.unescape("".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")))
    return html.unescape(response.get_data(as_text=True))


def pages(secret: Secret, role: str) -> list[tuple[str, tuple[str, ...]]]:
    """(path, the secrets a full reader finds there) for every list, board, panel and export the role reads."""
    seg = secret.segment.code
    listed = (
        ("/projects/", (NAME, FIRM, "98,765")),
        ("/projects/?q=绝密铝箔", (NAME,)),  # by the project's name
        ("/projects/?q=绝密铝箔科技", (NAME,)),  # by its firm's name
        ("/projects/?sort=name", (NAME,)),
        ("/projects/?sort=-investment", (NAME,)),
        ("/projects/board", (NAME,)),
        ("/", (NAME,)),  # the dashboard's overdue milestones
        ("/visits/", (NAME, FIRM, NEXT_STEP)),
        ("/visits/?q=绝密洽谈", (FIRM,)),
        ("/visits/?q=绝密铝箔科技", (FIRM,)),
        (f"/visits/?project_id={secret.project.id}", (FIRM,)),
        (f"/visits/?enterprise_id={secret.firm.id}", (FIRM,)),
        (f"/enterprises/{secret.firm.id}", (NAME, SUMMARY)),
        (f"/chains/{CHAIN}", ()),
        (f"/chains/{CHAIN}/graph.json", ()),
        (f"/chains/{CHAIN}/segments/{seg}/panel.json", (NAME, FIRM)),
        (f"/chains/{CHAIN}/gaps", ()),
        (f"/chains/{CHAIN}/gaps.xlsx", ()),
    )
    found = list(listed)
    if role != "viewer_a":
        found.append(("/visits/my-work", (NEXT_STEP,) if role == "officer_a2" else ()))
    if role in ("chief_a", "viewer_a", "admin"):
        found.append((f"/reports/ledger.xlsx?month={MONTH}",
                      (NAME, FIRM, USCC, "98765.4", "87654.3", "7654.3", FUNDS_NOTE, SUMMARY, NEXT_STEP)))
    return found


# The firm's own page names the firm (the library is city-wide); the firm is not the secret there.
NAMES_THE_FIRM = {"/enterprises/"}


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_masked_reader_never_sees_the_project(role, secret, client, login_as, pytestconfig):
    login_as(secret.user(role))
    leaks = []
    for path, _ in pages(secret, role):
        response = fetch(client, path)
        assert response.status_code == 200, f"{role} GET {path}: {response.status_code}"
        text = page_text(response)
        for hidden in SECRETS:
            if hidden in (FIRM, USCC) and path.startswith(tuple(NAMES_THE_FIRM)):
                continue
            if hidden in text:
                leaks.append(f"{path}: {hidden!r} …{_around(text, hidden)}…")
        for link in (f"/projects/{secret.project.id}\"", f"/visits/{secret.visit.id}\""):
            if link in text:
                leaks.append(f"{path}: a link to {link}")
        figures.add(pytestconfig, "保密项目", "pages read by masked readers")
    assert leaks == [], f"{role} sees the confidential project:\n" + "\n".join(leaks)


@pytest.mark.parametrize("role", FULL_ROLES)
def test_the_owner_the_zones_chief_and_the_admin_see_it_in_full(role, secret, client, login_as, pytestconfig):
    login_as(secret.user(role))
    for path, expected in pages(secret, role):
        response = fetch(client, path)
        assert response.status_code == 200, f"{role} GET {path}: {response.status_code}"
        text = page_text(response)
        for shown in expected:
            assert shown in text, f"{role} does not see {shown!r} on {path}"
        figures.add(pytestconfig, "保密项目", "pages read by full readers")
    assert client.get(f"/projects/{secret.project.id}").status_code == 200
    assert client.get(f"/visits/{secret.visit.id}").status_code == 200


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_masked_reader_sees_the_row_as_confidential(role, secret, client, login_as):
    """Masked rows keep their place: the project is listed (and counted) as "保密项目"."""
    login_as(secret.user(role))
    for path in ("/projects/", "/projects/board", "/", "/visits/"):
        assert MASKED_NAME in page_text(client.get(path)), path
    panel = client.get(f"/chains/{CHAIN}/segments/{secret.segment.code}/panel.json").get_json()
    masked = [p for p in panel["projects"] if p["name"] == MASKED_NAME]
    assert masked == [{"name": MASKED_NAME, "stage": "签约", "zone": "甲园区", "enterprise": "", "url": None}]


def _listed_total(client, path: str) -> str:
    return re.search(r"共 (\d+) 条", page_text(client.get(path))).group(1)


def _kpi(client, testid: str, path: str = "/") -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]+)<', client.get(path).get_data(as_text=True))
    return match.group(1).strip()


def test_counts_and_sums_include_it_for_every_reader(secret, client, login_as):
    answers = {}
    for role in MASKED_ROLES + FULL_ROLES:
        login_as(secret.user(role))
        zone = secret.world.zone_a.id  # the admin's pages are city-wide unless narrowed to the zone
        answers[role] = (_listed_total(client, f"/projects/?zone_id={zone}"),
                         *(_kpi(client, kpi, f"/?zone_id={zone}") for kpi in ("kpi-total", "kpi-signed", "kpi-overdue")))
    assert len(set(answers.values())) == 1, answers
    total, _, _, overdue = answers["viewer_a"]
    assert (total, overdue) == ("2", "1")  # project_a and the confidential one, which alone is overdue


def _ledger(client) -> dict[str, list[tuple]]:
    response = fetch(client, f"/reports/ledger.xlsx?month={MONTH}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    return {sheet.title: [tuple(c.value for c in row) for row in sheet.iter_rows()] for sheet in book}


def test_the_ledger_keeps_masked_rows_in_place_and_in_the_totals(secret, client, login_as):
    login_as(secret.world.chief_a)
    full = _ledger(client)
    login_as(secret.world.viewer_a)
    masked = _ledger(client)
    for sheet in ("汇总", "在谈项目", "签约项目", "节点与预警", "本月到资", "本月走访"):
        assert len(masked[sheet]) == len(full[sheet]), sheet
        assert masked[sheet][-1] == full[sheet][-1], f"{sheet}: the totals row differs"
    assert masked["汇总"] == full["汇总"]
    signed = masked["签约项目"]
    header = signed[2]
    row = next(r for r in signed[3:-1] if r[header.index("项目名称")] == MASKED_NAME)
    kept = {h: v for h, v in zip(header, row) if v not in (None, "")}
    assert set(kept) == {"园区", "项目名称", "阶段", "签约日期", "来源", "负责人"}
    total = signed[-1][header.index("协议投资额（万元）")]
    assert Decimal(str(total)) == Decimal("88654.32")  # 1000 + the masked 87654.32
    visits = masked["本月走访"]
    visit = next(r for r in visits[3:-1] if MASKED_NAME in r)
    assert SUMMARY not in visit and FIRM not in visit


def test_the_flag_changes_no_figure(world, client, login_as):
    """The same world with and without the flag: the dashboard and the ledger's totals agree."""
    secret = Secret(world)
    login_as(world.viewer_a)
    before = (_kpi(client, "kpi-total"), _kpi(client, "kpi-signed"), _kpi(client, "kpi-overdue"),
              _ledger(client))
    secret.mark()
    after = (_kpi(client, "kpi-total"), _kpi(client, "kpi-signed"), _kpi(client, "kpi-overdue"),
             _ledger(client))
    assert before[:3] == after[:3]
    for sheet, rows in before[3].items():
        assert rows[-1] == after[3][sheet][-1], f"{sheet}: the totals row changed with the flag"
    assert NAME in str(before[3]["签约项目"]) and NAME not in str(after[3]["签约项目"])


def test_an_import_batch_page_masks_it(secret, client, login_as):
    from crm.imports.models import ImportBatch

    batch = ImportBatch(zone_id=secret.world.zone_a.id, actor_id=secret.world.officer_a.id, kind="projects",
                        filename="台账.xlsx", row_count=1,
                        changes={"created": {"Project": [secret.project.id], "Visit": [secret.visit.id]}, "updated": {}})
    db.session.add(batch)
    db.session.commit()
    login_as(secret.officer_a2)
    text = page_text(client.get(f"/imports/batches/{batch.id}"))
    assert MASKED_NAME in text
    for hidden in (NAME, FIRM, SUMMARY):
        assert hidden not in text
    login_as(secret.world.chief_a)
    assert NAME in page_text(client.get(f"/imports/batches/{batch.id}"))


def test_a_masked_officer_cannot_link_a_visit_to_it(secret, client, login_as):
    login_as(secret.officer_a2)
    page = page_text(client.get(f"/visits/new?enterprise_id={secret.firm.id}&project_id={secret.project.id}"))
    assert NAME not in page
    login_as(secret.world.officer_a)
    assert NAME in page_text(client.get(f"/visits/new?enterprise_id={secret.firm.id}"))


def _around(text: str, needle: str) -> str:
    at = text.find(needle)
    return re.sub(r"\s+", " ", text[max(0, at - 80): at + 80])
