"""What the engine's stateful tests share: going on with an engine restored from a snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable

from valueroute import Engine
from valueroute._snapshot import restore, snapshot

__all__ = ["restored_copy"]


def restored_copy(engine: Engine, build: Callable[[], Engine]) -> Engine:
    """A new engine from ``build()`` (configured as ``engine`` was) restored from a
    snapshot of ``engine`` taken through JSON, as a host stores it; checked to be the
    same engine: same digest, same next wake-up, same event count."""
    data = json.loads(json.dumps(snapshot(engine), allow_nan=False))
    restored = build()
    restore(data, restored)
    assert restored.digest() == engine.digest()
    assert restored.next_wakeup() == engine.next_wakeup()
    assert restored.event_count == engine.event_count
    return restored
