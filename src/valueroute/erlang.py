"""Erlang B, C and A: queueing formulas and staffing for contact centres.

Notation: ``traffic`` is the offered load *A* in Erlangs (arrival rate λ ×
mean handle time), ``agents`` is *n*, ``aht`` the mean handle time in seconds
(μ = 1/aht), ``patience`` the mean patience in seconds (θ = 1/patience) and
``awt`` the acceptable waiting time *T* of a service-level target ("80 % of
calls answered within 20 seconds" is ``service_level=0.8, awt=20``).

Models (``docs/erlang.md`` gives every formula with its source):

- Erlang B, M/M/n/n: blocking probability
  B(n, A) = (Aⁿ/n!) / Σₖ₌₀ⁿ Aᵏ/k!  (Erlang 1917).
- Erlang C, M/M/n: probability of waiting C = nB / (n − A(1 − B)), service
  level 1 − C·e^{−(n−A)T/aht}, average speed of answer C·aht/(n − A),
  occupancy A/n (Cooper, *Introduction to Queueing Theory*, 1981, §3.4).
- Erlang A, M/M/n+M: exponential patience. P(wait), P(abandon), mean waits and
  both service-level definitions follow from the birth–death chain (Palm 1943;
  Garnett, Mandelbaum and Reiman 2002; Mandelbaum and Zeltyn 2007): an arrival
  that finds *j* callers ahead is answered with probability
  nμ / (nμ + (j+1)θ) and, if answered, has waited a sum of exponential stages
  whose distribution function is a negative-binomial sum.

Numerical method. No factorial or power is formed: 1/B = Σᵢ uᵢ with
u₀ = 1, uᵢ = uᵢ₋₁ (n − i + 1)/A is log-concave in *i*, so it is summed in log
space over a window of about 12√A terms around its largest term, which is
exact to rounding (the terms left out are below e⁻⁷⁰ of the largest). The
Erlang A queue terms tⱼ = Πᵢ₌₁ʲ λ/(nμ + iθ) are summed the same way, with a
tail bound checked before the sum is accepted. The results are finite and
accurate to about 1e-12 (relative) for 20,000 agents and 20,000 Erlangs.

Inputs broadcast like numpy arrays; when every input is a scalar the result is
a Python float (or int for staffing). Inputs outside the domain raise
:class:`~valueroute.errors.ErlangError`; quantities that are undefined for an
unstable Erlang C queue (n ≤ A) return their documented limits instead
(P(wait) = 1, service level 0, average speed of answer ∞, occupancy 1).

What is accepted:

- array-like arguments (``agents``, ``traffic``, ``aht``, ``patience``,
  ``awt``, ``beta``, ``calls``) take whatever numpy turns into float64 numbers
  that are finite and in range; an integer no float holds (10**400) is
  refused, and arrays must broadcast together;
- ``agents`` are whole numbers from 0 to :data:`MAX_AGENTS` (2**53), and no
  function answers with more agents than that;
- the targets and settings that are single numbers (``service_level``,
  ``awt``, ``asa``, ``abandon``, ``max_occupancy``, ``shrinkage``,
  ``p_wait``, ``interval``) are real numbers (int, float, numpy scalars), not
  text, bools or None;
- the evaluation functions take any finite traffic, except where agents and
  traffic are both so large (near each other, above about 3e10) that the Erlang
  B sum needs more than 4,194,304 terms; the staffing functions
  (:func:`required_agents`, :func:`staff_intervals`, :func:`sqrt_staffing`)
  staff for at most :data:`MAX_STAFFING_TRAFFIC` (1e10) Erlangs;
- Erlang A (:func:`erlang_a`, and staffing with ``patience``) takes ``aht``
  and ``patience`` between 1e-100 and 1e100 seconds, where every rate and mean
  wait it forms stays within float range; traffic so small that its arrival
  rate underflows counts as no traffic.

Every refusal is an :class:`~valueroute.errors.ErlangError` naming the
argument, with the value shown cut short.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from valueroute.errors import ErlangError, InvalidInputError
from valueroute.errors import bounded_repr as _shown

__all__ = [
    "MAX_AGENTS",
    "MAX_STAFFING_TRAFFIC",
    "MIN_ASA_TARGET",
    "ErlangAResult",
    "Forecast",
    "ServiceLevelDefinition",
    "StaffingTable",
    "average_speed_of_answer",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "halfin_whitt_beta",
    "occupancy",
    "read_forecast",
    "required_agents",
    "scheduled_agents",
    "service_level",
    "sqrt_staffing",
    "staff_intervals",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ServiceLevelDefinition = Literal["offered", "answered"]

# Terms of a log-concave sum further than this many standard deviations from
# the largest term are below exp(-72) of it: far under double precision.
_WINDOW_SIGMAS = 12.0
_WINDOW_PAD = 40
# Elements of one block of the vectorised Erlang B sum (memory ~ 8 bytes each).
_BLOCK_ELEMENTS = 1 << 21
# Largest Erlang A queue sum accepted; beyond it patience is so long relative
# to the interarrival time that Erlang C is the model to use.
_MAX_QUEUE_TERMS = 1 << 22
# Largest Erlang B window accepted (about 12√A terms on each side of the mode):
# traffic near 3e10 Erlangs with about as many agents.
_MAX_WINDOW_TERMS = 1 << 22
_LOG_NEGLIGIBLE = -45.0  # a tail below exp(-45) of the sum does not change it
# Below this traffic (n − i + 1)/A can pass the largest float for n ≤ 2**53.
_TINY_TRAFFIC = 1e-280
# Handle times and patience Erlang A takes, in seconds: within them every rate,
# ratio of rates and mean wait it forms stays a normal float.
_SHORTEST, _LONGEST = 1e-100, 1e100

MAX_AGENTS = 2**53
"""Most agents any function takes or returns: every whole number up to it is exact in a float."""

MAX_STAFFING_TRAFFIC = 1e10
"""Most traffic, in Erlangs, that the staffing functions staff for.

