"""Hourly arrivals, abandonment and staffing of a real call centre, then a synthetic day.

Reads the Anonymous Bank (1999) excerpt bundled with valueroute, or the full
cleaned call log when given its path:

    python examples/anonymous_bank_profile.py
    python examples/anonymous_bank_profile.py anonymous_bank_1999_calls_clean.csv.gz

Prints, per hour of day (averaged over the working days Sunday to Thursday):
arrivals, the share of queued callers who hung up, the mean wait of served
callers and the agents seen serving (a lower bound on staffing). Then it
estimates patience with Kaplan–Meier, and generates one synthetic day of
arrivals from the hourly profile with named random streams.
"""

from __future__ import annotations

import sys

import numpy as np

from valueroute.datasets import (
    KaplanMeier,
    agents_on_duty,
    load_anonymous_bank,
    patience_observations,
)
from valueroute.errors import ValueRouteError
from valueroute.sim import ProfileArrivals, RandomStreams


def main(argv: list[str]) -> int:
    """Print the profile of the calls in ``argv[0]`` (the bundled excerpt without it)."""
    try:
        _profile(argv[0] if argv else None)
    except ValueRouteError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


def _profile(path: str | None) -> None:
    calls = load_anonymous_bank(path)
    weekday = (calls.day.astype("datetime64[D]").astype(np.int64) + 4) % 7  # 0 = Sunday
    calls = calls.select(weekday <= 4)
    days = calls.days()
    print(f"{len(calls):,} calls on {len(days)} working days ({days[0]} to {days[-1]})")

    hour = (calls.arrival_seconds // 3600).astype(np.int64)
    duty = agents_on_duty(calls, interval_minutes=60)
    print()
    print("hour  arrivals/day  abandoned % of queued  served wait s  agents serving")
    hourly_volumes = []
    for h in range(24):
        in_hour = hour == h
        arrivals = in_hour.sum() / len(days)
        hourly_volumes.append(float(arrivals))
        queued = in_hour & calls.queued
        abandoned = in_hour & (calls.outcome == "abandoned")
        served = in_hour & (calls.outcome == "served")
        share = f"{100 * abandoned.sum() / queued.sum():.1f}" if queued.any() else "-"
        wait = f"{calls.queue_wait[served].mean():.1f}" if served.any() else "-"
        agents = duty.counts[:, h].mean()
        print(f"{h:4d}  {arrivals:12.1f}  {share:>21}  {wait:>13}  {agents:14.1f}")

    observations = patience_observations(calls)
    km = KaplanMeier(observations.wait, observations.abandoned)
    median = km.times[np.searchsorted(-km.survival_probabilities, -0.5)]
    print()
    print(
        f"patience: {observations.wait.size:,} queued calls, "
        f"{observations.abandoned.sum():,} abandoned (exact), the rest censored at their wait"
    )
    print(f"  Kaplan-Meier: P(patience > 60 s) = {km.survival(60.0):.3f}, median {median:g} s")
    streams = RandomStreams(seed=1999)
    draws = km.sample_beyond(rng=streams.generator("patience"), seconds=60.0, size=5)
    print(f"  five patience draws for callers known to have waited 60 s: {draws.round(0)}")

    profile = ProfileArrivals(task_type="call", interval_minutes=60, volumes=hourly_volumes)
    synthetic = list(profile.generate(rng=streams.generator("arrivals", "call")))
    print()
    print(
        f"synthetic day from the hourly profile: {len(synthetic):,} arrivals "
        f"(expected {profile.expected_count():,.1f})"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
