"""产业链: the chain list, the chain map (ECharts), the gap report (HTML / Excel), mapping, admin edits.

Views are thin: they resolve the zone the user asked for (a zone the user may not see answers
404), call ``crm.chains.gaps`` and render. JSON for the map is drawn by
static/js/chain_map.js; no template carries inline script or style (CSP).
"""
from __future__ import annotations

import io
import json

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.chains.forms import BuildSaveForm, BuildUploadForm, LeadingChainsForm, LinkForm, MappingForm, SegmentForm
from crm.extensions import db
from crm.inputs import id_or_none, parse_id
from crm.forms import form_data
from crm.catalog.models import Chain, Segment, SegmentLink
from crm.library.models import Enterprise
from crm.accounts.zones import Zone
from crm.pipeline.models import ACTIVE_LEAD_STAGES
from crm.permissions import MASKED_NAME, allowed, can, can_see_zone, sees_in_full, visible_zone_ids
from crm.forms import DeleteForm
from chains import explain
from crm.chains import building
from crm.chains import gaps as analysis
from crm.imports.reading import ImportRefused
from crm.library import segments as mapping
from crm.catalog import service as chain_service
from crm.chains.gaps import NotFound
from crm.forms import BaseForm
from crm.jobs import service as jobs
from crm.jobs.web import result_redirect
from crm.views import saving

bp = Blueprint("chains", __name__, url_prefix="/chains", template_folder="templates")


class ExportForm(BaseForm):
    """The gap report export's POST: its CSRF token."""


def _zone_arg() -> int | None:
    """``?zone_id=``: a number, or nothing (the user's own zone(s), or the whole city for the admin)."""
    raw = request.args.get("zone_id", "").strip()
    if not raw:
        return None
    zone_id = id_or_none(raw)
    if zone_id is None:  # not an id we could have issued
        abort(404)
    return zone_id


def _analyse(code: str, zone_id: int | None) -> analysis.ChainReport:
    try:
        return analysis.analyse_chain(current_user, code, zone_id)
    except NotFound:
        abort(404)


def _zone_options(user) -> list[tuple[str, str]]:
    """The zone selector: the admin picks 全市 or a zone; a user of several zones picks among them."""
    zones = visible_zone_ids(user)
    if zones is None:
        return [("", "全市")] + [(str(z.id), z.name) for z in db.session.scalars(select(Zone).order_by(Zone.id))]
    if len(user.zones) > 1:
        return [("", "我的全部园区")] + [(str(z.id), z.name) for z in user.zones]
    return []


def _zone_query(report: analysis.ChainReport) -> dict:
    """The ``zone_id`` argument that reproduces this report's scope in another URL."""
    return {"zone_id": report.zone_id} if report.zone_id is not None else {}


@bp.route("/")
def index():
    zone_id = _zone_arg()
    try:
        coverage, zone_ids, zones = analysis.coverage_by_chain(current_user, zone_id)
    except NotFound:
        abort(404)
    chains = db.session.scalars(select(Chain).order_by(Chain.code)).all()
    leading = {code for zone in zones for code in (zone.leading_chains or [])}
    # One zone in view that the user may set: its chief (or the admin) chooses its leading chains here.
    leading_zone = zones[0] if len(zones) == 1 and can(current_user, "zone.set_leading_chains", zones[0]) else None
    return render_template(
        "chains/index.html", chains=chains, coverage=coverage, leading=leading,
        leading_zone=leading_zone, leading_form=LeadingChainsForm(formdata=None) if leading_zone else None,
        scope=analysis.scope_label(zones, zone_ids), zone_options=_zone_options(current_user),
        zone_id=zone_id, zone_query={"zone_id": zone_id} if zone_id is not None else {},
    )


@bp.route("/leading/<int:zone_id>", methods=["POST"])
@allowed("zone.set_leading_chains")
def set_leading(zone_id):
    """A zone's chief (or the admin) ticks the zone's leading chains on the chains index."""
    if not can_see_zone(current_user, zone_id):
        abort(404)
    zone = db.session.get(Zone, zone_id) or abort(404)
    form = LeadingChainsForm()
    if form.validate_on_submit():
        with saving() as saved:
            changed = chain_service.set_leading_chains(current_user, zone, form.chains.data or [])
        if saved:
            flash(f"已保存{zone.name}的主导产业链" if changed else "没有修改", "success" if changed else "info")
    return redirect(url_for("chains.index", zone_id=zone.id))


