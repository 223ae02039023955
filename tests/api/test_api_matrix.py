"""The API's access matrix: every /api/v1/ rule, for every role's personal token (read-write), on a
record of the caller's zone and on one of another zone, answers what this table says. Anonymous is a
call with no token (401). The page matrix (tests/security/test_access_matrix.py) leaves these rules here.
"""
from __future__ import annotations

from datetime import date

import pytest

from crm import create_app
from crm.api.tokens import create_personal_token
from crm.extensions import db

ROLES = ("anonymous", "officer_a", "chief_a", "viewer_a", "admin")
READ = (401, 200, 200, 200, 200)
OTHER_404 = (401, 404, 404, 404, 200)
CHAIN = "aluminium"

# endpoint: (method, path template, {ownership: expected per role})
MATRIX = {
    "api-docs.openapi_json": ("GET", "/api/v1/openapi.json", {"any": (200, 200, 200, 200, 200)}),
    "api.Enterprises": ("GET", "/api/v1/enterprises", {"any": READ}),
    "api.EnterpriseItem": ("GET", "/api/v1/enterprises/{enterprise}", {"own": READ, "other": READ}),  # city-wide
    "api.Projects": ("GET", "/api/v1/projects", {"any": READ}),
    "api.Projects:POST": ("POST", "/api/v1/projects", {"any": (401, 201, 201, 422, 201)}),  # a viewer has no zone to write in
    "api.ProjectItem": ("GET", "/api/v1/projects/{project}", {"own": READ, "other": OTHER_404}),
    "api.ProjectItem:PATCH": ("PATCH", "/api/v1/projects/{project}",
                              {"own": (401, 200, 200, 403, 200), "other": OTHER_404}),
    "api.Visits": ("GET", "/api/v1/visits", {"any": READ}),
    "api.Visits:POST": ("POST", "/api/v1/visits", {"any": (401, 201, 201, 422, 201)}),
    "api.VisitItem": ("GET", "/api/v1/visits/{visit}", {"own": READ, "other": OTHER_404}),
    "api.ZoneFigures": ("GET", "/api/v1/zones/{zone}/figures?month=2026-03",
                        {"own": (401, 403, 200, 200, 200), "other": OTHER_404}),
    "api.Chains": ("GET", "/api/v1/chains", {"any": READ}),
    "api.ChainItem": ("GET", f"/api/v1/chains/{CHAIN}", {"any": READ}),
    "api.ZoneGaps": ("GET", f"/api/v1/zones/{{zone}}/chains/{CHAIN}/gaps?limit=3", {"own": READ, "other": OTHER_404}),
}


def _api_rules() -> set[tuple[str, str]]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith(("api.", "api-docs."))
            for method in rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"}}


@pytest.mark.no_db
def test_every_api_rule_has_a_row():
    rows = {(key.split(":")[0], method) for key, (method, _, _) in MATRIX.items()}
    assert rows == _api_rules()


CASES = [pytest.param(key, own, index, id=f"{key}-{own}-{role}")
         for key, (_, _, by_own) in MATRIX.items() for own in by_own for index, role in enumerate(ROLES)]


@pytest.mark.parametrize("key, own, index", CASES)
def test_api_route_answers_as_the_matrix_says(key, own, index, client, world):
    method, template, by_own = MATRIX[key]
    role, expected = ROLES[index], by_own[own][index]
    side = "b" if own == "other" else "a"
    path = template.format(project=getattr(world, f"project_{side}").id, visit=getattr(world, f"visit_{side}").id,
                           zone=getattr(world, f"zone_{side}").id, enterprise=world.enterprise.id)
    headers = {}
    if role != "anonymous":
        _, secret = create_personal_token(getattr(world, role), "矩阵", "write", 1)
        db.session.commit()
        headers["Authorization"] = f"Bearer {secret}"
    body = None
    if method == "POST" and "projects" in path:
        body = {"enterprise_id": world.enterprise.id, "name": "矩阵新项目", "zone_id": world.zone_a.id}
    elif method == "POST":
        body = {"enterprise_id": world.enterprise.id, "kind": "电话", "visit_date": date.today().isoformat(),
                "zone_id": world.zone_a.id}
    elif method == "PATCH":
        project = getattr(world, f"project_{side}")
        headers["If-Match"] = f'"{project.version}"'
        body = {"name": project.name + "（接口）"}
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == expected, f"{method} {path} as {role}: {response.get_data(as_text=True)[:300]}"
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
