"""Random streams: keyed by name, independent of creation order, one family per replication."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from valueroute.errors import InvalidInputError
from valueroute.sim.streams import RandomStreams, stream_key

NAMES = st.lists(
    st.text(alphabet="abcdefgh/_", min_size=1, max_size=8).filter(
        lambda s: not s.startswith("/") and not s.endswith("/") and "//" not in s
    ),
    min_size=1,
    max_size=6,
    unique=True,
)


def _draws(streams: RandomStreams, name: str, count: int = 5) -> list[float]:
    return streams.generator(name).random(count).tolist()


def test_same_seed_and_name_give_identical_draws() -> None:
    assert _draws(RandomStreams(3), "arrivals/claims") == _draws(
        RandomStreams(3), "arrivals/claims"
    )


def test_name_parts_join_with_a_slash() -> None:
    streams = RandomStreams(3)
    assert streams.generator("arrivals", "claims") is streams.generator("arrivals/claims")


def test_the_same_name_gives_the_same_generator_object() -> None:
    streams = RandomStreams(3)
    first = streams.generator("handle")
    first.random()
    assert streams.generator("handle") is first
    assert streams.names == ("handle",)


def test_different_names_seeds_and_replications_differ() -> None:
    base = _draws(RandomStreams(3), "a")
    assert _draws(RandomStreams(3), "b") != base
    assert _draws(RandomStreams(4), "a") != base
    assert _draws(RandomStreams(3, replication=1), "a") != base
    assert _draws(RandomStreams(3).replication(1), "a") == _draws(
        RandomStreams(3, replication=1), "a"
    )


@given(NAMES, st.randoms(use_true_random=False), st.integers(0, 2**63))
def test_creation_order_and_extra_streams_change_nothing(
    names: list[str], shuffler: Any, seed: int
) -> None:
    reference = {name: _draws(RandomStreams(seed), name) for name in names}
    shuffled = list(names)
    shuffler.shuffle(shuffled)
    streams = RandomStreams(seed)
    streams.generator("an/extra/stream").random(17)
    for name in shuffled:
        # Interleave uses of another stream between them, as a policy with
        # randomised routing would.
        streams.generator("routing").random(3)
        assert _draws(streams, name) == reference[name]


def test_streams_look_independent() -> None:
    # Pairwise sample correlations of independent uniforms have standard
    # error 1/sqrt(n); shared or overlapping streams would show |r| near 1.
    n = 20_000
    rows = [
        RandomStreams(1, replication=r).generator(name).random(n)
        for r in range(3)
        for name in ("arrivals/a", "arrivals/b", "handle/a")
    ]
    correlation = np.corrcoef(np.vstack(rows))
    off_diagonal = correlation[~np.eye(len(rows), dtype=bool)]
    assert np.abs(off_diagonal).max() < 5 / np.sqrt(n)


def test_stream_keys_do_not_depend_on_the_interpreters_hash_seed() -> None:
    code = (
        "from valueroute.sim.streams import RandomStreams;"
        "print(RandomStreams(9).generator('patience', 'gold').random())"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout.strip())
    assert outputs == {repr(RandomStreams(9).generator("patience", "gold").random())}


def test_stream_key_is_128_bits_and_name_sensitive() -> None:
    assert 0 <= stream_key("x") < 2**128
    assert stream_key("x") != stream_key("y")
    assert stream_key("a", "b") == stream_key("a/b")


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_bad_seed_is_refused(seed: Any) -> None:
    with pytest.raises(InvalidInputError, match="seed"):
        RandomStreams(seed)


def test_bad_replication_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="replication"):
        RandomStreams(1, replication=-2)


@pytest.mark.parametrize("parts", [(), ("",), ("a", ""), ("x" * 300,), (3,)])
def test_bad_names_are_refused_and_create_nothing(parts: tuple[Any, ...]) -> None:
    streams = RandomStreams(1)
    with pytest.raises(InvalidInputError, match="name"):
        streams.generator(*parts)
    assert streams.names == ()


def test_named_purposes_are_plain_names() -> None:
    streams = RandomStreams(5)
    assert streams.arrivals("claims") is streams.generator("arrivals/claims")
    assert streams.handle("claims") is streams.generator("handle/claims")
    assert streams.patience("claims") is streams.generator("patience/claims")
    assert streams.routing() is streams.generator("routing")


class InterleavedStreams(RuleBasedStateMachine):
    """Any interleaving of streams and draws equals each stream drawn alone."""

    def __init__(self) -> None:
        super().__init__()
        self.seed = 2024
        self.streams = RandomStreams(self.seed)
        self.drawn: dict[str, int] = {}
        self.values: dict[str, list[float]] = {}

    @rule(
        name=st.sampled_from(["arrivals/a", "arrivals/b", "handle/a", "routing"]),
        count=st.integers(0, 7),
    )
    def draw(self, name: str, count: int) -> None:
        self.values.setdefault(name, []).extend(self.streams.generator(name).random(count).tolist())
        self.drawn[name] = self.drawn.get(name, 0) + count

    @invariant()
    def each_stream_matches_a_fresh_stream_drawn_alone(self) -> None:
        self.streams._check()
        assert set(self.streams.names) == set(self.drawn)
        for name, count in self.drawn.items():
            alone = RandomStreams(self.seed).generator(name).random(count).tolist()
            assert self.values[name] == alone


TestInterleavedStreams = InterleavedStreams.TestCase
