"""The KPI aggregator against event logs written out and counted by hand.

Each log below is the JSON form of engine events (``Event.to_dict``), typed
in by hand; every expected figure is counted by hand from the log, with the
arithmetic beside it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from valueroute.errors import InvalidInputError
from valueroute.events import Event
from valueroute.kpi import AgentCounts, KpiAggregator, KpiCounts

_seq = 0


def ev(
    time: float, kind: str, task: str | None = None, agent: str | None = None, **data: Any
) -> Event:
    global _seq
    _seq += 1
    return Event.from_dict(
        {"seq": _seq, "time": time, "kind": kind, "task": task, "agent": agent, "data": data}
    )


def submitted(time: float, task: str, type_: str, value: float, due: float | None = None) -> Event:
    return ev(
        time, "task_submitted", task, type=type_, channel="voice", priority=0, value=value, due=due
    )


def day_log() -> list[Event]:
    """Two 15-minute intervals, agents ann and bob; targets: calls 20 s, mail 3600 s."""
    return [
        ev(0, "agent_added", agent="ann", state="ready"),
        ev(0, "agent_added", agent="bob", state="ready"),
        # t1: answered at once by ann, 60 s talk, 10 s wrap-up.
        submitted(10, "t1", "calls", 5),
        ev(10, "task_queued", "t1"),
        ev(10, "task_offered", "t1", "ann", expires=None),
        ev(10, "offer_accepted", "t1", "ann"),
        ev(10, "task_assigned", "t1", "ann", wait=0.0),
        ev(70, "task_wrap_up", "t1", "ann", until=80),
        ev(80, "task_completed", "t1", "ann", age=70.0),
        # t2: value lowered from 9 to 2 while waiting, answered by bob after 30 s (late).
        submitted(100, "t2", "calls", 9),
        ev(120, "task_updated", "t2", version=2, priority=0, value=2, due=None),
        ev(130, "task_offered", "t2", "bob", expires=None),
        ev(130, "task_assigned", "t2", "bob"),  # no wait in the payload: 130 - 100
        ev(230, "task_completed", "t2", "bob", age=130.0),
        # t3: abandons after 4 s (short); t4: after 50 s.
        submitted(200, "t3", "calls", 7),
        ev(204, "task_canceled", "t3", age=4.0, reason="abandoned"),
        submitted(300, "t4", "calls", 1),
        ev(350, "task_canceled", "t4", reason="abandoned"),  # no age: 350 - 300
        # t5: ann rejects, bob answers at exactly the 20 s target.
        submitted(400, "t5", "calls", 4),
        ev(410, "task_offered", "t5", "ann", expires=440),
        ev(415, "offer_rejected", "t5", "ann"),
        ev(420, "task_offered", "t5", "bob", expires=450),
        ev(420, "task_assigned", "t5", "bob", wait=20.0),
        ev(500, "task_completed", "t5", "bob", age=100.0),
        # t6: mail, due moved from 2000 to 1000, answered at 1100: within 3600 s, yet late.
        submitted(850, "t6", "mail", 10, due=2000),
        ev(900, "task_updated", "t6", version=2, priority=0, value=10, due=1000),
        ev(950, "sla_warning", "t6", due=1000, state="queued"),  # not a KPI event: passed over
        ev(1000, "agent_state_changed", agent="bob", state="offline", reason=None),
        ev(1100, "task_offered", "t6", "ann", expires=None),
        ev(1100, "task_assigned", "t6", "ann", wait=250.0),
        ev(1200, "task_completed", "t6", "ann", age=350.0),
        # Second interval: a cancellation for another reason, an expiry, one
        # still waiting at the end and one in service at the end.
        submitted(950, "t7", "calls", 3),
        ev(960, "task_canceled", "t7", age=10.0, reason="duplicate"),
        submitted(1000, "t8", "calls", 6),
        ev(1500, "task_expired", "t8", age=500.0),
        submitted(1600, "t9", "calls", 8),
        submitted(1700, "t10", "calls", 2),
        ev(1700, "task_offered", "t10", "ann", expires=None),
        ev(1700, "task_assigned", "t10", "ann", wait=0.0),
    ]


def aggregate(events: list[Event], **settings: Any) -> KpiAggregator:
    aggregator = KpiAggregator(
        interval_seconds=900, sla_seconds={"calls": 20, "mail": 3600}, **settings
    )
    aggregator.feed(sorted(events, key=lambda e: (e.time, e.seq)))
    return aggregator


def resequenced(events: list[Event]) -> list[Event]:
    """The log in time order with fresh sequence numbers (as an engine would number it)."""
    ordered = sorted(events, key=lambda e: (e.time, e.seq))
    return [e._replace(seq=i + 1) for i, e in enumerate(ordered)]


@pytest.fixture
def report() -> Any:
    return aggregate(resequenced(day_log())).report(now=1800)


def test_first_interval_calls_counted_by_hand(report: Any) -> None:
    [calls] = [r for r in report.queue_intervals if r.interval_start == 0 and r.type == "calls"]
    assert calls.queue == "calls"  # no queue in the events: the type
    assert calls.counts == KpiCounts(
        offered=5,  # t1..t5
        answered=3,  # t1, t2, t5
        answered_within=2,  # t1 (0 s), t5 (exactly 20 s); t2 waited 30 s
        answered_at_once=1,  # t1
        abandoned=2,  # t3, t4
        abandoned_short=1,  # t3 (4 s <= 5 s)
        completed=3,
        wait_answered_seconds=50.0,  # 0 + 30 + 20
        wait_abandoned_seconds=54.0,  # 4 + 50
        handle_seconds=240.0,  # 60 (to wrap-up) + 100 + 80
        value_on_time=9.0,  # t1 5 + t5 4
        value_late=2.0,  # t2 at its updated value
        value_abandoned=8.0,  # 7 + 1
    )


def test_first_interval_kpis_by_each_definition(report: Any) -> None:
    [calls] = [r for r in report.queue_intervals if r.interval_start == 0 and r.type == "calls"]
    offered = calls.counts.kpis("offered")
    assert offered["service_level"] == pytest.approx(2 / 5)  # within / (answered + abandoned)
    assert calls.counts.kpis("answered")["service_level"] == pytest.approx(2 / 3)
    assert calls.counts.kpis("offered_excluding_short")["service_level"] == pytest.approx(2 / 4)
    assert offered["p_wait"] == pytest.approx(4 / 5)
    assert offered["abandonment_rate"] == pytest.approx(2 / 5)
    assert offered["asa"] == pytest.approx(50 / 3)
    assert offered["mean_wait"] == pytest.approx(104 / 5)
    assert offered["aht"] == pytest.approx(80.0)
    assert offered["value_sla_attainment"] == pytest.approx(9 / 19)
    assert offered["value_lost_late"] == 2.0
    assert offered["value_lost_abandoned"] == 8.0


def test_due_time_decides_value_on_time_and_target_decides_service_level(report: Any) -> None:
    [mail] = [r for r in report.queue_intervals if r.type == "mail"]
    assert mail.interval_start == 0  # arrived at 850: counted where it arrived
    assert mail.counts == KpiCounts(
        offered=1,
        answered=1,
        answered_within=1,  # 250 s <= 3600 s
        completed=1,
        wait_answered_seconds=250.0,
        handle_seconds=100.0,
        value_late=10.0,  # answered at 1100 after its updated due time 1000
    )


def test_second_interval_and_tasks_open_at_the_end(report: Any) -> None:
    [calls] = [r for r in report.queue_intervals if r.interval_start == 900]
    assert calls.counts == KpiCounts(
        offered=4,  # t7..t10
        answered=1,
        answered_within=1,
        answered_at_once=1,
        canceled=1,  # t7, reason 'duplicate'
        expired=1,  # t8
        value_on_time=2.0,  # t10, answered at once
        value_expired=6.0,
    )
    assert report.open_tasks == {("calls", "calls"): (1, 1)}  # t9 waits, t10 in service
    totals = report.by_type()
    assert totals["calls"]["waiting_at_end"] == 1
    assert totals["calls"]["in_service_at_end"] == 1
    assert totals["calls"]["offered"] == 9
    assert totals["all"]["offered"] == 10
    assert totals["all"]["value_lost_expired"] == 6.0
    assert totals["all"]["service_level"] == pytest.approx((2 + 1 + 1) / (3 + 1 + 1 + 2))


def test_agents_counted_by_hand(report: Any) -> None:
    rows = {(r.interval_start, r.agent): r.counts for r in report.agent_intervals}
    # ann holds t1 10..80 (70 s, wrap-up included) and t5's offer 410..415.
    assert rows[(0, "ann")] == AgentCounts(
        offered=2,
        answered=1,
        completed=1,
        handle_seconds=60,
        talk_seconds=75,
        logged_in_seconds=900,
    )
    # ann holds t6 1100..1200 and t10 from 1700 to the report's 1800.
    assert rows[(900, "ann")] == AgentCounts(
        offered=2,
        answered=2,
        completed=1,
        handle_seconds=100,
        talk_seconds=200,
        logged_in_seconds=900,
    )
    # bob: t2 130..230, t5 420..500; offline at 1000.
    assert rows[(0, "bob")] == AgentCounts(
        offered=2,
        answered=2,
        completed=2,
        handle_seconds=180,
        talk_seconds=180,
        logged_in_seconds=900,
    )
    assert rows[(900, "bob")] == AgentCounts(logged_in_seconds=100)
    agents = report.by_agent()
    assert agents["ann"]["occupancy"] == pytest.approx(275 / 1800)
    assert agents["bob"]["occupancy"] == pytest.approx(180 / 1000)
    assert agents["ann"]["aht"] == pytest.approx(160 / 2)


def test_report_leaves_the_aggregator_counting() -> None:
    aggregator = aggregate(resequenced(day_log()))
    early = aggregator.report(now=1800)
    later = aggregator.report(now=2700)
    # ann keeps holding t10 and stays logged in: 900 more seconds of each.
    assert later.by_agent()["ann"]["talk_seconds"] == early.by_agent()["ann"]["talk_seconds"] + 900
    assert aggregator.report(now=1800) == early
    aggregator.add(ev(1900, "task_completed", "t10", "ann", age=200.0)._replace(seq=10_000))
    final = aggregator.report(now=2700)
    assert final.by_agent()["ann"]["talk_seconds"] == 75 + 100 + 200  # t10: 1700..1900
    assert final.by_type()["calls"]["completed"] == 4
    assert final.by_type()["calls"]["in_service_at_end"] == 0


def test_start_leaves_out_tasks_and_agent_time_before_it() -> None:
    report = aggregate(resequenced(day_log()), start=900).report(now=1800)
    assert [r.interval_start for r in report.queue_intervals] == [900]
    assert report.by_type()["all"]["offered"] == 4
    # t6 arrived before the start: not counted, but ann's time holding it is hers.
    assert report.by_agent()["ann"]["talk_seconds"] == 200
    assert report.by_agent()["ann"]["logged_in_seconds"] == 900
    assert report.by_agent()["ann"]["answered"] == 2


def test_queues_group_tasks_and_their_targets_come_first() -> None:
    events = resequenced(
        [
            ev(0, "agent_added", agent="ann", state="ready"),
            ev(0, "task_submitted", "a", type="calls", queue="vip", value=1, due=None),
            ev(30, "task_offered", "a", "ann"),
            ev(30, "task_assigned", "a", "ann", wait=30.0),
            ev(40, "task_completed", "a", "ann"),
            ev(50, "task_submitted", "b", type="calls", value=1, due=None),
            ev(75, "task_offered", "b", "ann"),
            ev(75, "task_assigned", "b", "ann", wait=25.0),
        ]
    )
    aggregator = KpiAggregator(sla_seconds={"vip": 60, "calls": 20, "*": 5})
    aggregator.feed(events)
    report = aggregator.report()
    queues = report.by_queue()
    assert set(queues) == {"vip", "calls", "all"}
    assert queues["vip"]["service_level"] == 1.0  # 30 s within vip's 60 s
    assert queues["calls"]["service_level"] == 0.0  # 25 s beyond calls' 20 s
    assert report.by_type()["calls"]["answered"] == 2


def test_transfer_counts_one_answer_and_both_service_segments() -> None:
    events = resequenced(
        [
            ev(0, "agent_added", agent="ann", state="ready"),
            ev(0, "agent_added", agent="bob", state="ready"),
            submitted(0, "x", "calls", 1),
            ev(0, "task_offered", "x", "ann"),
            ev(0, "task_assigned", "x", "ann", wait=0.0),
            ev(40, "task_transferred", "x", to_agent="bob", skills={}, channel="voice"),
            ev(40, "task_queued", "x"),
            ev(40, "task_offered", "x", "bob"),
            ev(40, "task_assigned", "x", "bob", wait=40.0),
            ev(100, "task_completed", "x", "bob"),
        ]
    )
    aggregator = KpiAggregator(sla_seconds=20)
    aggregator.feed(events)
    report = aggregator.report(now=100)
    calls = report.by_type()["calls"]
    assert calls["answered"] == 1
    assert calls["completed"] == 1
    assert calls["aht"] == 100.0  # 40 with ann + 60 with bob
    assert calls["asa"] == 0.0
    agents = report.by_agent()
    assert agents["ann"]["talk_seconds"] == 40
    assert agents["bob"]["talk_seconds"] == 60
    assert (agents["ann"]["completed"], agents["bob"]["completed"]) == (0, 1)
    assert agents["bob"]["answered"] == 1


def test_offered_then_cancelled_frees_the_agent_and_rejected_is_its_own_count() -> None:
    events = resequenced(
        [
            ev(0, "agent_added", agent="ann", state="ready"),
            submitted(0, "a", "calls", 5),
            ev(0, "task_offered", "a", "ann"),
            ev(12, "task_canceled", "a", age=12.0, reason="abandoned"),
            submitted(20, "b", "calls", 3),
            ev(20, "task_offered", "b", "ann"),
            ev(50, "offer_timed_out", "b", "ann"),
            ev(50, "task_rejected", "b", age=30.0, offers=1),
            ev(60, "agent_removed", agent="ann"),
        ]
    )
    aggregator = KpiAggregator()
    aggregator.feed(events)
    report = aggregator.report(now=100)
    calls = report.by_type()["calls"]
    assert (calls["abandoned"], calls["rejected"], calls["value_lost_expired"]) == (1, 1, 3)
    assert calls["value_lost_abandoned"] == 5
    ann = report.by_agent()["ann"]
    assert (ann["talk_seconds"], ann["logged_in_seconds"], ann["offered"]) == (12 + 30, 60, 2)


def test_events_about_unseen_tasks_are_counted_apart() -> None:
    aggregator = KpiAggregator()
    aggregator.feed(
        resequenced(
            [ev(5, "task_assigned", "ghost", "ann", wait=1.0), ev(6, "task_completed", "ghost")]
        )
    )
    report = aggregator.report()
    assert report.unmatched_events == 2
    assert report.by_type() == {"all": report.by_type()["all"]}
    assert report.by_type()["all"]["offered"] == 0


def test_counts_add_field_by_field() -> None:
    a = KpiCounts(offered=2, answered=1, wait_answered_seconds=3.0, value_late=1.5)
    b = KpiCounts(offered=1, abandoned=1, wait_abandoned_seconds=4.0)
    assert a + b == KpiCounts(
        offered=3,
        answered=1,
        abandoned=1,
        wait_answered_seconds=3.0,
        wait_abandoned_seconds=4.0,
        value_late=1.5,
    )
    empty = KpiCounts().kpis()
    assert math.isnan(empty["service_level"])
    assert math.isnan(empty["asa"])
    assert AgentCounts(talk_seconds=1) + AgentCounts(logged_in_seconds=4) == AgentCounts(
        talk_seconds=1, logged_in_seconds=4
    )


def test_tables_and_plain_data(report: Any) -> None:
    data = report.to_dict()
    assert data["types"]["calls"]["offered"] == 9
    assert {row["interval_start"] for row in data["intervals"]} == {0, 900}
    assert [row["agent"] for row in data["agent_intervals"]] == ["ann", "bob", "ann", "bob"]
    frame = report.to_pandas("intervals")
    assert list(frame["offered"]) == [5, 1, 4]
    assert list(report.to_pandas("agents")["agent"]) == ["ann", "bob"]
    assert list(report.to_pandas("types")["type"]) == ["calls", "mail", "all"]
    backlog = report.to_pandas("backlog")
    assert list(backlog["interval_start"]) == [0, 0, 900, 900, 1800]
    assert list(backlog["waiting"]) == [0, 0, 0, 1, 1]
    assert list(backlog["queue_seconds"]) == [104, 50, 710, 200, 0]
    with pytest.raises(InvalidInputError, match="table: got 'nope'"):
        report.to_pandas("nope")


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"interval_seconds": math.inf}, "interval_seconds"),
        ({"interval_seconds": "900"}, "interval_seconds"),
        ({"origin": math.nan}, "origin"),
        ({"start": True}, "start"),
        ({"sla_seconds": -1}, "sla_seconds"),
        ({"sla_seconds": {"calls": "20"}}, "sla_seconds\\['calls'\\]"),
        ({"sla_seconds": {1: 20}}, "sla_seconds"),
        ({"service_level_definition": "within"}, "service_level_definition"),
        ({"short_abandon_seconds": -0.5}, "short_abandon_seconds"),
        ({"abandon_reasons": "abandoned"}, "abandon_reasons"),
        ({"abandon_reasons": [None]}, "abandon_reasons"),
    ],
)
def test_bad_settings_are_refused_by_name(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{named}: got"):
        KpiAggregator(**settings)


def test_refused_events_change_nothing() -> None:
    aggregator = aggregate(resequenced(day_log()))
    before = aggregator.report(now=1800)
    last = max(e.seq for e in resequenced(day_log()))
    bad = [
        (ev(1800, "task_submitted", "n", type="calls", value=1)._replace(seq=last), "event.seq"),
        (ev(10, "task_submitted", "n", type="calls", value=1)._replace(seq=last + 1), "event.time"),
        (
            ev(1800, "task_submitted", "n", type="calls", value="1")._replace(seq=last + 1),
            "data.value",
        ),
        (ev(1800, "task_submitted", "n", value=1)._replace(seq=last + 1), "data.type"),
        (
            ev(1800, "task_submitted", "n", type="calls", queue=3, value=1)._replace(seq=last + 1),
            "data.queue",
        ),
        (ev(1800, "task_assigned", "t9", "ann", wait="soon")._replace(seq=last + 1), "data.wait"),
        (
            ev(1800, "task_canceled", "t9", age=[1], reason="abandoned")._replace(seq=last + 1),
            "data.age",
        ),
        (ev(1800, "task_updated", "t9", value=math.inf)._replace(seq=last + 1), "data.value"),
        (
            ev(1800, "agent_state_changed", agent="ann", state=None)._replace(seq=last + 1),
            "data.state",
        ),
    ]
    for event, named in bad:
        with pytest.raises(InvalidInputError, match=named):
            aggregator.add(event)
        assert aggregator.report(now=1800) == before, named
    with pytest.raises(InvalidInputError, match=r"^event: got"):
        aggregator.add({"seq": last + 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"^events: got"):
        aggregator.feed("events.jsonl")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"^now: got"):
        aggregator.report(now=1000)
    with pytest.raises(InvalidInputError, match=r"^engine: got"):
        aggregator.attach(object())  # type: ignore[arg-type]
    assert aggregator.report(now=1800) == before


def test_working_time_holds_waits_against_the_target_in_the_calendars_seconds() -> None:
    from valueroute.calendar import calendar_from

    office = calendar_from(
        {"timezone": "UTC", "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue")}}
    )
    monday = 1_767_571_200.0  # 2026-01-05 00:00 UTC, a Monday
    hour = 3600.0
    events = resequenced(
        [
            ev(monday, "agent_added", agent="ann", state="ready"),
            # Monday 16:50 to Tuesday 09:05: 10 + 5 working minutes, 16 h 15 min of wall time.
            submitted(monday + 16 * hour + 50 * 60, "m1", "mail", 4),
            ev(monday + 33 * hour + 5 * 60, "task_offered", "m1", "ann"),
            ev(monday + 33 * hour + 5 * 60, "task_assigned", "m1", "ann"),
            # Tuesday 09:10 to 09:50: 40 working minutes, beyond the 30.
            submitted(monday + 33 * hour + 10 * 60, "m2", "mail", 6),
            ev(monday + 33 * hour + 50 * 60, "task_offered", "m2", "bob"),
            ev(monday + 33 * hour + 50 * 60, "task_assigned", "m2", "bob"),
        ]
    )
    working = KpiAggregator(origin=monday, sla_seconds=1800, working_time={"mail": office})
    working.feed(events)
    mail = working.report().by_type()["mail"]
    assert (mail["answered_within"], mail["value_on_time"], mail["value_lost_late"]) == (1, 4, 6)
    assert mail["asa"] == ((16 * hour + 15 * 60) + 40 * 60) / 2  # waits stay in wall time
    wall = KpiAggregator(origin=monday, sla_seconds=1800)
    wall.feed(events)
    assert wall.report().by_type()["mail"]["answered_within"] == 0


@pytest.mark.parametrize(
    ("working_time", "named"),
    [
        ([("mail", None)], "working_time"),
        ({"mail": "office"}, "working_time\\['mail'\\]"),
        ({2: object()}, "working_time"),
    ],
)
def test_bad_working_time_is_refused_by_name(working_time: Any, named: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{named}: got"):
        KpiAggregator(working_time=working_time)


def test_time_average_queue_and_arrival_rate_counted_by_hand(report: Any) -> None:
    # Waiting to be answered, submission to answer or close (t9 still waits at 1800):
    # calls t2 100..130, t3 200..204, t4 300..350, t5 400..420 | t7 950..960,
    # t8 1000..1500, t9 1600..1800; mail t6 850..1100 split at 900.
    assert report.queue_seconds == {
        (0.0, "calls", "calls"): 30 + 4 + 50 + 20,
        (0.0, "mail", "mail"): 50,
        (900.0, "calls", "calls"): 10 + 500 + 200,
        (900.0, "mail", "mail"): 200,
    }
    assert report.window_seconds == 1800  # from the first event, at 0
    totals = report.by_type()
    assert totals["calls"]["mean_queue"] == pytest.approx(814 / 1800)
    assert totals["all"]["mean_queue"] == pytest.approx((814 + 250) / 1800)
    assert totals["calls"]["arrival_rate_per_hour"] == pytest.approx(9 / 1800 * 3600)
    later = aggregate(resequenced(day_log())).report(now=2700)
    assert later.queue_seconds[(1800.0, "calls", "calls")] == 900  # t9 waits on


def test_wait_quantiles_from_the_answered_waits(report: Any) -> None:
    # Answered calls waited 0 (t1), 30 (t2), 20 (t5) and 0 (t10) seconds.
    calls = report.by_type()["calls"]
    assert calls["p50_wait"] == 0.0  # half of them did not wait
    assert 30 / 1.024 < calls["p90_wait"] <= 30 * 1.024  # the top wait, within half a bin
    assert report.by_type()["mail"]["p50_wait"] == pytest.approx(250, rel=0.024)
    assert math.isnan(KpiCounts().kpis()["asa"])


def test_wait_histogram_quantiles_are_within_half_a_bin_of_the_order_statistics(
    rng: Any,
) -> None:
    from valueroute.kpi import WaitHistogram
    from valueroute.sim.metrics import WaitHistogram as SimulatorHistogram

    waits = rng.lognormal(mean=3.0, sigma=1.5, size=5000)
    waits[:400] = 0.0
    ours, theirs = WaitHistogram(), SimulatorHistogram()
    for wait in waits:
        ours.add(float(wait))
        theirs.add(float(wait))
    ordered = sorted(float(w) for w in waits)
    for q in (0.05, 0.5, 0.9, 0.99):
        exact = ordered[math.ceil(q * len(ordered)) - 1]
        found = ours.quantile(q)
        assert exact / 1.024 <= found <= exact * 1.024 or (exact == 0.0 and found == 0.0), q
        assert found == theirs.quantile(q)  # the simulator's bins: the same figure
    assert math.isnan(WaitHistogram().quantile(0.5))
    with pytest.raises(InvalidInputError, match=r"^q: got"):
        ours.quantile(1.5)
    copy = ours.copy()
    assert copy == ours
    copy.add(1.0)
    assert copy != ours


def test_backlog_at_each_interval_start_counted_by_hand(report: Any) -> None:
    # At 0 nothing waits; at 900 only mail t6 (850..1100); at 1800 only calls t9.
    assert report.backlog == {(900.0, "mail", "mail"): 1, (1800.0, "calls", "calls"): 1}
    aggregator = aggregate(resequenced(day_log()))
    waiting_on = aggregator.report(now=3600)
    assert waiting_on.backlog[(2700.0, "calls", "calls")] == 1
    assert waiting_on.backlog[(3600.0, "calls", "calls")] == 1
    # t9 answered at 2700 exactly: the number at that instant is after its events.
    aggregator.add(ev(2700, "task_offered", "t9", "cy")._replace(seq=10_000))
    assert aggregator.report(now=2700).backlog[(1800.0, "calls", "calls")] == 1
    aggregator.add(ev(2700, "task_assigned", "t9", "cy", wait=1100.0)._replace(seq=10_001))
    answered = aggregator.report(now=3600).backlog
    assert (2700.0, "calls", "calls") not in answered
    assert answered[(1800.0, "calls", "calls")] == 1


def test_names_asked_for_are_listed_with_nothing_counted(report: Any) -> None:
    types = report.by_type(names=["calls", "chat"])
    assert list(types) == ["calls", "chat", "mail", "all"]
    chat = types["chat"]
    assert chat["offered"] == chat["answered"] == chat["waiting_at_end"] == 0.0
    assert math.isnan(chat["service_level"])
    assert math.isnan(chat["asa"])
    # Listing a name adds nothing to the totals.
    assert types["all"] == pytest.approx(report.by_type()["all"], nan_ok=True)
    assert types["calls"] == pytest.approx(report.by_type()["calls"], nan_ok=True)
    assert list(report.by_queue(names=["web"])) == ["calls", "mail", "web", "all"]


@pytest.mark.parametrize(
    ("names", "shown"), [("calls", "'calls'"), ([3], "3"), (None, "None"), (7, "7")]
)
def test_names_that_are_not_names_are_refused(report: Any, names: Any, shown: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^names: got {shown} "):
        report.by_type(names=names)


def test_agent_totals_without_intervals_equal_the_sum_of_the_intervals() -> None:
    events = resequenced(day_log())
    by_interval = aggregate(events).report(now=3600)
    report = aggregate(events, agent_intervals=False).report(now=3600)
    # One row per agent, dated at the window's start (the first event here).
    assert [row.agent for row in report.agent_intervals] == sorted(by_interval.by_agent())
    assert {row.interval_start for row in report.agent_intervals} == {events[0].time}
    ours, theirs = report.by_agent(), by_interval.by_agent()
    for agent, figures in theirs.items():
        assert ours[agent] == pytest.approx(figures, nan_ok=True), agent
    assert ours["ann"]["talk_seconds"] > 0
    # Everything else is the same report.
    assert report.queue_intervals == by_interval.queue_intervals
    assert report.backlog == by_interval.backlog


@pytest.mark.parametrize("flag", [1, "no", None])
def test_agent_intervals_must_be_true_or_false(flag: Any) -> None:
    expected = r"^agent_intervals: got .* \(expected True or False\)"
    with pytest.raises(InvalidInputError, match=expected):
        KpiAggregator(agent_intervals=flag)
