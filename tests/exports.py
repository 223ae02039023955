"""Exports are jobs (crm/jobs): the page's form POSTs, the job runs (at once: the tests' queue is
immediate) and the answer sends the person to the job's download. ``export`` follows that path."""
from __future__ import annotations

from urllib.parse import urlsplit


def export(client, path: str, **form):
    """POST the export's form and follow it to the file: the response of the download (or of the
    refusal, when the POST is not answered with a redirect to a job)."""
    response = client.post(path, data=form)
    if response.status_code != 302:
        return response
    location = urlsplit(response.headers["Location"]).path
    if not location.startswith("/jobs/"):
        return response
    return client.get(location)


def fetch(client, path: str):
    """What a reader gets at ``path``: the page, or — for an export, which is a job — the file its
    form leads to (the query string is the form: ``/reports/ledger.xlsx?month=…``)."""
    from urllib.parse import parse_qsl

    split = urlsplit(path)
    if split.path == "/reports/ledger.xlsx":
        return export(client, split.path, **dict(parse_qsl(split.query)))
    if split.path.endswith("/gaps.xlsx"):
        return export(client, path)
    return client.get(path)
