"""Crash recovery: a process under load is killed with SIGKILL at random moments.

The child (``tests/journal_child.py``) prints a line for each command once it
is durable. After each kill the journal is recovered here and every
acknowledged command must be reflected: each acknowledged task present once,
in a state its acknowledged commands allow, and the engine must keep routing.
After each kill a copy of the files with one ``-wal`` frame overwritten must
recover with every committed record accounted for, kept or reported lost.
``VALUEROUTE_CRASH_KILLS`` raises the number of kills for a soak run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from valueroute import AgentSpec, TaskSpec
from valueroute.journal import DurableEngine, JournalCorruptError, SQLiteStore
from valueroute.task import TaskState

sys.path.insert(0, str(Path(__file__).resolve().parent))
from journal_child import make_engine

CHILD = Path(__file__).resolve().parent / "journal_child.py"
KILLS = int(os.environ.get("VALUEROUTE_CRASH_KILLS", "20"))


def run_and_kill(path: Path, sync: str, run: str, seconds: float) -> list[str]:
    """Start the child, let it work ``seconds`` after it has opened, SIGKILL it; its lines."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), sync, run],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    assert first.startswith("OPEN"), first + child.stderr.read()  # type: ignore[union-attr]
    time.sleep(seconds)
    child.send_signal(signal.SIGKILL)
    rest, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, errors
    lines = rest.splitlines()
    # The last line may have been cut by the kill mid-write: it was never whole.
    if rest and not rest.endswith("\n"):
        lines = lines[:-1]
    return lines


def damage_a_copy(path: Path, folder: Path, rng: np.random.Generator) -> Path | None:
    """A copy of a killed process's files with 8 bytes of one -wal frame overwritten."""
    wal = Path(f"{path}-wal")
    if not wal.exists():
        return None
    data = bytearray(wal.read_bytes())
    frames = (len(data) - 32) // (24 + 4096)
    if frames < 2:
        return None
    folder.mkdir()
    for suffix in ("", ".mark"):
        shutil.copy(f"{path}{suffix}", folder / f"{path.name}{suffix}")
    at = 32 + int(rng.integers(1, frames)) * (24 + 4096) + int(rng.integers(0, 4096))
    data[at : at + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
    (folder / f"{path.name}-wal").write_bytes(bytes(data))
    return folder / path.name


def test_acknowledged_commands_survive_sigkill(tmp_path: Path) -> None:
    rng = np.random.default_rng(20261125)
    path = tmp_path / "crash.journal"
    acknowledged_position = 0
    damaged = 0
    refused = 0
    last: dict[str, str] = {}
    for kill in range(KILLS):
        sync = "every" if kill % 2 else "group"
        lines = run_and_kill(path, sync, f"r{kill}", float(rng.uniform(0.05, 0.5)))
        for line in lines:
            _, position, command, task = line.split()
            assert int(position) > acknowledged_position
            acknowledged_position = int(position)
            if command != "add_agent":
                last[task] = command

        # The files this kill left, with a -wal frame damaged: SQLite ends the
        # log there without a word; recovery must account for every committed
        # record, as kept or as lost.
        copy = damage_a_copy(path, tmp_path / f"damaged-{kill}", rng)
        if copy is not None:
            store = SQLiteStore(copy)
            mark = store.mark()
            store.close(checkpoint=False)
            assert mark is not None
            try:
                found = DurableEngine.open(copy, make_engine)
            except JournalCorruptError as exc:
                # A kill during a checkpoint leaves main-file pages newer than
                # the damaged frame: SQLite then shows records a compaction
                # kept without the snapshot it kept them after. Nothing can
                # rebuild that engine, and opening says so instead of
                # starting from a wrong one.
                why = str(exc)
            else:
                why = ""
                report = found.report
                assert report.position + report.lost == max(mark[0], report.position), report
                assert report.clean == (report.lost == 0), report
                if report.lost == 0:
                    assert report.position >= acknowledged_position
                found.close()
            if why:
                assert "cannot be rebuilt" in why, why
                refused += 1
            damaged += 1

        durable = DurableEngine.open(path, make_engine)
        engine = durable.engine
        assert durable.report.clean, durable.report
        assert durable.position >= acknowledged_position
        for task, command in last.items():
            state = engine.get(task).state
            if command == "complete":
                assert state is TaskState.completed, (task, state)
            elif command == "accept":
                assert state in (TaskState.assigned, TaskState.completed), (task, state)
            else:
                assert not state.is_terminal or state is TaskState.completed, (task, state)
        submitted = sum(n.get("submitted", 0) for n in engine.statistics()["by_type"].values())
        assert submitted == len(engine) + len(engine._closed), "a task counted twice or lost"

        # Still routing: a new task reaches a free agent at once.
        # The probe works on a channel of its own, so the child never routes to it.
        if "probe-agent" not in engine.agents:
            durable.add_agent(AgentSpec(id="probe-agent", capacity={"probe": 1}), ready=True)
        probe = durable.submit(TaskSpec(id=f"probe-{kill}", channel="probe"))
        assert probe.state is TaskState.offered
        assert engine.agent_of(probe.id).id == "probe-agent"  # type: ignore[union-attr]
        durable.accept(probe.id)
        durable.complete(probe.id, wrap_up=0.0)
        acknowledged_position = durable.position
        durable.close()
    assert len(last) > KILLS, "the child did too little work between kills to test anything"
    assert damaged > KILLS // 4, "too few kills left a -wal file to damage"
    assert refused < damaged, "every damaged copy was refused: recovery was never exercised"
