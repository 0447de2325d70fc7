"""Duration distributions for handle times and patience, in seconds.

Each distribution is a frozen pydantic model with a ``kind`` tag, so a
scenario file names one as, for example::

    {"kind": "lognormal", "mean_seconds": 180, "cv": 1.2}

:data:`Distribution` is the discriminated union of all kinds; use
:func:`distribution_from` to validate a plain mapping or JSON text into one.
Every parameter is in seconds (fields say so: ``mean_seconds``,
``low_seconds``...), except the dimensionless ``cv`` (coefficient of
variation, standard deviation / mean) and gamma ``shape``.

=================  ===============================================  =======================
kind               parameters                                       mean
=================  ===============================================  =======================
``exponential``    ``mean_seconds`` > 0                              ``mean_seconds``
``deterministic``  ``value_seconds`` >= 0                            ``value_seconds``
``uniform``        ``low_seconds`` >= 0, ``high_seconds`` >= low     (low + high) / 2
``lognormal``      ``mean_seconds`` > 0, ``cv`` > 0                  ``mean_seconds``
``gamma``          ``mean_seconds`` and ``cv`` > 0, or               mean, or shape × scale
                   ``shape`` and ``scale_seconds`` > 0
``empirical``      ``samples_seconds`` (1 to 10⁷ values >= 0),       sample mean, or mean of
                   ``interpolate``                                   the interpolated ECDF
=================  ===============================================  =======================

Every method that draws takes an explicit :class:`numpy.random.Generator`
(``rng``); nothing here touches a global random state. ``sample(rng)``
returns one float, ``sample(rng, size=n)`` an array of ``n`` floats; both
cost O(1) per value (empirical with interpolation: O(1) too, the sorted
samples are kept). A :class:`Sampler` pre-draws values in blocks so that a
simulator drawing one value at a time pays numpy's call overhead once per
block instead of once per value.
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ValidationInfo

from valueroute.errors import InvalidInputError, bounded_repr
from valueroute.models import BoundaryModel, model_by_kind

__all__ = [
    "MAX_DURATION_SECONDS",
    "MAX_EMPIRICAL_SAMPLES",
    "MAX_SAMPLE_SIZE",
    "MAX_SHAPE",
    "MIN_SHAPE",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Sampler",
    "Uniform",
    "distribution_from",
]

MAX_EMPIRICAL_SAMPLES = 10_000_000

MAX_SAMPLE_SIZE = 100_000_000
"""Most values one ``sample(rng, size=...)`` or ``Sampler.take`` call draws (800 MB of floats)."""

FloatArray = npt.NDArray[np.float64]

MAX_DURATION_SECONDS = 1e12
"""Longest duration a distribution may be given in any parameter (about 31,700 years):
far beyond any service or patience, and small enough that means, shapes and draws
stay finite."""
MIN_SHAPE, MAX_SHAPE = 1e-6, 1e6
"""Range of a coefficient of variation or a gamma shape: beyond it ``1 / cv²`` or
``shape × scale`` leave what a float carries."""

_Seconds = Annotated[float, Field(ge=0.0, le=MAX_DURATION_SECONDS, allow_inf_nan=False)]
_PositiveSeconds = Annotated[float, Field(gt=0.0, le=MAX_DURATION_SECONDS, allow_inf_nan=False)]
_PositiveNumber = Annotated[float, Field(ge=MIN_SHAPE, le=MAX_SHAPE, allow_inf_nan=False)]


class _Base(BoundaryModel):
    """What every distribution offers: an analytic mean and sampling."""

    kind: str

    @property
    def mean(self) -> float:
        """The distribution's mean in seconds (analytic, not estimated)."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """One draw (``size=None``) as float, or ``size`` draws as a float64 array.

        ``size`` is ``None`` or an integer from 0 to :data:`MAX_SAMPLE_SIZE`
        (``int`` or a numpy integer, not a bool); ``rng`` a
        :class:`numpy.random.Generator`. Anything else raises
        :class:`~valueroute.errors.InvalidInputError` naming it.
        """
        _check_size(size)
        if not isinstance(rng, np.random.Generator):
            raise InvalidInputError(
                f"rng: got {type(rng).__name__} (expected a numpy.random.Generator)",
                [("rng", rng, "a numpy.random.Generator")],
            )
        values = self._draw(rng, 1 if size is None else size)
        return float(values[0]) if size is None else values

    def sampler(self, rng: np.random.Generator, *, block: int = 4096) -> Sampler:
        """A :class:`Sampler` drawing from this distribution with ``rng`` in blocks."""
        return Sampler(self, rng, block=block)

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        raise NotImplementedError


def _check_size(size: int | None, *, field: str = "size") -> None:
    if size is None and field == "size":
        return
    if (
        isinstance(size, bool)
        or not isinstance(size, int | np.integer)
        or not 0 <= size <= MAX_SAMPLE_SIZE
    ):
        expected = f"an integer from 0 to {MAX_SAMPLE_SIZE:,}"
        if field == "size":
            expected = "None or " + expected
        raise InvalidInputError(
            f"{field}: got {bounded_repr(size)} (expected {expected})", [(field, size, expected)]
        )


class Exponential(_Base):
    """Exponential durations with the given mean (rate = 1 / mean).

    >>> Exponential(mean_seconds=120).mean
    120.0
    """

    kind: Literal["exponential"] = "exponential"
    mean_seconds: _PositiveSeconds

    @property
    def mean(self) -> float:
        """``mean_seconds``. O(1)."""
        return self.mean_seconds

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_seconds, size)


class Deterministic(_Base):
    """Always the same duration; draws consume no randomness.

    >>> import numpy as np
    >>> Deterministic(value_seconds=30).sample(np.random.default_rng(0))
    30.0
    """

    kind: Literal["deterministic"] = "deterministic"
    value_seconds: _Seconds

    @property
    def mean(self) -> float:
        """``value_seconds``, which every draw is. O(1)."""
        return self.value_seconds

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, self.value_seconds)


class Uniform(_Base):
    """Uniform durations on ``[low_seconds, high_seconds)``.

    >>> Uniform(low_seconds=10, high_seconds=50).mean
    30.0
    """

    kind: Literal["uniform"] = "uniform"
    low_seconds: _Seconds
    high_seconds: _Seconds

    @field_validator("high_seconds")
    @classmethod
    def _ordered(cls, high: float, info: ValidationInfo) -> float:
        low = info.data.get("low_seconds")
        if low is not None and high < low:
            raise PydanticCustomError(
                "order",
                "expected a value >= low_seconds ({low})",
                {"low": low},
            )
        return high

    @property
    def mean(self) -> float:
        """``(low_seconds + high_seconds) / 2``, in seconds. O(1)."""
        return (self.low_seconds + self.high_seconds) / 2.0

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.uniform(self.low_seconds, self.high_seconds, size)


class Lognormal(_Base):
    """Lognormal durations given by their mean and coefficient of variation.

    The underlying normal has ``sigma² = ln(1 + cv²)`` and
    ``mu = ln(mean) − sigma² / 2``, so the durations themselves (not their
    logarithms) have the stated mean and cv.

    >>> d = Lognormal(mean_seconds=100, cv=1)
    >>> round(d.sigma ** 2, 6) == round(math.log(2), 6)
    True
    """

    kind: Literal["lognormal"] = "lognormal"
    mean_seconds: _PositiveSeconds
    cv: _PositiveNumber

    @property
    def sigma(self) -> float:
        """Standard deviation of the underlying normal."""
        return math.sqrt(math.log1p(self.cv * self.cv))

    @property
    def mu(self) -> float:
        """Mean of the underlying normal."""
        return math.log(self.mean_seconds) - 0.5 * math.log1p(self.cv * self.cv)

    @property
    def mean(self) -> float:
        """``mean_seconds``: the durations' mean, not that of their logarithm. O(1)."""
        return self.mean_seconds

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.lognormal(self.mu, self.sigma, size)


