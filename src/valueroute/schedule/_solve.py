"""The mixed-integer program: options, implicit breaks, solving and reading the roster back."""

from __future__ import annotations

import fractions
import heapq
import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from valueroute.errors import InvalidInputError
from valueroute.schedule._result import Schedule, ScheduledBreak, ScheduledShift
from valueroute.schedule._spec import (
    _DAY,
    _PLANNING,
    MAX_PATTERNS,
    InfeasibleScheduleError,
    ScheduleSpec,
    _clock_minutes,
    _clock_text,
    _fail,
    _infeasible,
    _spec,
    requirements_from,
)


@dataclass(frozen=True)
class _Option:
    """One template starting at one interval of the horizon.

    ``template`` is the template whose break rules and limits apply (the
    first of identical ones); ``name`` the template that offered the start.
    """

    template: int
    start: int  # interval index
    length: int  # intervals
    breaks: tuple[tuple[int, int, tuple[int, ...]], ...]  # (rule, length, offsets)
    cost: float
    name: str

    def on_duty(self, breaks: Sequence[int]) -> list[int]:
        """Intervals on duty given one break offset per rule."""
        off: set[int] = set()
        for (_, length, _), offset in zip(self.breaks, breaks, strict=True):
            off.update(range(offset, offset + length))
        return [self.start + k for k in range(self.length) if k not in off]


@dataclass
class _Model:
    spec: ScheduleSpec
    requirement: tuple[int, ...]
    minimum: tuple[int, ...]
    maximum: tuple[int | None, ...]
    options: list[_Option]
    days: int
    patterns: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def intervals(self) -> int:
        return len(self.requirement)


def _per_interval(value: int | list[int] | None, count: int, name: str) -> list[int | None]:
    if value is None:
        return [None] * count
    if isinstance(value, int):
        return [value] * count
    if len(value) != count:
        raise _fail(name, f"{len(value)} values", f"one number, or one per interval ({count})")
    return list(value)


def _label(minute: int, days: int) -> str:
    clock = _clock_text(minute % _DAY)
    return clock if days == 1 else f"d{minute // _DAY} {clock}"


def _end_label(minute: int, days: int) -> str:
    """The end of the horizon: ``24:00`` rather than ``00:00`` at the end of a one-day one."""
    return _clock_text(minute) if days == 1 else _label(minute, days)


