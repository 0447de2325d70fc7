"""Simulation inputs: duration distributions, arrival processes and random streams."""

from __future__ import annotations

from valueroute.sim.distributions import (
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Sampler,
    Uniform,
    distribution_from,
)
from valueroute.sim.streams import RandomStreams, stream_key

__all__ = [
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "Lognormal",
    "RandomStreams",
    "Sampler",
    "Uniform",
    "distribution_from",
    "stream_key",
]
