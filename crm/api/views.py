"""The open API, /api/v1/ (flask-smorest), and the pages that make its tokens.

Every call: a bearer token (never the session cookie, so no CSRF), the throttle, the security log. The
resources call the features' own services and ask the one policy; another zone's record answers 404.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import date

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Api, Blueprint as ApiBlueprint
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from crm import idempotency
from crm.accounts.security_log import record_event
from crm.accounts.zones import Zone
from crm.api import schemas as s
from crm.api.forms import PersonalTokenForm, PlatformTokenForm
from crm.api.models import ApiToken
from crm.api import tokens
from crm.catalog.models import Chain, SegmentLink
from crm.chains import gaps
from crm.db import utcnow
from crm.errors import ServiceError, StaleEdit
from crm.extensions import csrf, db
from crm.inputs import month_bounds
from crm.ledger import service as ledger
from crm.ledger.models import CapitalIncrease, FundsInPlace
from crm.library.models import Enterprise
from crm.library.service import contacts_of, enterprise_list_query
from crm.permissions import allowed, can_see_zone, get_scoped_or_404, if_in_full, masked_name, refusal, sees_in_full
from crm.pipeline.models import Project
from crm.pipeline.service import create_project, project_list_query, update_project
from crm.visits.models import Visit
from crm.visits.service import create_visit, visit_list_query

API_PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
TITLES = {400: "请求无效", 401: "未认证", 403: "没有权限", 404: "记录不存在", 405: "不支持的请求方式",
          409: "冲突", 412: "记录已被修改", 413: "请求太大", 422: "数据有误", 428: "缺少 If-Match", 429: "请求过于频繁"}


class CrmApi(Api):
    """flask-smorest, leaving the HTML pages' error handlers alone: the API blueprint answers its own
    errors as problem+json."""

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        """Every error the document names (smorest's 422, the default, ours) as problem+json."""
        self.ERROR_SCHEMA = s.Problem
        saved, self.DEFAULT_RESPONSE_CONTENT_TYPE = self.DEFAULT_RESPONSE_CONTENT_TYPE, PROBLEM
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = saved
        self.spec.components.response("Problem", {"description": "错误（RFC 9457 problem details）",
                                                  "content": {PROBLEM: {"schema": "Problem"}}})


api = CrmApi()
bp = ApiBlueprint("api", __name__, url_prefix=API_PREFIX, description="链招开放接口")
pages = Blueprint("api_pages", __name__, template_folder="templates")
ERRORS = {"responses": {"default": {"$ref": "#/components/responses/Problem"}}}


def init_app(app) -> None:
    app.config.setdefault("API_TITLE", "链招开放接口")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app, spec_kwargs={"security": [{"bearer": []}]})
    api.register_field(s.MoneyString, "string", None)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                   "description": "个人令牌或平台令牌"})
    api.register_blueprint(bp)
    csrf.exempt(bp)
    app.register_blueprint(pages)
    tokens.init_throttle(app)


