from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.library.forms import ContactForm, EnterpriseForm, MergeForm, NoteForm
from crm.extensions import db
from crm.accounts.zones import Zone
from crm.forms import form_data
from crm.idempotency import new_token
from crm.library.models import Contact, Enterprise, EnterpriseMerge, EnterpriseNote
from crm.catalog.models import EnterpriseSegment
from crm.pipeline.models import Project
from crm.visits.models import Visit
from crm.library.models import ENTERPRISE_TAGS
from crm.permissions import (allowed, allowed_or_404, can, get_scoped_or_404, in_full_condition,
                             linked_in_full_condition, scope, visible_zone_ids)
from crm.library.history import enterprise_history
from crm.pipeline.first_report import holds_elsewhere
from crm.forms import DeleteForm
from crm.library import service as enterprise_service
from crm import records
from crm.admin import merges
from crm.library import duplicates as duplicate_service
from crm.library.duplicates import SAME_CODE, find_duplicates
from crm.library.service import segment_choices
from crm.views import all_zone_choices, flash_form_errors, int_filter, list_filters, page_of, saving, create_once, submitted_before
from crm.service import service as service_blocks  # the 包保 block of the enterprise page (edge module)

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises", template_folder="templates")


def _get_or_404(enterprise_id: int) -> Enterprise:
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None or enterprise.deleted_at is not None:
        abort(404)
    return enterprise


@bp.route("/")
def index():
    filters = int_filter(
        list_filters("q", "zone_id", "local", "province", "city", "industry", "tag", "segment_id"),
        "zone_id", "segment_id",
    )
    sort = request.args.get("sort", "name")
    page = page_of(enterprise_service.enterprise_list_query(filters, sort))
    return render_template(
        "enterprises/index.html", page=page, filters=filters, sort=sort, tags=ENTERPRISE_TAGS,
        zones=all_zone_choices(), segment_groups=segment_choices(),
    )


def _prepare(form):
    # Any writer may record where a firm is local; the library itself is shared city-wide.
    form.zone_id.choices = [(0, "（外地目标企业）")] + all_zone_choices()


def _refuse_same_code(form, duplicates) -> bool:
    """A credit code already registered is refused outright (the service would refuse it anyway), so the
    page never offers "仍要保存" for it: the error stands beside the code."""
    same = next((d.enterprise for d in duplicates if d.reason == SAME_CODE), None)
    if same is None:
        return False
    form.uscc.errors = [*form.uscc.errors, f"该统一社会信用代码已登记在另一家企业名下（{same.name}），不能重复登记；"
                                           "如为同一家企业，请打开该企业修改或合并"]
    return True


@bp.route("/new", methods=["GET", "POST"])
@allowed("enterprise.edit")
def new():
    form = EnterpriseForm()
    _prepare(form)
    duplicates = []
    if request.method == "GET":
        form.submission_token.data = new_token()
    if form.validate_on_submit():
        if done := submitted_before(form):
            return redirect(url_for("enterprises.detail", enterprise_id=done))
        data = form_data(form, *EnterpriseForm.FIELDS)
        data["zone_id"] = form.zone_id.data or None
        duplicates = find_duplicates(data["name"], data["uscc"])
        if _refuse_same_code(form, duplicates):
            return render_template("enterprises/form.html", form=form, enterprise=None, duplicates=[])
        if duplicates and not form.confirm_duplicates.data:
            return render_template("enterprises/form.html", form=form, enterprise=None, duplicates=duplicates)
        enterprise, twin = create_once(form, lambda: enterprise_service.create_enterprise(current_user, data))
        if enterprise:
            flash("企业已保存", "success")
        if enterprise or twin:
            return redirect(url_for("enterprises.detail", enterprise_id=twin or enterprise.id))
    return render_template("enterprises/form.html", form=form, enterprise=None, duplicates=duplicates)


