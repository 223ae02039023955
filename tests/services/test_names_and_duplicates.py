import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.library.models import Contact, Enterprise
from crm.catalog.models import EnterpriseSegment, Segment
from crm.pipeline.models import Project
from crm.visits.models import Visit
from crm.admin.merges import merge_enterprises, undo_merge
from crm.library.duplicates import find_duplicates
from crm.library.service import enterprise_list_query
from crm.errors import ServiceError
from crm.library.names import clean_uscc, normalize_name, pinyin_keys
from tests import factories as f


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("江苏省苏州市宏达铝业有限公司", "宏达铝业"),
        ("宏达铝业（中国）有限公司", "宏达铝业"),
        ("宏达铝业(中国)有限责任公司", "宏达铝业"),
        ("宏达铝业集团股份有限公司", "宏达铝业"),
        ("山东南山铝业股份有限公司", "南山铝业"),
        ("ＡＢＣ铝业有限公司", "abc铝业"),
        ("上海市 宏达 铝业 有限公司", "宏达铝业"),
    ],
)
def test_normalize_name_strips_region_legal_form_and_width(raw, expected):
    assert normalize_name(raw) == expected


def test_pinyin_keys_hold_full_pinyin_and_initials():
    keys = pinyin_keys("南山铝业")
    assert "nanshanlvye" in keys and "nsly" in keys


def test_clean_uscc_accepts_valid_and_explains_invalid():
    code = f.valid_uscc(5)
    assert clean_uscc(" " + code.lower() + " ") == code
    assert clean_uscc("") is None
    with pytest.raises(ValueError, match="校验位不正确"):
        clean_uscc(code[:-1] + ("0" if code[-1] != "0" else "1"))
    with pytest.raises(ValueError, match="应为 18 位"):
        clean_uscc("9134120012345")


def test_search_finds_by_name_alias_uscc_and_pinyin(app_ctx):
    code = f.valid_uscc(11)
    target = f.make_enterprise(name="山东南山铝业股份有限公司", aliases="南山集团", uscc=code)
    f.make_enterprise(name="宁德时代新能源科技股份有限公司")
    for q in ("南山", "南山集团", code, "lvye", "ly", "nanshan", "NSLY"):
        ids = db.session.scalars(enterprise_list_query({"q": q})).all()
        assert target in ids, q
    assert target not in db.session.scalars(enterprise_list_query({"q": "时代"})).all()


def test_search_treats_like_wildcards_literally(app_ctx):
    f.make_enterprise(name="百分之百铝业有限公司")
    assert db.session.scalars(enterprise_list_query({"q": "%"})).all() == []


def test_duplicates_found_by_uscc_normalised_name_and_fuzzy_score(app_ctx):
    code = f.valid_uscc(21)
    original = f.make_enterprise(name="江苏宏达铝业有限公司", uscc=code)
    by_code = find_duplicates("完全不同的名字", code)
    assert [d.enterprise for d in by_code] == [original] and "信用代码" in by_code[0].reason
    by_name = find_duplicates("宏达铝业（中国）有限公司")
    assert [d.enterprise for d in by_name] == [original] and "名称相同" in by_name[0].reason
    fuzzy = find_duplicates("宏达铝业科技有限公司")
    assert not fuzzy or fuzzy[0].score < 100
    assert find_duplicates("宁德时代新能源") == []
    assert find_duplicates("江苏宏达铝业有限公司", exclude_id=original.id) == []


@pytest.fixture
def merge_case(world):
    survivor = world.enterprise
    duplicate = f.make_enterprise(world.admin, name="宏达铝业（中国）有限公司", uscc=f.valid_uscc(77))
    contact = f.make_enterprise  # placeholder to keep names short below
    del contact
    from crm.library.service import add_contact

    moved_contact = add_contact(world.admin, duplicate, {"name": "张伟", "title": "总经理", "phone": "", "email": ""})
    moved_project = f.make_project(world.officer_a, duplicate, name="重复企业项目")
    moved_visit = f.make_visit(world.officer_a, duplicate, summary="重复企业走访")
    segment = db.session.scalars(select(Segment).limit(1)).one()
    db.session.add(EnterpriseSegment(enterprise_id=duplicate.id, segment_id=segment.id, is_primary=True))
    db.session.flush()
    return survivor, duplicate, moved_contact, moved_project, moved_visit, segment


def test_merge_moves_everything_and_undo_puts_it_back(world, merge_case):
    survivor, duplicate, contact, project, visit, segment = merge_case
    record = merge_enterprises(world.admin, survivor, duplicate)
    assert contact.enterprise_id == project.enterprise_id == visit.enterprise_id == survivor.id
    assert db.session.get(EnterpriseSegment, (survivor.id, segment.id)) is not None
    assert duplicate.deleted_at is not None and duplicate.name in survivor.aliases
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "EnterpriseMerge"))

    undo_merge(world.admin, record)
    assert contact.enterprise_id == project.enterprise_id == visit.enterprise_id == duplicate.id
    assert db.session.get(EnterpriseSegment, (survivor.id, segment.id)) is None
    assert db.session.get(EnterpriseSegment, (duplicate.id, segment.id)).is_primary
    assert duplicate.deleted_at is None and duplicate.uscc == f.valid_uscc(77)
    assert duplicate.name not in survivor.aliases
    with pytest.raises(ServiceError, match="已撤销"):
        undo_merge(world.admin, record)


def test_only_admin_merges(world, merge_case):
    survivor, duplicate, *_ = merge_case
    with pytest.raises(ServiceError, match="管理员"):
        merge_enterprises(world.chief_a, survivor, duplicate)
    with pytest.raises(ServiceError):
        merge_enterprises(world.admin, survivor, survivor)


def test_list_filters_by_segment_region_zone_tag_and_kind(world):
    segment = db.session.scalars(select(Segment).where(Segment.code == "AL-FOIL-BATTERY")).one()
    foil = f.make_enterprise(world.admin, name="某某电池铝箔有限公司", region_province="江苏省", region_city="苏州市",
                             tags=["专精特新"], zone_id=world.zone_a.id)
    db.session.add(EnterpriseSegment(enterprise_id=foil.id, segment_id=segment.id, is_primary=True))
    db.session.flush()

    def ids(**filters):
        return set(db.session.scalars(enterprise_list_query(filters)).all())

    assert ids(segment_id=segment.id) == {foil}
    assert foil in ids(province="江苏省", city="苏州市") and foil not in ids(city="宁波市")
    assert foil in ids(tag="专精特新") and foil not in ids(tag="上市")
    assert foil in ids(local="local", zone_id=world.zone_a.id) and foil not in ids(local="target")
    assert world.enterprise in ids(local="target")


def test_names_compare_after_nfkc_without_format_characters():
    from crm.library.names import comparable

    assert comparable("宏达\u200b铝业\ufeff") == "宏达铝业"
    assert normalize_name("ＡＢＣ\u200b铝业有限公司") == normalize_name("ABC铝业有限公司") == "abc铝业"