# --- problems --------------------------------------------------------------------------------------
def problem(status: int, detail: str, field: str | None = None, **extra):
    body = {"type": "about:blank", "title": TITLES.get(status, "出错了"), "status": status, "detail": detail,
            "field": field, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def http_problem(error: HTTPException):
    db.session.rollback()
    code = error.code or 500
    if code == 422 and getattr(error, "data", None):  # webargs: {"messages": {"json": {"name": [...]}}}
        messages = error.data.get("messages", {})
        flat = {name: problems for where in messages.values() for name, problems in where.items()}
        field = next(iter(flat), None)
        text = flat.get(field) if field else None
        first = text[0] if isinstance(text, list) and text and isinstance(text[0], str) else "格式不正确"
        return problem(422, f"字段 {field} 有误：{first}" if field else "数据有误", field, errors=flat)
    if code == 500:
        current_app.logger.exception("API error")
    details = {500: "服务器内部错误，请稍后再试", 404: "记录不存在或无权查看", 405: "不支持的请求方式", 413: "请求太大", 400: "请求无效"}
    return problem(code, details.get(code, error.description or "出错了"))


# By code: the app's own handlers (HTML pages) are found by code before any handler by class.
for _code in (400, 403, 404, 405, 409, 413, 422, 500):
    bp.register_error_handler(_code, http_problem)
bp.register_error_handler(HTTPException, http_problem)


@bp.errorhandler(ServiceError)
def service_problem(error: ServiceError):
    db.session.rollback()
    from crm.permissions import NotAllowed

    return problem(403 if isinstance(error, NotAllowed) else 422, error.message, error.field)


# --- authentication, throttle, security log ---------------------------------------------------------
@bp.before_request
def authenticate():
    """The bearer token, or 401 at once; the throttle; read-scoped tokens only read."""
    g.api_token = None
    try:
        token, actor = tokens.authenticate(request.headers.get("Authorization"))
    except tokens.TokenRefused as refused:
        record_event("api_refused", username="", detail=f"{request.method} {request.path}: {refused.message}")
        db.session.commit()
        response = problem(401, refused.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="lianzhao"'
        return response
    g.api_token, g.api_actor = token, actor
    db.session.info["actor_id"] = actor.id
    wait = tokens.throttle().hit(token)
    if wait:
        record_event("api_throttled", user=token.user, username=_who(token), detail=f"{token.prefix} {request.path}")
        db.session.commit()
        response = problem(429, f"请求过于频繁，请 {wait} 秒后再试")
        response.headers["Retry-After"] = str(wait)
        return response
    if request.method not in ("GET", "HEAD", "OPTIONS") and token.scope != "write":
        return problem(403, "该令牌为只读令牌，不能修改数据")
    return None


def _who(token: ApiToken) -> str:
    return token.user.username if token.user is not None else f"platform:{token.name}"


@bp.after_request
def log_call(response):
    token = g.get("api_token")
    if token is not None:
        if response.status_code >= 400:
            db.session.rollback()
        token.last_used_at = utcnow()
        record_event("api_call", user=token.user, username=_who(token),
                     detail=f"{token.prefix} {request.method} {request.path} {response.status_code}")
        db.session.commit()
    return response


def actor():
    return g.api_actor


def get_or_404(model, record_id):
    """``get_scoped_or_404`` with the token's actor: another zone's record is a 404, as on the pages."""
    return get_scoped_or_404(model, record_id, actor())


def paged(stmt, query, present):
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page, per_page = query["page"], query["per_page"]
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return {"items": [present(row) for row in rows], "page": page, "per_page": per_page, "total": total,
            "pages": (total + per_page - 1) // per_page}


def etag(response, record):
    response.headers["ETag"] = f'"{record.version}"'
    return response


def if_match(record) -> None:
    """Optimistic locking: the write must name the version it read (If-Match: "3"); a stale one is 412."""
    header = request.headers.get("If-Match")
    if not header:
        abort(problem(428, "修改须带 If-Match 请求头（读取时的 ETag）", "version"))
    if header.strip().strip('W/').strip('"') != str(record.version):
        abort(problem(412, StaleEdit().message, "version", current_version=record.version))


def idempotency_token(key: str | None) -> str | None:
    """The Idempotency-Key as the create forms' token (crm/idempotency.py): 32 URL-safe characters."""
    if not key:
        return None
    if len(key) > 200:
        abort(problem(422, "Idempotency-Key 过长（最多 200 个字符）", "Idempotency-Key"))
    digest = hashlib.sha256(f"api:{key}".encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:32]


def created(token, record, present, schema, location):
    """Commit a create once per idempotency key; a repeat answers the first one's record (200)."""
    user = actor()
    idempotency.remember(user, token, record)
    existing = idempotency.commit_once(user, token)
    if existing is not None:
        record = db.session.get(type(record), existing.record_id)
    response = jsonify(schema().dump(present(record)))
    response.status_code = 201 if existing is None else 200
    response.headers["Location"] = location(record)
    return etag(response, record)


def replayed(token, model, present, schema):
    previous = idempotency.already_submitted(actor(), token)
    if previous is None:
        return None
    record = get_or_404(model, previous.record_id)
    response = jsonify(schema().dump(present(record)))
    response.headers["Idempotent-Replayed"] = "true"
    return etag(response, record)


IDEMPOTENCY = {"parameters": [{"in": "header", "name": "Idempotency-Key", "required": False,
                               "schema": {"type": "string", "maxLength": 200},
                               "description": "重复提交同一键只创建一次，返回首次创建的记录"}]}
def links(schema: str, **targets) -> dict:
    """A create's 201, with OpenAPI links to the operations on the record it made (the stateful tests
    follow them). Given whole: smorest's ``doc`` replaces the response ``@bp.response`` describes."""
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {"200": {"description": "同一 Idempotency-Key 再次提交：首次创建的记录", "content": content},
            "201": {"description": "已创建", "content": content,
                    "links": {name: {"operationId": op, "parameters": params} for name, (op, params) in targets.items()}}}


PROJECT_LINKS = links("ProjectDetail",
    GetProject=("getProject", {"project_id": "$response.body#/id"}),
    PatchProject=("patchProject", {"project_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"}))
VISIT_LINKS = links("Visit",GetVisit=("getVisit", {"visit_id": "$response.body#/id"}))

# From the enterprise list to a create on its first firm: a client's usual path (and the state machine's).
LIST_LINKS = {"200": {"description": "企业列表（分页）", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/EnterprisePage"}}}, "links": {
    "CreateVisit": {"operationId": "createVisit", "requestBody": {
        "enterprise_id": "$response.body#/items/0/id", "kind": "电话", "visit_date": "2026-01-05"}},
    "CreateProject": {"operationId": "createProject", "requestBody": {
        "enterprise_id": "$response.body#/items/0/id", "name": "接口新建项目"}}}}}

IF_MATCH = {"parameters": [{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                            "description": "读取时的 ETag（记录版本）"}]}


# --- enterprises -----------------------------------------------------------------------------------
def present_enterprise(enterprise: Enterprise) -> dict:
    return {key: getattr(enterprise, key) for key in s.Enterprise().fields}


@bp.route("/enterprises")
class Enterprises(MethodView):
    @bp.arguments(s.EnterpriseQuery, location="query")
    @bp.response(200, s.EnterprisePage)
    @bp.doc(**ERRORS, operationId="listEnterprises")
    @bp.doc(responses=LIST_LINKS)
    def get(self, query):
        """企业库（全市共享）"""
        stmt = enterprise_list_query({"q": query.get("q")}, query["sort"].lstrip("-"))
        if query["sort"].startswith("-"):
            stmt = stmt.order_by(None).order_by((Enterprise.name if "name" in query["sort"]
                                                 else Enterprise.updated_at).desc(), Enterprise.id.desc())
        return paged(stmt, query, present_enterprise)


@bp.route("/enterprises/<int:enterprise_id>")
class EnterpriseItem(MethodView):
    @bp.response(200, s.EnterpriseDetail)
    @bp.doc(**ERRORS)
    def get(self, enterprise_id):
        """一家企业：企业库信息，及本人所属园区的联系人"""
        enterprise = get_or_404(Enterprise, enterprise_id)
        data = present_enterprise(enterprise)
        data["contacts"] = [{key: getattr(c, key) for key in s.Contact().fields} for c in contacts_of(actor(), enterprise)]
        return etag(jsonify(s.EnterpriseDetail().dump(data)), enterprise)


# --- projects --------------------------------------------------------------------------------------
def present_project(project: Project) -> dict:
    user = actor()
    full = sees_in_full(user, project)
    return {
        "id": project.id, "zone": {"id": project.zone.id, "name": project.zone.name},
        "enterprise_id": project.enterprise_id if full else None, "name": masked_name(user, project),
        "stage": project.stage, "confidential": project.confidential,
        "planned_investment": if_in_full(user, project, project.planned_investment),
        "contract_investment": if_in_full(user, project, project.contract_investment),
        "signed_date": project.signed_date,
        "source": if_in_full(user, project, project.source), "priority": if_in_full(user, project, project.priority),
        "version": project.version if full else None, "updated_at": project.updated_at if full else None,
    }


def present_project_detail(project: Project) -> dict:
    data = present_project(project)
    funds = db.session.scalars(select(FundsInPlace).where(FundsInPlace.project_id == project.id,
                                                          FundsInPlace.deleted_at.is_(None)).order_by(FundsInPlace.month)).all()
    increases = db.session.scalars(select(CapitalIncrease).where(
        CapitalIncrease.project_id == project.id, CapitalIncrease.deleted_at.is_(None))
        .order_by(CapitalIncrease.signed_date)).all()
    data.update(
        description=project.description, land_area=project.land_area,
        stage_history=[{"at": e.at, "from_stage": e.from_stage, "to_stage": e.to_stage, "note": e.note}
                       for e in project.events],
        funds=[{"id": f.id, "month": f.month, "amount": f.amount, "note": f.note} for f in funds],
        capital_increases=[{"id": c.id, "signed_date": c.signed_date, "amount": c.amount, "note": c.note}
                           for c in increases],
    )
    return data


@bp.route("/projects")
class Projects(MethodView):
    @bp.arguments(s.ProjectQuery, location="query")
    @bp.response(200, s.ProjectPage)
    @bp.doc(**ERRORS)
    def get(self, query):
        """项目库：筛选与排序同项目库页面；保密项目对无权查看者显示为“保密项目”"""
        filters = {key: query.get(key) for key in ("q", "stage", "zone_id", "source", "priority")}
        return paged(project_list_query(actor(), filters, query["sort"]), query, present_project)

    @bp.arguments(s.ProjectCreate)
    @bp.response(201, s.ProjectDetail)
    @bp.doc(**ERRORS, **IDEMPOTENCY, operationId="createProject")
    @bp.doc(responses=PROJECT_LINKS)
    def post(self, data):
        """新建项目（线索），与“新建项目”表单同一服务与权限"""
        token = idempotency_token(request.headers.get("Idempotency-Key"))
        if (again := replayed(token, Project, present_project_detail, s.ProjectDetail)) is not None:
            return again
        enterprise = get_or_404(Enterprise, data.pop("enterprise_id"))
        project = create_project(actor(), enterprise, data)
        return created(token, project, present_project_detail, s.ProjectDetail,
                       lambda p: url_for("api.ProjectItem", project_id=p.id))


@bp.route("/projects/<int:project_id>")
class ProjectItem(MethodView):
    @bp.response(200, s.ProjectDetail)
    @bp.doc(**ERRORS, operationId="getProject")
    def get(self, project_id):
        """一个项目：阶段历程、到资与增资；ETag 为记录版本"""
        project = get_scoped_or_404(Project, project_id, actor(), options=(selectinload(Project.events),))
        return etag(jsonify(s.ProjectDetail().dump(present_project_detail(project))), project)

    @bp.arguments(s.ProjectChange)
    @bp.response(200, s.ProjectDetail)
    @bp.doc(**ERRORS, **IF_MATCH, operationId="patchProject")
    def patch(self, data, project_id):
        """修改项目（If-Match 为读取时的 ETag；已被他人修改则 412 并给出当前版本）"""
        project = get_or_404(Project, project_id)
        if_match(project)
        update_project(actor(), project, data)
        db.session.commit()
        return etag(jsonify(s.ProjectDetail().dump(present_project_detail(project))), project)


# --- visits ----------------------------------------------------------------------------------------
def present_visit(visit: Visit) -> dict:
    user = actor()
    full = sees_in_full(user, visit.project)
    return {
        "id": visit.id, "zone_id": visit.zone_id, "enterprise_id": visit.enterprise_id if full else None,
        "project_id": visit.project_id if full else None,
        "project_name": masked_name(user, visit.project) if visit.project else None,
        "kind": visit.kind, "visit_date": visit.visit_date,
        "summary": visit.summary if full else "", "outcome": visit.outcome if full else "",
        "next_step": visit.next_step if full else "", "next_step_due": visit.next_step_due,
        "version": visit.version,
    }


@bp.route("/visits")
class Visits(MethodView):
    @bp.arguments(s.VisitQuery, location="query")
    @bp.response(200, s.VisitPage)
    @bp.doc(**ERRORS)
    def get(self, query):
        """走访洽谈记录，筛选同走访页面"""
        filters = {key: query.get(key) for key in ("kind", "project_id", "enterprise_id")}
        return paged(visit_list_query(actor(), filters), query, present_visit)

    @bp.arguments(s.VisitCreate)
    @bp.response(201, s.Visit)
    @bp.doc(**ERRORS, **IDEMPOTENCY, operationId="createVisit")
    @bp.doc(responses=VISIT_LINKS)
    def post(self, data):
        """记录一次走访，与走访表单同一服务与权限"""
        token = idempotency_token(request.headers.get("Idempotency-Key"))
        if (again := replayed(token, Visit, present_visit, s.Visit)) is not None:
            return again
        enterprise = get_or_404(Enterprise, data.pop("enterprise_id"))
        project = get_or_404(Project, data.pop("project_id")) if data.get("project_id") else None
        data.pop("project_id", None)
        visit = create_visit(actor(), enterprise, data, project)
        return created(token, visit, present_visit, s.Visit, lambda v: url_for("api.VisitItem", visit_id=v.id))


@bp.route("/visits/<int:visit_id>")
class VisitItem(MethodView):
    @bp.response(200, s.Visit)
    @bp.doc(**ERRORS, operationId="getVisit")
    def get(self, visit_id):
        """一条走访记录"""
        visit = get_or_404(Visit, visit_id)
        return etag(jsonify(s.Visit().dump(present_visit(visit))), visit)


# --- the ledger's figures and the chain gaps ---------------------------------------------------------
def _zone_or_404(zone_id: int) -> Zone:
    """A zone the actor may see; another zone answers 404, as on the report pages."""
    zone = db.session.get(Zone, zone_id)
    if zone is None or not can_see_zone(actor(), zone.id):
        abort(404)
    return zone


@bp.route("/zones/<int:zone_id>/figures")
class ZoneFigures(MethodView):
    @bp.arguments(s.MonthQuery, location="query")
    @bp.response(200, s.MonthFigures)
    @bp.doc(**ERRORS)
    def get(self, query, zone_id):
        """园区某月台账数字（本月与本年累计，与月度台账同一计算）及年度目标"""
        zone = _zone_or_404(zone_id)
        if (refused := refusal(actor(), "reports.read", zone.id)) is not None:
            return problem(403, refused.message, refused.field)
        try:
            start, end = month_bounds(query["month"])
        except ValueError as error:
            return problem(422, str(error), "month")
        month = ledger.period_figures(actor(), start, end, [zone.id]).as_dict()
        year = ledger.period_figures(actor(), date(start.year, 1, 1), end, [zone.id]).as_dict()
        money = ("contract_investment", "increases", "signed_amount", "funds", "funds_to_date", "committed")
        rates = {key: value for key, value in month.items() if key not in money and key != "signed"}
        return {"zone": {"id": zone.id, "name": zone.name}, "month": query["month"],
                **{key: month[key] for key in ("signed", *money)}, "rates": rates,
                "year_to_date": {key: (str(value) if key in money else value) for key, value in year.items()},
                "targets": ledger.target_for([zone.id], start.year)}


@bp.route("/chains")
class Chains(MethodView):
    @bp.response(200, s.ChainList)
    @bp.doc(**ERRORS)
    def get(self):
        """产业链"""
        chains = db.session.scalars(select(Chain).order_by(Chain.code)).all()
        return {"items": [{"code": c.code, "name": c.name, "version": c.version} for c in chains]}


@bp.route("/chains/<string(maxlength=32):code>")
class ChainItem(MethodView):
    @bp.response(200, s.ChainDetail)
    @bp.doc(**ERRORS)
    def get(self, code):
        """一条产业链：环节与上下游链接"""
        chain = db.session.scalar(select(Chain).where(Chain.code == code).options(selectinload(Chain.segments)))
        if chain is None:
            abort(404)
        ids = [segment.id for segment in chain.segments]
        links = db.session.scalars(select(SegmentLink).where(SegmentLink.from_segment_id.in_(ids))).all()
        return {"code": chain.code, "name": chain.name, "version": chain.version,
                "segments": [{"code": x.code, "name": x.name, "tier": x.tier} for x in chain.segments],
                "links": [{"from_code": link.from_segment.code, "to_code": link.to_segment.code} for link in links]}


@bp.route("/zones/<int:zone_id>/chains/<string(maxlength=32):code>/gaps")
class ZoneGaps(MethodView):
    @bp.arguments(s.GapQuery, location="query")
    @bp.response(200, s.GapReport)
    @bp.doc(**ERRORS)
    def get(self, query, zone_id, code):
        """园区产业链缺口（与缺口报告页、`flask chains gaps --json` 同一记录）"""
        try:
            report = gaps.analyse_chain(actor(), code, zone_id)
        except gaps.NotFound:
            abort(404)
        data = gaps.report_dict(report, gaps.report_targets(actor(), report))
        data["gaps"] = data["gaps"][:query["limit"]]
        return data


# --- the pages: personal tokens, platform tokens, the readable document --------------------------------
@pages.route("/account/api-tokens", methods=["GET", "POST"])
def personal():
    form = PersonalTokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_personal_token(current_user, form.name.data, form.scope.data, form.days.data)
            record_event("api_token_created", user=current_user, detail=f"{token.prefix} {token.scope}")
            db.session.commit()
            form = PersonalTokenForm(formdata=None)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
    return render_template("api/tokens.html", form=form, secret=secret, tokens=tokens.personal_tokens(current_user),
                           revoke_endpoint="api_pages.revoke", platform=False)


@pages.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id):
    token = tokens.own_token_or_none(current_user, token_id)
    if token is None:
        abort(404)
    tokens.revoke_token(token)
    record_event("api_token_revoked", user=current_user, detail=token.prefix)
    db.session.commit()
    flash("令牌已撤销", "success")
    return redirect(url_for("api_pages.personal"))


@pages.route("/admin/api-tokens", methods=["GET", "POST"])
@allowed("api.platform_tokens")
def platform():
    form = PlatformTokenForm()
    form.zone_ids.choices = [(z.id, z.name) for z in db.session.scalars(select(Zone).order_by(Zone.id))]
    secret = None
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_platform_token(current_user, form.name.data, form.zone_ids.data, form.days.data)
            record_event("api_token_created", user=current_user, detail=f"{token.prefix} platform {token.name}")
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
    return render_template("api/platform_tokens.html", form=form, secret=secret, tokens=tokens.platform_tokens(),
                           revoke_endpoint="api_pages.revoke_platform", platform=True)


@pages.route("/admin/api-tokens/<int:token_id>/revoke", methods=["POST"])
@allowed("api.platform_tokens")
def revoke_platform(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.kind != "platform":
        abort(404)
    tokens.revoke_token(token)
    record_event("api_token_revoked", user=current_user, detail=f"{token.prefix} platform")
    db.session.commit()
    flash("平台令牌已撤销", "success")
    return redirect(url_for("api_pages.platform"))


@pages.route("/api/docs")
def docs():
    return render_template("api/docs.html", spec=api.spec.to_dict())
