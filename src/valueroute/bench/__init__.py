"""Policy benchmark: routing policies and agent selections compared on standard scenarios.

A *bench scenario* is an ordinary :class:`~valueroute.sim.scenario.Scenario`
file with one extra ``[bench]`` table (:class:`BenchSpec`), removed before
the scenario is validated. The table names the variants to run (scoring
policies × agent-selection strategies × optional skill designs), the run
lengths for the fast and the full mode, and the *relations* that theory or
the literature says must hold (:class:`Relation`), each checked by a
statistical test rather than against a fixed number.

Statistics
----------
Every variant of a scenario runs the same replications with the same seed,
so replication *r* of every variant sees the same customers with the same
handle times and patience (common random numbers). For each KPI the bench
reports the replication mean with its 95 % Student t interval, and for each
variant the *paired* difference against the baseline variant with its
interval: pairing removes the customer-to-customer noise the variants share.
Two variants are *not distinguishable* on a KPI when the interval of their
paired difference contains 0; :func:`rank_variants` ranks variants by how
many others are significantly better, so indistinguishable variants share a
rank.

KPIs (:data:`BENCH_KPIS`) extend the simulator's: ``value_lost`` (value of
tasks answered late, abandoned, or still waiting at the end),
``holding_cost_per_hour`` (Σ over types of value × mean number waiting, per
hour: the linear delay cost of the c-mu literature with the task value as
cost rate), ``occupancy`` (busy over logged-in time of all agents) and
``load_fairness`` (Jain's index of the agents' occupancies: 1 when every
agent is equally loaded, 1/n when one agent does all the work) with
``load_cv`` (their coefficient of variation).

Cost: a scenario with V variants and R replications runs V × R simulations,
each O(events × log(open tasks)); the statistics are O(V² × R) per KPI.

Layout: ``_model`` (bench files, variants, statistics, results) ←
``_report`` (:class:`BenchReport`, tables, plots, HTML) ← ``_run`` (the
runs); this package re-exports their public names.
"""

from __future__ import annotations

from valueroute.bench._model import (
    BENCH_KPIS,
    SCENARIO_DIR,
    BenchScenario,
    BenchSpec,
    Rank,
    Relation,
    RelationOutcome,
    ScenarioResult,
    Variant,
    bundled_bench_scenarios,
    default_policy_params,
    load_bench_scenario,
    rank_variants,
    standard_suite,
)
from valueroute.bench._model import CSV_COLUMNS as CSV_COLUMNS
from valueroute.bench._model import Direction as Direction
from valueroute.bench._model import Progress as Progress
from valueroute.bench._model import RunLength as RunLength
from valueroute.bench._model import build_variants as build_variants
from valueroute.bench._model import scenario_hash as scenario_hash
from valueroute.bench._report import BenchReport
from valueroute.bench._run import jain_index as jain_index
from valueroute.bench._run import run_bench, run_scenario

__all__ = [
    "BENCH_KPIS",
    "SCENARIO_DIR",
    "BenchReport",
    "BenchScenario",
    "BenchSpec",
    "Rank",
    "Relation",
    "RelationOutcome",
    "ScenarioResult",
    "Variant",
    "bundled_bench_scenarios",
    "default_policy_params",
    "load_bench_scenario",
    "rank_variants",
    "run_bench",
    "run_scenario",
    "standard_suite",
]
