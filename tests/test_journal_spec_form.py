"""A submitted task (and an added agent) is journaled as the fields it was given.

The journal's record of ``submit`` holds :func:`valueroute.commands.spec_form`
of the spec: the fields the caller set, and the id. Checked here against the
model itself (the form validates back to an equal spec with the same fields
set) and against the engine: the same commands journaled in the new form and
in the form journals were written in before (every field) replay to the same
engine, digest for digest, and a live durable engine matches its replay.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from valueroute import AgentSpec, Engine, TaskSpec
from valueroute.commands import COMMANDS, spec_form
from valueroute.journal import DurableEngine, replay

_NAMES = st.sampled_from(["billing", "claims", "fr", "en"])
_NUMBERS = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)

# Fields of a TaskSpec a host may give, each drawn independently; the engine
# below has no calendars, queues or workflows, so those are left out.
_OPTIONAL_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(["call", "claim", "mail"]),
    "channel": st.sampled_from(["voice", "email"]),
    "value": _NUMBERS,
    "priority": st.integers(min_value=-5, max_value=5),
    "due": st.one_of(st.none(), st.floats(min_value=1.0, max_value=1e6)),
    "created": st.one_of(st.none(), st.floats(min_value=0.0, max_value=50.0)),
    "skills": st.dictionaries(_NAMES, st.integers(min_value=0, max_value=5), max_size=2),
    "department": st.one_of(st.none(), st.sampled_from(["retail", "business"])),
    "process": st.one_of(st.none(), st.sampled_from(["onboarding"])),
    "attributes": st.dictionaries(
        st.sampled_from(["vip", "region", "n"]),
        st.one_of(st.booleans(), st.sampled_from(["EU", "UK"]), st.integers(0, 9)),
        max_size=2,
    ),
    "due_in": st.one_of(st.none(), st.floats(min_value=1.0, max_value=3600.0)),
    "preferred_agents": st.lists(st.sampled_from(["ann", "bob"]), unique=True, max_size=2),
    "preferred_for": st.one_of(st.none(), st.floats(min_value=1.0, max_value=600.0)),
    "requires": st.one_of(st.none(), st.sampled_from(['region == "EU"', "not trainee"])),
}


@st.composite
def task_inputs(draw: st.DrawFn, number: int = 0) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(sorted(_OPTIONAL_FIELDS)), unique=True))
    given_fields = {name: draw(_OPTIONAL_FIELDS[name]) for name in chosen}
    if draw(st.booleans()):
        given_fields["id"] = f"t{number}"
    if given_fields.get("due_in") is not None:
        given_fields.pop("due", None)  # one of the two
    if "preferred_for" in given_fields and not given_fields.get("preferred_agents"):
        given_fields["preferred_agents"] = ["ann"]
    return given_fields


@settings(max_examples=300)
@given(task_inputs())
def test_the_form_validates_back_to_the_same_spec_with_the_same_fields_set(
    given_fields: dict[str, Any],
) -> None:
    spec = TaskSpec.model_validate(given_fields)
    form = spec_form(spec)
    assert set(form) == spec.model_fields_set | {"id"}
    back = TaskSpec.model_validate(json.loads(json.dumps(form)))
    assert back == spec
    assert back.model_fields_set == spec.model_fields_set | {"id"}


def test_a_task_given_two_fields_is_journaled_as_those_and_its_id(tmp_path: Path) -> None:
    with DurableEngine.open(tmp_path / "j.sqlite", lambda clock: Engine(clock=clock)) as durable:
        durable.submit(TaskSpec(priority=3, skills={"billing": 2}))
        durable.add_agent(AgentSpec(id="ann"), ready=True)
        submitted, added = (json.loads(r.arguments) for r in durable.store.read(after=0))
    assert set(submitted["spec"]) == {"priority", "skills", "id"}
    assert submitted["spec"]["priority"] == 3
    assert added == {"spec": {"id": "ann"}, "ready": True}


def _engine(clock: Callable[[], float]) -> Engine:
    return Engine(clock=clock, auto_accept=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(task_inputs(), min_size=1, max_size=12), st.integers(0, 2))
def test_new_and_old_forms_replay_to_the_same_engine(
    inputs: list[dict[str, Any]], agents: int
) -> None:
    specs = [
        TaskSpec.model_validate({**given_fields, "id": f"t{number}"})
        for number, given_fields in enumerate(inputs)
    ]
    submit = COMMANDS["submit"]
    add_agent = COMMANDS["add_agent"]
    digests = []
    for form in (spec_form, lambda spec: spec.model_dump(mode="json")):
        clock = [100.0]
        engine = _engine(lambda clock=clock: clock[0])
        for number in range(agents):
            spec = AgentSpec(
                id=("ann", "bob")[number], skills={"billing": 3}, attributes={"region": "EU"}
            )
            add_agent.apply(engine, {"spec": form(spec), "ready": True})
        for spec in specs:
            clock[0] += 1.0
            submit.apply(engine, {"spec": form(spec)})
        clock[0] += 700.0
        engine.advance()
        engine._check()
        digests.append(engine.digest())
    assert digests[0] == digests[1]


def test_a_live_durable_engine_matches_the_replay_of_its_journal(tmp_path: Path) -> None:
    clock = [100.0]
    with DurableEngine.open(tmp_path / "j.sqlite", _engine, clock=lambda: clock[0]) as durable:
        durable.add_agent(AgentSpec(id="ann", skills={"billing": 3}), ready=True)
        for number, given_fields in enumerate(
            [{}, {"priority": 2}, {"skills": {"billing": 2}, "due_in": 60.0}, {"value": 5.0}]
        ):
            clock[0] += 1.0
            durable.submit(TaskSpec.model_validate({**given_fields, "id": f"t{number}"}))
        live = durable.digest()
        records = list(durable.store.read(after=0))
    pinned = [0.0]
    fresh = _engine(lambda: pinned[0])
    replay(fresh, records, clock=pinned)
    assert fresh.digest() == live
