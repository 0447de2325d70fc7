"""Due times in business hours: a claims office in Berlin across a weekend,
a holiday and the end of daylight saving time.

    pip install "valueroute[calendars]"    # public holidays by country
    python examples/business_calendar.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from valueroute.calendar import BusinessCalendar, load_calendar

HERE = Path(__file__).resolve().parent


def shown(calendar: BusinessCalendar, t: float) -> str:
    return dt.datetime.fromtimestamp(t, calendar.zone).strftime("%a %d %b %Y %H:%M %Z")


def main() -> None:
    office = load_calendar(HERE / "calendars" / "berlin_claims.toml")
    berlin = office.zone

    cases = [
        ("claim on Friday 16:30, due in 8 business hours", dt.datetime(2026, 12, 4, 16, 30)),
        ("claim on Wednesday 23 Dec 17:00, due in 8 business hours", dt.datetime(2026, 12, 23, 17)),
        ("claim on Friday 23 Oct 17:00, due in 8 business hours", dt.datetime(2026, 10, 23, 17)),
    ]
    for label, received in cases:
        t = received.replace(tzinfo=berlin).timestamp()
        due = office.add(t, 8 * 3600)
        print(f"{label}:")
        print(f"  due {shown(office, due)}; {(due - t) / 3600:.1f} h of wall time")

    # Age in working time: an e-mail received on Christmas Eve does not age
    # over the holidays.
    received = dt.datetime(2026, 12, 24, 10, tzinfo=berlin).timestamp()
    now = dt.datetime(2026, 12, 28, 10, tzinfo=berlin).timestamp()
    age = (now - received) / 3600
    working_age = office.elapsed(received, now) / 3600
    print(
        f"e-mail from Christmas Eve 10:00, on Monday 28 Dec 10:00: "
        f"{age:.0f} h old, {working_age:.0f} working hours"
    )


if __name__ == "__main__":
    main()
