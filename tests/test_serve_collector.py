"""`valueroute serve` sets the garbage collector for a long-running service.

A real server in a child process reports the collector's settings at the
moment it announces its address (journal recovered, socket listening), then
stops itself with SIGTERM and reports them again after ``run`` returned.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from valueroute.serve._run import FULL_COLLECTION_EVERY

CHILD = """
import gc, os, signal, sys
from pathlib import Path
from valueroute.serve import ServeSettings, run

def announce(address):
    print("serving", gc.get_threshold()[2], gc.get_freeze_count(), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

if sys.argv[3] == "host-froze":
    # What a host may have frozen itself before it serves (a forking server does).
    kept = [[n] for n in range(1000)]
    gc.freeze()
before = gc.get_threshold()[2], gc.get_freeze_count()
code = run(
    ServeSettings(journal=Path(sys.argv[1]), port=0),
    announce=announce,
    tune_collector=sys.argv[2] == "on",
)
print("before", *before, flush=True)
print("after", gc.get_threshold()[2], gc.get_freeze_count(), code, flush=True)
"""


def _serve_once(journal: Path, tune: str, host: str = "host-froze-nothing") -> dict[str, list[int]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(journal), tune, host],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {
        line.split()[0]: [int(word) for word in line.split()[1:]]
        for line in done.stdout.splitlines()
    }


def test_serving_freezes_start_up_and_spaces_full_collections(tmp_path: Path) -> None:
    lines = _serve_once(tmp_path / "journal.sqlite", "on")
    default, frozen = lines["before"]
    assert default == gc.get_threshold()[2]
    assert lines["serving"][0] == FULL_COLLECTION_EVERY
    assert lines["serving"][1] > frozen
    # Undone once run returns (it returned 0 after the SIGTERM drain): the
    # freeze too where nothing was frozen before (Python 3.12 itself keeps
    # some objects frozen from the start; those are never unfrozen).
    after = lines["after"]
    assert after[0] == default
    assert after[2] == 0
    if frozen == 0:
        assert after[1] == 0
    else:
        assert after[1] >= frozen


def test_what_the_host_froze_before_stays_frozen(tmp_path: Path) -> None:
    lines = _serve_once(tmp_path / "journal.sqlite", "on", "host-froze")
    default, frozen = lines["before"]
    assert frozen >= 1000
    assert lines["serving"] == [FULL_COLLECTION_EVERY, lines["serving"][1]]
    # Unfreezing would take the host's objects back into collection as well
    # (what the service froze stays frozen, less what has been freed since).
    after = lines["after"]
    assert after[0] == default
    assert after[1] >= frozen
    assert after[2] == 0


def test_tune_collector_false_leaves_the_collector_alone(tmp_path: Path) -> None:
    lines = _serve_once(tmp_path / "journal.sqlite", "off")
    default, frozen = lines["before"]
    assert lines["serving"] == [default, frozen]
    assert lines["after"] == [default, frozen, 0]


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_tune_collector_must_be_a_flag(tmp_path: Path, value: object) -> None:
    from valueroute.errors import InvalidInputError
    from valueroute.serve import ServeSettings, run

    journal = tmp_path / "journal.sqlite"
    with pytest.raises(
        InvalidInputError, match=r"^tune_collector: got .* \(expected True or False\)"
    ):
        run(ServeSettings(journal=journal, port=0), tune_collector=value)  # type: ignore[arg-type]
    assert not journal.exists()  # refused before anything was opened
