"""What the security proofs need to reach every route: ids of records in both zones, and a plausible
POST body per endpoint.

``Targets`` fills a rule's arguments from the ``world`` fixture. "own" is a record of zone A (the zone
of officer_a, chief_a and viewer_a), "other" one of zone B. Records the world lacks (a soft-deleted
project, a contact, a note, a funds entry, a merge, an import batch, an upload waiting between the import
steps) are made on first use, through the services, inside the test's rolled-back transaction.
"""
from __future__ import annotations

import uuid
from datetime import date
from functools import cached_property

from sqlalchemy import select

from crm.extensions import db
from tests import factories as f

CHAIN = "aluminium"
PASSWORD = f.PASSWORD
NEW_PASSWORD = "matrix-new-passphrase-91"  # long, not a common password
ROLES = ("anonymous", "officer_a", "chief_a", "viewer_a", "admin")
TODAY = date.today()
MONTH = TODAY.strftime("%Y-%m")
EFFICIENCY_YEAR = TODAY.year - 1


class Targets:
    """Ids for path arguments and form bodies, per ownership ("own": zone A, "other": zone B)."""

    def __init__(self, app, world):
        self.app = app
        self.world = world

    # --- records of both zones --------------------------------------------------------------
    def zone(self, own: str):
        return self.world.zone_a if own == "own" else self.world.zone_b

    def project(self, own: str):
        return self.world.project_a if own == "own" else self.world.project_b

    def visit(self, own: str):
        return self.world.visit_a if own == "own" else self.world.visit_b

    def officer(self, own: str):
        return self.world.officer_a if own == "own" else self.world.officer_b

    @cached_property
    def enterprises(self) -> dict:
        """A firm local to each zone (the library is city-wide: both are visible to everyone)."""
        made = {"own": f.make_enterprise(self.world.admin, name="甲园区在园矩阵企业有限公司", zone_id=self.world.zone_a.id),
                "other": f.make_enterprise(self.world.admin, name="乙园区在园矩阵企业有限公司", zone_id=self.world.zone_b.id)}
        db.session.commit()
        return made

    def enterprise(self, own: str):
        return self.enterprises[own]

    @cached_property
    def contacts(self) -> dict:
        from crm.library.service import add_contact

        # A contact is its zone's own: "own" is zone A's (officer_a's), "other" zone B's (officer_b's).
        made = {own: add_contact(self.officer(own), self.enterprise(own), {"name": f"联系人{own}"})
                for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def notes(self) -> dict:
        from crm.library.service import add_note

        made = {own: add_note(self.officer(own), self.enterprise(own), f"备注{own}") for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def requests(self) -> dict:
        """A 企业诉求 (受理) of each zone's local firm."""
        from crm.service.service import create_request

        made = {own: create_request(self.officer(own), self.enterprise(own), {
            "category": "用工", "received_on": TODAY, "description": f"矩阵诉求{own}", "deadline": None})
            for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def closed_requests(self) -> dict:
        """A 企业诉求 of each zone, 办结 with a reply (ready to be rated)."""
        from crm.service.service import advance_request, create_request

        made = {}
        for own in ("own", "other"):
            req = create_request(self.officer(own), self.enterprise(own), {
                "category": "融资", "received_on": TODAY, "description": f"矩阵办结{own}", "deadline": None})
            advance_request(self.officer(own), req)
            advance_request(self.officer(own), req, "已答复")
            made[own] = req
        db.session.commit()
        return made

    @cached_property
    def signed(self) -> bool:
        """Both zones' projects signed on the first of this month (funds and contract need it)."""
        from crm.pipeline.service import change_stage

        for own in ("own", "other"):
            change_stage(self.officer(own), self.project(own), "签约", contract_investment=1000,
                         on_date=TODAY.replace(day=1))
        db.session.commit()
        return True

    @cached_property
    def funds(self) -> dict:
        """A funds entry on each zone's (signed) project."""
        from crm.ledger.service import add_funds

        assert self.signed
        made = {own: add_funds(self.officer(own), self.project(own), TODAY.replace(day=1), 100)
                for own in ("own", "other")}
        db.session.commit()
        return made

    # --- 标准地 and 履约监管 (crm/land, crm/compliance) ----------------------------------------
    def _parcel(self, own: str, code: str):
        from crm.land.service import create_parcel

        return create_parcel(self.world.admin, self.zone(own).id,
                             {"code": code, "area": 100, "use": "工业", "investment_intensity": 300, "tax_per_mu": 20})

    @cached_property
    def parcels(self) -> dict:
        """A free parcel in each zone."""
        made = {own: self._parcel(own, f"矩阵地块-{own}") for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def project_parcels(self) -> dict:
        """Each zone's (signed) project takes a parcel of its zone."""
        from crm.land.service import take_parcel

        assert self.signed
        made = {own: take_parcel(self.world.admin, self.project(own), self._parcel(own, f"矩阵供地-{own}"))
                for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def full_projects(self) -> dict:
        """A project at 达产 in each zone, on a parcel (达产验收 needs both)."""
        from crm.land.service import take_parcel
        from crm.pipeline.service import change_stage

        made = {}
        for own in ("own", "other"):
            project = f.make_project(self.officer(own), self.enterprise(own), name=f"矩阵达产项目{own}")
            change_stage(self.officer(own), project, "签约", contract_investment=30000, on_date=TODAY.replace(day=1))
            change_stage(self.officer(own), project, "达产", on_date=TODAY)
            take_parcel(self.world.admin, project, self._parcel(own, f"矩阵达产-{own}"))
            made[own] = project
        db.session.commit()
        return made

    @cached_property
    def acceptances(self) -> dict:
        from crm.land.service import record_acceptance

        made = {own: record_acceptance(self.world.admin, self.full_projects[own], TODAY, actual_tax=2500)
                for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def developed_areas(self) -> dict:
        from crm.compliance.service import record_developed

        assert self.signed
        made = {own: record_developed(self.world.admin, self.project(own), TODAY, 10, "矩阵开发面积")
                for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def deleted_projects(self) -> dict:
        from crm.records import soft_delete

        made = {}
        for own in ("own", "other"):
            project = f.make_project(self.officer(own), self.enterprise(own), name=f"回收站项目{own}")
            soft_delete(self.officer(own), project)
            made[own] = project
        db.session.commit()
        return made

    @cached_property
    def batches(self) -> dict:
        from crm.imports.models import ImportBatch

        made = {}
        for own in ("own", "other"):
            batch = ImportBatch(zone_id=self.zone(own).id, actor_id=self.officer(own).id, kind="enterprises",
                                filename="台账.xlsx", row_count=0, changes={"created": {}, "updated": {}})
            db.session.add(batch)
            made[own] = batch
        db.session.commit()
        return made

    @cached_property
    def conflict(self):
        """project_b was reported after project_a for the same firm: the world holds an open conflict."""
        from crm.pipeline.models import FirstReportConflict

        return db.session.scalars(select(FirstReportConflict).order_by(FirstReportConflict.id)).first()

    @cached_property
    def ruled_conflict(self):
        """A firm both zones registered, ruled for zone A: zone B's project was terminated by the ruling."""
        from crm.pipeline.first_report import decide
        from crm.pipeline.models import FirstReportConflict

        firm = f.make_enterprise(self.world.admin, name="矩阵裁定企业有限公司")
        kept = f.make_project(self.world.officer_a, firm, name="矩阵裁定甲园项目")
        f.make_project(self.world.officer_b, firm, name="矩阵裁定乙园项目")
        conflict = db.session.scalars(select(FirstReportConflict).where(
            FirstReportConflict.enterprise_id == firm.id)).one()
        decide(self.world.admin, conflict, kept.id, "甲园区首报在先")
        db.session.commit()
        return conflict

    @cached_property
    def merge(self):
        from crm.admin.merges import merge_enterprises

        duplicate = f.make_enterprise(self.world.admin, name="江苏宏达铝业股份有限公司")
        record = merge_enterprises(self.world.admin, self.world.enterprise, duplicate)
        db.session.commit()
        return record

    @cached_property
    def segments(self):
        from crm.catalog.models import Chain, Segment

        return list(db.session.scalars(
            select(Segment).join(Chain, Segment.chain_id == Chain.id).where(Chain.code == CHAIN)
            .order_by(Segment.sort_order, Segment.id)))

    @cached_property
    def link(self):
        from crm.catalog.models import SegmentLink

        ids = [s.id for s in self.segments]
        return db.session.scalars(select(SegmentLink).where(SegmentLink.from_segment_id.in_(ids))
                                  .order_by(SegmentLink.id)).first()

    @cached_property
    def unlinked_pair(self) -> tuple[str, str]:
        """Two segments of the chain with no link from the first to the second."""
        from crm.catalog.models import SegmentLink

        linked = set(db.session.execute(select(SegmentLink.from_segment_id, SegmentLink.to_segment_id)).all())
        for a in self.segments:
            for b in self.segments:
                if a.id != b.id and (a.id, b.id) not in linked:
                    return a.code, b.code
        raise AssertionError("every pair of segments is linked")

    # --- uploads waiting between the import steps -------------------------------------------
    @cached_property
    def uploads(self) -> dict:
        """An upload per signed-in role ("own": the caller's own) and officer_b's ("other")."""
        from crm.imports.uploads import save_upload
        from tests.imports.builders import xlsx

        plain = xlsx([["项目名称", "企业名称", "阶段"], ["矩阵导入项目", "矩阵导入企业有限公司", "线索"]])
        # The admin imports for the zone's staff: a project's owner must be one of them.
        with_owner = xlsx([["项目名称", "企业名称", "阶段", "负责人"],
                           ["矩阵导入项目", "矩阵导入企业有限公司", "线索", self.world.officer_a.display_name]])
        users = {"officer_a": self.world.officer_a, "chief_a": self.world.chief_a,
                 "viewer_a": self.world.viewer_a, "admin": self.world.admin, "other": self.world.officer_b}
        tokens = {}
        for who, user in users.items():
            zone = self.world.zone_b if who == "other" else self.world.zone_a
            tokens[who] = save_upload(user, zone, "projects", "矩阵台账.xlsx",
                                      with_owner if who == "admin" else plain, local=False).token
        db.session.commit()
        return tokens

    # --- 亩均效益: last year's figures of each zone's local firm; an upload of figures per person ------
    @cached_property
    def efficiency_figures(self) -> dict:
        from crm.efficiency.service import save_figures

        made = {own: save_figures(self.world.admin, self.enterprise(own), EFFICIENCY_YEAR,
                                  {"land_mu": 10, "tax": 100, "revenue": 2000, "value_added": 500})
                for own in ("own", "other")}
        db.session.commit()
        return made

    @cached_property
    def efficiency_uploads(self) -> dict:
        from crm.imports.uploads import save_upload
        from tests.imports.builders import xlsx

        users = {"officer_a": self.world.officer_a, "chief_a": self.world.chief_a, "admin": self.world.admin,
                 "other": self.world.officer_b}
        tokens = {}
        for who, user in users.items():
            own = "other" if who == "other" else "own"
            data = xlsx([["企业名称", "用地面积（亩）", "税收（万元）"], [self.enterprise(own).name, 12, 150]])
            tokens[who] = save_upload(user, self.zone(own), "efficiency", "亩均.xlsx", data, local=True).token
        db.session.commit()
        return tokens

    # --- jobs: each person's own (a finished export with its file), and officer_b's ("other") --------
    @cached_property
    def jobs(self) -> dict:
        from crm.jobs.models import Job, JobFile

        users = {"officer_a": self.world.officer_a, "chief_a": self.world.chief_a,
                 "viewer_a": self.world.viewer_a, "admin": self.world.admin, "other": self.world.officer_b}
        made = {}
        for who, user in users.items():
            job = Job(kind="ledger_export", title="矩阵台账任务", owner_id=user.id, state="done", params={},
                      stage="完成")
            job.file = JobFile(filename="矩阵台账.xlsx", content_type="application/octet-stream", size=2, data=b"PK")
            db.session.add(job)
            made[who] = job
        db.session.commit()
        return {who: job.id for who, job in made.items()}

    def job(self, role: str, own: str) -> int:
        return self.jobs["other" if own == "other" else role if role in self.jobs else "officer_a"]

    def token(self, role: str, own: str) -> str:
        if own == "other":
            return self.uploads["other"]
        return self.uploads.get(role, self.uploads["officer_a"])

    def api_token(self, role: str, own: str) -> int:
        """A personal API token: the caller's own, or officer_b's (another person's: 404)."""
        from crm.api.tokens import create_personal_token

        user = self.world.officer_b if own == "other" or role == "anonymous" else getattr(self.world, role)
        token, _ = create_personal_token(user, "矩阵令牌", "read", 30)
        return token.id

    @cached_property
    def platform_token(self) -> int:
        from crm.api.tokens import create_platform_token

        token, _ = create_platform_token(self.world.admin, "矩阵平台", [self.world.zone_a.id], 30)
        return token.id

    # --- a path ------------------------------------------------------------------------------
    def path(self, template: str, role: str, own: str) -> str:
        values = {}
        if "{project}" in template:
            values["project"] = self.project(own).id
        if "{visit}" in template:
            values["visit"] = self.visit(own).id
        if "{enterprise}" in template:
            values["enterprise"] = self.enterprise(own).id
        if "{world_enterprise}" in template:
            values["world_enterprise"] = self.world.enterprise.id
        if "{zone}" in template:
            values["zone"] = self.zone(own).id
        if "{user}" in template:
            values["user"] = self.officer(own).id
        if "{contact}" in template:
            values["contact"] = self.contacts[own].id
        if "{note}" in template:
            values["note"] = self.notes[own].id
        if "{funds}" in template:
            values["funds"] = self.funds[own].id
        if "{request}" in template:
            values["request"] = self.requests[own].id
        if "{closed_request}" in template:
            values["closed_request"] = self.closed_requests[own].id
        if "{deleted_project}" in template:
            values["deleted_project"] = self.deleted_projects[own].id
        if "{batch}" in template:
            values["batch"] = self.batches[own].id
        if "{conflict}" in template:
            values["conflict"] = self.conflict.id
        if "{ruled_conflict}" in template:
            values["ruled_conflict"] = self.ruled_conflict.id
        if "{merge}" in template:
            values["merge"] = self.merge.id
        if "{link}" in template:
            values["link"] = self.link.id
        if "{segment}" in template:
            values["segment"] = self.segments[0].id
        if "{seg}" in template:
            values["seg"] = self.segments[0].code
        if "{project}" in template and template.startswith(("/land/projects/", "/compliance/projects/")):
            assert self.signed  # 标准地 and 履约监管 begin at signing
        if "{parcel}" in template:
            values["parcel"] = self.parcels[own].id
        if "{project_parcel}" in template:
            values["project_parcel"] = self.project_parcels[own].id
        if "{full_project}" in template:
            values["full_project"] = self.full_projects[own].id
        if "{acceptance}" in template:
            values["acceptance"] = self.acceptances[own].id
        if "{developed}" in template:
            values["developed"] = self.developed_areas[own].id
        if "{token}" in template:
            values["token"] = self.token(role, own)
        if "{efficiency_figures}" in template:
            values["efficiency_figures"] = self.efficiency_figures[own].id
        if "{efficiency_token}" in template:
            values["efficiency_token"] = self.efficiency_uploads["other" if own == "other" else role
                                                                if role in self.efficiency_uploads else "officer_a"]
        if "{api_token}" in template:
            values["api_token"] = self.api_token(role, own)
        if "{platform_token}" in template:
            values["platform_token"] = self.platform_token
        if "{job}" in template:
            values["job"] = self.job(role, own)
        return template.format(chain=CHAIN, month=MONTH, **values)


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


def small_ledger() -> bytes:
    from tests.imports.builders import xlsx

    return xlsx([["企业名称", "统一社会信用代码"], ["矩阵上传企业有限公司", None]])


# --- plausible bodies: what the page's own form would send ------------------------------------
def post_data(endpoint: str, t: Targets, role: str, own: str) -> dict:
    """The body a person using the page would post (for ``role``, on the ``own``/``other`` record)."""
    w = t.world
    token = uuid.uuid4().hex
    zone = t.zone(own)
    if endpoint == "auth.login":
        return {"username": "officer_a", "password": PASSWORD}
    if endpoint == "auth.two_factor":
        return {"code": "123456"}
    if endpoint == "auth.change_password":
        return {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    if endpoint == "auth.two_factor_confirm":
        return {"code": "123456"}
    if endpoint == "auth.two_factor_disable":
        return {"password": PASSWORD, "code": "123456"}
    if endpoint == "api_pages.personal":
        return {"name": "矩阵令牌", "scope": "read", "days": "30"}
    if endpoint == "api_pages.platform":
        return {"name": "矩阵平台", "zone_ids": [w.zone_a.id], "days": "30"}
    if endpoint == "admin.new_user":
        return {"username": "matrix_new", "display_name": "矩阵新用户", "role": "officer",
                "zone_ids": [w.zone_a.id], "password": NEW_PASSWORD}
    if endpoint == "admin.edit_user":
        user = t.officer(own)
        return {"display_name": user.display_name, "role": user.role, "zone_ids": user.zone_ids, "active": "y"}
    if endpoint == "admin.zone_two_factor":
        return {"require_2fa_privileged": ""}
    if endpoint == "admin.decide_first_report":
        return {"winner": w.project_a.id, "reason": "甲园区首报在先"}
    if endpoint == "admin.reopen_first_report":
        return {"reopen_reason": "裁定后双方协商重启"}
    if endpoint == "chains.mapping_page":
        segment = t.segments[0].id
        return {"segment_ids": [segment], "primary": [segment]}
    if endpoint == "chains.edit_chain":
        source, target = t.unlinked_pair
        return {"from_code": source, "to_code": target}
    if endpoint == "chains.edit_segment":
        s = t.segments[0]
        return {"name": s.name, "name_en": s.name_en or "", "tier": s.tier, "value_add": s.value_add,
                "products": "、".join(s.products or []), "keywords": "、".join(s.keywords or [])}
    if endpoint == "chains.set_leading":
        return {"chains": ["aluminium"]}
    if endpoint in ("chains.build", "chains.build_save"):
        import json
        from io import BytesIO

        from tests.chains_app.test_builder import workbook

        prefix = "".join(chr(ord("A") + int(c, 16) % 26) for c in token[:6])
        chain = {"code": f"matrix_{token[:8]}", "name": "矩阵产业链", "version": "1",
                 "segments": [{"code": f"{prefix}-ONE", "name": "矩阵环节", "tier": "上游", "value_add": 3}],
                 "links": []}
        if endpoint == "chains.build_save":
            return {"payload": json.dumps(chain, ensure_ascii=False)}
        return {"file": (BytesIO(workbook([chain["code"], chain["name"], "", "", "1"],
                                          [[f"{prefix}-ONE", "矩阵环节", "", "上游", 3, "", ""]], [])), "链.xlsx")}
    if endpoint == "enterprises.new":
        return {"name": f"矩阵新建企业{token[:6]}有限公司", "zone_id": 0, "submission_token": token}
    if endpoint == "enterprises.edit":
        e = t.enterprise(own)
        return {"name": e.name, "zone_id": e.zone_id or 0, "version": e.version}
    if endpoint == "enterprises.add_contact":
        return {"name": "矩阵联系人", "title": "总经理"}
    if endpoint == "enterprises.edit_contact":
        return {"name": "矩阵联系人改", "title": "副总经理"}
    if endpoint == "enterprises.add_note":
        return {"text": "矩阵备注"}
    if endpoint == "enterprises.edit_note":
        return {"text": "矩阵备注改"}
    if endpoint == "enterprises.merge":
        return {"survivor_id": t.enterprise("other" if own == "own" else "own").id}
    if endpoint == "imports.index":
        from io import BytesIO

        return {"file": (BytesIO(small_ledger()), "台账.xlsx"), "kind": "enterprises", "zone_id": zone.id}
    if endpoint == "efficiency.evaluate":
        assert t.efficiency_figures  # a year with figures to evaluate, in both zones
        return {"year": EFFICIENCY_YEAR}
    if endpoint == "efficiency.zone_method":
        return {"method": "default"}
    if endpoint == "efficiency.figures":
        return {"year": EFFICIENCY_YEAR, "land_mu": "8", "tax": "90"}
    if endpoint == "efficiency.upload":
        from io import BytesIO
        from tests.imports.builders import xlsx

        return {"year": EFFICIENCY_YEAR, "file": (BytesIO(xlsx([["企业名称", "税收（万元）"], [t.enterprise(own).name, 10]])),
                                                  "亩均.xlsx")}
    if endpoint == "reports.ledger_xlsx":
        return {"month": MONTH, "zone_id": zone.id}
    if endpoint == "imports.save_mapping":
        return {"col_0": "name", "col_1": "enterprise_name", "col_2": "stage"}
    if endpoint == "projects.new":
        return {"name": "矩阵新建项目", "source": "其他", "priority": "中", "zone_id": w.zone_a.id,
                "owner_id": w.officer_a.id, "submission_token": token}
    if endpoint == "projects.edit":
        p = t.project(own)
        return {"name": p.name, "source": p.source, "priority": p.priority, "owner_id": p.owner_id,
                "version": p.version}
    if endpoint == "projects.change_stage":
        p = t.project(own)
        return {"stage": "接洽", "version": p.version, "note": "矩阵推进"}
    if endpoint in ("projects.contract", "projects.add_funds", "projects.add_increase"):
        assert t.signed  # what these forms record exists only for a signed project
    if endpoint == "projects.contract":
        p = t.project(own)
        return {"contract_investment": "1000", "version": p.version}
    if endpoint == "projects.add_funds":
        return {"month": MONTH, "amount": "10"}  # after the signing; the month has no entry yet
    if endpoint == "projects.add_increase":
        return {"signed_date": TODAY.isoformat(), "amount": "10"}
    if endpoint in ("land.new", "land.edit"):
        body = {"code": f"矩阵新地块{token[:6]}", "area": "50", "use": "工业", "investment_intensity": "300",
                "zone_id": w.zone_a.id}
        if endpoint == "land.edit":
            body["version"] = t.parcels[own].version
        return body
    if endpoint == "land.take":
        return {"parcel_id": t.parcels[own].id}
    if endpoint == "land.accept":
        return {"accepted_on": TODAY.isoformat(), "actual_tax": "2500", "note": "矩阵验收"}
    if endpoint == "compliance.add_actual":
        return {"year": TODAY.year, "output_value": "5000", "tax": "300", "jobs": "50"}
    if endpoint == "compliance.add_developed":
        return {"changed_on": TODAY.isoformat(), "area": "30", "note": "矩阵开发"}
    if endpoint == "compliance.add_action":
        return {"kind": "限期整改", "action_date": TODAY.isoformat(), "deadline": TODAY.isoformat(),
                "document": "矩阵〔2026〕1号"}
    if endpoint == "reports.zone_settings":
        return {"year": TODAY.year, "signed_count": "5", "signed_amount": "1000", "register_rate": "90",
                "start_rate": "60", "production_rate": "30", "funds_rate": "20"}
    if endpoint == "visits.new":
        return {"project_id": 0, "kind": "上门拜访", "visit_date": TODAY.isoformat(), "summary": "矩阵走访",
                "zone_id": w.zone_a.id, "submission_token": token}
    if endpoint == "visits.edit":
        v = t.visit(own)
        return {"kind": v.kind, "visit_date": v.visit_date.isoformat(), "summary": v.summary, "version": v.version}
    if endpoint == "service.new":
        return {"category": "用工", "received_on": TODAY.isoformat(), "description": "矩阵诉求", "department": "人社局",
                "submission_token": token}
    if endpoint == "service.edit":
        r = t.requests[own]
        return {"category": r.category, "received_on": r.received_on.isoformat(), "description": r.description,
                "version": r.version}
    if endpoint == "service.rate":
        return {"rating": "满意"}
    if endpoint == "service.assign":
        return {"officer_id": t.officer(own).id, "leader_user_id": 0, "leader_name": "矩阵领导"}
    if endpoint == "service.rate_officer":
        return {"period": "2026H2", "officer_id": t.officer(own).id, "rating": "满意"}
    if endpoint == "service.settings":
        return {f"days_{i}": "10" for i in range(7)}
    return {}  # a button: only the CSRF token (off in these tests)
