"""Replications through executors: a process pool, an in-process one, dask when present."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from valueroute.sim import InlineExecutor, Scenario, simulate


def small() -> Scenario:
    return Scenario.model_validate(
        {
            "horizon_seconds": 3600,
            "replications": 3,
            "seed": 9,
            "task_types": [
                {
                    "name": "calls",
                    "handle": {"kind": "exponential", "mean_seconds": 120},
                    "patience": {"kind": "exponential", "mean_seconds": 60},
                }
            ],
            "arrivals": [{"kind": "poisson", "task_type": "calls", "rate_per_hour": 200}],
            "agent_groups": [{"name": "agents", "count": 6}],
        }
    )


def test_every_executor_gives_the_same_replications_in_the_same_order() -> None:
    serial = simulate(small(), executor=InlineExecutor())
    with ProcessPoolExecutor(max_workers=2) as pool:
        processes = simulate(small(), executor=pool)
    with ThreadPoolExecutor(max_workers=2) as pool:
        threads = simulate(small(), executor=pool)
    default = simulate(small())  # a local process pool
    assert serial.to_dict() == processes.to_dict() == threads.to_dict() == default.to_dict()
    assert [r.replication for r in serial.replications] == [0, 1, 2]
    # Replications are independent draws, not copies.
    offered = {r.kpis["calls"]["offered"] for r in serial.replications}
    assert len(offered) > 1


def test_progress_reaches_one() -> None:
    seen: list[float] = []
    simulate(small(), executor=InlineExecutor(), progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_replications_run_on_a_dask_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = simulate(small(), executor=client.get_executor())
    assert result.to_dict() == simulate(small(), executor=InlineExecutor()).to_dict()