The answer is about that many agents, found in O(√A) steps; the evaluation
functions (:func:`erlang_b`, :func:`erlang_c`, ...) take any finite traffic.
"""


# --------------------------------------------------------------------------
# input checks


def _floats(value: ArrayLike, name: str, *, allow_zero: bool) -> FloatArray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except OverflowError as exc:
        raise ErlangError(
            f"{name} must be finite (a number a float holds); got {_shown(value)}"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ErlangError(
            f"{name} must be a number or an array of numbers; got {_shown(value)}"
        ) from exc
    bad = ~np.isfinite(array) | ((array < 0.0) if allow_zero else (array <= 0.0))
    if bad.any():
        expected = "finite and >= 0" if allow_zero else "finite and > 0"
        raise ErlangError(f"{name} must be {expected}; got {float(array[bad].flat[0])!r}")
    return array


def _agent_counts(value: ArrayLike, name: str = "agents") -> IntArray:
    array = _floats(value, name, allow_zero=True)
    bad = (array != np.floor(array)) | (array > MAX_AGENTS)
    if bad.any():
        first = float(array[bad].flat[0])
        if first > MAX_AGENTS:
            raise ErlangError(f"{name} must be at most 2**53 = {MAX_AGENTS} agents; got {first:g}")
        raise ErlangError(f"{name} must be a whole number of agents; got {first!r}")
    return array.astype(np.int64)


def _scalar(value: object, name: str) -> float:
    """A real number handed in as one value (not an array, not a bool, not text)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ErlangError(f"{name} must be a real number; got {_shown(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ErlangError(
            f"{name} must be finite (a number a float holds); got {_shown(value)}"
        ) from None


MIN_ASA_TARGET = 1e-9
"""Smallest average-speed-of-answer target, in seconds, that staffing accepts."""


def _fraction(value: float | None, name: str, *, upper_inclusive: bool) -> float | None:
    if value is None:
        return None
    number = _scalar(value, name)
    within = 0.0 < number <= 1.0 if upper_inclusive else 0.0 < number < 1.0
    if not (math.isfinite(number) and within):
        expected = "in (0, 1]" if upper_inclusive else "strictly between 0 and 1"
        raise ErlangError(f"{name} must be {expected}; got {number!r}")
    return number