@bp.route("/<code>", endpoint="map")
def chain_map(code):
    report = _analyse(code, _zone_arg())
    query = _zone_query(report)
    return render_template(
        "chains/map.html", report=report, zone_options=_zone_options(current_user), query=query,
        graph_url=url_for("chains.graph", code=code, **query),
        panel_url=url_for("chains.panel", code=code, seg="__SEG__", **query),
    )


@bp.route("/<code>/graph.json")
def graph(code):
    return jsonify(analysis.map_data(_analyse(code, _zone_arg())))


@bp.route("/<code>/segments/<seg>/panel.json")
def panel(code, seg):
    try:
        result = analysis.segment_panel(current_user, code, seg, _zone_arg())
    except NotFound:
        abort(404)
    return jsonify(_panel_json(result))


def _project_row(project) -> dict:
    """A project as the map panel and the gap report list it. A 保密项目 the user sees masked: its
    stage and zone, named "保密项目", no firm, no link."""
    if sees_in_full(current_user, project):
        return {"name": project.name, "stage": project.stage, "zone": project.zone.name,
                "enterprise": project.enterprise.name, "url": url_for("projects.detail", project_id=project.id)}
    return {"name": MASKED_NAME, "stage": project.stage, "zone": project.zone.name, "enterprise": "", "url": None}


def _panel_json(panel: analysis.SegmentPanel) -> dict:
    report, node = panel.report, panel.node
    segment_id = report.graph.graph["segment_ids"].get(panel.code)
    local = report.presence.get(panel.code, {})
    return {
        "code": panel.code, "name": node["name"], "name_en": node.get("name_en", ""), "tier": node["tier"],
        "value_add": node["value_add"], "products": list(node.get("products") or ()),
        "external": bool(node.get("external")), "chain": node["chain"],
        "chain_name": report.graph.graph["chain_names"].get(node["chain"], ""),
        "chain_url": url_for("chains.map", code=node["chain"], **_zone_query(report)) if node.get("external") else None,
        "scope": report.scope_label,
        "gap": analysis.gap_dict(panel.gap),
        "term_labels": analysis.TERM_LABELS,
        "presence": {"count": int(local.get("count", 0)), "partial": int(local.get("partial", 0)),
                     "output": round(float(local.get("output", 0.0)), 2),
                     "above_scale": int(local.get("above_scale", 0)), "leader": bool(local.get("leader"))},
        "pipeline": {stage: report.pipeline.by_stage.get(panel.code, {}).get(stage, 0) for stage in ACTIVE_LEAD_STAGES},
        "local": [dict(row, url=url_for("enterprises.detail", enterprise_id=row["id"])) for row in panel.local],
        "local_total": panel.local_total,
        "targets": [
            {"name": t.name, "place": t.place, "tags": t.tags, "above_scale": t.above_scale, "leader": t.leader,
             "revenue": t.revenue, "projects": t.projects, "visits": t.visits, "last_visit": t.last_visit,
             "url": url_for("enterprises.detail", enterprise_id=t.enterprise_id)}
            for t in panel.targets
        ],
        "projects": [_project_row(p) for p in panel.projects],
        "zones": panel.holders,
        "library_url": url_for("enterprises.index", segment_id=segment_id) if segment_id else None,
        "edit_url": url_for("chains.edit_segment", segment_id=segment_id)
        if segment_id and can(current_user, "admin.manage") else None,
    }


@bp.route("/<code>/gaps")
def gaps(code):
    report = _analyse(code, _zone_arg())
    targets = analysis.report_targets(current_user, report)
    codes = [r.code for r in report.gaps]
    projects = {code: [_project_row(p) for p in items]
                for code, items in analysis.projects_for_segments(current_user, codes, report.zone_ids).items()}
    query = _zone_query(report)
    return render_template(
        "chains/gaps.html", report=report, targets=targets, data=analysis.report_dict(report),
        projects=projects, explain=explain,
        zone_options=_zone_options(current_user), query=query, stages=ACTIVE_LEAD_STAGES,
        status_labels=analysis.STATUS_LABELS, term_labels=analysis.TERM_LABELS,
    )


