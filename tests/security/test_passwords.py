"""Password storage (ASVS 2.4) and the password policy (ASVS 2.1)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

import config
from crm.accounts.passwords import common_passwords, COMMON_PASSWORDS_FILE, password_problem
from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.accounts.models import User
from tests import factories as f
from tests.security.conftest import sign_in

TOO_SHORT = "密码至少 8 位"
TOO_LONG = "密码最多 64 位"
COMMON = "这是常见密码，容易被猜中，请换一个"
HAS_USERNAME = "密码不能包含用户名"


# --- hashing ---------------------------------------------------------------------------------------


def test_the_production_hash_meets_the_asvs_bar():
    """OWASP's scrypt minimum is N=2^17, r=8, p=1; Werkzeug's own default (N=2^15) falls short."""
    for config_class in (config.Config, config.DevelopmentConfig, config.ProductionConfig):
        name, n, r, p = config_class.PASSWORD_HASH_METHOD.split(":")
        assert name == "scrypt" and int(n) >= 2**17 and int(r) >= 8 and int(p) >= 1
    assert generate_password_hash("x").startswith("scrypt:32768:8:1$")  # why it is set explicitly
    stored = generate_password_hash("x", method=config.ProductionConfig.PASSWORD_HASH_METHOD)
    assert stored.startswith("scrypt:131072:8:1$")
    salt = stored.split("$")[1]
    assert len(salt) >= 16  # a unique salt of at least 32 bits (ASVS 2.4.1)


def test_recovery_codes_are_hashed_with_a_salted_pbkdf2_of_at_least_100000_rounds():
    for config_class in (config.Config, config.ProductionConfig):
        name, digest, rounds = config_class.RECOVERY_CODE_HASH_METHOD.split(":")
        assert name == "pbkdf2" and digest == "sha256" and int(rounds) >= 100_000


@pytest.mark.parametrize("old_method", ["pbkdf2:sha256:600", "scrypt", "scrypt:16384:8:1"])
def test_a_hash_made_with_other_parameters_is_replaced_at_the_next_sign_in(world, client, old_method):
    user = world.officer_a
    user.password_hash = generate_password_hash(f.PASSWORD, method=old_method)
    db.session.commit()
    audit_entries = db.session.scalar(select(func.count()).select_from(AuditEntry))

    assert sign_in(client, "officer_a", "wrong-password-1").status_code == 200
    db.session.refresh(user)
    assert user.password_hash.startswith(generate_password_hash("x", method=old_method).split("$")[0] + "$")

    assert sign_in(client, "officer_a").status_code == 302
    db.session.refresh(user)
    assert user.password_hash.startswith("pbkdf2:sha256:1000$")  # the testing config's method
    assert check_password_hash(user.password_hash, f.PASSWORD)
    # The rehash and the sign-in time are bookkeeping, not an audited change of the account.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_entries


def test_with_the_production_method_an_old_hash_becomes_scrypt_2_17(world, app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", config.ProductionConfig.PASSWORD_HASH_METHOD)
    user = world.officer_a
    user.password_hash = generate_password_hash(f.PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    assert sign_in(client, "officer_a").headers["Location"] == "/"
    db.session.refresh(user)
    assert user.password_hash.startswith("scrypt:131072:8:1$")
    client.post("/logout")
    assert sign_in(client, "officer_a").headers["Location"] == "/"  # and it still signs in


def test_a_current_hash_is_left_alone(world, client):
    before = world.officer_a.password_hash
    sign_in(client, "officer_a")
    db.session.refresh(world.officer_a)
    assert world.officer_a.password_hash == before


# --- the policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [
        ("Abc-123", "someone", TOO_SHORT),  # 7 characters
        ("x" * 65, "someone", TOO_LONG),
        ("password1", "someone", COMMON),
        ("12345678", "someone", COMMON),
        ("88888888", "someone", COMMON),
        ("woaini1314", "someone", COMMON),
        ("5201314520", "someone", COMMON),
        ("QWERTYUIOP", "someone", COMMON),  # compared in lower case
        ("iloveyou", "someone", COMMON),
        ("zhangsan", "zhangsan", HAS_USERNAME),
        ("ZhangSan-2026!", "zhangsan", HAS_USERNAME),
        ("my-officer_a-pass", "officer_a", HAS_USERNAME),
    ],
    ids=["7-chars", "65-chars", "password1", "12345678", "88888888", "woaini1314", "5201314520", "upper-case",
         "iloveyou", "equals-username", "contains-username", "contains-username-2"],
)
def test_the_policy_refuses_with_a_chinese_message(password, username, message):
    assert password_problem(password, username) == message


@pytest.mark.parametrize(
    "password",
    ["Abc-1234", "x" * 64, "correct horse battery staple", "我的密码是长江大桥2026", "        spaces!", "a1" * 32],
    ids=["8-chars", "64-chars", "passphrase", "chinese", "spaces", "64-mixed"],
)
def test_the_policy_accepts_any_composition_from_8_to_64(password):
    assert password_problem(password, "someone") is None


def test_a_short_username_does_not_refuse_every_password_containing_it():
    assert password_problem("ab-cd-ef-gh", "ab") is None
    assert password_problem("ab", "ab") == TOO_SHORT


def test_the_common_password_list_is_large_ordered_and_documented():
    text = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Django" in line for line in header) and any("Royce Williams" in line for line in header)
    words = common_passwords()
    assert len(words) >= 1000
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert entries[:3] == ["123456789", "password", "12345678"]  # most common first
    for word in ("11111111", "12345678", "88888888", "woaini1314", "a123456789", "5201314520", "qwertyuiop"):
        assert word in words


def test_the_admin_cannot_create_a_user_with_a_common_password(world, login_as):
    before = db.session.scalar(select(func.count()).select_from(User))
    response = login_as(world.admin).post("/admin/users/new", data={
        "username": "officer_new", "display_name": "新专员", "role": "officer", "zone_ids": [world.zone_a.id],
        "password": "qwertyuiop",
    })
    assert response.status_code == 200
    assert COMMON in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_an_admin_reset_obeys_the_policy(world, login_as):
    before = world.officer_a.password_hash
    user = world.officer_a
    response = login_as(world.admin).post(f"/admin/users/{user.id}", data={
        "display_name": user.display_name, "role": user.role, "zone_ids": user.zone_ids, "active": "y",
        "password": "officer_a-2026",
    })
    assert response.status_code == 200
    assert HAS_USERNAME in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_create_admin_refuses_a_common_password_and_there_is_no_default(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--username", "cityadmin", "--password", "admin123456"])
    assert result.exit_code != 0
    assert COMMON in result.output
    assert db.session.scalar(select(User).where(User.username == "cityadmin")) is None
    # Without --password or LIANZHAO_ADMIN_PASSWORD it asks: there is no built-in admin password.
    result = runner.invoke(args=["create-admin", "--username", "cityadmin"], input="")
    assert result.exit_code != 0
    assert db.session.scalar(select(User).where(User.username == "cityadmin")) is None


def test_the_demo_password_exists_only_in_the_demo_module():
    from pathlib import Path

    from config import BASE_DIR
    from crm.demo import DEMO_PASSWORD

    holders = [path.relative_to(BASE_DIR).as_posix() for path in (BASE_DIR / "crm").rglob("*.py")
               if DEMO_PASSWORD in path.read_text(encoding="utf-8")]
    assert holders == ["crm/demo.py"]
    assert DEMO_PASSWORD not in Path(BASE_DIR / "config.py").read_text(encoding="utf-8")