def _positive(value: float | None, name: str, *, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    number = _scalar(value, name)
    if not math.isfinite(number) or number < 0.0 or (number == 0.0 and not allow_zero):
        expected = "finite and >= 0" if allow_zero else "finite and > 0"
        raise ErlangError(f"{name} must be {expected}; got {number!r}")
    return number


def _broadcast(names: str, *arrays: NDArray[Any]) -> list[NDArray[Any]]:
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = ", ".join(str(array.shape) for array in arrays)
        raise ErlangError(f"{names} must broadcast together; got shapes {shapes}") from None


def _staffable(loads: FloatArray, name: str) -> None:
    """Refuse traffic beyond what the staffing functions staff for."""
    too_much = ~(loads <= MAX_STAFFING_TRAFFIC)
    if too_much.any():
        raise ErlangError(
            f"{name} must be at most {MAX_STAFFING_TRAFFIC:g} Erlangs to staff for; "
            f"got {float(loads[too_much].flat[0]):g}"
        )


def _out(array: NDArray[Any], scalar: bool) -> Any:
    if scalar:
        return array.item()
    return array


# --------------------------------------------------------------------------
# Erlang B in log space


def _log_inverse_erlang_b(agents: IntArray, traffic: FloatArray) -> FloatArray:
    """log(1/B(n, A)) for flat arrays with A > 0; O(√A) per element."""
    count = agents.shape[0]
    result = np.empty(count)
    if count == 0:
        return result
    # Window bounds are formed in floats and clipped to [0, n] before they become
    # integers: traffic far beyond any agent count (1e308) has no int64 floor.
    counts = agents.astype(np.float64)
    half = np.ceil(_WINDOW_SIGMAS * np.sqrt(traffic) + _WINDOW_PAD)
    mode = np.clip(counts - np.floor(traffic), 0.0, counts)
    low = np.maximum(mode - half, 0.0).astype(np.int64)
    high = np.minimum(mode + half, counts).astype(np.int64)
    width = high - low + 1
    longest = int(np.max(width))
    if longest > _MAX_WINDOW_TERMS:
        widest = int(np.argmax(width))
        raise ErlangError(
            f"agents={int(agents[widest])} with traffic={float(traffic[widest]):g} is beyond "
            f"what Erlang B evaluates (its sum needs {int(width[widest])} terms, at most "
            f"{_MAX_WINDOW_TERMS}): expected traffic below about 3e10 Erlangs when agents "
            "are near the traffic"
        )
    # log u_low = Σ_{l<low} log((n − l)/A); only needed when the window starts late,
    # which happens only for n far above A, where B is below e^-70.
    offset = np.zeros(count)
    for index in np.flatnonzero(low):
        n, lo, a = int(agents[index]), int(low[index]), float(traffic[index])
        offset[index] = math.lgamma(n + 1) - math.lgamma(n - lo + 1) - lo * math.log(a)
    tiny = float(np.min(traffic)) <= _TINY_TRAFFIC
    rows = max(1, _BLOCK_ELEMENTS // longest)
    steps = np.arange(1, longest, dtype=np.int64)
    for start in range(0, count, rows):
        block = slice(start, start + rows)
        block_agents = agents[block, None]
        block_low = low[block, None]
        block_traffic = traffic[block, None]
        inside = steps[None, :] < width[block, None]
        if not tiny:
            ratio = np.where(
                inside, (block_agents - block_low - steps[None, :] + 1) / block_traffic, 1.0
            )
            log_ratio = np.log(ratio)
        else:
            # (n − i + 1)/A would pass the largest float: take the difference of logs.
            count = np.where(inside, block_agents - block_low - steps[None, :] + 1, 1)
            log_ratio = np.where(inside, np.log(count) - np.log(block_traffic), 0.0)
        log_terms = np.concatenate(
            [np.zeros((log_ratio.shape[0], 1)), np.cumsum(log_ratio, axis=1)], axis=1
        )
        log_terms[:, 1:][~inside] = -np.inf
        peak = log_terms.max(axis=1)
        total = np.exp(log_terms - peak[:, None]).sum(axis=1)
        result[block] = offset[block] + peak + np.log(total)
    return result


def _erlang_b_flat(agents: IntArray, traffic: FloatArray) -> FloatArray:
    blocking = np.where(agents == 0, 1.0, 0.0)
    busy = traffic > 0.0
    if busy.any():
        blocking[busy] = np.exp(-_log_inverse_erlang_b(agents[busy], traffic[busy]))
    return blocking


def erlang_b(agents: ArrayLike, traffic: ArrayLike) -> Any:
    """Blocking probability of M/M/n/n (Erlang's loss formula).

    ``B(n, A) = (Aⁿ/n!) / Σₖ₌₀ⁿ Aᵏ/k!``; B(0, A) = 1 and B(n, 0) = 0 for n ≥ 1.

    Runtime complexity: O(√A) per element (a log-space window sum).

    >>> round(erlang_b(10, 5.0), 6)
    0.018385
    """
    n = _agent_counts(agents)
    a = _floats(traffic, "traffic", allow_zero=True)
    n, a = _broadcast("agents, traffic", n, a)
    blocking = _erlang_b_flat(n.ravel(), a.ravel()).reshape(n.shape)
    return _out(blocking, n.ndim == 0)


# --------------------------------------------------------------------------
# Erlang C


def _erlang_c_flat(agents: IntArray, traffic: FloatArray) -> FloatArray:
    stable = agents > traffic
    waiting = np.ones(agents.shape)
    if stable.any():
        n = agents[stable].astype(np.float64)
        a = traffic[stable]
        blocking = _erlang_b_flat(agents[stable], a)
        waiting[stable] = n * blocking / ((n - a) + a * blocking)
    return waiting


def _erlang_c_inputs(agents: ArrayLike, traffic: ArrayLike, *others: FloatArray) -> list[Any]:
    n = _agent_counts(agents)
    a = _floats(traffic, "traffic", allow_zero=True)
    names = ", ".join(("agents", "traffic", "aht", "awt")[: 2 + len(others)])
    return _broadcast(names, n, a, *others)


def erlang_c(agents: ArrayLike, traffic: ArrayLike) -> Any:
    """Probability that a call waits in M/M/n (Erlang's delay formula).

    ``C(n, A) = n·B / (n − A(1 − B))`` for n > A, where B = B(n, A); for
    n ≤ A the queue is unstable and every call waits: C = 1.

    Runtime complexity: O(√A) per element.

    >>> round(erlang_c(12, 10.0), 6)
    0.449388
    """
    n, a = _erlang_c_inputs(agents, traffic)
    waiting = _erlang_c_flat(n.ravel(), a.ravel()).reshape(n.shape)
    return _out(waiting, n.ndim == 0)


def service_level(agents: ArrayLike, traffic: ArrayLike, *, aht: ArrayLike, awt: ArrayLike) -> Any:
    """Share of calls answered within ``awt`` seconds in M/M/n (Erlang C).

    ``SL = 1 − C·exp(−(n − A)·awt/aht)``; 0 when n ≤ A.

    Runtime complexity: O(√A) per element.
    """
    handle = _floats(aht, "aht", allow_zero=False)
    wait = _floats(awt, "awt", allow_zero=True)
    n, a, handle, wait = _erlang_c_inputs(agents, traffic, handle, wait)
    shape = n.shape
    n, a, handle, wait = n.ravel(), a.ravel(), handle.ravel(), wait.ravel()
    waiting = _erlang_c_flat(n, a)
    margin = np.maximum(n - a, 0.0)
    # margin ≤ 2**53, so only awt/aht beyond 1e290 can overflow the exponent (a
    # wait of 1e308 s: e^-∞ = 0, the right limit); np.errstate costs microseconds.
    huge = wait.size > 0 and float(wait.max()) / float(handle.min()) > 1e290
    with np.errstate(over="ignore") if huge else contextlib.nullcontext():
        level = np.where(n > a, 1.0 - waiting * np.exp(-margin * wait / handle), 0.0)
    return _out(level.reshape(shape), len(shape) == 0)


# staff_intervals takes a ``service_level`` target, which hides this function there.
_service_level_c = service_level


def average_speed_of_answer(agents: ArrayLike, traffic: ArrayLike, *, aht: ArrayLike) -> Any:
    """Mean wait in seconds over all calls in M/M/n: ``C·aht/(n − A)``; ∞ when n ≤ A.

    Runtime complexity: O(√A) per element.
    """
    handle = _floats(aht, "aht", allow_zero=False)
    n, a, handle = _erlang_c_inputs(agents, traffic, handle)
    shape = n.shape
    n, a, handle = n.ravel(), a.ravel(), handle.ravel()
    waiting = _erlang_c_flat(n, a)
    stable = n > a
    speed = np.full(n.shape, math.inf)
    # n − A ≥ 2**-52 when n > A ≥ 0, so only an aht beyond 1e290 can pass the
    # largest float (the mean wait is then ∞).
    huge = handle.size > 0 and float(handle.max()) > 1e290
    with np.errstate(over="ignore") if huge else contextlib.nullcontext():
        speed[stable] = waiting[stable] * handle[stable] / (n[stable] - a[stable])
    return _out(speed.reshape(shape), len(shape) == 0)


def occupancy(agents: ArrayLike, traffic: ArrayLike) -> Any:
    """Share of agent time spent handling calls in M/M/n: ``A/n``, capped at 1.

    With no agents and no traffic the occupancy is 0. Runtime complexity: O(1)
    per element.
    """
    n, a = _erlang_c_inputs(agents, traffic)
    busy = np.where(n > 0, np.minimum(a / np.maximum(n, 1), 1.0), np.where(a > 0, 1.0, 0.0))
    return _out(np.asarray(busy, dtype=np.float64), n.ndim == 0)


# --------------------------------------------------------------------------
# Erlang A


@dataclass(frozen=True)
class ErlangAResult:
    """Steady-state measures of M/M/n+M (Erlang A); floats or arrays.

    ``mean_wait`` is over all calls (abandoned ones count their time in queue);
    ``asa`` is the mean wait of answered calls. ``service_level_offered`` is
    P(answered within awt) over all calls; ``service_level_answered`` is the
    same share among answered calls. With no agents nothing is answered: asa
    is ∞ and both service levels are 0.
    """

    p_wait: Any
    p_abandon: Any
    mean_wait: Any
    mean_queue: Any
    asa: Any
    service_level_offered: Any
    service_level_answered: Any
    occupancy: Any

    def service_level(self, definition: ServiceLevelDefinition = "offered") -> Any:
        """The service level under the given definition ("offered" or "answered")."""
        if definition == "offered":
            return self.service_level_offered
        if definition == "answered":
            return self.service_level_answered
        raise ErlangError(
            f"service-level definition must be 'offered' or 'answered'; got {_shown(definition)}"
        )


_A_FIELDS = (
    "p_wait",
    "p_abandon",
    "mean_wait",
    "mean_queue",
    "asa",
    "service_level_offered",
    "service_level_answered",
    "occupancy",
)


def _log_expm1(x: float) -> float:
    """log(eˣ − 1) for x > 0 without overflow."""
    if x < 1.0:
        return math.log(math.expm1(x))
    return x + math.log1p(-math.exp(-x))


def _queue_terms(
    arrival: float, serve: float, theta: float
) -> tuple[FloatArray, FloatArray, float]:
    """log tⱼ for j = 0..J and the rates nμ + iθ for i = 1..J+1; plus the peak log."""
    # Python floats: a patience of 1e300 s makes these infinite, which the length
    # check refuses, rather than an OverflowError from floor() or int().
    excess = (arrival - serve) / theta
    mode = math.floor(excess) if 0.0 < excess < math.inf else (math.inf if excess > 0 else 0.0)
    first_ratio = arrival / (serve + (mode + 1.0) * theta)
    spread = _WINDOW_SIGMAS * math.sqrt(arrival / theta + 1.0)
    if 0.0 < first_ratio < 1.0:
        spread = min(spread, -_LOG_NEGLIGIBLE / -math.log(first_ratio))
    estimate = mode + spread + 2 * _WINDOW_PAD
    length = int(estimate) if estimate <= _MAX_QUEUE_TERMS else _MAX_QUEUE_TERMS + 1
    while True:
        if length > _MAX_QUEUE_TERMS:
            raise ErlangError(
                f"patience {1.0 / theta:g} s is too long for Erlang A at an arrival rate of "
                f"{arrival:g}/s (more than {_MAX_QUEUE_TERMS} queue states matter); "
                "use Erlang C, its limit for infinite patience"
            )
        if not math.isfinite(serve + theta * (length + 1)):  # checked before numpy forms it
            raise ErlangError(
                f"patience {1.0 / theta:g} s is too short for Erlang A: the abandonment "
                "rates of the queue states (queue length / patience) pass the largest float"
            )
        rates = serve + theta * np.arange(1, length + 2, dtype=np.float64)
        log_terms = np.empty(length + 1)
        log_terms[0] = 0.0
        np.cumsum(math.log(arrival) - np.log(rates[:-1]), out=log_terms[1:])
        peak = float(np.max(log_terms))
        last_ratio = arrival / float(rates[-1])
        if last_ratio == 0.0:  # the next term underflows: nothing is left out
            return log_terms, rates, peak
        if last_ratio < 1.0:
            tail = float(log_terms[-1]) + math.log(last_ratio / (1.0 - last_ratio))
            if tail - peak < _LOG_NEGLIGIBLE - math.log(length + 1.0):
                return log_terms, rates, peak
        length *= 2


def _erlang_a_one(n: int, a: float, aht: float, patience: float, awt: float) -> tuple[float, ...]:
    if not (_SHORTEST <= aht <= _LONGEST and _SHORTEST <= patience <= _LONGEST):
        name, seconds = ("aht", aht) if not _SHORTEST <= aht <= _LONGEST else ("patience", patience)
        raise ErlangError(
            f"{name} must be between {_SHORTEST:g} and {_LONGEST:g} seconds for Erlang A; "
            f"got {seconds:g} (the rates and waits it makes would pass the range of a float)"
        )
    arrival = a / aht
    if arrival == 0.0:  # no traffic, or so little that its arrival rate underflows
        return (0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0)
    serve = n / aht
    theta = 1.0 / patience
    if not math.isfinite(arrival):
        raise ErlangError(
            f"aht={aht:g} s is too short for traffic={a:g}: the arrival rate traffic/aht "
            "passes the largest float"
        )
    log_terms, rates, peak = _queue_terms(arrival, serve, theta)
    weights = np.exp(log_terms - peak)
    log_inverse_b = 0.0 if n == 0 else float(_log_inverse_erlang_b(np.array([n]), np.array([a]))[0])
    tail_weight = float(weights[1:].sum())
    log_tail = peak + math.log(tail_weight) if tail_weight > 0.0 else -math.inf
    # π_n = 1 / (1/B − 1 + S) with S = Σ tⱼ, formed in log space.
    log_norm = float(np.logaddexp(log_inverse_b, log_tail))
    scale = math.exp(peak - log_norm)  # π_{n+j} = scale · weights[j]
    p_no_wait = 0.0 if log_inverse_b == 0.0 else math.exp(_log_expm1(log_inverse_b) - log_norm)
    p_wait = scale * float(weights.sum())
    indices = np.arange(weights.shape[0], dtype=np.float64)
    mean_queue = scale * float((indices * weights).sum())
    p_abandon = theta * mean_queue / arrival
    mean_wait = mean_queue / arrival
    answer = serve / rates  # P(answered | j ahead) = nμ / (nμ + (j+1)θ)
    answered_weights = weights * answer
    p_answered = p_no_wait + scale * float(answered_weights.sum())
    stage_means = np.cumsum(1.0 / rates)  # E[wait | answered, j ahead]
    if p_answered > 0.0:
        asa = scale * float((answered_weights * stage_means).sum()) / p_answered
    else:
        asa = math.inf
    y = -math.expm1(-theta * awt)
    if y == 0.0:
        # No wait this short (or zero) lets a queued call through: only the unqueued count.
        within = p_no_wait
    else:
        # P(wait ≤ T | answered, j ahead) = 1 − Σₖ₌₀ʲ qₖ, qₖ negative binomial with
        # shape nμ/θ + 1 and y = 1 − e^{−θT} (the wait is −ln(Beta)/θ).
        shape = serve / theta + 1.0
        k = np.arange(1, weights.shape[0], dtype=np.float64)
        log_q = np.empty(weights.shape[0])
        log_q[0] = -(serve + theta) * awt
        np.cumsum(np.log((shape + k - 1.0) * y / k), out=log_q[1:])
        log_q[1:] += log_q[0]
        still_waiting = np.minimum(np.cumsum(np.exp(log_q)), 1.0)
        within = p_no_wait + scale * float((answered_weights * (1.0 - still_waiting)).sum())
    # Sums of positive terms can pass 1 by a rounding unit; probabilities stay in [0, 1].
    p_wait = min(p_wait, 1.0)
    p_answered = min(p_answered, 1.0)
    within = min(within, p_answered)
    answered_share = within / p_answered if p_answered > 0.0 else 0.0
    busy = a * p_answered / n if n > 0 else 0.0
    return (
        p_wait,
        p_abandon,
        mean_wait,
        mean_queue,
        asa,
        within,
        answered_share,
        min(busy, 1.0),
    )


def erlang_a(
    agents: ArrayLike,
    traffic: ArrayLike,
    *,
    aht: ArrayLike,
    patience: ArrayLike,
    awt: ArrayLike = 0.0,
) -> ErlangAResult:
    """Steady state of M/M/n+M (Erlang A): callers abandon after an Exp(1/patience) wait.

    Stable for every number of agents, including n ≤ A. As patience grows the
    measures tend to Erlang C's (for n > A). ``aht`` and ``patience`` are
    between 1e-100 and 1e100 seconds; a patience so long that more than
    4,194,304 queue states matter is refused (Erlang C is its limit).

    Runtime complexity: O(√(λ·patience) + max(0, λ − nμ)·patience) per element,
    elements evaluated one by one.

    >>> result = erlang_a(10, 10.0, aht=180.0, patience=120.0, awt=20.0)
    >>> 0.0 < result.p_abandon < result.p_wait < 1.0
    True
    """
    n = _agent_counts(agents)
    a = _floats(traffic, "traffic", allow_zero=True)
    handle = _floats(aht, "aht", allow_zero=False)
    mean_patience = _floats(patience, "patience", allow_zero=False)
    wait = _floats(awt, "awt", allow_zero=True)
    n, a, handle, mean_patience, wait = _broadcast(
        "agents, traffic, aht, patience, awt", n, a, handle, mean_patience, wait
    )
    shape = n.shape
    columns = np.empty((len(_A_FIELDS), n.size))
    flat = zip(
        n.ravel(), a.ravel(), handle.ravel(), mean_patience.ravel(), wait.ravel(), strict=True
    )
    for index, (count, load, handle_time, mean, threshold) in enumerate(flat):
        columns[:, index] = _erlang_a_one(
            int(count), float(load), float(handle_time), float(mean), float(threshold)
        )
    values = {
        name: _out(columns[row].reshape(shape), len(shape) == 0)
        for row, name in enumerate(_A_FIELDS)
    }
    return ErlangAResult(**values)


# --------------------------------------------------------------------------
# square-root staffing


def _normal_pdf_over_cdf_inverse(beta: float) -> float:
    """β·Φ(β)/φ(β), the Halfin–Whitt term."""
    cdf = 0.5 * (1.0 + math.erf(beta / math.sqrt(2.0)))
    return beta * cdf * math.sqrt(2.0 * math.pi) * math.exp(0.5 * beta * beta)


def _halfin_whitt(beta: float) -> float:
    """Halfin–Whitt limit of P(wait) at n = A + β√A: 1/(1 + βΦ(β)/φ(β))."""
    return 1.0 / (1.0 + _normal_pdf_over_cdf_inverse(beta))


def _solve_decreasing(function: Any, target: float, upper: float = 30.0) -> float:
    """Smallest β in [0, upper] with function(β) ≤ target, by bisection (60 steps)."""
    if function(0.0) <= target:
        return 0.0
    low, high = 0.0, upper
    for _ in range(60):
        middle = 0.5 * (low + high)
        if function(middle) <= target:
            high = middle
        else:
            low = middle
    return high


def halfin_whitt_beta(p_wait: float) -> float:
    """The β with P(wait) ≈ 1/(1 + βΦ(β)/φ(β)) = p_wait (Halfin and Whitt 1981).

    ``p_wait`` is a real number in (0, 1].

    Runtime complexity: O(1) (60 bisection steps).
    """
    if p_wait is None:
        raise ErlangError("p_wait must be a probability in (0, 1]; got None")
    target = _fraction(p_wait, "p_wait", upper_inclusive=True)
    assert target is not None
    return _solve_decreasing(_halfin_whitt, target)


def sqrt_staffing(traffic: ArrayLike, *, beta: ArrayLike) -> Any:
    """Square-root staffing ``ceil(A + β√A)`` (Halfin–Whitt / QED regime).

    ``traffic`` is at most :data:`MAX_STAFFING_TRAFFIC`, ``beta`` finite and
    >= 0, and an answer above :data:`MAX_AGENTS` is refused. Runtime
    complexity: O(1) per element.

    >>> sqrt_staffing(100.0, beta=1.0)
    110
    """
    a = _floats(traffic, "traffic", allow_zero=True)
    _staffable(a, "traffic")
    b = _floats(beta, "beta", allow_zero=True)
    a, b = _broadcast("traffic, beta", a, b)
    with np.errstate(over="ignore"):  # an infinite answer is refused just below
        staff = np.ceil(a + b * np.sqrt(a) - 1e-9)
    _check_agents_out(staff, "agents (traffic + beta·√traffic)")
    return _out(staff.astype(np.int64), a.ndim == 0)


# --------------------------------------------------------------------------
# staffing search


@dataclass(frozen=True)
class _Targets:
    service_level: float | None
    awt: float | None
    asa: float | None
    abandon: float | None
    max_occupancy: float | None
    definition: ServiceLevelDefinition

    @property
    def needs_stability(self) -> bool:
        return self.service_level is not None or self.asa is not None


def _targets(
    *,
    service_level: float | None,
    awt: float | None,
    asa: float | None,
    abandon: float | None,
    max_occupancy: float | None,
    patience: ArrayLike | None,
    definition: str,
) -> _Targets:
    level = _fraction(service_level, "service_level", upper_inclusive=False)
    wait = _positive(awt, "awt", allow_zero=True)
    if level is not None and wait is None:
        raise ErlangError("a service_level target needs awt, the acceptable wait in seconds")
    if wait is not None and level is None:
        raise ErlangError(f"awt={wait!r} was given without a service_level target")
    speed = _positive(asa, "asa")
    if speed is not None and speed < MIN_ASA_TARGET:
        # Below this the waiting time rounds away against any handle time and
        # the search for agents that meet it would not end.
        raise ErlangError(
            f"asa must be at least {MIN_ASA_TARGET:g} s (a nanosecond); got {speed!r}"
        )
    abandon_share = _fraction(abandon, "abandon", upper_inclusive=False)
    if abandon_share is not None and patience is None:
        raise ErlangError("an abandon target needs patience (Erlang A); got patience=None")
    cap = _fraction(max_occupancy, "max_occupancy", upper_inclusive=True)
    if definition not in ("offered", "answered"):
        raise ErlangError(
            f"service-level definition must be 'offered' or 'answered'; got {_shown(definition)}"
        )
    if level is None and speed is None and abandon_share is None and cap is None:
        raise ErlangError(
            "no staffing target: give service_level with awt, asa, abandon or max_occupancy"
        )
    return _Targets(level, wait, speed, abandon_share, cap, definition)  # type: ignore[arg-type]


def _occupancy_floor(a: float, cap: float | None) -> int:
    if cap is None:
        return 0
    if not a / cap <= MAX_AGENTS:
        raise ErlangError(
            f"max_occupancy={cap:g} with traffic={a:g} needs more than 2**53 agents; "
            "expected a cap that traffic / cap agents can meet"
        )
    n = max(1, math.ceil(a / cap))
    while a / n > cap:
        n += 1
    while n > 1 and a / (n - 1) <= cap:
        n -= 1
    return n


def _meets_c(n: int, a: float, blocking: float, aht: float, targets: _Targets) -> bool:
    """Targets checked from a known B(n, A), the inner step of the upward search."""
    if targets.max_occupancy is not None and a / n > targets.max_occupancy:
        return False
    if not targets.needs_stability:
        return True
    if n <= a:
        return False
    waiting = n * blocking / ((n - a) + a * blocking)
    if targets.service_level is not None:
        assert targets.awt is not None
        if 1.0 - waiting * math.exp(-(n - a) * targets.awt / aht) < targets.service_level:
            return False
    return not (targets.asa is not None and waiting * aht / (n - a) > targets.asa)


def _meets_c_public(
    agents: IntArray, loads: FloatArray, handles: FloatArray, targets: _Targets
) -> NDArray[np.bool_]:
    """The targets checked through the public functions, the final word on a boundary."""
    meets = agents > 0
    if targets.max_occupancy is not None:
        meets &= np.asarray(occupancy(agents, loads)) <= targets.max_occupancy
    if targets.service_level is not None:
        assert targets.awt is not None  # _targets pairs them
        level = _service_level_c(agents, loads, aht=handles, awt=targets.awt)
        meets &= np.asarray(level) >= targets.service_level
    if targets.asa is not None:
        speed = average_speed_of_answer(agents, loads, aht=handles)
        meets &= np.asarray(speed) <= targets.asa
    return meets


def _staff_c(loads: FloatArray, handles: FloatArray, targets: _Targets) -> IntArray:
    """Erlang C minimum per element: start at a lower bound, walk up with B's recursion.

    B(n+1) = A·B(n) / (n + 1 + A·B(n)) costs O(1) per step, so an element costs
    O(√A) for its first B plus O(n* − A) steps.
    """
    staff = np.zeros(loads.shape, dtype=np.int64)
    active = np.flatnonzero(loads > 0.0)
    if active.size == 0:
        return staff
    starts = np.array(
        [
            max(
                _occupancy_floor(float(loads[i]), targets.max_occupancy),
                math.floor(loads[i]) + 1 if targets.needs_stability else 1,
            )
            for i in active
        ],
        dtype=np.int64,
    )
    first_blocking = _erlang_b_flat(starts, loads[active])
    for i, n, blocking in zip(active, starts.tolist(), first_blocking.tolist(), strict=True):
        a, aht = float(loads[i]), float(handles[i])
        while not _meets_c(n, a, blocking, aht, targets):
            n += 1
            blocking = a * blocking / (n + a * blocking)
        staff[i] = n
    # The recursion and the window sum may differ in the last bits; settle boundary
    # cases with the public functions so that n meets every target and n − 1 does not.
    loads_on, handles_on = loads[active], handles[active]
    while True:
        short = ~_meets_c_public(staff[active], loads_on, handles_on, targets)
        if not short.any():
            break
        staff[active[short]] += 1
    while True:
        fewer = staff[active] - 1
        spare = (fewer > 0) & _meets_c_public(fewer, loads_on, handles_on, targets)
        if not spare.any():
            return staff
        staff[active[spare]] -= 1


def _meets_a(n: int, a: float, aht: float, patience: float, targets: _Targets) -> bool:
    if n == 0:
        return False
    awt = targets.awt if targets.awt is not None else 0.0
    result = _erlang_a_one(n, a, aht, patience, awt)
    measures = dict(zip(_A_FIELDS, result, strict=True))
    if targets.max_occupancy is not None and measures["occupancy"] > targets.max_occupancy:
        return False
    if targets.service_level is not None:
        key = f"service_level_{targets.definition}"
        if measures[key] < targets.service_level:
            return False
    if targets.asa is not None and measures["asa"] > targets.asa:
        return False
    return not (targets.abandon is not None and measures["p_abandon"] > targets.abandon)


def _staff_a(
    loads: FloatArray, handles: FloatArray, patiences: FloatArray, targets: _Targets
) -> IntArray:
    """Erlang A minimum per element by galloping from the Erlang C answer, then bisection.

    Every measure used is monotone in the number of agents, so the search returns
    the smallest n that meets all targets; it evaluates Erlang A O(log n) times.
    """
    staff = np.zeros(loads.shape, dtype=np.int64)
    c_targets = _Targets(
        targets.service_level, targets.awt, targets.asa, None, targets.max_occupancy, "offered"
    )
    if c_targets.needs_stability or c_targets.max_occupancy is not None:
        guesses = _staff_c(loads, handles, c_targets)
    else:
        guesses = np.ceil(loads).astype(np.int64)
    for i in np.flatnonzero(loads > 0.0):
        a, aht, patience = float(loads[i]), float(handles[i]), float(patiences[i])

        def meets(n: int, a: float = a, aht: float = aht, patience: float = patience) -> bool:
            return _meets_a(n, a, aht, patience, targets)

        guess = max(1, int(guesses[i]))
        step = 1
        if meets(guess):
            high, low = guess, guess - step
            while low > 0 and meets(low):
                high = low
                step *= 2
                low = max(0, high - step)
            low = max(low, 0)
        else:
            low, high = guess, guess + step
            while not meets(high):
                low = high
                step *= 2
                high = low + step
        while high - low > 1:
            middle = (low + high) // 2
            if meets(middle):
                high = middle
            else:
                low = middle
        staff[i] = high
    return staff


def _required_flat(
    loads: FloatArray, handles: FloatArray, patiences: FloatArray | None, targets: _Targets
) -> IntArray:
    if patiences is None:
        return _staff_c(loads, handles, targets)
    return _staff_a(loads, handles, patiences, targets)


def required_agents(
    traffic: ArrayLike,
    *,
    aht: ArrayLike,
    service_level: float | None = None,
    awt: float | None = None,
    asa: float | None = None,
    abandon: float | None = None,
    max_occupancy: float | None = None,
    patience: ArrayLike | None = None,
    definition: ServiceLevelDefinition = "offered",
) -> Any:
    """The smallest number of agents that meets every target given.

    Targets: ``service_level`` of calls answered within ``awt`` seconds, an
    average speed of answer at most ``asa`` seconds, an abandonment share at
    most ``abandon`` (needs ``patience``), an occupancy at most
    ``max_occupancy``. Without ``patience`` the model is Erlang C; with it,
    Erlang A, where ``definition`` picks the service level of offered or of
    answered calls. The answer is the true minimum: n meets every target and
    n − 1 does not. No traffic needs no agents.

    Runtime complexity: Erlang C O(√A + n* − A) per element; Erlang A
    O(log n*) evaluations of :func:`erlang_a` per element.

    ``traffic`` is at most :data:`MAX_STAFFING_TRAFFIC` (1e10 Erlangs); the
    targets are real numbers (not text or bools), ``definition`` one of
    ``"offered"`` and ``"answered"``.

    >>> required_agents(10.0, aht=180.0, service_level=0.8, awt=20.0)
    14
    """
    checked = _targets(
        service_level=service_level,
        awt=awt,
        asa=asa,
        abandon=abandon,
        max_occupancy=max_occupancy,
        patience=patience,
        definition=definition,
    )
    loads = _floats(traffic, "traffic", allow_zero=True)
    _staffable(loads, "traffic")
    handles = _floats(aht, "aht", allow_zero=False)
    if patience is None:
        loads, handles = _broadcast("traffic, aht", loads, handles)
        staff = _required_flat(loads.ravel(), handles.ravel(), None, checked)
    else:
        means = _floats(patience, "patience", allow_zero=False)
        loads, handles, means = _broadcast("traffic, aht, patience", loads, handles, means)
        staff = _required_flat(loads.ravel(), handles.ravel(), means.ravel(), checked)
    return _out(staff.reshape(loads.shape), loads.ndim == 0)


def scheduled_agents(agents: ArrayLike, *, shrinkage: float) -> Any:
    """Agents to schedule so that ``agents`` are available after shrinkage.

    ``ceil(agents / (1 − shrinkage))``, shrinkage a real number in [0, 1): the
    share of paid time lost to breaks, training, absence. An answer above
    :data:`MAX_AGENTS` is refused. Runtime complexity: O(1) per element.

    >>> scheduled_agents(14, shrinkage=0.3)
    20
    """
    lost = _shrinkage(shrinkage)
    n = _agent_counts(agents)
    # The small allowance keeps 14 / 0.7 = 20.000000000000004 at 20.
    scheduled = np.ceil(n / (1.0 - lost) - 1e-9)
    _check_agents_out(scheduled, "scheduled agents (agents / (1 - shrinkage))")
    return _out(scheduled.astype(np.int64), n.ndim == 0)


def _shrinkage(shrinkage: float) -> float:
    lost = _scalar(shrinkage, "shrinkage")
    if not (math.isfinite(lost) and 0.0 <= lost < 1.0):
        raise ErlangError(f"shrinkage must be in [0, 1); got {lost!r}")
    return lost


def _check_agents_out(staff: FloatArray, what: str) -> None:
    """Refuse an answer of more agents than :data:`MAX_AGENTS` before it becomes an integer."""
    too_many = ~(staff <= MAX_AGENTS)
    if too_many.any():
        raise ErlangError(
            f"{what} must be at most 2**53 = {MAX_AGENTS}; got {float(staff[too_many].flat[0]):g}"
        )


def _sqrt_beta(a: float, aht: float, targets: _Targets) -> float:
    """β of the square-root rule for the Erlang C service-level and ASA targets."""
    beta = 0.0
    if a <= 0.0:
        return beta
    root = math.sqrt(a)
    if targets.service_level is not None and targets.awt is not None:
        scale = root * targets.awt / aht
        miss = 1.0 - targets.service_level
        beta = max(beta, _solve_decreasing(lambda b: _halfin_whitt(b) * math.exp(-b * scale), miss))
    if targets.asa is not None:
        limit = targets.asa

        def speed(b: float) -> float:
            return math.inf if b == 0.0 else _halfin_whitt(b) * aht / (b * root)

        beta = max(beta, _solve_decreasing(speed, limit))
    return beta


# --------------------------------------------------------------------------
# forecasts and staffing tables


@dataclass(frozen=True)
class Forecast:
    """Call volumes per interval, with an optional handle time per interval."""

    labels: tuple[str, ...]
    calls: FloatArray
    aht: FloatArray | None


def read_forecast(source: str | Path | Iterable[str]) -> Forecast:
    """Read a forecast CSV with the columns ``interval,calls`` and optionally ``aht``.

    ``interval`` labels the row (a start time, for instance), ``calls`` is the
    volume offered in the interval and ``aht`` its mean handle time in seconds;
    an empty ``aht`` cell means "use the default handle time". Runtime
    complexity: O(rows).

    ``source`` is a path (``str`` or :class:`~pathlib.Path`) to a UTF-8 file,
    or an iterable of CSV lines as ``str``. Anything else, a file that is not
    UTF-8, lines that are not text and cells beyond the csv module's field
    limit (131,072 characters) are refused with :class:`ErlangError`.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ErlangError(f"cannot read forecast {_shown(str(path))}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ErlangError(
                f"forecast {_shown(str(path))} is not UTF-8 text (byte {exc.start}); "
                "expected a CSV file in UTF-8"
            ) from None
        except ValueError as exc:  # a NUL character in the path
            raise ErlangError(f"cannot read forecast {_shown(str(path))}: {exc}") from None
        lines: Iterable[str] = io.StringIO(text)
    elif isinstance(source, bytes) or not isinstance(source, Iterable):
        raise ErlangError(
            f"source must be a path or an iterable of CSV lines (str); got {_shown(source)}"
        )
    else:
        lines = source
    labels: list[str] = []
    calls: list[float] = []
    handles: list[float] = []
    try:
        reader = csv.DictReader(lines)
        fields = [name.strip() for name in (reader.fieldnames or [])]
        missing = [name for name in ("interval", "calls") if name not in fields]
        if missing:
            raise ErlangError(
                f"forecast columns must include 'interval' and 'calls'; got {_shown(fields)} "
                f"(missing {missing!r})"
            )
        has_aht = "aht" in fields
        for line, row in enumerate(reader, start=2):
            clean = {key.strip(): (value or "").strip() for key, value in row.items() if key}
            labels.append(clean["interval"])
            calls.append(_cell(clean["calls"], "calls", line, allow_zero=True))
            if has_aht:
                cell = clean.get("aht", "")
                handles.append(
                    math.nan if cell == "" else _cell(cell, "aht", line, allow_zero=False)
                )
    except csv.Error as exc:
        # Lines that are not text, or a field beyond the csv module's size limit.
        raise ErlangError(f"forecast is not a readable CSV: {str(exc)[:200]}") from None
    if not labels:
        raise ErlangError("forecast has no rows; expected one row per interval")
    return Forecast(
        labels=tuple(labels),
        calls=np.array(calls, dtype=np.float64),
        aht=np.array(handles, dtype=np.float64) if has_aht else None,
    )


def _cell(text: str, name: str, line: int, *, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise ErlangError(
            f"forecast line {line}: {name} must be a number; got {_shown(text)}"
        ) from exc
    if not math.isfinite(value) or value < 0.0 or (value == 0.0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ErlangError(
            f"forecast line {line}: {name} must be finite and {expected}; got {_shown(text)}"
        )
    return value


@dataclass(frozen=True)
class StaffingTable:
    """Required agents per interval, with the measures they achieve.

    ``agents`` is the exact minimum, ``sqrt_agents`` the square-root staffing
    approximation for comparison, ``scheduled`` the agents to schedule after
    shrinkage. ``p_abandon`` is ``None`` under Erlang C.
    """

    labels: tuple[str, ...]
    calls: FloatArray
    aht: FloatArray
    traffic: FloatArray
    agents: IntArray
    sqrt_agents: IntArray
    scheduled: IntArray
    p_wait: FloatArray
    service_level: FloatArray
    asa: FloatArray
    occupancy: FloatArray
    p_abandon: FloatArray | None

    def rows(self) -> list[dict[str, Any]]:
        """One dict per interval, JSON-ready (∞ becomes None)."""
        table: list[dict[str, Any]] = []
        for index, label in enumerate(self.labels):
            row: dict[str, Any] = {
                "interval": label,
                "calls": float(self.calls[index]),
                "aht": float(self.aht[index]),
                "traffic": float(self.traffic[index]),
                "agents": int(self.agents[index]),
                "sqrt_agents": int(self.sqrt_agents[index]),
                "scheduled": int(self.scheduled[index]),
                "p_wait": float(self.p_wait[index]),
                "service_level": float(self.service_level[index]),
                "asa": _finite_or_none(float(self.asa[index])),
                "occupancy": float(self.occupancy[index]),
            }
            if self.p_abandon is not None:
                row["p_abandon"] = float(self.p_abandon[index])
            table.append(row)
        return table

    def totals(self) -> dict[str, Any]:
        """Agent-intervals summed over the table (staffed and scheduled)."""
        return {
            "intervals": len(self.labels),
            "calls": float(self.calls.sum()),
            "agent_intervals": int(self.agents.sum()),
            "scheduled_intervals": int(self.scheduled.sum()),
            "peak_agents": int(np.max(self.agents)),
        }

    def to_json(self) -> str:
        """The rows and totals as one JSON object."""
        return json.dumps({"rows": self.rows(), "totals": self.totals()}, indent=2)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame, one row per interval; needs pandas (the pandas extra).

        Indexed by ``interval`` (the labels), columns as in :meth:`rows`
        (``p_abandon`` only under Erlang A); unlike :meth:`rows`, an infinite
        ASA stays ``inf``.
        """
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "to_pandas: pandas is not installed (expected `pip install valueroute[pandas]`)"
            ) from None
        columns: dict[str, Any] = {
            "calls": self.calls,
            "aht": self.aht,
            "traffic": self.traffic,
            "agents": self.agents,
            "sqrt_agents": self.sqrt_agents,
            "scheduled": self.scheduled,
            "p_wait": self.p_wait,
            "service_level": self.service_level,
            "asa": self.asa,
            "occupancy": self.occupancy,
        }
        if self.p_abandon is not None:
            columns["p_abandon"] = self.p_abandon
        return pd.DataFrame(columns, index=pd.Index(list(self.labels), name="interval"))

    def to_csv(self) -> str:
        """The rows as CSV text with a header line."""
        rows = self.rows()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
        return buffer.getvalue()


def _labels(labels: Sequence[str] | None, count: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(i) for i in range(count))
    if isinstance(labels, str | bytes) or not isinstance(labels, Iterable):
        raise ErlangError(f"labels must be a sequence of strings; got {_shown(labels)}")
    names = tuple(labels)
    for name in names:
        if not isinstance(name, str):
            raise ErlangError(f"labels must be strings; got {_shown(name)}")
    if len(names) != count:
        raise ErlangError(f"labels must name each of the {count} intervals; got {len(names)}")
    return names


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def staff_intervals(
    calls: ArrayLike,
    *,
    interval: float,
    aht: ArrayLike,
    labels: Sequence[str] | None = None,
    service_level: float | None = None,
    awt: float | None = None,
    asa: float | None = None,
    abandon: float | None = None,
    max_occupancy: float | None = None,
    patience: float | None = None,
    shrinkage: float = 0.0,
    definition: ServiceLevelDefinition = "offered",
) -> StaffingTable:
    """Required agents for each interval of a forecast.

    ``calls`` are volumes per interval of ``interval`` seconds; ``aht`` is one
    handle time or one per interval. Targets as in :func:`required_agents`.
    Runtime complexity: that of :func:`required_agents` per interval.

    ``interval`` is a real number > 0; ``labels``, if given, one string per
    interval; each interval's load ``calls × aht / interval`` at most
    :data:`MAX_STAFFING_TRAFFIC` Erlangs. Anything else raises
    :class:`ErlangError` naming the argument.
    """
    if interval is None:
        raise ErlangError("interval must be the length of an interval in seconds (> 0); got None")
    length = _positive(interval, "interval")
    assert length is not None
    volumes = np.atleast_1d(_floats(calls, "calls", allow_zero=True)).astype(np.float64)
    if volumes.ndim != 1:
        raise ErlangError(f"calls must be one volume per interval; got shape {volumes.shape}")
    handle_times = _floats(aht, "aht", allow_zero=False)
    try:
        handles = np.broadcast_to(handle_times, volumes.shape).copy()
    except ValueError:
        raise ErlangError(
            f"aht must be one handle time or one per interval ({volumes.size}); "
            f"got shape {handle_times.shape}"
        ) from None
    names = _labels(labels, volumes.size)
    _shrinkage(shrinkage)
    checked = _targets(
        service_level=service_level,
        awt=awt,
        asa=asa,
        abandon=abandon,
        max_occupancy=max_occupancy,
        patience=patience,
        definition=definition,
    )
    if patience is not None:
        _positive(patience, "patience")
    with np.errstate(over="ignore"):  # an infinite load is refused just below
        loads = volumes * handles / length
    _staffable(loads, "calls × aht / interval")
    patiences = None if patience is None else np.full(volumes.shape, float(patience))
    staff = _required_flat(loads, handles, patiences, checked)
    scheduled = scheduled_agents(staff, shrinkage=shrinkage)
    betas = np.array(
        [_sqrt_beta(float(a), float(h), checked) for a, h in zip(loads, handles, strict=True)]
    )
    root = np.maximum(
        np.ceil(loads + betas * np.sqrt(loads) - 1e-9).astype(np.int64),
        np.array([_occupancy_floor(float(a), checked.max_occupancy) for a in loads]),
    )
    awt_value = checked.awt if checked.awt is not None else 0.0
    if patience is None:
        p_wait = _erlang_c_flat(staff, loads)
        level = np.asarray(
            _service_level_c(staff, loads, aht=handles, awt=awt_value), dtype=np.float64
        )
        speed = np.asarray(average_speed_of_answer(staff, loads, aht=handles), dtype=np.float64)
        busy = np.asarray(occupancy(staff, loads), dtype=np.float64)
        abandon_share = None
    else:
        result = erlang_a(staff, loads, aht=handles, patience=patience, awt=awt_value)
        p_wait = np.asarray(result.p_wait, dtype=np.float64)
        level = np.asarray(result.service_level(checked.definition), dtype=np.float64)
        speed = np.asarray(result.asa, dtype=np.float64)
        busy = np.asarray(result.occupancy, dtype=np.float64)
        abandon_share = np.asarray(result.p_abandon, dtype=np.float64)
    # Intervals without traffic need nobody; their measures are perfect, not undefined.
    idle = loads == 0.0
    p_wait = np.where(idle, 0.0, p_wait)
    level = np.where(idle, 1.0, level)
    speed = np.where(idle, 0.0, speed)
    busy = np.where(idle, 0.0, busy)
    return StaffingTable(
        labels=names,
        calls=volumes,
        aht=handles,
        traffic=loads,
        agents=staff,
        sqrt_agents=root,
        scheduled=np.asarray(scheduled, dtype=np.int64),
        p_wait=p_wait,
        service_level=level,
        asa=speed,
        occupancy=busy,
        p_abandon=abandon_share,
    )
