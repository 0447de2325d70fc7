"""From a forecast and a staffing table to a runnable scenario.

The Erlang tools read a forecast CSV (``interval,calls[,aht]``, see
:func:`valueroute.erlang.read_forecast`) and staff it interval by interval
(:func:`valueroute.erlang.staff_intervals`); the simulator reads arrival
profiles (``interval_start,task_type,volume``, see
:func:`~valueroute.sim.arrivals.load_profile_csv`) and scenarios. This module
joins them:

- :func:`profile_from_forecast`: a forecast's calls per interval as a
  :class:`~valueroute.sim.arrivals.ProfileArrivals` (a Poisson process whose
  expected count in each interval is that interval's calls), and
  :func:`write_profile_csv` to write profiles in the format
  :func:`~valueroute.sim.arrivals.load_profile_csv` reads back.
- :func:`scenario_from_forecast`: a whole :class:`~valueroute.sim.scenario.Scenario`
  (one task type, its arrivals, one agent group whose headcount per interval
  is the staffing), and :func:`scenario_to_toml` / :func:`write_scenario` to
  write it as a file ``valueroute simulate`` runs.

Intervals. A forecast label of the form ``HH:MM`` or ``HH:MM:SS`` is read as
the interval's time of day; any other label is a name only. Either every
label is a time (the intervals must then be consecutive and evenly spaced by
15, 30 or 60 minutes, passing midnight allowed) or none is (then give
``interval_minutes``). A scenario's clock starts at the forecast's first
interval: time 0 is its start, and the horizon is the forecast's span.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from valueroute.erlang import Forecast, StaffingTable, read_forecast, staff_intervals
from valueroute.errors import ErlangError, InvalidInputError, bounded_repr
from valueroute.sim.arrivals import ProfileArrivals
from valueroute.sim.distributions import Exponential, distribution_from
from valueroute.sim.scenario import MAX_AGENTS, Scenario

__all__ = [
    "MAX_AHT",
    "MAX_CALLS",
    "profile_from_forecast",
    "scenario_from_forecast",
    "scenario_to_toml",
    "write_profile_csv",
    "write_scenario",
]

_DAY = 86_400.0
MAX_CALLS = 1e9
"""Most calls a forecast interval may hold (far beyond any operation; keeps sums finite)."""
MAX_AHT = 1e9
"""Longest mean handle time in seconds a forecast interval may give."""
_MINUTES = (15, 30, 60)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _fail(field: str, value: Any, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field}: got {bounded_repr(value)} (expected {expected})", [(field, value, expected)]
    )


# ------------------------------------------------------------------ forecasts


def _as_forecast(forecast: Forecast | str | Path) -> Forecast:
    if isinstance(forecast, str | Path):
        try:
            forecast = read_forecast(forecast)
        except ErlangError as exc:
            raise InvalidInputError(
                f"forecast: {exc}", [("forecast", str(forecast), "a readable forecast CSV")]
            ) from None
    if not isinstance(forecast, Forecast):
        raise _fail(
            "forecast",
            type(forecast).__name__,
            "a Forecast (valueroute.erlang.read_forecast) or the path of a forecast CSV",
        )
    labels = forecast.labels
    if not isinstance(labels, Sequence) or isinstance(labels, str):
        raise _fail("forecast.labels", type(labels).__name__, "a sequence of texts")
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            raise _fail(f"forecast.labels.{index}", label, "a text (str)")
    calls = _array(forecast.calls, "forecast.calls")
    if calls.ndim != 1 or calls.size == 0 or calls.size != len(forecast.labels):
        raise _fail(
            "forecast.calls",
            f"{calls.size} values for {len(forecast.labels)} labels",
            "one volume per labelled interval, at least one",
        )
    bad = np.flatnonzero(~((calls >= 0.0) & (calls <= MAX_CALLS)))
    if bad.size:
        index = int(bad[0])
        raise _fail(
            f"forecast.calls.{index}", float(calls[index]), f"a number from 0 to {MAX_CALLS:g}"
        )
    aht = None
    if forecast.aht is not None:
        aht = _array(forecast.aht, "forecast.aht")
        if aht.shape != calls.shape:
            raise _fail("forecast.aht", f"{aht.size} values", f"{calls.size}, one per interval")
        bad = np.flatnonzero(~np.isnan(aht) & ~((aht > 0.0) & (aht <= MAX_AHT)))
        if bad.size:
            index = int(bad[0])
            raise _fail(
                f"forecast.aht.{index}",
                float(aht[index]),
                f"seconds > 0 and at most {MAX_AHT:g}, or NaN for none given",
            )
    return Forecast(labels=tuple(labels), calls=calls, aht=aht)


def _array(values: object, field: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    if isinstance(values, str | bytes):
        raise _fail(field, values, "an array of numbers, one per interval")
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(field, type(values).__name__, "an array of numbers, one per interval") from None


def _clock(label: str) -> float | None:
    match = _CLOCK.match(label.strip())
    if not match:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if hours >= 24 or minutes >= 60 or seconds >= 60:
        return None
    return float(hours * 3600 + minutes * 60 + seconds)


def _show_clock(seconds: float) -> str:
    whole = int(seconds) % int(_DAY)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _check_minutes(interval_minutes: object) -> int | None:
    if interval_minutes is None:
        return None
    if type(interval_minutes) is not int or interval_minutes not in _MINUTES:
        raise _fail("interval_minutes", interval_minutes, "15, 30 or 60")
    return interval_minutes


def _grid(forecast: Forecast, interval_minutes: object) -> tuple[float, int]:
    """``(start_seconds, minutes)`` of the forecast's intervals, from its labels."""
    minutes = _check_minutes(interval_minutes)
    times = [_clock(label) for label in forecast.labels]
    if all(t is None for t in times):
        if minutes is None:
            raise _fail(
                "interval_minutes",
                None,
                f"15, 30 or 60: the forecast's labels (first {bounded_repr(forecast.labels[0])}) "
                "are not times of day HH:MM, so they do not give the interval length",
            )
        return 0.0, minutes
    for index, t in enumerate(times):
        if t is None:
            raise _fail(
                f"forecast.labels.{index}",
                forecast.labels[index],
                "a time of day HH:MM or HH:MM:SS like the other labels",
            )
    clock = cast(list[float], times)
    if minutes is None:
        if len(clock) < 2:
            raise _fail(
                "interval_minutes",
                None,
                "15, 30 or 60: a forecast of one interval does not give its length",
            )
        step = (clock[1] - clock[0]) % _DAY
        if step not in (900.0, 1800.0, 3600.0):
            raise _fail(
                "forecast.labels.1",
                forecast.labels[1],
                f"a start 15, 30 or 60 minutes after {forecast.labels[0].strip()}",
            )
        minutes = int(step // 60)
    width = 60.0 * minutes
    for index, t in enumerate(clock):
        expected = (clock[0] + index * width) % _DAY
        if t != expected:
            raise _fail(
                f"forecast.labels.{index}",
                forecast.labels[index],
                f"{_show_clock(expected)}: intervals evenly spaced by {minutes} minutes",
            )
    return clock[0], minutes


def profile_from_forecast(
    forecast: Forecast | str | Path,
    *,
    task_type: str,
    aht: float | None = None,
    interval_minutes: Literal[15, 30, 60] | None = None,
    start_seconds: float | None = None,
) -> ProfileArrivals:
    """The forecast as an arrival profile: each interval's calls and aht.

    ``forecast`` is a :class:`~valueroute.erlang.Forecast` or the path of a
    forecast CSV. ``volumes[i]`` is the calls of interval ``i`` and
    ``aht[i]`` its aht (arrivals then carry exponential handle times with
    their interval's mean); rows without an aht take ``aht``, and a forecast
    without an aht column and no ``aht`` gives a profile without handle
    times. The interval length comes
    from the labels (times of day ``HH:MM``) unless ``interval_minutes`` is
    given; it must be given when the labels are not times.
    ``start_seconds`` defaults to the first label's time of day (0 when the
    labels are not times). O(intervals).

    >>> from valueroute.erlang import read_forecast
    >>> day = read_forecast(["interval,calls,aht", "08:00,12,300", "08:30,20,240"])
    >>> profile = profile_from_forecast(day, task_type="voice")
    >>> profile.interval_minutes, profile.volumes, profile.aht, profile.start_seconds
    (30, (12.0, 20.0), (300.0, 240.0), 28800.0)
    """
    checked = _as_forecast(forecast)
    first, minutes = _grid(checked, interval_minutes)
    start = first if start_seconds is None else start_seconds
    handles = None
    if checked.aht is not None or aht is not None:
        handles = tuple(float(h) for h in _handle_times(checked, aht, None))
    return ProfileArrivals(
        task_type=task_type,
        interval_minutes=cast(Literal[15, 30, 60], minutes),
        volumes=tuple(float(c) for c in checked.calls),
        start_seconds=start,
        aht=handles,
    )


# ------------------------------------------------------------- profile files


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 2.0**53:
        return str(int(value))
    return repr(value)


def _start_text(seconds: float, clock: bool) -> str:
    if clock:
        whole = int(seconds)
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")
    return _number_text(seconds)


def write_profile_csv(
    profiles: ProfileArrivals | Iterable[ProfileArrivals], path: str | Path
) -> Path:
    """Write profiles as ``interval_start,task_type,volume[,aht]`` rows; returns the path.

    :func:`~valueroute.sim.arrivals.load_profile_csv` reads the file back to
    equal profiles (give it ``interval_minutes`` for a profile of a single
    interval, whose length one row cannot show). Starts are written as times
    of day ``HH:MM[:SS]`` when a profile's starts are whole seconds within
    one day, else as seconds; numbers are written exactly (``repr``). The
    ``aht`` column is written when a profile has handle times (empty for
    the profiles without). A profile with ``repeat`` above 1 is refused (the
    file holds one pass: give ``repeat`` to the loader), as are two profiles
    of one task type; nothing is written then. O(intervals).
    """
    items = [profiles] if isinstance(profiles, ProfileArrivals) else _profile_list(profiles)
    if not items:
        raise _fail("profiles", [], "at least one ProfileArrivals")
    seen: set[str] = set()
    for index, profile in enumerate(items):
        if not isinstance(profile, ProfileArrivals):
            raise _fail(f"profiles.{index}", type(profile).__name__, "a ProfileArrivals")
        if profile.repeat != 1:
            raise _fail(
                f"profiles.{index}.repeat",
                profile.repeat,
                "1 (the file holds one pass of the profile; give repeat= to load_profile_csv)",
            )
        if profile.task_type in seen:
            raise _fail(
                f"profiles.{index}.task_type", profile.task_type, "one profile per task type"
            )
        seen.add(profile.task_type)
    target = _writable_path(path)
    try:
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            with_aht = any(profile.aht is not None for profile in items)
            writer.writerow(["interval_start", "task_type", "volume"] + ["aht"] * with_aht)
            for profile in items:
                width = profile.interval_seconds
                count = len(profile.volumes)
                first = profile.start_seconds
                last = first + (count - 1) * width
                clock = first.is_integer() and first >= 0.0 and last < _DAY
                for index, volume in enumerate(profile.volumes):
                    start = first + index * width
                    row = [_start_text(start, clock), profile.task_type, _number_text(volume)]
                    if with_aht:
                        row.append("" if profile.aht is None else _number_text(profile.aht[index]))
                    writer.writerow(row)
    except OSError as exc:
        raise _fail("path", str(target), f"a writable file ({exc.strerror})") from None
    return target


def _profile_list(profiles: object) -> list[Any]:
    if isinstance(profiles, str | bytes | Mapping) or not isinstance(profiles, Iterable):
        raise _fail("profiles", type(profiles).__name__, "a ProfileArrivals or a sequence of them")
    return list(profiles)


def _writable_path(path: object) -> Path:
    if not isinstance(path, str | Path) or not str(path):
        raise _fail("path", path, "a file path (str or pathlib.Path)")
    return Path(path)


# ------------------------------------------------------------------ scenarios


def _headcount(
    staffing: StaffingTable | Sequence[int] | int, intervals: int
) -> tuple[int | None, list[int]]:
    """``(count, headcount)``: one count for the whole day, or one per interval."""
    if isinstance(staffing, bool):
        raise _fail("staffing", staffing, "an agent count, a list of counts or a StaffingTable")
    if isinstance(staffing, int | np.integer):
        if not 0 <= staffing <= MAX_AGENTS:
            raise _fail("staffing", int(staffing), f"an agent count from 0 to {MAX_AGENTS}")
        return int(staffing), []
    if isinstance(staffing, StaffingTable):
        counts: Any = staffing.agents
        field = "staffing.agents"
    elif isinstance(staffing, Sequence | np.ndarray) and not isinstance(staffing, str | bytes):
        counts = staffing
        field = "staffing"
    else:
        raise _fail(
            "staffing",
            type(staffing).__name__,
            "an agent count, a list of counts or a StaffingTable",
        )
    if len(counts) != intervals:
        raise _fail(
            field,
            f"{len(counts)} counts",
            f"{intervals}, one per interval of the forecast",
        )
    headcount = []
    for index, count in enumerate(counts):
        if (
            isinstance(count, bool)
            or not isinstance(count, int | np.integer)
            or not 0 <= count <= MAX_AGENTS
        ):
            raise _fail(
                f"{field}.{index}", count, f"an agent count, an integer from 0 to {MAX_AGENTS}"
            )
        headcount.append(int(count))
    return None, headcount


def _service_level(service_level: object) -> tuple[float, float]:
    expected = "a pair (share in (0, 1), seconds >= 0), such as (0.8, 20)"
    if not isinstance(service_level, tuple | list) or len(service_level) != 2:
        raise _fail("service_level", service_level, expected)
    share, awt = service_level
    for value in (share, awt):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail("service_level", service_level, expected)
    if not (0.0 < share < 1.0) or not (math.isfinite(awt) and awt >= 0.0):
        raise _fail("service_level", service_level, expected)
    return float(share), float(awt)


def _handle_times(
    forecast: Forecast, aht: float | None, handle_mean: float | None
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Mean handle time per interval: the forecast's, else ``aht``, else the handle's mean."""
    default = aht if aht is not None else handle_mean
    if aht is not None and (
        isinstance(aht, bool) or not isinstance(aht, int | float) or not (0 < aht <= MAX_AHT)
    ):
        raise _fail("aht", aht, f"seconds > 0 and at most {MAX_AHT:g} for intervals without one")
    size = len(forecast.labels)
    if forecast.aht is None:
        given = np.full(size, math.nan)
    else:
        given = np.asarray(forecast.aht, dtype=np.float64)
    missing = np.isnan(given)
    if missing.any():
        if default is None:
            first = int(np.flatnonzero(missing)[0])
            raise _fail(
                "aht",
                None,
                f"seconds > 0 (the forecast gives no aht for interval "
                f"{bounded_repr(forecast.labels[first])}), or a handle distribution",
            )
        if not default <= MAX_AHT:
            raise _fail(
                "handle", default, f"a mean of at most {MAX_AHT:g} seconds (the default aht)"
            )
        given = np.where(missing, float(default), given)
    return given


def scenario_from_forecast(
    forecast: Forecast | str | Path,
    *,
    staffing: StaffingTable | Sequence[int] | int | None = None,
    task_type: str = "voice",
    channel: str = "voice",
    handle: Any = None,
    aht: float | None = None,
    patience: Any = None,
    service_level: tuple[float, float] = (0.8, 20.0),
    skills: Mapping[str, float] | None = None,
    name: str = "forecast",
    interval_minutes: Literal[15, 30, 60] | None = None,
    replications: int = 1,
    seed: int = 0,
) -> Scenario:
    """A runnable scenario of one forecast day: arrivals, handle time and headcount.

    - **Arrivals**: one :class:`~valueroute.sim.arrivals.ProfileArrivals` of
      ``task_type`` whose expected count in interval ``i`` is the forecast's
      ``calls[i]``. The scenario's clock starts at the first interval; the
      horizon is the forecast's span and ``interval_minutes`` its interval
      length (from the labels, or the keyword when they are not times).
    - **Handle time**: without ``handle``, exponential with the forecast's
      aht of the interval the call arrives in: the profile carries the aht
      per interval (``ProfileArrivals.aht``) and each arrival its own handle
      time. The task type's ``handle`` is then exponential with the
      calls-weighted mean aht Σ calls·aht / Σ calls (the plain mean when no
      calls are forecast), which only policies that read a type's mean
      handle time (``cmu``, ``least_slack``) use. With ``handle`` (a
      distribution or its mapping), every call draws from it whatever the
      interval. Rows without an aht take ``aht``, else ``handle``'s mean.
    - **Agents**: one group ``"agents"`` with the task's ``skills`` and one
      ``channel`` slot each. ``staffing`` is an Erlang
      :class:`~valueroute.erlang.StaffingTable` (its ``agents`` per interval,
      not ``scheduled``: agents on duty answer calls, shrinkage is not
      simulated), a list of agents per interval, or one count for the whole
      day. ``None`` staffs each interval by Erlang C for ``service_level``
      with the forecast's per-interval aht.
    - **Targets**: ``service_level=(share, seconds)``: the task type's
      ``sla_seconds`` is ``seconds``; ``share`` is only used to staff when
      ``staffing`` is ``None``. ``patience`` (a distribution) makes callers
      abandon; ``None``: they never do.

    Bad input raises :class:`~valueroute.errors.InvalidInputError` naming the
    field: a staffing of another length than the forecast, a negative count,
    labels not evenly spaced. O(intervals), plus Erlang C per interval when
    ``staffing`` is ``None``.
    """
    checked = _as_forecast(forecast)
    _start, minutes = _grid(checked, interval_minutes)
    intervals = len(checked.labels)
    share, awt = _service_level(service_level)
    for field, text in (("task_type", task_type), ("channel", channel), ("name", name)):
        if not isinstance(text, str):
            raise _fail(field, text, "a text (str)")
    if skills is not None and not isinstance(skills, Mapping):
        raise _fail("skills", skills, "a mapping of skill name to level")
    handle_model = None
    if handle is not None:
        try:
            handle_model = distribution_from(handle)
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"handle: {exc}", [("handle", handle, "a distribution")]
            ) from None
    patience_model = None
    if patience is not None:
        try:
            patience_model = distribution_from(patience)
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"patience: {exc}", [("patience", patience, "a distribution")]
            ) from None
    handles = _handle_times(
        checked, aht, None if handle_model is None else float(handle_model.mean)
    )
    calls = np.asarray(checked.calls, dtype=np.float64)
    width = 60.0 * minutes
    if staffing is None:
        loads = calls * handles / width
        if float(np.max(loads)) > MAX_AGENTS:
            index = int(np.argmax(loads))
            raise _fail(
                "forecast",
                float(loads[index]),
                f"a load of at most {MAX_AGENTS} Erlangs, what a scenario's agents can carry, "
                f"in interval {bounded_repr(checked.labels[index])}; or a staffing",
            )
        table = staff_intervals(calls, interval=width, aht=handles, service_level=share, awt=awt)
        count, headcount = None, [int(n) for n in table.agents]
    else:
        count, headcount = _headcount(staffing, intervals)
    if handle_model is None:
        total = math.fsum(calls)
        mean = math.fsum(calls * handles) / total if total > 0 else math.fsum(handles) / intervals
        handle_model = Exponential(mean_seconds=mean)
    required = {} if skills is None else dict(skills)
    group: dict[str, Any] = {"name": "agents", "skills": required, "capacity": {channel: 1}}
    if count is not None:
        group["count"] = count
    else:
        group["headcount"] = headcount
    task: dict[str, Any] = {
        "name": task_type,
        "channel": channel,
        "skills": required,
        "sla_seconds": awt,
        "handle": handle_model,
        "patience": patience_model,
    }
    return Scenario.model_validate(
        {
            "name": name,
            "horizon_seconds": intervals * width,
            "interval_minutes": minutes,
            "replications": replications,
            "seed": seed,
            "task_types": [task],
            "arrivals": [
                ProfileArrivals(
                    task_type=task_type,
                    interval_minutes=cast(Literal[15, 30, 60], minutes),
                    volumes=tuple(float(c) for c in calls),
                    aht=tuple(float(h) for h in handles) if handle is None else None,
                )
            ],
            "agent_groups": [group],
        }
    )


# -------------------------------------------------------------- scenario files

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")  # \Z: a trailing newline is no bare key
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_WRAP = 88


def _toml_string(text: str, where: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise _fail(where, text, "text without lone surrogates (TOML cannot hold them)")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: object, where: str) -> str:
    text = str(key)
    return text if _BARE_KEY.match(text) else _toml_string(text, where)


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value, where)
    if isinstance(value, list | tuple):
        return (
            "[" + ", ".join(_toml_value(item, f"{where}.{i}") for i, item in enumerate(value)) + "]"
        )
    if isinstance(value, dict):
        if not value:
            return "{}"
        pairs = (
            f"{_toml_key(k, where)} = {_toml_value(v, f'{where}.{k}')}" for k, v in value.items()
        )
        return "{ " + ", ".join(pairs) + " }"
    if value is None:
        raise _fail(where, None, "a value TOML can hold (TOML has no null: write .json)")
    raise _fail(where, type(value).__name__, "a value TOML can hold")


def _toml_pair(key: str, value: Any, where: str) -> str:
    text = f"{_toml_key(key, where)} = {_toml_value(value, where)}"
    if len(text) <= _WRAP or not isinstance(value, list) or not value:
        return text
    # A long array (a day of volumes) reads better one line of values at a time.
    lines = [f"{_toml_key(key, where)} = ["]
    row: list[str] = []
    for index, item in enumerate(value):
        cell = _toml_value(item, f"{where}.{index}") + ","
        if row and len("    " + " ".join([*row, cell])) > _WRAP:
            lines.append("    " + " ".join(row))
            row = []
        row.append(cell)
    lines.append("    " + " ".join(row))
    lines.append("]")
    return "\n".join(lines)


def _scenario_data(scenario: object) -> dict[str, Any]:
    if not isinstance(scenario, Scenario):
        raise _fail("scenario", type(scenario).__name__, "a Scenario")
    # Python mode: JSON mode would turn an infinite number among policy_params into null.
    data: dict[str, Any] = scenario.model_dump(exclude_none=True)
    # Relative paths are read from the written file's folder: write what they
    # mean here, from the current folder.
    routing = data.get("routing", {})
    if isinstance(routing.get("rules"), str):
        routing["rules"] = str(Path(routing["rules"]).absolute())
    for arrival in data.get("arrivals", []):
        if arrival.get("kind") == "trace":
            arrival["path"] = str(Path(arrival["path"]).absolute())
    return data


def scenario_to_toml(scenario: Scenario) -> str:
    """The scenario as TOML text that :func:`~valueroute.sim.scenario.parse_scenario` reads back.

    Every field is written (defaults included, unset optional fields left
    out), numbers exactly. File paths in it (``routing.rules``, trace
    arrivals) are written absolute, as the current folder makes them, since a
    scenario file's relative paths are read from the file's own folder.
    O(size of the scenario).

    >>> from valueroute.erlang import read_forecast
    >>> day = read_forecast(["interval,calls,aht", "08:00,12,180", "08:30,20,180"])
    >>> print(scenario_to_toml(scenario_from_forecast(day, staffing=3)).splitlines()[0])
    name = "forecast"
    """
    data = _scenario_data(scenario)
    head: list[str] = []
    tables: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append(f"\n[{_toml_key(key, key)}]")
            tables.extend(_toml_pair(k, v, f"{key}.{k}") for k, v in value.items())
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, item in enumerate(value):
                tables.append(f"\n[[{_toml_key(key, key)}]]")
                tables.extend(_toml_pair(k, v, f"{key}.{index}.{k}") for k, v in item.items())
        else:
            head.append(_toml_pair(key, value, key))
    return "\n".join(head + tables) + "\n"


def write_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` to ``path`` as TOML (``.toml``) or JSON (``.json``); returns the path.

    :func:`~valueroute.sim.scenario.load_scenario` reads the file back to an
    equal scenario (see :func:`scenario_to_toml` for file paths inside it).
    """
    target = _writable_path(path)
    suffix = target.suffix.lower()
    if suffix == ".toml":
        text = scenario_to_toml(scenario)
    elif suffix == ".json":
        try:
            text = json.dumps(_scenario_data(scenario), indent=2) + "\n"
        except (TypeError, ValueError) as exc:
            raise _fail("scenario", str(exc), "values JSON can hold") from None
    else:
        raise _fail("path", str(target), "a file ending in .toml or .json")
    try:
        # Lone surrogates never get here: TOML text refuses them, JSON escapes them.
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail("path", str(target), f"a writable file ({exc.strerror})") from None
    return target