class Gamma(_Base):
    """Gamma durations, by ``mean_seconds`` and ``cv`` or by ``shape`` and ``scale_seconds``.

    ``shape = 1 / cv²`` and ``scale = mean × cv²``; give exactly one of the
    two pairs.

    >>> Gamma(mean_seconds=200, cv=0.5).shape_parameter
    4.0
    >>> Gamma(shape=2, scale_seconds=30).mean
    60.0
    """

    kind: Literal["gamma"] = "gamma"
    mean_seconds: _PositiveSeconds | None = None
    cv: _PositiveNumber | None = None
    shape: _PositiveNumber | None = None
    scale_seconds: _PositiveSeconds | None = None

    @model_validator(mode="after")
    def _one_parameterisation(self) -> Self:
        by_moments = (self.mean_seconds, self.cv)
        by_shape = (self.shape, self.scale_seconds)
        moments_given = [v is not None for v in by_moments]
        shape_given = [v is not None for v in by_shape]
        if all(moments_given) and not any(shape_given):
            return self
        if all(shape_given) and not any(moments_given):
            return self
        names = ("mean_seconds", "cv", "shape", "scale_seconds")
        given = [n for n, v in zip(names, (*by_moments, *by_shape), strict=True) if v is not None]
        missing = [n for n, v in zip(names, (*by_moments, *by_shape), strict=True) if v is None]
        field = missing[0] if len(given) < 2 else given[-1]
        raise _field_error(
            field,
            getattr(self, field),
            f"exactly one pair: mean_seconds and cv, or shape and scale_seconds "
            f"(given: {', '.join(given) or 'none'})",
        )

    @property
    def shape_parameter(self) -> float:
        """The gamma shape k, whichever pair was given."""
        if self.shape is not None:
            return self.shape
        assert self.cv is not None
        return 1.0 / (self.cv * self.cv)

    @property
    def scale_parameter(self) -> float:
        """The gamma scale θ in seconds, whichever pair was given."""
        if self.scale_seconds is not None:
            return self.scale_seconds
        assert self.mean_seconds is not None
        assert self.cv is not None
        return self.mean_seconds * self.cv * self.cv

    @property
    def mean(self) -> float:
        """``mean_seconds`` when given, else ``shape × scale_seconds``, in seconds. O(1)."""
        if self.mean_seconds is not None:
            return self.mean_seconds
        return self.shape_parameter * self.scale_parameter

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.gamma(self.shape_parameter, self.scale_parameter, size)


