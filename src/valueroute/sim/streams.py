"""Named random streams for common random numbers.

A simulation draws randomness for many purposes: arrivals of each task type,
handle times, patience, routing tie-breaks. :class:`RandomStreams` gives each
purpose its own :class:`numpy.random.Generator`, derived from one seed and the
purpose's *name*, never from the order in which streams are asked for::

    streams = RandomStreams(seed=42)
    arrivals = streams.generator("arrivals", "claims")
    handle = streams.generator("handle", "claims")

Two runs with the same seed therefore see the same customers (the same
arrival times, handle times and patience), even when one of them, say a
policy with randomised routing, asks for an extra stream: adding a stream
changes no other stream. Comparing policies on the same customers (common
random numbers) removes most of the noise from their difference.

Replication ``r`` gets a whole independent family of streams
(:meth:`RandomStreams.replication`).

How a stream is derived: the name parts are joined with ``/`` and hashed with
BLAKE2b (128 bits, stable across Python versions and machines, unlike
``hash()``); the stream's generator is ``PCG64(SeedSequence(seed,
spawn_key=(replication, digest)))``. SeedSequence mixes the spawn key into the
seed the same way it does for :meth:`~numpy.random.SeedSequence.spawn`, so
streams for different names or replications are statistically independent.
"""

from __future__ import annotations

import hashlib

import numpy as np

from valueroute.errors import InvalidInputError, bounded_repr

__all__ = ["MAX_STREAM_NAME", "RandomStreams", "stream_key"]

MAX_STREAM_NAME = 256


def stream_key(*parts: str) -> int:
    """The 128-bit integer a stream name hashes to (stable across machines).

    >>> stream_key("arrivals", "claims") == stream_key("arrivals/claims")
    True
    """
    name = _join(parts)
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"name: got {bounded_repr(name)} (expected text without lone surrogates)",
            [("name", name, "text without lone surrogates")],
        ) from None
    digest = hashlib.blake2b(encoded, digest_size=16).digest()
    return int.from_bytes(digest, "little")


def _join(parts: tuple[str, ...]) -> str:
    if not parts:
        raise InvalidInputError(
            "name: got no name parts (expected at least one non-empty string)",
            [("name", parts, "at least one non-empty string")],
        )
    for part in parts:
        if not isinstance(part, str) or not part:
            raise InvalidInputError(
                f"name: got part {bounded_repr(part)} (expected non-empty strings)",
                [("name", part, "a non-empty string")],
            )
    name = "/".join(parts)
    if len(name) > MAX_STREAM_NAME:
        raise InvalidInputError(
            f"name: got {len(name)} characters (expected at most {MAX_STREAM_NAME})",
            [("name", name[:MAX_STREAM_NAME], f"at most {MAX_STREAM_NAME} characters")],
        )
    return name


class RandomStreams:
    """One :class:`numpy.random.Generator` per named purpose, all from one seed.

    ``generator(*parts)`` returns the same Generator object for the same name
    each time it is asked (its state advances as it is used); a fresh
    :class:`RandomStreams` with the same seed and replication starts every
    stream over. Asking costs O(len(name)) the first time and a dict look-up
    after.

    >>> a = RandomStreams(seed=7).generator("handle", "claims").random()
    >>> b = RandomStreams(seed=7).generator("handle", "claims").random()
    >>> a == b
    True

    ``seed`` and ``replication`` are integers >= 0 (``int`` or a numpy
    integer, not a bool); anything else raises
    :class:`~valueroute.errors.InvalidInputError` naming it.
    """

    __slots__ = ("_generators", "replication_index", "seed")

    def __init__(self, seed: int, *, replication: int = 0) -> None:
        _check_non_negative_int("seed", seed)
        _check_non_negative_int("replication", replication)
        self.seed = int(seed)
        self.replication_index = int(replication)
        self._generators: dict[str, np.random.Generator] = {}

    def generator(self, *parts: str) -> np.random.Generator:
        """The stream named by ``parts`` (joined with ``/``), created on first use."""
        name = _join(parts)
        found = self._generators.get(name)
        if found is None:
            sequence = np.random.SeedSequence(
                self.seed, spawn_key=(self.replication_index, stream_key(name))
            )
            found = np.random.Generator(np.random.PCG64(sequence))
            self._generators[name] = found
        return found

    def arrivals(self, task_type: str) -> np.random.Generator:
        """The stream for arrivals of ``task_type`` (``arrivals/<task_type>``)."""
        return self.generator("arrivals", task_type)

    def handle(self, task_type: str) -> np.random.Generator:
        """The stream for handle times of ``task_type`` (``handle/<task_type>``)."""
        return self.generator("handle", task_type)

    def patience(self, task_type: str) -> np.random.Generator:
        """The stream for patience of ``task_type`` (``patience/<task_type>``)."""
        return self.generator("patience", task_type)

    def routing(self) -> np.random.Generator:
        """The stream for randomised routing decisions (``routing``)."""
        return self.generator("routing")

    def replication(self, index: int) -> RandomStreams:
        """Fresh streams for replication ``index`` with the same seed."""
        return RandomStreams(self.seed, replication=index)

    def _check(self) -> None:
        """Assert the internal invariants (for tests)."""
        for name, generator in self._generators.items():
            assert name == _join(tuple(name.split("/"))), name
            assert isinstance(generator, np.random.Generator)
        assert len({id(g) for g in self._generators.values()}) == len(self._generators)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the streams asked for so far, in the order first asked."""
        return tuple(self._generators)

    def __repr__(self) -> str:
        return (
            f"RandomStreams(seed={bounded_repr(self.seed)}, "
            f"replication={bounded_repr(self.replication_index)}, "
            f"streams={len(self._generators)})"
        )


def _check_non_negative_int(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise InvalidInputError(
            f"{field}: got {bounded_repr(value)} (expected an integer >= 0)",
            [(field, value, "an integer >= 0")],
        )