def _build(spec: ScheduleSpec, requirement: tuple[int, ...]) -> _Model:
    step = spec.interval_minutes
    origin = _clock_minutes(spec.start)
    count = len(requirement)
    days = math.ceil((origin + count * step) / _DAY)
    lows = _per_interval(spec.min_headcount, count, "min_headcount")
    highs = _per_interval(spec.max_headcount, count, "max_headcount")
    minimum = tuple(int(v or 0) for v in lows)

    def where(t: int) -> str:
        return _label(origin + t * step, days)

    for t in range(count):
        high = highs[t]
        if high is None:
            continue
        if requirement[t] > high:
            raise _infeasible(
                f"requirements[{t}] ({where(t)})",
                requirement[t],
                f"at most max_headcount there, {high}",
            )
        if minimum[t] > high:
            raise _infeasible(
                f"min_headcount[{t}] ({where(t)})", minimum[t], f"at most max_headcount, {high}"
            )
    options: list[_Option] = []
    # Templates alike in all but their starts (same length, breaks, price and no
    # count limits) offer one option per start, under the first one's name: two
    # interchangeable variables would only multiply the solver's search.
    canonical: dict[tuple[Any, ...], int] = {}
    offered: set[tuple[int, int]] = set()
    for index, template in enumerate(spec.templates):
        signature = (
            template.length_minutes,
            tuple((b.minutes, b.earliest, b.latest, b.paid) for b in template.breaks),
            template.cost_per_hour,
        )
        owner = index
        if template.min_count == 0 and template.max_count is None:
            owner = canonical.setdefault(signature, index)
        length = template.length_minutes // step
        rules = tuple(
            (
                r,
                rule.minutes // step,
                tuple(range(rule.earliest // step, rule.latest // step + 1)),
            )
            for r, rule in enumerate(template.breaks)
        )
        fits = False
        for day in range(days):
            for clock in template.start_minutes(step):
                begin = day * _DAY + clock - origin
                if begin < 0 or begin % step:
                    continue
                first = begin // step
                if first + length > count:
                    continue
                fits = True
                if (owner, first) not in offered:
                    offered.add((owner, first))
                    options.append(
                        _Option(owner, first, length, rules, template.cost, template.name)
                    )
        if not fits:
            raise _infeasible(
                f"templates.{index}.starts",
                template.starts,
                f"a start whose {template.length_minutes}-minute shift fits in the horizon "
                f"{where(0)} to {_end_label(origin + count * step, days)}",
            )
    # An interval that needs agents must be inside some shift (a shift may still
    # put everyone on a break there; the solver reports that as infeasible).
    reachable = np.zeros(count + 1, dtype=np.int64)
    for option in options:
        reachable[option.start] += 1
        reachable[option.start + option.length] -= 1
    inside = np.cumsum(reachable)[:count]
    for t in range(count):
        need = max(requirement[t], minimum[t])
        if need > 0 and inside[t] == 0 and spec.budget is None:
            raise _infeasible(
                f"requirements[{t}] ({where(t)})",
                need,
                "0: no template has a shift covering this interval (add a start or a "
                "template that does)",
            )
    patterns: list[tuple[int, ...]] = []
    if spec.days_off is not None:
        work = spec.days_off.work_days
        if work > days:
            raise _infeasible("days_off.work_days", work, f"at most the horizon's {days} days")
        if math.comb(days, work) > MAX_PATTERNS and not spec.days_off.consecutive:
            raise _fail(
                "days_off",
                f"{math.comb(days, work)} patterns",
                f"at most {MAX_PATTERNS} (use consecutive = true or a shorter horizon)",
            )
        for chosen in itertools.combinations(range(days), work):
            off = [d for d in range(days) if d not in chosen]
            if spec.days_off.consecutive and off and off[-1] - off[0] + 1 != len(off):
                continue
            patterns.append(chosen)
    return _Model(spec, requirement, minimum, tuple(highs), options, days, patterns)


def _scipy() -> tuple[Any, Any, Any, Any]:
    try:
        from scipy.optimize import (  # type: ignore[import-untyped, unused-ignore]
            Bounds,
            LinearConstraint,
            milp,
        )
        from scipy.sparse import coo_array  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise InvalidInputError(
            f"scheduling needs scipy's milp solver (expected `{_PLANNING}`)",
            [("scipy", None, _PLANNING)],
        ) from None
    return milp, LinearConstraint, Bounds, coo_array


def _solve(
    model: _Model,
    *,
    need: Sequence[int] | None = None,
    lower: Sequence[int] | None = None,
) -> Schedule:
    """Solve the model; ``need`` overrides the coverage floor, ``lower`` fixes shifts as a floor."""
    milp, linear_constraint, bounds_type, coo_array = _scipy()
    spec = model.spec
    started = time.perf_counter()
    count = model.intervals
    hours = spec.interval_minutes / 60.0
    floor = [
        max(r, m)
        for r, m in zip(model.requirement if need is None else need, model.minimum, strict=True)
    ]
    options = model.options
    # Column layout: shifts, then breaks, then shortages, then patterns, then
    # running counts. Breaks are counted per template, rule and start interval,
    # not per shift: which shift takes which break is left to a matching found
    # afterwards (Bechtold and Jacobs' implicit break model), which removes the
    # many equivalent ways of giving the same breaks to different shifts.
    columns = len(options)
    families = _break_families(model)
    break_columns: list[tuple[int, int, int]] = []  # (family, start interval, length)
    for f, family in enumerate(families):
        break_columns.extend((f, p, family.length) for p in family.positions)
    first_break = columns
    columns += len(break_columns)
    budgeted = spec.budget is not None
    first_short = columns
    if budgeted:
        columns += count
    first_pattern = columns
    columns += len(model.patterns)
    # Running counts, continuous (whole whenever the shifts and breaks are):
    # shifts on duty in each interval, and for each break family, interval by
    # interval from its first window's opening, the breaks taken less the
    # shifts whose window has closed ("late") and the shifts whose window has
    # opened less the breaks taken ("early"). Kept as running sums, every
    # shift and break appears in a handful of rows instead of one per interval
    # it covers or per window ending after it: the same linear program with
    # about a ninth of the nonzeros, whose optimum the solver proves several
    # times faster (96-interval days of 10 to 300 agents: at most 7 s instead
    # of up to 24 s).
    first_duty = columns
    columns += count
    spans: list[tuple[int, int, int]] = []  # (first interval, intervals, first column)
    for family in families:
        opens = min(earliest for _, earliest, _ in family.members)
        closes = max(latest for _, _, latest in family.members)
        spans.append((opens, closes - opens + 1, columns))
        columns += 2 * (closes - opens + 1)

    cost = np.zeros(columns)
    cost[: len(options)] = [o.cost for o in options]
    if budgeted:
        dearest = max(t.cost_per_hour for t in spec.templates)
        price = spec.shortage_cost_per_hour or 10.0 * dearest
        cost[first_short : first_short + count] = price * hours
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    low: list[float] = []
    high: list[float] = []

    def entry(row: int, column: int, value: float) -> None:
        rows.append(row)
        cols.append(column)
        vals.append(value)

    def on_duty(offset: int) -> None:
        for t in range(count):
            entry(offset + t, first_duty + t, 1.0)
        for k, (_, begin, length) in enumerate(break_columns):
            for t in range(begin, begin + length):
                entry(offset + t, first_break + k, -1.0)

    # Coverage rows: on duty (+ shortage with a budget) at least the floor.
    on_duty(0)
    if budgeted:
        for t in range(count):
            entry(t, first_short + t, 1.0)
    for t in range(count):
        low.append(float(floor[t]))
        top = model.maximum[t]
        high.append(math.inf if top is None or budgeted else float(top))
    row = count
    # A shortage variable must not lift an interval above its maximum: bound
    # the on-duty count alone in a second row where a budget is given.
    if budgeted:
        on_duty(row)
        for t in range(count):
            top = model.maximum[t]
            low.append(0.0)
            high.append(math.inf if top is None else float(top))
        row += count
    # Shifts on duty: duty[t] = duty[t - 1] + shifts starting at t - shifts ended at t.
    for t in range(count):
        entry(row + t, first_duty + t, 1.0)
        if t:
            entry(row + t, first_duty + t - 1, -1.0)
        low.append(0.0)
        high.append(0.0)
    for o, option in enumerate(options):
        entry(row + option.start, o, -1.0)
        if option.start + option.length < count:
            entry(row + option.start + option.length, o, 1.0)
    row += count
    # Every shift can be given one break of each of its rules, in its window:
    # at every interval, the breaks taken so far at least the shifts whose
    # window has closed ("late" >= 0) and at most the shifts whose window has
    # opened ("early" >= 0), and as many breaks as shifts in all ("late" ends
    # at 0). For windows of one length (one template's rule) these are Hall's
    # conditions for the matching.
    column_of = {(f, p): first_break + k for k, (f, p, _) in enumerate(break_columns)}
    for f, (family, (opens, length, first)) in enumerate(zip(families, spans, strict=True)):
        closing: dict[int, list[int]] = {}
        opening: dict[int, list[int]] = {}
        for o, earliest, latest in family.members:
            opening.setdefault(earliest, []).append(o)
            closing.setdefault(latest, []).append(o)
        late, early = first, first + length
        for k in range(length):
            t = opens + k
            taken = column_of.get((f, t))
            entry(row, late + k, 1.0)
            entry(row + 1, early + k, 1.0)
            if k:
                entry(row, late + k - 1, -1.0)
                entry(row + 1, early + k - 1, -1.0)
            if taken is not None:
                entry(row, taken, -1.0)
                entry(row + 1, taken, 1.0)
            for o in closing.get(t, ()):
                entry(row, o, 1.0)
            for o in opening.get(t, ()):
                entry(row + 1, o, -1.0)
            low.extend((0.0, 0.0))
            high.extend((0.0, 0.0))
            row += 2
        entry(row, late + length - 1, 1.0)
        low.append(0.0)
        high.append(0.0)
        row += 1
    # Template counts.
    for index, template in enumerate(spec.templates):
        if template.min_count == 0 and template.max_count is None:
            continue
        for o, option in enumerate(options):
            if option.template == index:
                rows.append(row)
                cols.append(o)
                vals.append(1.0)
        low.append(float(template.min_count))
        high.append(math.inf if template.max_count is None else float(template.max_count))
        row += 1
    if budgeted:
        for o, option in enumerate(options):
            rows.append(row)
            cols.append(o)
            vals.append(option.cost)
        low.append(0.0)
        high.append(float(spec.budget or 0.0))
        row += 1
    if model.patterns:
        origin = _clock_minutes(spec.start)
        for day in range(model.days):
            for o, option in enumerate(options):
                if (origin + option.start * spec.interval_minutes) // _DAY == day:
                    rows.append(row)
                    cols.append(o)
                    vals.append(1.0)
            for q, pattern in enumerate(model.patterns):
                if day in pattern:
                    rows.append(row)
                    cols.append(first_pattern + q)
                    vals.append(-1.0)
            low.append(0.0)
            high.append(0.0)
            row += 1
        if spec.max_agents is not None:
            for q in range(len(model.patterns)):
                rows.append(row)
                cols.append(first_pattern + q)
                vals.append(1.0)
            low.append(0.0)
            high.append(float(spec.max_agents))
            row += 1
    matrix = coo_array((vals, (rows, cols)), shape=(row, columns)).tocsr()
    lower_bounds = np.zeros(columns)
    if lower is not None:
        lower_bounds[: len(options)] = lower
    upper_bounds = np.full(columns, np.inf)
    integrality = np.ones(columns)
    if budgeted:
        integrality[first_short : first_short + count] = 0
    integrality[first_duty:] = 0
    problem = {
        "c": cost,
        "integrality": integrality,
        "bounds": bounds_type(lower_bounds, upper_bounds),
        "constraints": [linear_constraint(matrix, np.array(low), np.array(high))],
    }
    unit = _cost_unit(cost)
    gap = spec.mip_gap
    if gap is None:
        # Every roster's cost is a multiple of `unit`: a roster within less than one
        # unit of the dual bound is optimal, so the solver may stop there instead of
        # closing the last fraction of a unit (which can take it ten times longer).
        # The relative gap that guarantees this needs an upper bound on the final
        # cost: 1.1 times the LP bound (rosters here come within a fraction of a
        # per cent of it). The proof is checked on the result, and the solver
        # runs on to a zero gap when it does not hold.
        relaxed = milp(**{**problem, "integrality": np.zeros(columns)})
        bound = float(relaxed.fun) if relaxed.x is not None else math.nan
        gap = 0.0
        if unit > 0.0 and math.isfinite(bound) and bound > 0.0:
            gap = 0.99 * unit / (1.1 * bound)
    limit = spec.time_limit_seconds
    # The limit bounds the whole solve: what building the program and its
    # linear bound took comes off the search's time.
    left = limit - (time.perf_counter() - started)
    settings = {"time_limit": max(left, 0.001), "mip_rel_gap": gap}
    result = milp(**problem, options=settings)
    if (
        spec.mip_gap is None
        and gap > 0.0
        and result.status == 0
        and result.x is not None
        and not float(result.fun) - float(result.mip_dual_bound) < unit * (1 - 1e-9)
    ):
        spent = time.perf_counter() - started
        settings = {"time_limit": max(1.0, limit - spent), "mip_rel_gap": 0.0}
        result = milp(**problem, options=settings)
    seconds = time.perf_counter() - started
    if result.x is None:
        if result.status == 1:
            raise InfeasibleScheduleError(
                f"schedule: the solver found no roster within time_limit_seconds="
                f"{spec.time_limit_seconds:g} (expected a larger time limit or a smaller "
                "problem)",
                [("time_limit_seconds", spec.time_limit_seconds, "a larger limit")],
            )
        raise InfeasibleScheduleError(
            "schedule: no roster meets the requirements under these rules (solver: "
            f"{result.message.strip()[:160]}); expected looser limits: templates' max_count "
            "or min_count, max_headcount, max_agents, days_off, or budget",
            [("spec", None, "rules some roster can meet")],
        )
    values = np.rint(result.x).astype(np.int64)
    status: Literal["optimal", "time_limit"] = "optimal" if result.status == 0 else "time_limit"
    proven = float(result.fun) - float(getattr(result, "mip_dual_bound", result.fun))
    gap = max(0.0, proven) / abs(float(result.fun)) if result.fun else 0.0
    return _roster(
        model, values, families, first_break, break_columns, first_pattern, status, gap, seconds
    )


def _cost_unit(cost: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """The largest unit every cost is a whole multiple of (0.0 when there is none to speak of).

    Costs are read as fractions with denominators up to 10**6 (4.2 is 21/5); the
    unit is their greatest common divisor, e.g. 0.1 for costs 4.2, 6 and 7.5.
    """
    numerators: list[int] = []
    denominators: list[int] = []
    for value in {float(c) for c in cost if c}:
        exact = fractions.Fraction(value).limit_denominator(10**6)
        if abs(float(exact) - value) > 1e-9 * max(1.0, abs(value)):
            return 0.0
        numerators.append(exact.numerator)
        denominators.append(exact.denominator)
    if not numerators:
        return 0.0
    common = math.lcm(*denominators)
    unit = fractions.Fraction(
        math.gcd(*(n * (common // d) for n, d in zip(numerators, denominators, strict=True))),
        common,
    )
    return float(unit)


@dataclass(frozen=True)
class _Family:
    """One break rule of one template: its shifts' windows and the break starts allowed."""

    template: int
    rule: int
    length: int
    members: tuple[tuple[int, int, int], ...]  # (option, earliest, latest start interval)
    positions: tuple[int, ...]


def _break_families(model: _Model) -> list[_Family]:
    """One family per template, break rule and run of overlapping windows.

    Windows that do not overlap (one day's shifts and the next day's) can
    never share a break, so each run is matched on its own: the matching
    conditions stay local, and their size grows with the starts of a day,
    not of the whole horizon.
    """
    families = []
    for index, template in enumerate(model.spec.templates):
        chosen = [(o, option) for o, option in enumerate(model.options) if option.template == index]
        if not chosen:
            continue  # its starts are offered under an identical template's name
        for rule in range(len(template.breaks)):
            length = chosen[0][1].breaks[rule][1]
            windows = sorted(
                (
                    option.start + option.breaks[rule][2][0],
                    option.start + option.breaks[rule][2][-1],
                    o,
                )
                for o, option in chosen
            )
            run: list[tuple[int, int, int]] = []
            reach = -1
            for earliest, latest, o in windows:
                if run and earliest > reach:
                    families.append(_family(index, rule, length, run))
                    run = []
                run.append((o, earliest, latest))
                reach = max(reach, latest) if len(run) > 1 else latest
            families.append(_family(index, rule, length, run))
    return families


def _family(template: int, rule: int, length: int, run: list[tuple[int, int, int]]) -> _Family:
    positions = sorted({p for _, earliest, latest in run for p in range(earliest, latest + 1)})
    return _Family(template, rule, length, tuple(run), tuple(positions))


def _match(family: _Family, shifts: list[tuple[int, int, int]], starts: list[int]) -> list[int]:
    """A break start for each shift ``(option, earliest, latest)``, all within their windows.

    Earliest deadline first: breaks in time order, each to the waiting shift
    whose window closes first. It finds a matching whenever one exists, as
    the solver's constraints guarantee for windows of one length.
    """
    order = sorted(range(len(shifts)), key=lambda i: shifts[i][1])
    waiting: list[tuple[int, int]] = []
    given = [-1] * len(shifts)
    next_shift = 0
    for start in sorted(starts):
        while next_shift < len(order) and shifts[order[next_shift]][1] <= start:
            i = order[next_shift]
            heapq.heappush(waiting, (shifts[i][2], i))
            next_shift += 1
        latest, i = heapq.heappop(waiting)
        if latest < start:
            raise AssertionError(f"break matching failed for template {family.template}")
        given[i] = start
    return given


def _roster(
    model: _Model,
    values: np.ndarray[Any, np.dtype[np.int64]],
    families: list[_Family],
    first_break: int,
    break_columns: list[tuple[int, int, int]],
    first_pattern: int,
    status: Literal["optimal", "time_limit"],
    gap: float,
    seconds: float,
) -> Schedule:
    spec = model.spec
    step = spec.interval_minutes
    origin = _clock_minutes(spec.start)
    # Each shift instance (option, k-th of its count) gets one break start per rule.
    chosen: dict[tuple[int, int], list[int]] = {}
    for f, family in enumerate(families):
        instances = [
            (o, earliest, latest)
            for o, earliest, latest in family.members
            for _ in range(int(values[o]))
        ]
        starts = [
            begin
            for k, (g, begin, _) in enumerate(break_columns)
            if g == f
            for _ in range(int(values[first_break + k]))
        ]
        given = _match(family, instances, starts)
        seen: dict[int, int] = {}
        for (o, _, _), begin in zip(instances, given, strict=True):
            instance = seen.get(o, 0)
            seen[o] = instance + 1
            chosen.setdefault((o, instance), []).append(begin - model.options[o].start)
    grouped: dict[tuple[int, tuple[int, ...]], int] = {}
    for o in range(len(model.options)):
        for instance in range(int(values[o])):
            key = (o, tuple(chosen.get((o, instance), [])))
            grouped[key] = grouped.get(key, 0) + 1
    shifts: list[ScheduledShift] = []
    headcount = np.zeros(model.intervals, dtype=np.int64)
    for (o, offsets), n in sorted(
        grouped.items(), key=lambda item: (model.options[item[0][0]].start, item[0])
    ):
        option = model.options[o]
        template = spec.templates[option.template]
        begin = origin + option.start * step
        breaks = tuple(
            ScheduledBreak(begin + offset * step, rule.minutes, rule.paid)
            for rule, offset in zip(template.breaks, offsets, strict=True)
        )
        for t in option.on_duty(offsets):
            headcount[t] += n
        shifts.append(
            ScheduledShift(
                template=option.name,
                day=begin // _DAY,
                start_minutes=begin,
                end_minutes=begin + template.length_minutes,
                count=n,
                breaks=breaks,
                paid_hours=template.paid_minutes / 60.0,
                cost=template.cost,
            )
        )
    patterns = tuple(
        (pattern, int(values[first_pattern + q]))
        for q, pattern in enumerate(model.patterns)
        if values[first_pattern + q] > 0
    )
    return Schedule(
        interval_minutes=step,
        start_minutes=origin,
        labels=tuple(_label(origin + t * step, model.days) for t in range(model.intervals)),
        requirement=model.requirement,
        minimum=model.minimum,
        maximum=model.maximum,
        headcount=tuple(int(h) for h in headcount),
        shifts=tuple(shifts),
        cost=math.fsum(s.cost * s.count for s in shifts),
        paid_hours=math.fsum(s.paid_hours * s.count for s in shifts),
        status=status,
        gap=gap,
        solve_seconds=seconds,
        patterns=patterns,
    )


def solve_schedule(
    requirements: Any | None, spec: ScheduleSpec | Mapping[str, Any] | str | Path
) -> Schedule:
    """The cheapest roster that puts at least the required agents on duty in every interval.

    ``requirements`` is anything :func:`requirements_from` takes, or ``None``
    to use the spec's own ``requirements``; ``spec`` a :class:`ScheduleSpec`,
    a mapping of its fields or the path of a spec file. Without a budget
    every interval gets at least ``max(requirement, min_headcount)`` on
    duty (not on a break); with one, the cheapest mix of cost and shortage
    within it.

    Raises :class:`InfeasibleScheduleError` for rules no roster can meet
    (named before solving where it can be seen: a requirement above
    ``max_headcount``, an interval outside every shift, a template with no
    start in the horizon) and :class:`~valueroute.errors.InvalidInputError`
    for malformed input. Needs scipy (``pip install "valueroute[planning]"``).

    Cost: HiGHS branch and bound on ``options + break placements`` integer
    variables, where options = templates × starts × days; a 96-interval day
    with 30 templates solves in seconds (``benchmarks/bench_schedule.py``).
    """
    checked = _spec(spec)
    if requirements is None:
        if checked.requirements is None:
            raise _fail("requirements", None, "requirements, here or in the spec")
        needed = requirements_from(checked.requirements)
    else:
        needed = requirements_from(requirements)
    return _solve(_build(checked, needed))