class Empirical(_Base):
    """Durations resampled from observed values.

    With ``interpolate=False`` (the default) each draw is one of the samples,
    chosen uniformly (the bootstrap). With ``interpolate=True`` draws come from
    the piecewise-linear interpolation of the empirical CDF through the points
    ``(x₍ᵢ₎, (i−1)/(n−1))`` of the sorted samples: a continuous distribution on
    ``[min, max]`` that puts mass ``1/(n−1)`` uniformly on each gap between
    neighbouring order statistics. Its mean is
    ``(Σx − (x₍₁₎ + x₍ₙ₎)/2) / (n−1)``. Drawing costs O(1) per value; building
    costs O(n log n) (one sort).

    >>> Empirical(samples_seconds=[1, 2, 3, 10]).mean
    4.0
    >>> Empirical(samples_seconds=[0, 10, 20], interpolate=True).mean
    10.0
    """

    kind: Literal["empirical"] = "empirical"
    samples_seconds: Annotated[
        tuple[_Seconds, ...], Field(min_length=1, max_length=MAX_EMPIRICAL_SAMPLES)
    ]
    interpolate: bool = False

    @cached_property
    def _sorted(self) -> FloatArray:
        ordered = np.sort(np.asarray(self.samples_seconds, dtype=np.float64))
        ordered.setflags(write=False)
        return ordered

    @property
    def mean(self) -> float:
        """The mean in seconds of what :meth:`sample` draws. O(n) for n samples.

        Without ``interpolate`` (or with one sample) the sample mean; with it
        the mean of the interpolated empirical CDF (see the class). The
        samples are sorted once, when first needed: O(n log n).
        """
        ordered = self._sorted
        n = ordered.size
        if not self.interpolate or n == 1:
            return float(ordered.mean())
        return float((ordered.sum() - 0.5 * (ordered[0] + ordered[-1])) / (n - 1))

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        ordered = self._sorted
        n = ordered.size
        if not self.interpolate or n == 1:
            if n == 1:
                return np.full(size, ordered[0])
            return ordered[rng.integers(0, n, size)]
        position = rng.random(size) * (n - 1)
        lower = np.minimum(position.astype(np.intp), n - 2)
        fraction = position - lower
        left = ordered[lower]
        values: FloatArray = left + fraction * (ordered[lower + 1] - left)
        return values


Distribution = Annotated[
    Exponential | Deterministic | Uniform | Lognormal | Gamma | Empirical,
    Field(discriminator="kind"),
]
"""Any distribution, told apart by its ``kind`` field (for scenario models)."""

_KINDS: dict[str, type[_Base]] = {
    cls.model_fields["kind"].default: cls
    for cls in (Exponential, Deterministic, Uniform, Lognormal, Gamma, Empirical)
}