@bp.route("/<code>/gaps.xlsx", methods=["POST"])
def gaps_xlsx(code):
    """The gap report workbook, as a job (crm/jobs); its page offers the download when it is made."""
    zone_id = _zone_arg()
    try:
        analysis.analysed_zones(current_user, zone_id)  # another zone answers 404 here, before any job
        chain = db.session.scalar(select(Chain).where(Chain.code == code))
        if chain is None:
            raise NotFound(code)
    except NotFound:
        abort(404)
    if not ExportForm().validate_on_submit():
        abort(400)
    zone = db.session.get(Zone, zone_id) if zone_id else None
    job = jobs.create_job(current_user, "gaps_export", {"code": code, "zone_id": zone_id},
                          title=f"{chain.name}产业链缺口报告（{zone.name if zone else '本人可见园区'}）", zone_id=zone_id)
    db.session.commit()
    jobs.start(job)
    return result_redirect(job)


# --- mapping an enterprise onto segments -------------------------------------------------


def _enterprise_or_404(enterprise_id: int) -> Enterprise:
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None or enterprise.deleted_at is not None:
        abort(404)
    return enterprise


@bp.route("/mapping/<int:enterprise_id>", methods=["GET", "POST"])
@allowed("enterprise.map")
def mapping_page(enterprise_id):
    enterprise = _enterprise_or_404(enterprise_id)
    segments = mapping.all_segments()
    by_id = {s.id: s for s in segments}
    current = mapping.mappings_of(enterprise)
    suggestions = mapping.suggestions_for(enterprise, segments)
    form = MappingForm()
    added = [i for i in request.args.getlist("add", type=parse_id) if i in by_id]
    if request.method == "GET":
        form.segment_ids.data = [m.segment_id for m in current] + added
        form.primary.data = [m.segment_id for m in current if m.is_primary] or (added[:1] if not current else [])
        form.leaders.data = [m.segment_id for m in current if m.is_leader]
    if form.validate_on_submit():
        with saving(form) as saved:
            stats = mapping.set_enterprise_segments(
                current_user, enterprise, form.segment_ids.data or [], form.primary.data or [],
                form.leaders.data or [])
        if saved:
            flash(f"产业链环节已保存（新增 {stats['added']}、修改 {stats['changed']}、移除 {stats['removed']}）", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
    # Rows: what is mapped, what was ticked, what the keywords suggest, what the user added.
    order: list[int] = []
    for segment_id in [m.segment_id for m in current] + list(form.segment_ids.data or []) \
            + [s.segment.id for s in suggestions] + added:
        if segment_id in by_id and segment_id not in order:
            order.append(segment_id)
    reasons = {s.segment.id: s for s in suggestions}
    rows = [{"segment": by_id[i], "suggestion": reasons.get(i), "mapped": any(m.segment_id == i for m in current)}
            for i in order]
    return render_template(
        "chains/mapping.html", enterprise=enterprise, form=form, rows=rows, suggestions=suggestions,
        groups=mapping.segment_groups(segments), added=added,
        checked=set(form.segment_ids.data or []), primary=set(form.primary.data or []),
        leaders=set(form.leaders.data or []),
    )


# --- admin: segments and links ----------------------------------------------------------


def _chain_or_404(code: str) -> Chain:
    chain = db.session.scalar(select(Chain).where(Chain.code == code).options(selectinload(Chain.segments)))
    if chain is None:
        abort(404)
    return chain


def _chain_links(chain: Chain) -> list[SegmentLink]:
    ids = [s.id for s in chain.segments]
    return list(db.session.scalars(
        select(SegmentLink)
        .where(SegmentLink.from_segment_id.in_(ids) | SegmentLink.to_segment_id.in_(ids))
        .options(selectinload(SegmentLink.from_segment), selectinload(SegmentLink.to_segment))
        .order_by(SegmentLink.id)
    ))


@bp.route("/<code>/segments", methods=["GET", "POST"])
@allowed("admin.manage")
def edit_chain(code):
    """The admin's chain editor: every segment (edit) and link (delete), and a form to add a link."""
    chain = _chain_or_404(code)
    form = LinkForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            link = chain_service.add_link(current_user, form.from_code.data, form.to_code.data)
        if saved:
            flash(f"已添加链接 {link.from_segment.code} → {link.to_segment.code}", "success")
            return redirect(url_for("chains.edit_chain", code=code))
    return render_template("chains/chain_edit.html", chain=chain, links=_chain_links(chain), form=form,
                           delete_form=DeleteForm())


@bp.route("/links/<int:link_id>/delete", methods=["POST"])
@allowed("admin.manage")
def delete_link(link_id):
    link = db.session.get(SegmentLink, link_id) or abort(404)
    chain_code = link.from_segment.chain.code
    back = request.form.get("next", "")
    if DeleteForm().validate_on_submit():
        label = f"{link.from_segment.code} → {link.to_segment.code}"
        chain_service.delete_link(current_user, link)
        db.session.commit()
        flash(f"已删除链接 {label}", "info")
    # Only our own pages are valid places to go back to.
    if back.startswith("/chains/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("chains.edit_chain", code=chain_code))


@bp.route("/segments/<int:segment_id>/edit", methods=["GET", "POST"])
@allowed("admin.manage")
def edit_segment(segment_id):
    segment = db.session.get(Segment, segment_id) or abort(404)
    form = SegmentForm(obj=segment)
    if request.method == "GET":
        form.products.data = "、".join(segment.products or [])
        form.keywords.data = "、".join(segment.keywords or [])
    if form.validate_on_submit():
        with saving(form) as saved:
            changed = chain_service.update_segment(current_user, segment, form_data(form, *SegmentForm.FIELDS))
        if saved:
            flash("环节已保存" if changed else "没有修改", "success" if changed else "info")
            return redirect(url_for("chains.edit_chain", code=segment.chain.code))
    links = [link for link in _chain_links(segment.chain)
             if segment.id in (link.from_segment_id, link.to_segment_id)]
    return render_template("chains/segment_form.html", segment=segment, form=form, links=links,
                           delete_form=DeleteForm())


# --- admin: the chain builder (Excel template → preview → save) ---------------------------


@bp.route("/build", methods=["GET", "POST"])
@allowed("admin.manage")
def build():
    """Upload a filled template: its problems by sheet, row and column, or a preview of the chain."""
    form = BuildUploadForm()
    errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            draft = building.read_workbook(upload.read(building.MAX_BYTES + 1), upload.filename or "")
        except ImportRefused as refused:
            errors = [refused.message]
        else:
            errors = draft.errors
            if draft.chain is not None:
                return _preview(draft)
    return render_template("chains/build.html", form=form, errors=errors)


def _preview(draft):
    save_form = BuildSaveForm(formdata=None)
    save_form.payload.data = json.dumps(draft.data, ensure_ascii=False)
    return render_template("chains/build_preview.html", chain=draft.chain, tiers=building.preview(draft.chain),
                           form=save_form)


@bp.route("/build/template.xlsx")
@allowed("admin.manage")
def build_template():
    return send_file(io.BytesIO(building.template_workbook()), as_attachment=True, download_name="产业链导入模板.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)


@bp.route("/build/save", methods=["POST"])
@allowed("admin.manage")
def build_save():
    """Save the previewed chain: checked again, written all at once, or nothing."""
    form = BuildSaveForm()
    errors = []
    if form.validate_on_submit():
        try:
            data = json.loads(form.payload.data)
        except ValueError:
            data = None
        draft = building.check_data(data)
        errors = draft.errors
        if draft.chain is not None:
            with saving() as saved:
                chain = building.save_chain(current_user, draft.chain)
            if saved:
                flash(f"已新建产业链 {chain.name}（{len(draft.chain.segments)} 个环节、{len(draft.chain.links)} 条链接）",
                      "success")
                return redirect(url_for("chains.map", code=chain.code))
    else:
        errors = [message for messages in form.errors.values() for message in messages]
    return render_template("chains/build.html", form=BuildUploadForm(formdata=None), errors=errors), 400
