"""Simulation inputs speed: block sampling and arrival generation against per-call numpy.

Cases, each against its baseline in the same run:
- 200,000 exponential and lognormal draws one at a time: ``Sampler.draw()``
  against calling ``rng.exponential(...)`` / ``rng.lognormal(...)`` once per
  value (what a simulator does without blocks) and against
  ``distribution.sample(rng)`` (the validated scalar API).
- 200,000 Poisson arrivals: ``PoissonArrivals.generate`` against a loop that
  calls ``rng.exponential`` per gap.
- A 96-interval day profile repeated to about 200,000 arrivals:
  ``ProfileArrivals.generate`` against thinning with one ``rng.random`` and
  one ``rng.exponential`` call per candidate.
- Loading the Anonymous Bank log: the bundled excerpt, and the full cleaned
  file when its path is given.

Targets: ``Sampler.draw`` at most 0.25 µs per value and at least 5× faster
than a numpy call per value; arrivals at most 1 µs each. Writes JSON to
benchmarks/results/bench_sim_inputs.json.

    python benchmarks/bench_sim_inputs.py [--repeats 5] [--full PATH_TO_CLEAN_CSV_GZ]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from _timing import best_seconds, results_dir
from valueroute.datasets import load_anonymous_bank
from valueroute.sim import Exponential, Lognormal, PoissonArrivals, ProfileArrivals, Sampler

DRAWS = 200_000


def day_profile() -> list[float]:
    hours = np.arange(96) / 4.0
    shape = np.exp(-0.5 * ((hours - 10.5) / 1.8) ** 2) + 0.8 * np.exp(
        -0.5 * ((hours - 15.0) / 2.0) ** 2
    )
    return np.round(60.0 * shape + 1.0, 1).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full", type=Path, default=None)
    args = parser.parse_args()
    repeats = args.repeats
    per_value: dict[str, float] = {}

    exponential = Exponential(mean_seconds=180.0)
    lognormal = Lognormal(mean_seconds=180.0, cv=1.2)
    mu, sigma = lognormal.mu, lognormal.sigma

    def numpy_per_call_exponential() -> None:
        rng = np.random.default_rng(1)
        draw = rng.exponential
        for _ in range(DRAWS):
            draw(180.0)

    def scalar_api_exponential() -> None:
        rng = np.random.default_rng(1)
        sample = exponential.sample
        for _ in range(DRAWS):
            sample(rng)

    def sampler_exponential() -> None:
        draw = Sampler(exponential, np.random.default_rng(1)).draw
        for _ in range(DRAWS):
            draw()

    def numpy_per_call_lognormal() -> None:
        rng = np.random.default_rng(1)
        draw = rng.lognormal
        for _ in range(DRAWS):
            draw(mu, sigma)

    def sampler_lognormal() -> None:
        draw = Sampler(lognormal, np.random.default_rng(1)).draw
        for _ in range(DRAWS):
            draw()

    for name, function in [
        ("exponential: numpy call per value", numpy_per_call_exponential),
        ("exponential: sample(rng) per value", scalar_api_exponential),
        ("exponential: Sampler.draw", sampler_exponential),
        ("lognormal: numpy call per value", numpy_per_call_lognormal),
        ("lognormal: Sampler.draw", sampler_lognormal),
    ]:
        per_value[name] = best_seconds(function, repeats) / DRAWS

    rate_per_hour = 3600.0
    horizon = DRAWS * 3600.0 / rate_per_hour
    poisson = PoissonArrivals(task_type="a", rate_per_hour=rate_per_hour, end_seconds=horizon)

    def poisson_generate() -> int:
        return sum(1 for _ in poisson.generate(rng=np.random.default_rng(2)))

    def poisson_per_call() -> int:
        rng = np.random.default_rng(2)
        draw = rng.exponential
        mean_gap = 3600.0 / rate_per_hour
        count, now = 0, draw(mean_gap)
        while now < horizon:
            count += 1
            now += draw(mean_gap)
        return count

    volumes = day_profile()
    days = max(1, round(DRAWS / sum(volumes)))
    profile = ProfileArrivals(task_type="a", interval_minutes=15, volumes=volumes, repeat=days)
    peak = max(volumes) / 900.0

    def profile_generate() -> int:
        return sum(1 for _ in profile.generate(rng=np.random.default_rng(3)))

    def profile_thinning() -> int:
        rng = np.random.default_rng(3)
        gap, accept = rng.exponential, rng.random
        end = profile.end_seconds
        rate = profile.rate_per_second
        count, now = 0, gap(1.0 / peak)
        while now < end:
            if accept() * peak < rate(now):
                count += 1
            now += gap(1.0 / peak)
        return count

    arrivals = poisson_generate()
    profile_arrivals = profile_generate()
    for name, function, count in [
        ("Poisson arrivals: generate", poisson_generate, arrivals),
        ("Poisson arrivals: numpy call per gap", poisson_per_call, arrivals),
        ("profile arrivals: generate", profile_generate, profile_arrivals),
        ("profile arrivals: thinning, calls per candidate", profile_thinning, profile_arrivals),
    ]:
        per_value[name] = best_seconds(function, repeats) / count

    load_seconds = {"excerpt (5,700 calls)": best_seconds(load_anonymous_bank, repeats)}
    if args.full is not None:
        load_seconds["full file (357,396 calls)"] = best_seconds(
            lambda: load_anonymous_bank(args.full), 1
        )

    targets_us = {
        "exponential: Sampler.draw": 0.25,
        "lognormal: Sampler.draw": 0.25,
        "Poisson arrivals: generate": 1.0,
        "profile arrivals: generate": 1.0,
    }
    print(
        f"Simulation inputs, best of {repeats}; {DRAWS:,} draws, {arrivals:,} Poisson and "
        f"{profile_arrivals:,} profile arrivals"
    )
    print(f"{'case':<48} {'µs/value':>10} {'target':>8}  status")
    for name, value in per_value.items():
        target = targets_us.get(name)
        status = "" if target is None else ("met" if value * 1e6 <= target else "MISSED")
        limit = "" if target is None else f"{target:g}"
        print(f"{name:<48} {value * 1e6:>10.3f} {limit:>8}  {status}")
    ratios = {
        "Sampler vs numpy call, exponential": per_value["exponential: numpy call per value"]
        / per_value["exponential: Sampler.draw"],
        "Sampler vs sample(rng), exponential": per_value["exponential: sample(rng) per value"]
        / per_value["exponential: Sampler.draw"],
        "Sampler vs numpy call, lognormal": per_value["lognormal: numpy call per value"]
        / per_value["lognormal: Sampler.draw"],
        "Poisson generate vs numpy call per gap": per_value["Poisson arrivals: numpy call per gap"]
        / per_value["Poisson arrivals: generate"],
        "profile generate vs thinning": per_value["profile arrivals: thinning, calls per candidate"]
        / per_value["profile arrivals: generate"],
    }
    for name, ratio in ratios.items():
        print(f"{name:<48} {ratio:>9.1f}x")
    for name, value in load_seconds.items():
        print(f"load_anonymous_bank, {name:<27} {value:>10.3f} s")

    out = results_dir()
    out.mkdir(exist_ok=True)
    payload = {
        "benchmark": "bench_sim_inputs",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "repeats": repeats,
        "microseconds_per_value": {name: value * 1e6 for name, value in per_value.items()},
        "targets_us": targets_us,
        "speedups": ratios,
        "load_seconds": load_seconds,
    }
    (out / "bench_sim_inputs.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
