import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from crm import create_app
from crm.audit.log import acting_as
from crm.extensions import db
from crm.library.models import Enterprise
from tests import factories as f

pytestmark = pytest.mark.no_db


def test_backup_then_restore_brings_back_the_original(scratch_database_url, tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
        with acting_as(db.session, None):
            firm = f.make_enterprise(name="备份测试铝业有限公司", uscc=f.valid_uscc(3))
        db.session.commit()
        firm_id = firm.id
        db.session.remove()

    target = tmp_path / "copy.backup"
    result = runner.invoke(args=["backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    with app.app_context():
        with acting_as(db.session, None):
            db.session.get(Enterprise, firm_id).name = "被改掉的名字"
            f.make_enterprise(name="备份之后新增的企业")
        db.session.commit()
        db.session.remove()

    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        names = db.session.scalars(select(Enterprise.name).order_by(Enterprise.id)).all()
        assert names == ["备份测试铝业有限公司"]
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_missing_file(tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "nope.backup"), "--yes"])
    assert result.exit_code != 0