def distribution_from(
    data: Any,
) -> Exponential | Deterministic | Uniform | Lognormal | Gamma | Empirical:
    """Validate a mapping (or JSON text) into the distribution its ``kind`` names.

    >>> distribution_from({"kind": "exponential", "mean_seconds": 60}).mean
    60.0

    Raises :class:`~valueroute.errors.InvalidInputError` naming the field.
    """
    if isinstance(data, _Base):
        return data  # type: ignore[return-value]
    if isinstance(data, str | bytes | bytearray):
        try:
            data = json.loads(data)
        except RecursionError:
            raise InvalidInputError(
                "Distribution: got JSON nested deeper than the parser allows "
                "(expected a JSON object)",
                [("(model)", bounded_repr(data), "a JSON object")],
            ) from None
        except ValueError as exc:
            raise InvalidInputError(
                f"Distribution: got text that is not JSON ({exc})",
                [("(model)", data, "a JSON object")],
            ) from None
    distribution: Exponential | Deterministic | Uniform | Lognormal | Gamma | Empirical = (
        model_by_kind("Distribution", data, _KINDS)
    )
    return distribution


def _field_error(field: str, value: Any, expected: str) -> PydanticCustomError:
    # Raised inside a model validator: pydantic would report the model, not
    # the field, so the field name goes into the message itself.
    return PydanticCustomError(
        "parameter",
        "{field}={value}: expected {expected}",
        {"field": field, "value": repr(value), "expected": expected},
    )


class Sampler:
    """Hands out draws one float at a time, pre-drawn in blocks.

    The values are exactly those of successive ``distribution.sample(rng,
    size=block)`` calls, concatenated: a simulator that draws one value per
    event gets the same stream as if it had drawn the blocks itself, at a
    fraction of the per-call cost. Amortised O(1) per :meth:`draw`.

    >>> import numpy as np
    >>> s = Sampler(Deterministic(value_seconds=5), np.random.default_rng(1), block=2)
    >>> [s.draw() for _ in range(3)]
    [5.0, 5.0, 5.0]

    ``distribution`` is one of this module's distributions (build one from a
    mapping with :func:`distribution_from`), ``rng`` a
    :class:`numpy.random.Generator` and ``block`` an integer from 1 to
    :attr:`MAX_BLOCK`; anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming the argument.
    """

    __slots__ = ("_block", "_buffer", "_rng", "distribution")

    MAX_BLOCK: ClassVar[int] = 1 << 20

    def __init__(
        self,
        distribution: _Base,
        rng: np.random.Generator,
        *,
        block: int = 4096,
    ) -> None:
        if not isinstance(distribution, _Base):
            raise InvalidInputError(
                f"distribution: got {bounded_repr(distribution)} of type "
                f"{type(distribution).__name__} (expected a distribution such as "
                "Exponential(mean_seconds=...); distribution_from builds one from a mapping)",
                [("distribution", distribution, "a distribution")],
            )
        if isinstance(block, bool) or not isinstance(block, int) or not 0 < block <= self.MAX_BLOCK:
            raise InvalidInputError(
                f"block: got {bounded_repr(block)} "
                f"(expected an integer from 1 to {self.MAX_BLOCK})",
                [("block", block, f"an integer from 1 to {self.MAX_BLOCK}")],
            )
        if not isinstance(rng, np.random.Generator):
            raise InvalidInputError(
                f"rng: got {type(rng).__name__} (expected a numpy.random.Generator)",
                [("rng", rng, "a numpy.random.Generator")],
            )
        self.distribution = distribution
        self._rng = rng
        self._block = block
        # Values are kept reversed so that list.pop() hands them out in order.
        self._buffer: list[float] = []

    def draw(self) -> float:
        """The next value of the stream."""
        buffer = self._buffer
        if not buffer:
            block = self.distribution.sample(self._rng, self._block).tolist()
            block.reverse()
            buffer.extend(block)
        return buffer.pop()

    __call__ = draw

    def _check(self) -> None:
        """Assert the internal invariants (for tests)."""
        assert len(self._buffer) < self._block, "less than one block is held between draws"
        assert all(isinstance(v, float) for v in self._buffer)

    def take(self, count: int) -> list[float]:
        """The next ``count`` values, as :meth:`draw` would give them. O(count).

        ``count`` is an integer from 0 to :data:`MAX_SAMPLE_SIZE`; anything
        else raises :class:`~valueroute.errors.InvalidInputError` naming it.
        """
        _check_size(count, field="count")
        return [self.draw() for _ in range(count)]
