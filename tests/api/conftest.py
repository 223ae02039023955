from __future__ import annotations

import pytest

from crm.api.tokens import create_personal_token, create_platform_token
from crm.extensions import db


@pytest.fixture
def bearer(world):
    """``bearer(user, scope)`` → headers with a fresh personal token of ``user``."""

    def make(user, scope="write", days=30):
        _, secret = create_personal_token(user, f"{user.username} 测试令牌", scope, days)
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def platform_bearer(world):
    def make(zones):
        _, secret = create_platform_token(world.admin, "外部系统", [z.id for z in zones], 30)
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make
