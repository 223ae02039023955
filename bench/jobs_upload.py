"""`python -m bench.jobs_upload` (ROWS=20000): Upload request time now (store the bytes, queue the dry run) against reading the file (what the
request did before, at the least: read_table + dry_run). 20,000 project rows, SQLite file, one run each."""
import io, os, re, time, statistics
from flask_migrate import upgrade
from crm import create_app
from crm.extensions import db
from crm.audit.log import acting_as
from crm.imports import service as import_service
from tests import factories as f
from tests.imports.builders import xlsx

N = int(os.environ.get("ROWS", 20000))
rows = [["项目名称", "企业名称", "阶段"]] + [[f"测量项目{i}", f"测量企业{i}有限公司", "线索"] for i in range(N)]
data = xlsx(rows)
for p in ("/tmp/h-jobs-m.db", "/tmp/h-jobs-mq.db"):
    for suffix in ("", "-wal", "-shm"):
        try: os.remove(p + suffix)
        except FileNotFoundError: pass
app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/h-jobs-m.db", "JOBS_QUEUE_URL": "sqlite:////tmp/h-jobs-mq.db",
                             "IMPORT_MAX_ROWS": 50000})
with app.app_context():
    upgrade()
    with acting_as(db.session, None):
        zone = f.make_zone("测量园区"); officer = f.make_user("officer", [zone], username="m_officer")
    db.session.commit()
    zid, oid = zone.id, officer.id
c = app.test_client()
c.post("/login", data={"username": "m_officer", "password": f.PASSWORD})
times = []
for _ in range(3):
    t = time.perf_counter()
    r = c.post("/imports/", data={"file": (io.BytesIO(data), "m.xlsx"), "kind": "projects"}, content_type="multipart/form-data")
    times.append(time.perf_counter() - t)
    assert r.status_code == 302
with app.app_context():
    from crm.accounts.models import User
    from crm.accounts.zones import Zone
    officer, zone = db.session.get(User, oid), db.session.get(Zone, zid)
    t = time.perf_counter()
    table = import_service.read_table(data, "m.xlsx", kind="projects", **import_service.limits(app.config))
    plan = import_service.dry_run(officer, "projects", table, None, zone, filename="m.xlsx")
    planned = time.perf_counter() - t
print(f"{N} rows, {len(data)//1024} KiB: upload request median {statistics.median(times)*1000:.0f} ms "
      f"(3 runs) vs read_table+dry_run {planned:.2f} s (what each preview did before)")
with app.app_context():
    from sqlalchemy import select
    from crm.imports.models import ImportUpload
    from crm.jobs.service import run_job
    upload = db.session.scalars(select(ImportUpload).order_by(ImportUpload.id.desc())).first()
    token, job_id = upload.token, upload.plan_job_id
    db.session.remove()
    t = time.perf_counter(); run_job(job_id); job_s = time.perf_counter() - t
    db.session.remove()
pt = []
for _ in range(5):
    t = time.perf_counter(); r = c.get(f"/imports/{token}"); pt.append(time.perf_counter() - t)
    assert r.status_code == 200 and "检查通过" in r.get_data(as_text=True)
print(f"dry-run job {job_s:.2f} s once; each preview then {statistics.median(pt)*1000:.0f} ms (median of 5)")
