"""Issue 15, point 9: the smaller UX fixes, each with the behaviour a user relies on."""
from datetime import date, datetime

from crm.formatting import iso_date


def test_first_report_since_reads_as_a_local_day_not_an_iso_timestamp():
    # The first-report warning shows when another zone started; a stored UTC timestamp must read as the day.
    assert iso_date(datetime(2026, 12, 1, 13, 30, 10, 488377)) == "2026-12-01"
    assert iso_date(datetime(2026, 12, 1, 20, 0, 0)) == "2026-12-02"  # 20:00 UTC is the next day in Shanghai
    assert iso_date(date(2026, 12, 1)) == "2026-12-01"
    assert iso_date(None) == ""