@bp.route("/<int:enterprise_id>")
def detail(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    # A 保密项目 the user sees masked is left out here (and its visits): listed on its firm's page,
    # even as "保密项目", it would name the enterprise the mask hides.
    projects = db.session.scalars(
        scope(select(Project), Project, current_user).where(Project.enterprise_id == enterprise.id,
                                                            in_full_condition(current_user))
        .order_by(Project.id.desc())
    ).all()
    visits = db.session.scalars(
        scope(select(Visit), Visit, current_user).where(Visit.enterprise_id == enterprise.id,
                                                        linked_in_full_condition(current_user, Visit))
        .order_by(Visit.visit_date.desc()).limit(100)
    ).all()
    segments = db.session.scalars(
        select(EnterpriseSegment).where(EnterpriseSegment.enterprise_id == enterprise.id)
    ).all()
    history = enterprise_history(current_user, enterprise)
    merges = db.session.scalars(
        select(EnterpriseMerge).where(EnterpriseMerge.survivor_id == enterprise.id).order_by(EnterpriseMerge.id.desc())
    ).all()
    return render_template(
        "enterprises/detail.html", enterprise=enterprise, projects=projects, visits=visits,
        segments=segments, history=history, merges=merges, delete_form=DeleteForm(),
        contacts=enterprise_service.contacts_of(current_user, enterprise), zone_names=dict(all_zone_choices()),
        notes=enterprise_service.notes_of(current_user, enterprise),
        contact_form=_with_zones(ContactForm()), note_form=_with_zones(NoteForm()),
        holds=holds_elsewhere(enterprise, visible_zone_ids(current_user)),
        service_block=service_blocks.enterprise_block(current_user, enterprise),
        working_zones=_working_zone_names(enterprise) if can(current_user, "city.all_zones") else [],
        may_edit=can(current_user, "enterprise.edit", enterprise),
        may_delete=can(current_user, "enterprise.delete", enterprise),
    )


def _working_zone_names(enterprise) -> list[str]:
    """For the admin, before deleting: the zones with an active project or open next step on the firm."""
    ids = enterprise_service.zones_working_on(enterprise)
    return list(db.session.scalars(select(Zone.name).where(Zone.id.in_(ids)).order_by(Zone.id))) if ids else []


def _with_zones(form):
    """The zone select of a contact or note form: offered to a writer of several zones (and the admin)."""
    if can(current_user, "city.all_zones"):
        form.zone_id.choices = [(0, "（仅管理员可见）")] + all_zone_choices()
    else:
        form.zone_id.choices = [(z.id, z.name) for z in current_user.zones]
    return form


def _chosen_zone(form) -> int | None:
    return form.zone_id.data or None


def _own_record_or_404(model, enterprise: Enterprise, record_id: int):
    """A contact or note of this enterprise that the user's zone wrote (another zone's answers 404)."""
    record = get_scoped_or_404(model, record_id, current_user)
    if record.enterprise_id != enterprise.id:
        abort(404)
    return allowed_or_404(current_user, "contact.change", record)


@bp.route("/<int:enterprise_id>/edit", methods=["GET", "POST"])
@allowed("enterprise.edit")
def edit(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    form = EnterpriseForm(obj=enterprise)
    _prepare(form)
    if request.method == "GET":
        form.version.data = enterprise.version
        form.tags.data = enterprise.tag_list
        form.zone_id.data = enterprise.zone_id or 0
    duplicates = []
    if form.validate_on_submit():
        data = form_data(form, *EnterpriseForm.FIELDS)
        data["zone_id"] = form.zone_id.data or None
        identity_changed = data["name"] != enterprise.name or (data["uscc"] or None) != enterprise.uscc
        duplicates = find_duplicates(data["name"], data["uscc"], exclude_id=enterprise.id) if identity_changed else []
        if _refuse_same_code(form, duplicates):
            return render_template("enterprises/form.html", form=form, enterprise=enterprise, duplicates=[])
        if duplicates and not form.confirm_duplicates.data:
            return render_template("enterprises/form.html", form=form, enterprise=enterprise, duplicates=duplicates)
        with saving(form) as saved:
            enterprise_service.update_enterprise(current_user, enterprise, data, version=form.version.data)
        if saved:
            flash("企业已保存", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
    return render_template("enterprises/form.html", form=form, enterprise=enterprise, duplicates=duplicates)


@bp.route("/<int:enterprise_id>/delete", methods=["POST"])
@allowed("enterprise.delete")
def delete(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            working = enterprise_service.delete_enterprise(current_user, enterprise)
        if not saved:
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
        flash("企业已删除（管理员可在回收站恢复）", "info")
        if working:  # only the admin gets here with other zones at work on it: tell them who
            names = "、".join(db.session.scalars(select(Zone.name).where(Zone.id.in_(working)).order_by(Zone.id)))
            flash(f"删除时仍在跟进该企业的园区：{names}", "warning")
    return redirect(url_for("enterprises.index"))


@bp.route("/<int:enterprise_id>/contacts", methods=["POST"])
@allowed("contact.change")
def add_contact(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    form = _with_zones(ContactForm())
    if form.validate_on_submit():
        with saving() as saved:
            enterprise_service.add_contact(current_user, enterprise, form_data(form, *ContactForm.FIELDS),
                                           zone_id=_chosen_zone(form))
        if saved:
            flash("联系人已添加", "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))


@bp.route("/<int:enterprise_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@allowed("contact.change")
def edit_contact(enterprise_id, contact_id):
    enterprise = _get_or_404(enterprise_id)
    contact = _own_record_or_404(Contact, enterprise, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        with saving(form) as saved:
            enterprise_service.update_contact(current_user, contact, form_data(form, *ContactForm.FIELDS))
        if saved:
            flash("联系人已保存", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
    return render_template("enterprises/contact_form.html", form=form, enterprise=enterprise, contact=contact)


@bp.route("/<int:enterprise_id>/contacts/<int:contact_id>/delete", methods=["POST"])
@allowed("contact.change")
def delete_contact(enterprise_id, contact_id):
    enterprise = _get_or_404(enterprise_id)
    contact = _own_record_or_404(Contact, enterprise, contact_id)
    if DeleteForm().validate_on_submit():
        records.soft_delete(current_user, contact)
        db.session.commit()
        flash("联系人已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))


@bp.route("/<int:enterprise_id>/notes", methods=["POST"])
@allowed("contact.change")
def add_note(enterprise_id):
    enterprise = _get_or_404(enterprise_id)
    form = _with_zones(NoteForm())
    if form.validate_on_submit():
        with saving() as saved:
            enterprise_service.add_note(current_user, enterprise, form.text.data, zone_id=_chosen_zone(form))
        if saved:
            flash("备注已添加", "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))


@bp.route("/<int:enterprise_id>/notes/<int:note_id>/edit", methods=["GET", "POST"])
@allowed("contact.change")
def edit_note(enterprise_id, note_id):
    enterprise = _get_or_404(enterprise_id)
    note = _own_record_or_404(EnterpriseNote, enterprise, note_id)
    form = NoteForm(obj=note)
    if form.validate_on_submit():
        with saving(form) as saved:
            enterprise_service.update_note(current_user, note, form.text.data)
        if saved:
            flash("备注已保存", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))
    return render_template("enterprises/note_form.html", form=form, enterprise=enterprise, note=note)


@bp.route("/<int:enterprise_id>/notes/<int:note_id>/delete", methods=["POST"])
@allowed("contact.change")
def delete_note(enterprise_id, note_id):
    enterprise = _get_or_404(enterprise_id)
    note = _own_record_or_404(EnterpriseNote, enterprise, note_id)
    if DeleteForm().validate_on_submit():
        records.soft_delete(current_user, note)
        db.session.commit()
        flash("备注已删除（管理员可在回收站恢复）", "info")
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise.id))


@bp.route("/<int:enterprise_id>/merge", methods=["GET", "POST"])
@allowed("enterprise.merge")
def merge(enterprise_id):
    """Merge this enterprise (the duplicate) into a survivor the admin picks."""
    merged = _get_or_404(enterprise_id)
    form = MergeForm()
    if form.validate_on_submit():
        survivor = _get_or_404(form.survivor_id.data)
        with saving(form) as saved:
            merges.merge_enterprises(current_user, survivor, merged)
        if saved:
            flash(f"已将“{merged.name}”合并到本企业，可在下方合并记录中撤销", "success")
            return redirect(url_for("enterprises.detail", enterprise_id=survivor.id))
    candidates = duplicate_service.find_duplicates(merged.name, merged.uscc, exclude_id=merged.id)
    return render_template("enterprises/merge.html", enterprise=merged, form=form, candidates=candidates)


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@allowed("enterprise.merge")
def undo_merge(merge_id):
    record = db.session.get(EnterpriseMerge, merge_id) or abort(404)
    if DeleteForm().validate_on_submit():
        with saving() as saved:
            merges.undo_merge(current_user, record)
        if saved:
            flash("合并已撤销", "success")
    return redirect(url_for("enterprises.detail", enterprise_id=record.merged_id))
