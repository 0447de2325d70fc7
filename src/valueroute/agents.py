"""The agent pool: skills, capacity per channel, presence, idle order, eligibility.

The engine asks the pool two questions, both at the moment something changes:

- an agent frees up: *which requirement groups may this agent serve now?*
  (:meth:`AgentPool.eligible_groups`, then the task list picks the best task);
- a task arrives: *which available agent should take it?*
  (:meth:`AgentPool.select` with an agent-selection strategy).

Neither question scans all agents. Agents with identical skills share one
*profile*; which profiles a requirement group admits is computed once per
(group, profile) pair and cached. Per (profile, channel) the pool keeps the
agents that could take a task on that channel right now: a heap by
``(idle_since, order)`` with lazily dropped entries, and (once a strategy by
registration order has been used) a sorted list by ``order``; every state
change moves the agent in O(c log n) for c channels.

Presence and the public state
-----------------------------
:class:`Presence` is what a host sets: ``offline``, ``ready``, ``not_ready``
(with a reason code) or ``wrap_up`` (with an optional end time). The public
:attr:`Agent.state` adds ``busy``: ready and holding at least one task.
Allowed transitions (anything else raises
:class:`~valueroute.errors.InvalidTransitionError` and changes nothing):

=============  =======  =====  =========  =======
from \\\\ to   offline  ready  not_ready  wrap_up
=============  =======  =====  =========  =======
offline        no       yes    yes        no
ready          yes*     no     yes        yes
not_ready      yes*     yes    yes (1)    yes
wrap_up        yes*     yes    yes        yes (2)
=============  =======  =====  =========  =======

``*`` only while holding no task. (1) changes the reason code. (2) changes the
end of wrap-up. The pool never ends wrap-up by itself: the host (the engine's
timer) sets the agent ready at ``wrap_up_until``.

Capacity and exclusive channels
-------------------------------
An agent may hold ``capacity[channel]`` tasks of each channel at once, but only
while ready. A task on an *exclusive* channel (``voice`` by default) may be
taken only by an agent holding nothing, and while it is held nothing else is
taken: a person on the phone does not also pick up chats.

All times are float seconds and must never decrease across calls
(:class:`~valueroute.errors.ClockError`).
"""

from __future__ import annotations

import heapq
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from sortedcontainers import SortedList  # type: ignore[import-untyped]  # ships no type hints

from valueroute._parameters import build
from valueroute.errors import (
    CapacityError,
    ClockError,
    DuplicateAgentError,
    InvalidInputError,
    InvalidTransitionError,
    PolicyError,
    UnknownAgentError,
    bounded_repr,
)
from valueroute.models import AgentSpec
from valueroute.task import RequirementGroup, Task

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Agent",
    "AgentPool",
    "AgentSelection",
    "AgentState",
    "FewestTasks",
    "LeastOccupied",
    "LeastSkilled",
    "LeastTalkTime",
    "LongestIdle",
    "MostProficient",
    "Presence",
    "RandomAgent",
    "RoundRobin",
    "SelectionCallable",
    "TopDown",
    "selection_by_name",
]


class Presence(StrEnum):
    """What a host says about an agent."""

    offline = "offline"
    ready = "ready"
    not_ready = "not_ready"
    wrap_up = "wrap_up"


class AgentState(StrEnum):
    """The public state: presence, with ``ready`` split into idle and busy."""

    offline = "offline"
    ready = "ready"
    """Ready and holding no task (idle)."""
    busy = "busy"
    """Ready and holding at least one task."""
    not_ready = "not_ready"
    wrap_up = "wrap_up"


_ALLOWED: dict[Presence, frozenset[Presence]] = {
    Presence.offline: frozenset({Presence.ready, Presence.not_ready}),
    Presence.ready: frozenset({Presence.offline, Presence.not_ready, Presence.wrap_up}),
    Presence.not_ready: frozenset(
        {Presence.offline, Presence.ready, Presence.not_ready, Presence.wrap_up}
    ),
    Presence.wrap_up: frozenset(
        {Presence.offline, Presence.ready, Presence.not_ready, Presence.wrap_up}
    ),
}

IdleKey: TypeAlias = tuple[float, int]
"""``(idle_since, order)``: unique per agent, so ties never reach the agent."""


AttributesKey: TypeAlias = tuple[tuple[str, Any], ...]
"""An agent's attributes as a hashable key: sorted (name, value) pairs, lists as tuples."""

ProfileKey: TypeAlias = tuple[tuple[tuple[str, float], ...], AttributesKey, frozenset[str]]
"""A profile's identity: skills, attributes, and the queues listing its agents by id."""


def attributes_key(attributes: Mapping[str, Any]) -> AttributesKey:
    """The hashable key of a validated attribute mapping (sets of text are sorted lists)."""
    return tuple(
        sorted(
            (name, tuple(value) if isinstance(value, list) else value)
            for name, value in attributes.items()
        )
    )


class _Profile:
    """One distinct skill set, set of attributes and set of queues listing the
    agent by id, shared by every agent that has exactly those: eligibility is
    a function of the three."""

    __slots__ = (
        "agents",
        "attributes",
        "attributes_key",
        "by_channel",
        "ident",
        "key",
        "listed",
        "mean_cache",
        "serial",
        "skill_count",
        "skills",
    )

    def __init__(
        self,
        key: tuple[tuple[str, float], ...],
        serial: int,
        attributes: AttributesKey = (),
        listed: frozenset[str] = frozenset(),
    ) -> None:
        self.key = key
        self.attributes_key = attributes
        # Names of the queues that list these agents by id.
        self.listed = listed
        # What requirement expressions read: sets of text as lists, as validated.
        self.attributes: Mapping[str, Any] = MappingProxyType(
            {name: list(value) if isinstance(value, tuple) else value for name, value in attributes}
        )
        self.ident = (key, attributes, listed)
        self.skills: Mapping[str, float] = MappingProxyType(dict(key))
        self.skill_count = len(key)
        self.serial = serial
        self.agents = 0
        # channel -> groups of the task list's sequence this profile's skills meet.
        self.by_channel: dict[str, list[RequirementGroup]] = {}
        self.mean_cache: dict[RequirementGroup, float] = {}

    def mean_level(self, group: RequirementGroup) -> float:
        """Mean level over the group's required skills (0 when it requires none)."""
        mean = self.mean_cache.get(group)
        if mean is None:
            levels = [self.skills[name] for name, _ in group.skills]
            mean = math.fsum(levels) / len(levels) if levels else 0.0
            self.mean_cache[group] = mean
        return mean


class _Available:
    """Agents of one profile that could take a task on one channel right now.

    ``heap`` holds idle keys ``(idle_since, order)``, the longest idle at
    ``heap[0]``. An entry is live while it is the very tuple its agent is
    filed under (``agent._indexed[channel]``); entries of agents that left
    stay until they reach the head or outnumber the live ones. The head is
    always live, ``live`` counts the live entries. A heap instead of a sorted
    list: the agent taken is nearly always the head and a freed agent's key
    is the newest, so pushes and pops are O(log n) in C while a sorted list
    pays its bookkeeping in Python.
    """

    __slots__ = ("agents", "by_order", "channel", "heap", "live")

    def __init__(self, channel: str, agents: Mapping[int, Agent]) -> None:
        self.channel = channel
        self.agents = agents  # the pool's order -> agent
        self.heap: list[IdleKey] = []
        self.live = 0
        self.by_order: Any = SortedList()  # order, kept once the pool is ordered

    def is_live(self, entry: IdleKey) -> bool:
        agent = self.agents.get(entry[1])
        return agent is not None and agent._indexed.get(self.channel) is entry

    def push(self, entry: IdleKey) -> None:
        heapq.heappush(self.heap, entry)
        self.live += 1

    def drop(self, entry: IdleKey) -> None:
        """Forget an entry that has just stopped being live."""
        self.live -= 1
        heap = self.heap
        if not self.live:
            heap.clear()
        elif heap[0] is entry:
            heapq.heappop(heap)
            while not self.is_live(heap[0]):
                heapq.heappop(heap)
        elif len(heap) > 2 * self.live + 32:
            # O(1) amortised: at least live + 32 stale entries go at once.
            self.heap = [e for e in heap if self.is_live(e)]
            heapq.heapify(self.heap)

    def entries(self) -> list[IdleKey]:
        """The live entries, in no set order; read them, don't change them."""
        heap = self.heap
        if len(heap) == self.live:
            return heap
        # Filtering costs as much as compacting: keep the result, so the
        # next reader (a scanning strategy, say) pays nothing.
        is_live = self.is_live
        self.heap = [e for e in heap if is_live(e)]
        heapq.heapify(self.heap)
        return self.heap


class Agent:
    """The pool's record of one agent.

    Read freely; change only through :class:`AgentPool`. ``skills``,
    ``capacity`` and ``load`` are read-only views.

    ``idle_since`` is when the agent's workload last changed: it took or
    released a task, or became ready with nothing to do. Longest-idle
    selection prefers the smallest, so an agent with free chat slots that
    has just taken a chat waits behind agents whose workload changed before.
    ``order`` is the registration order (top-down and round robin).
    ``tasks_handled`` counts tasks taken.
    """

    __slots__ = (
        "_capacity",
        "_channels",
        "_exclusive_held",
        "_holding_since",
        "_indexed",
        "_load",
        "_logged_in",
        "_online_since",
        "_talk",
        "auto_accept",
        "capacity",
        "department",
        "held",
        "id",
        "idle_since",
        "load",
        "order",
        "presence",
        "profile",
        "reason",
        "skills",
        "tasks_handled",
        "team",
        "total_capacity",
        "wrap_up_until",
    )

    def __init__(self, spec: AgentSpec, *, order: int, profile: _Profile, now: float) -> None:
        self.id = spec.id
        self.profile = profile
        self.skills = profile.skills
        self._capacity = dict(spec.capacity)
        self.capacity: Mapping[str, int] = MappingProxyType(self._capacity)
        self._load = dict.fromkeys(self._capacity, 0)
        self.load: Mapping[str, int] = MappingProxyType(self._load)
        self.total_capacity = sum(self._capacity.values())
        # The channels with a slot, in capacity order: what an agent holding
        # nothing is free for (capacity never changes). Read, don't change.
        self._channels = [channel for channel, slots in self._capacity.items() if slots > 0]
        self.held = 0
        self._exclusive_held = 0
        self.department = spec.department
        self.team = spec.team
        self.auto_accept = spec.auto_accept
        self.order = order
        self.presence = Presence.offline
        self.reason: str | None = None
        self.wrap_up_until: float | None = None
        self.idle_since = now
        self.tasks_handled = 0
        self._talk = 0.0
        self._holding_since: float | None = None
        self._logged_in = 0.0
        self._online_since: float | None = None
        # channel -> the idle key under which the agent is filed for that channel.
        self._indexed: dict[str, IdleKey] = {}

    @property
    def attributes(self) -> Mapping[str, Any]:
        """What requirement expressions read (read-only; sets of text as lists). O(1)."""
        return self.profile.attributes

    @property
    def state(self) -> AgentState:
        """One of the five public states. O(1)."""
        if self.presence is Presence.ready:
            return AgentState.busy if self.held else AgentState.ready
        return AgentState(self.presence.value)

    def talk_time(self, now: float) -> float:
        """Seconds spent holding at least one task, up to ``now``. O(1)."""
        since = self._holding_since
        return self._talk if since is None else self._talk + (now - since)

    def logged_in_time(self, now: float) -> float:
        """Seconds spent in any presence but ``offline``, up to ``now``. O(1)."""
        since = self._online_since
        return self._logged_in if since is None else self._logged_in + (now - since)

    def occupancy(self, now: float) -> float:
        """Share of logged-in time spent holding tasks; 0 before any logged-in time. O(1)."""
        logged_in = self.logged_in_time(now)
        return self.talk_time(now) / logged_in if logged_in > 0 else 0.0

    def load_ratio(self) -> float:
        """Tasks held over slots, across all channels; 1 when the agent has no slots. O(1)."""
        return self.held / self.total_capacity if self.total_capacity else 1.0

    def __repr__(self) -> str:
        return f"Agent(id={self.id!r}, state={self.state.value!r}, load={dict(self._load)})"


@runtime_checkable
class AgentSelection(Protocol):
    """A strategy that picks one of the available agents for a group.

    Built-ins read the pool's indexes through :meth:`AgentPool.available_agents`
    and private helpers; a user strategy is usually a plain
    :data:`SelectionCallable` instead.
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The preferred available agent for ``group``, or ``None`` if there is none."""
        ...


SelectionCallable: TypeAlias = Callable[[Sequence[Agent], Task | None, float], Agent]
"""A user strategy: ``(candidates, task, now) -> agent``.

``candidates`` are the available agents, longest idle first (by
``(idle_since, order)``); never empty. The result must be one of them.
"""


class AgentPool:
    """Every registered agent, indexed for eligibility and selection.

    ``exclusive_channels``: channels whose task blocks all others (see the
    module docstring); an empty set disables the rule.
    """

    def __init__(self, *, exclusive_channels: Iterable[str] = frozenset({"voice"})) -> None:
        """``exclusive_channels``: a collection (set, list, tuple, any iterable
        but a string) of channel names, each a string; ``{"voice"}`` unless
        given, empty for none. Anything else raises
        :class:`~valueroute.errors.InvalidInputError`.
        """
        expected = "(expected a collection of channel names, such as {'voice'})"
        if isinstance(exclusive_channels, str | bytes) or not isinstance(
            exclusive_channels, Iterable
        ):
            raise InvalidInputError(
                f"exclusive_channels: got {bounded_repr(exclusive_channels)} of type "
                f"{type(exclusive_channels).__name__} {expected}"
            )
        channels = list(exclusive_channels)
        for channel in channels:
            if not isinstance(channel, str):
                raise InvalidInputError(
                    f"exclusive_channels: got the item {bounded_repr(channel)} of type "
                    f"{type(channel).__name__} {expected}"
                )
        self.exclusive_channels = frozenset(channels)
        self._agents: dict[str, Agent] = {}
        self._by_order: dict[int, Agent] = {}
        # Availability by registration order is kept only once a strategy
        # that needs it (top-down, round robin) has been used: sorted-list
        # updates per state change that most centres never read.
        self._ordered = False
        self._next_order = 0
        # (skills key, attributes key, queues listing them) -> profile.
        self._profiles: dict[ProfileKey, _Profile] = {}
        self._next_profile = 0
        # skill name -> profiles having it (any level), in creation order:
        # a new group is tested only against profiles with its rarest skill.
        self._with_skill: dict[str, dict[_Profile, None]] = {}
        # channel -> profile -> available agents of that profile on that channel.
        self._available: dict[str, dict[_Profile, _Available]] = {}
        # The same lists, only those with someone available: a busy centre's
        # lookups touch few entries however many skill sets there are.
        self._staffed: dict[str, dict[_Profile, _Available]] = {}
        # Groups of the task list's append-only sequence, read by eligible_groups.
        self._sequence: list[RequirementGroup] = []
        # Groups restricted to named agents (tasks waiting for preferred
        # agents), by the agent ids they name, in sequence order: they are
        # eligible per agent, not per skill profile.
        self._preferring: dict[str, list[RequirementGroup]] = {}
        # Groups asked for in select(): group -> profiles admitted, in creation order.
        self._admitted: dict[RequirementGroup, dict[_Profile, None]] = {}
        self._now = -math.inf

    # ------------------------------------------------------------ container

    def __len__(self) -> int:
        return len(self._agents)

    def __iter__(self) -> Iterator[Agent]:
        """Agents in registration order."""
        return iter(list(self._agents.values()))

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def get(self, agent_id: str) -> Agent:
        """The agent with this id. O(1). :class:`UnknownAgentError` if none,
        :class:`~valueroute.errors.InvalidInputError` if ``agent_id`` is not a string."""
        try:
            return self._agents[agent_id]
        except (KeyError, TypeError):
            # TypeError: an unhashable id (a list, a dict).
            pass
        if not isinstance(agent_id, str):
            raise InvalidInputError(
                f"agent_id: got {bounded_repr(agent_id)} of type {type(agent_id).__name__} "
                "(expected an agent id string)"
            )
        raise UnknownAgentError(f"agent_id: no agent with id {bounded_repr(agent_id)}")

    # ----------------------------------------------------------- lifecycle

    def add(
        self,
        spec: AgentSpec,
        *,
        now: float,
        presence: Presence | str = Presence.offline,
        reason: str | None = None,
        wrap_up_until: float | None = None,
        queues: frozenset[str] = frozenset(),
    ) -> Agent:
        """Register an agent, offline unless ``presence`` says otherwise.

        ``queues``: the names of the queues that list the agent by id (see
        :attr:`~valueroute.models.QueueSpec.agents`); the engine passes them.

        O(G + c log n) for a new skill profile (G groups seen so far), O(c log n)
        otherwise. :class:`DuplicateAgentError` if the id is in use.
        """
        if not isinstance(spec, AgentSpec):
            raise InvalidInputError(
                f"spec: got {type(spec).__name__} (expected a valueroute.AgentSpec)"
            )
        self._check_now(now)
        if spec.id in self._agents:
            raise DuplicateAgentError(f"agent id {spec.id!r} is already registered")
        target = _presence(presence)
        if target is not Presence.offline and target not in _ALLOWED[Presence.offline]:
            raise InvalidTransitionError(
                f"presence: an agent cannot start in {target.value!r} "
                "(expected offline, ready or not_ready)"
            )
        self._check_details(target, reason, wrap_up_until, now)
        self._now = now
        key = RequirementGroup.make_key("", spec.skills)[1]
        attributes = attributes_key(spec.attributes) if spec.attributes else ()
        profile = self._profiles.get((key, attributes, queues))
        if profile is None:
            profile = self._new_profile(key, attributes, queues)
        agent = Agent(spec, order=self._next_order, profile=profile, now=now)
        self._next_order += 1
        profile.agents += 1
        self._agents[agent.id] = agent
        self._by_order[agent.order] = agent
        if target is not Presence.offline:
            self._move(agent, target, reason, wrap_up_until, now)
        return agent

    def remove(self, agent_id: str) -> Agent:
        """Unregister an agent holding no task. O(c log n), plus O(G) if its profile empties."""
        agent = self.get(agent_id)
        if agent.held:
            raise InvalidTransitionError(
                f"agent {agent_id!r} holds {agent.held} task(s) "
                "(expected none: release them before removing the agent)"
            )
        self._unfile(agent)
        del self._agents[agent_id]
        del self._by_order[agent.order]
        profile = agent.profile
        profile.agents -= 1
        if profile.agents == 0:
            self._drop_profile(profile)
        return agent

    def set_presence(
        self,
        agent_id: str,
        presence: Presence | str,
        *,
        now: float,
        reason: str | None = None,
        wrap_up_until: float | None = None,
    ) -> Agent:
        """Change an agent's presence (see the transition table). O(c log n).

        ``reason`` goes only with ``not_ready``; ``wrap_up_until`` (a time
        >= ``now``, or ``None`` for "until told") only with ``wrap_up``.
        Becoming ready with nothing held restarts the idle clock.
        """
        agent = self.get(agent_id)
        target = _presence(presence)
        self._check_now(now)
        if target not in _ALLOWED[agent.presence]:
            raise InvalidTransitionError(
                f"agent {agent_id!r}: presence {agent.presence.value!r} -> {target.value!r} "
                "is not an allowed transition (see valueroute.agents for the table)"
            )
        if target is Presence.offline and agent.held:
            raise InvalidTransitionError(
                f"agent {agent_id!r} holds {agent.held} task(s) "
                "(expected none before going offline)"
            )
        self._check_details(target, reason, wrap_up_until, now)
        self._now = now
        self._move(agent, target, reason, wrap_up_until, now)
        return agent

    def _move(
        self,
        agent: Agent,
        target: Presence,
        reason: str | None,
        wrap_up_until: float | None,
        now: float,
    ) -> None:
        was = agent.presence
        if was is Presence.offline:
            agent._online_since = now
        elif target is Presence.offline:
            assert agent._online_since is not None
            agent._logged_in += now - agent._online_since
            agent._online_since = None
        if target is Presence.ready and not agent.held:
            agent.idle_since = now
        agent.presence = target
        agent.reason = reason
        agent.wrap_up_until = wrap_up_until
        self._refile(agent)

    # ------------------------------------------------------------ capacity

    def can_take(self, agent: Agent, channel: str) -> bool:
        """Whether ``agent`` could take a task on ``channel`` now. O(1).

        ``agent`` is an :class:`Agent` record, ``channel`` a channel name
        (:class:`~valueroute.errors.InvalidInputError` otherwise).
        """
        try:
            if agent.presence is not _READY or agent._exclusive_held:
                return False
            if agent._load.get(channel, 0) >= agent._capacity.get(channel, 0):
                return False
            return not (agent.held and channel in self.exclusive_channels)
        except (AttributeError, TypeError):
            # Checked only when it fails: the engine asks this often.
            if not isinstance(agent, Agent):
                raise InvalidInputError(
                    f"agent: got {bounded_repr(agent)} of type {type(agent).__name__} "
                    "(expected an Agent record, as get returns)"
                ) from None
            _check_channel(channel)
            raise

    def take(self, agent: Agent, channel: str, *, now: float) -> None:
        """Give ``agent`` one task on ``channel``; its idle clock restarts at ``now``. O(c log n).

        :class:`CapacityError` (nothing changed) when the agent is not ready,
        has no free slot on the channel, or the exclusive-channel rule forbids it.
        """
        self._own(agent)
        _check_channel(channel)
        self._check_now(now)
        if not self.can_take(agent, channel):
            raise CapacityError(self._why_not(agent, channel))
        self._take(agent, channel, now)

    def _take(self, agent: Agent, channel: str, now: float) -> None:
        """:meth:`take` for a caller that already knows the agent is this pool's,
        ``now`` is not behind the pool's time and ``can_take(agent, channel)``."""
        self._now = now
        if not agent.held:
            agent._holding_since = now
        agent._load[channel] += 1
        agent.held += 1
        if channel in self.exclusive_channels:
            agent._exclusive_held += 1
        agent.tasks_handled += 1
        # The workload changed: an agent with free slots left is idle from
        # now, so longest idle spreads multi-slot work over the agents.
        agent.idle_since = now
        if agent._indexed or not (agent._exclusive_held or agent.held >= agent.total_capacity):
            self._refile(agent)
        # else: filed under no channel and able to take nothing more (an
        # exclusive task, or every slot full), so _refile would change
        # nothing: the usual case of a busy agent taking its next task.

    def release(self, agent: Agent, channel: str, *, now: float) -> None:
        """Free one slot of ``channel``; the agent's idle clock restarts at ``now``. O(c log n).

        :class:`InvalidTransitionError` (nothing changed) if it holds no task there.
        """
        self._own(agent)
        _check_channel(channel)
        self._check_now(now)
        if agent._load.get(channel, 0) <= 0:
            raise InvalidTransitionError(
                f"agent {agent.id!r} holds no task on channel {bounded_repr(channel)} "
                f"(load {dict(agent._load)})"
            )
        self._release(agent, channel, now)

    def _release(self, agent: Agent, channel: str, now: float, *, refile: bool = True) -> None:
        """:meth:`release` for a caller that already knows the agent is this pool's,
        ``now`` is not behind the pool's time and the agent holds a task on ``channel``.

        ``refile=False`` leaves the availability index behind: the caller
        then either has the agent take a task (``_take`` refiles) or calls
        ``_refile`` itself, before anything else reads the index."""
        self._now = now
        agent._load[channel] -= 1
        agent.held -= 1
        if channel in self.exclusive_channels:
            agent._exclusive_held -= 1
        if not agent.held:
            assert agent._holding_since is not None
            agent._talk += now - agent._holding_since
            agent._holding_since = None
        agent.idle_since = now
        if refile:
            self._refile(agent)

    def _hand_over(self, agent: Agent, released: str, taken: str, now: float) -> None:
        """``_release(agent, released, now, refile=False)`` then ``_take(agent,
        taken, now)`` as one step: a task the agent ends passes its slot to
        the next one, which the agent takes at once (auto-accept). The same
        state as the two calls, which the caller has established may be made
        (the agent holds a task on ``released`` and could take ``taken`` once
        it is released). O(c log n) when the agent stays filed, else O(1).
        """
        self._now = now
        if released != taken:
            load = agent._load
            load[released] -= 1
            load[taken] += 1
            exclusive = self.exclusive_channels
            if released in exclusive:
                agent._exclusive_held -= 1
            if taken in exclusive:
                agent._exclusive_held += 1
        if agent.held == 1:
            # Its only task ends and the next begins: talk time counts up to
            # now, the next stretch starts now.
            assert agent._holding_since is not None
            agent._talk += now - agent._holding_since
            agent._holding_since = now
        agent.tasks_handled += 1
        agent.idle_since = now
        if agent._indexed or not (agent._exclusive_held or agent.held >= agent.total_capacity):
            self._refile(agent)

    def _why_not(self, agent: Agent, channel: str) -> str:
        if agent.presence is not Presence.ready:
            return f"agent {agent.id!r} is {agent.presence.value!r} (expected 'ready')"
        slots = agent._capacity.get(channel, 0)
        if agent._load.get(channel, 0) >= slots:
            return (
                f"agent {agent.id!r} has no free slot on channel {bounded_repr(channel)} "
                f"(holds {agent._load.get(channel, 0)} of {slots})"
            )
        if agent._exclusive_held:
            return f"agent {agent.id!r} holds an exclusive-channel task (expected none)"
        return (
            f"agent {agent.id!r} holds {agent.held} task(s) and {bounded_repr(channel)} "
            "is exclusive (expected an agent holding nothing)"
        )

    # --------------------------------------------------------- eligibility

    def eligible_groups(
        self, agent: Agent, groups: Sequence[RequirementGroup]
    ) -> list[RequirementGroup]:
        """Groups of ``groups`` the agent's skills meet and whose channel it can take now.

        ``groups`` must be the same append-only sequence on every call (the
        task list's ``groups``); the pool remembers how far it has read and
        tests only new groups, once per skill profile. Groups come channel by
        channel (in the order of the agent's capacity), each channel's in
        sequence order. O(c + e) for e eligible groups in steady state.
        """
        self._own(agent)
        # The list's groups are a list: the ABC check only for anything else.
        if type(groups) is not list and not isinstance(groups, Sequence):
            raise InvalidInputError(
                f"groups: got {bounded_repr(groups)} of type {type(groups).__name__} "
                "(expected the task list's groups, a sequence of RequirementGroup)"
            )
        self._read_sequence(groups)
        return list(self._eligible(agent, groups))

    def _eligible(self, agent: Agent, groups: Sequence[RequirementGroup]) -> list[RequirementGroup]:
        """:meth:`eligible_groups` for an agent known to be this pool's and the
        task list's own sequence; the list may be the pool's: read, don't change."""
        indexed = agent._indexed
        if (
            len(indexed) == 1
            and len(groups) == len(self._sequence)
            and (not self._preferring or agent.id not in self._preferring)
        ):
            # One free channel (the usual case): its groups as they are.
            for channel in indexed:
                return agent.profile.by_channel.get(channel) or []
        return self._eligible_on(agent, [c for c in agent._capacity if c in indexed], groups)

    def _eligible_on(
        self, agent: Agent, channels: list[str], groups: Sequence[RequirementGroup]
    ) -> list[RequirementGroup]:
        """:meth:`_eligible` for the channels given (in that order) rather than
        those the agent is filed under."""
        if len(groups) != len(self._sequence):
            self._read_sequence(groups)
        by_channel = agent.profile.by_channel
        if len(channels) == 1 and not (self._preferring and agent.id in self._preferring):
            return by_channel.get(channels[0]) or []
        preferring = self._preferring.get(agent.id)
        eligible: list[RequirementGroup] = []
        for channel in channels:
            found = by_channel.get(channel)
            if found:
                eligible.extend(found)
        if preferring:
            # Groups waiting for this agent, where it may take them now; an
            # empty one costs a test here, so tasks waiting are what counts.
            skills = agent.skills
            eligible.extend(
                group
                for group in preferring
                if group.channel in channels
                and (group.bucket_list or group.clocked_list)
                and group.admits_agent(skills, agent.profile.attributes, agent.profile.listed)
            )
        return eligible

    def _read_sequence(self, groups: Sequence[RequirementGroup]) -> None:
        seen = len(self._sequence)
        if len(groups) < seen or (seen and groups[seen - 1] is not self._sequence[-1]):
            raise InvalidInputError(
                f"groups: got a sequence of {len(groups)} groups that does not extend the "
                f"{seen} seen before (expected the same append-only sequence on every call)"
            )
        if len(groups) == seen:
            return
        for group in groups[seen:]:
            if not isinstance(group, RequirementGroup):
                raise InvalidInputError(
                    f"groups: got {type(group).__name__} (expected RequirementGroup items)"
                )
        for group in groups[seen:]:
            self._sequence.append(group)
            if group.agents is not None:
                for agent_id in group.agents:
                    self._preferring.setdefault(agent_id, []).append(group)
                continue
            for profile in self._candidates(group):
                if group.admits_agent(profile.skills, profile.attributes, profile.listed):
                    profile.by_channel.setdefault(group.channel, []).append(group)

    def _profiles_for(self, group: RequirementGroup) -> dict[_Profile, None]:
        admitted = self._admitted.get(group)
        if admitted is None:
            admitted = {
                p: None
                for p in self._candidates(group)
                if group.admits_agent(p.skills, p.attributes, p.listed)
            }
            self._admitted[group] = admitted
        return admitted

    def _candidates(self, group: RequirementGroup) -> Iterable[_Profile]:
        """Profiles that may meet the group, in creation order: those having its
        least common required skill (every profile when it requires none)."""
        if not group.skills:
            return self._profiles.values()
        fewest: dict[_Profile, None] | None = None
        for name, _ in group.skills:
            having = self._with_skill.get(name)
            if not having:
                return ()
            if fewest is None or len(having) < len(fewest):
                fewest = having
        assert fewest is not None
        return fewest

    def _new_profile(
        self,
        key: tuple[tuple[str, float], ...],
        attributes: AttributesKey = (),
        listed: frozenset[str] = frozenset(),
    ) -> _Profile:
        profile = _Profile(key, self._next_profile, attributes, listed)
        self._next_profile += 1
        self._file_profile(profile)
        for group in self._sequence:
            if group.agents is None and group.admits_agent(
                profile.skills, profile.attributes, profile.listed
            ):
                profile.by_channel.setdefault(group.channel, []).append(group)
        for group, admitted in self._admitted.items():
            if group.admits_agent(profile.skills, profile.attributes, profile.listed):
                admitted[profile] = None
        return profile

    def _file_profile(self, profile: _Profile) -> None:
        self._profiles[profile.ident] = profile
        for name, _ in profile.key:
            self._with_skill.setdefault(name, {})[profile] = None

    def _drop_profile(self, profile: _Profile) -> None:
        del self._profiles[profile.ident]
        for name, _ in profile.key:
            having = self._with_skill[name]
            del having[profile]
            if not having:
                del self._with_skill[name]
        for admitted in self._admitted.values():
            admitted.pop(profile, None)
        for per_profile in self._available.values():
            per_profile.pop(profile, None)
        for per_profile in self._staffed.values():
            per_profile.pop(profile, None)

    # ------------------------------------------------------------- indexes

    def _available_channels(self, agent: Agent) -> list[str]:
        return [channel for channel in agent._capacity if self.can_take(agent, channel)]

    def _free_channels(self, agent: Agent) -> list[str]:
        """The channels the agent could take a task on now, in capacity order:
        what ``_refile`` files it under."""
        if agent.presence is not _READY or agent._exclusive_held:
            return []
        if not agent.held:
            # Every load is 0 and no channel is barred: every channel with a
            # slot (the usual case of an agent just freed), as made once.
            return agent._channels
        load = agent._load
        exclusive = self.exclusive_channels
        return [
            channel
            for channel, slots in agent._capacity.items()
            if load[channel] < slots and channel not in exclusive
        ]

    def _refile(self, agent: Agent, free: list[str] | None = None) -> None:
        """Bring the agent's entries in the availability index up to date. O(c log n).

        ``free`` is ``_free_channels(agent)`` when the caller has just asked it
        and changed nothing since."""
        indexed = agent._indexed
        if agent.presence is not _READY or agent._exclusive_held:
            # Nothing can be taken: the common case of a voice agent going busy.
            if indexed:
                self._unfile(agent)
            return
        key = (agent.idle_since, agent.order)
        if free is not None:
            wanted: Sequence[str] = free
        elif agent.held >= agent.total_capacity:
            # Holding as many tasks as it has slots, the agent has every
            # channel full (no channel's load exceeds its slots): the common
            # case of an agent taking its next task, without listing channels.
            wanted = _NO_FREE
        else:
            wanted = self._free_channels(agent)
        if indexed:
            for channel in [c for c in indexed if c not in wanted]:
                self._unindex(agent, channel, indexed.pop(channel))
        for channel in wanted:
            old = indexed.get(channel)
            if old is None:
                per_profile = self._available.get(channel)
                if per_profile is None:
                    per_profile = self._available[channel] = {}
                lists = per_profile.get(agent.profile)
                if lists is None:
                    lists = per_profile[agent.profile] = _Available(channel, self._by_order)
                if not lists.live:
                    staffed = self._staffed.get(channel)
                    if staffed is None:
                        staffed = self._staffed[channel] = {}
                    staffed[agent.profile] = lists
                indexed[channel] = key
                lists.push(key)
                if self._ordered:
                    lists.by_order.add(agent.order)
            elif old != key:
                # Only the idle time moved: the order list is still right.
                lists = self._available[channel][agent.profile]
                indexed[channel] = key
                lists.push(key)
                lists.drop(old)

    def _order_index(self) -> None:
        """Start keeping availability by registration order (O(n log n) once)."""
        if self._ordered:
            return
        self._ordered = True
        for per_profile in self._available.values():
            for lists in per_profile.values():
                lists.by_order.update(order for _, order in lists.entries())

    def _unindex(self, agent: Agent, channel: str, key: IdleKey) -> None:
        """Drop an entry the agent is no longer filed under (``_indexed`` already says so)."""
        lists = self._available[channel][agent.profile]
        lists.drop(key)
        if self._ordered:
            lists.by_order.remove(agent.order)
        if not lists.live:
            del self._staffed[channel][agent.profile]

    def _unfile(self, agent: Agent) -> None:
        indexed = agent._indexed
        entries = list(indexed.items())
        indexed.clear()
        for channel, key in entries:
            self._unindex(agent, channel, key)

    def _sources(self, group: RequirementGroup) -> list[tuple[_Profile, _Available]]:
        """Non-empty availability lists of the profiles the group admits, in no set order.

        Every reader ranks agents by keys that end in the unique registration
        order, so the order of the lists cannot change a choice.
        O(min(p, q)) for p admitted profiles and q profiles with someone available.
        """
        per_profile = self._staffed.get(group.channel)
        if not per_profile:
            return []
        # The intersection runs in C over the smaller of the two.
        common = per_profile.keys() & self._profiles_for(group).keys()
        return [(profile, per_profile[profile]) for profile in common]

    # ----------------------------------------------------------- selection

    def available_agents(self, group: RequirementGroup) -> Iterator[Agent]:
        """Agents that could take a task of ``group`` now, longest idle first
        (for a group restricted to named agents: those of them, in its order).

        O(p + m log m) for m available agents of p admitted profiles.
        """
        _check_group(group)
        if group.agents is not None:
            return iter(self._preferred_available(group))
        by_order = self._by_order
        keys = [key for _, lists in self._sources(group) for key in lists.entries()]
        keys.sort()
        return (by_order[order] for _, order in keys)

    def select(
        self,
        group: RequirementGroup,
        *,
        task: Task | None = None,
        now: float,
        strategy: AgentSelection | SelectionCallable | None = None,
    ) -> Agent | None:
        """The available agent ``strategy`` prefers for ``group``, or ``None``.

        Available: ready, able to take ``group.channel`` now, skills admitted
        by the group. ``strategy`` defaults to :class:`LongestIdle`. The cost
        is the strategy's (see each); a plain callable costs O(m log m) for m
        available agents. For a group restricted to named agents (tasks
        waiting for preferred agents) the first of them in its order who is
        available, whatever the strategy, O(k) for k named. The pool itself
        is not changed.
        """
        if type(group) is not RequirementGroup:
            _check_group(group)
        self._check_now(now)
        if group.agents is not None:
            # Tasks waiting for preferred agents: the first of them, in the
            # task's order, who could take it now (no strategy chooses).
            for agent in self._preferred_available(group):
                return agent
            return None
        if strategy is None:
            strategy = _LONGEST_IDLE
        if _is_selection(strategy):
            return strategy.choose(self, group, task=task, now=now)  # type: ignore[union-attr]
        if not callable(strategy):
            raise InvalidInputError(
                f"strategy: got {bounded_repr(strategy)} (expected an AgentSelection or a callable "
                "(candidates, task, now) -> agent)"
            )
        candidates = list(self.available_agents(group))
        if not candidates:
            return None
        chosen = strategy(candidates, task, now)
        if not any(chosen is candidate for candidate in candidates):
            raise PolicyError(
                f"strategy {bounded_repr(strategy)} returned {bounded_repr(chosen)} "
                f"(expected one of the {len(candidates)} candidates it was given)"
            )
        return chosen

    def _preferred_available(self, group: RequirementGroup) -> list[Agent]:
        """Agents a restricted group names who could take its tasks now, in its order.

        O(k) for the k agents it names.
        """
        assert group.agents is not None
        found = []
        for agent_id in group.agents:
            agent = self._agents.get(agent_id)
            if (
                agent is not None
                and agent._indexed
                and self.can_take(agent, group.channel)
                and group.admits_agent(agent.skills, agent.profile.attributes, agent.profile.listed)
            ):
                found.append(agent)
        return found

    # ------------------------------------------------------------- helpers

    def _own(self, agent: Agent) -> None:
        if not isinstance(agent, Agent) or self._agents.get(agent.id) is not agent:
            raise UnknownAgentError(f"agent: {bounded_repr(agent)} is not registered in this pool")

    def _check_now(self, now: float) -> None:
        # x - x == 0 holds exactly for finite floats: the engine's case, first.
        if type(now) is float:
            finite = now - now == 0.0
        else:
            # Compared, not converted: an integer beyond float range cannot be.
            finite = (
                not isinstance(now, bool)
                and isinstance(now, int | float)
                and -_FLOAT_MAX <= now <= _FLOAT_MAX
            )
        if not finite:
            raise ClockError(f"now: got {bounded_repr(now)} (expected finite float seconds)")
        if now < self._now:
            raise ClockError(f"now: got {now!r}, earlier than {self._now!r} seen before")

    @staticmethod
    def _check_details(
        target: Presence, reason: str | None, wrap_up_until: float | None, now: float
    ) -> None:
        if reason is not None and target is not Presence.not_ready:
            raise InvalidInputError(
                f"reason: got {bounded_repr(reason)} with presence {target.value!r} "
                "(a reason code goes only with 'not_ready')"
            )
        if reason is not None and not isinstance(reason, str):
            raise InvalidInputError(
                f"reason: got {bounded_repr(reason)} (expected a string code or None)"
            )
        if wrap_up_until is not None:
            if target is not Presence.wrap_up:
                raise InvalidInputError(
                    f"wrap_up_until: got {bounded_repr(wrap_up_until)} "
                    f"with presence {target.value!r} "
                    "(an end time goes only with 'wrap_up')"
                )
            if (
                isinstance(wrap_up_until, bool)
                or not isinstance(wrap_up_until, int | float)
                or not now <= wrap_up_until <= _FLOAT_MAX
            ):
                raise InvalidInputError(
                    f"wrap_up_until: got {bounded_repr(wrap_up_until)} "
                    f"(expected finite seconds >= now ({now!r}) or None)"
                )

    # ---------------------------------------------------------- invariants

    def _check(self) -> None:
        """Assert every internal invariant. O(n c log n + G p)."""
        assert set(self._by_order) == {a.order for a in self._agents.values()}
        counts: dict[_Profile, int] = {}
        expected: dict[tuple[str, _Profile], set[IdleKey]] = {}
        for agent_id, agent in self._agents.items():
            assert agent.id == agent_id
            assert self._by_order[agent.order] is agent
            assert self._profiles[agent.profile.ident] is agent.profile
            assert dict(agent.skills) == dict(agent.profile.key)
            assert agent.profile.ident == (
                agent.profile.key,
                agent.profile.attributes_key,
                agent.profile.listed,
            )
            counts[agent.profile] = counts.get(agent.profile, 0) + 1
            assert set(agent._load) == set(agent._capacity)
            for channel, held in agent._load.items():
                assert 0 <= held <= agent._capacity[channel], (agent, channel)
            assert agent.held == sum(agent._load.values())
            exclusive = sum(agent._load[c] for c in agent._load if c in self.exclusive_channels)
            assert agent._exclusive_held == exclusive
            assert exclusive == 0 or agent.held == 1, agent
            assert agent.total_capacity == sum(agent._capacity.values())
            assert (agent._holding_since is not None) == (agent.held > 0)
            assert (agent._online_since is not None) == (agent.presence is not Presence.offline)
            assert agent.presence is not Presence.offline or agent.held == 0
            assert agent.reason is None or agent.presence is Presence.not_ready
            assert agent.wrap_up_until is None or agent.presence is Presence.wrap_up
            key = (agent.idle_since, agent.order)
            wanted = {c for c in agent._capacity if self.can_take(agent, c)}
            assert set(agent._indexed) == wanted
            for channel in wanted:
                assert agent._indexed[channel] == key
                expected.setdefault((channel, agent.profile), set()).add(key)
        assert counts == {p: p.agents for p in self._profiles.values()}
        with_skill: dict[str, list[_Profile]] = {}
        for profile in self._profiles.values():
            for name, _ in profile.key:
                with_skill.setdefault(name, []).append(profile)
        assert {name: list(having) for name, having in self._with_skill.items()} == with_skill
        for channel, per_profile in self._available.items():
            for profile, lists in per_profile.items():
                assert self._profiles.get(profile.ident) is profile
                assert (profile in self._staffed.get(channel, {})) == bool(lists.live)
                if lists.live:
                    assert self._staffed[channel][profile] is lists
                    assert lists.is_live(lists.heap[0])
                else:
                    assert not lists.heap
                heap = lists.heap
                for i in range(1, len(heap)):
                    assert heap[(i - 1) // 2] <= heap[i], "heap order broken"
                assert lists.channel == channel
                assert lists.agents is self._by_order
                keys = expected.pop((channel, profile), set())
                # Read without entries(): a check must not compact what it checks.
                assert sorted(e for e in heap if lists.is_live(e)) == sorted(keys)
                assert lists.live == len(keys)
                if self._ordered:
                    assert list(lists.by_order) == sorted(order for _, order in keys)
                else:
                    assert not lists.by_order
        assert not expected, expected
        for profile in self._profiles.values():
            brute: dict[str, list[RequirementGroup]] = {}
            for group in self._sequence:
                if group.agents is None and group.admits_agent(
                    profile.skills, profile.attributes, profile.listed
                ):
                    brute.setdefault(group.channel, []).append(group)
            assert profile.by_channel == brute
        for group, admitted in self._admitted.items():
            assert list(admitted) == [
                p
                for p in self._profiles.values()
                if group.admits_agent(p.skills, p.attributes, p.listed)
            ], group


def _presence(value: Presence | str) -> Presence:
    if isinstance(value, str):
        try:
            return Presence(value)
        except ValueError:
            pass
    raise InvalidInputError(
        f"presence: got {bounded_repr(value)} (expected one of {[p.value for p in Presence]})"
    )


def _check_channel(channel: object) -> None:
    if not isinstance(channel, str):
        raise InvalidInputError(
            f"channel: got {bounded_repr(channel)} of type {type(channel).__name__} "
            "(expected a channel name string)"
        )


def _check_group(group: object) -> None:
    if not isinstance(group, RequirementGroup):
        raise InvalidInputError(
            f"group: got {bounded_repr(group)} of type {type(group).__name__} "
            "(expected a RequirementGroup from the task list's group_for)"
        )


# ================================================================ strategies


_SELECTION_TYPES: dict[type, bool] = {}


def _is_selection(strategy: object) -> bool:
    """``isinstance(strategy, AgentSelection)``, cached per type.

    A runtime-checkable protocol check inspects the class on every call
    (several microseconds); routing asks once per decision.
    """
    kind = type(strategy)
    known = _SELECTION_TYPES.get(kind)
    if known is None:
        known = _SELECTION_TYPES[kind] = isinstance(strategy, AgentSelection)
    return known


def _best_head(
    sources: Iterable[tuple[_Profile, _Available]],
    rank: Callable[[_Profile], float] | None = None,
) -> IdleKey | None:
    """Smallest ``(rank(profile), idle_since, order)`` over the profiles' longest-idle heads."""
    best: tuple[float, float, int] | None = None
    for profile, lists in sources:
        idle, order = lists.heap[0]
        candidate = (rank(profile) if rank is not None else 0.0, idle, order)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else (best[1], best[2])


def _best_scan(
    pool: AgentPool, group: RequirementGroup, measure: Callable[[Agent], float]
) -> Agent | None:
    """Smallest ``(measure(agent), idle_since, order)`` over every available agent."""
    by_order = pool._by_order
    best: tuple[float, float, int] | None = None
    for _, lists in pool._sources(group):
        for idle, order in lists.entries():
            candidate = (measure(by_order[order]), idle, order)
            if best is None or candidate < best:
                best = candidate
    return None if best is None else by_order[best[2]]


class LongestIdle:
    """The agent idle the longest: smallest ``idle_since``, then registration order.

    FreeSWITCH mod_callcenter ``longest-idle-agent``, Asterisk app_queue
    ``leastrecent``, Cisco Unified CCX "Longest Available"; TaskRouter's
    default worker order.
    O(p) for p admitted profiles with available agents.
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent with the smallest ``(idle_since, order)``, or ``None``.

        Reads only the head of each admitted profile's heap: O(p) for p
        admitted profiles with someone available. ``task`` and ``now`` are not
        read; the pool is not changed.
        """
        # The default strategy of every routing decision: no ranking function.
        per_profile = pool._staffed.get(group.channel)
        if not per_profile:
            return None
        best: IdleKey | None = None
        for profile in per_profile.keys() & pool._profiles_for(group).keys():
            head = per_profile[profile].heap[0]
            if best is None or head < best:
                best = head
        return None if best is None else pool._by_order[best[1]]

    def __repr__(self) -> str:
        return "LongestIdle()"


class MostProficient:
    """Highest mean level over the group's required skills; ties longest idle.

    Genesys Cloud "Best available skills", Cisco Unified CCX "Most Skilled",
    TaskRouter ``order_by`` a skill level ``DESC``. O(p).
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent most skilled for ``group``, or ``None``.

        Most skilled: the highest mean level over the group's required skills.
        Ties (every agent ties when the group requires no skill) go to the
        smallest ``(idle_since, order)``. Reads only each admitted profile's
        longest-idle agent, as a profile's agents share their levels: O(p) for
        p admitted profiles with someone available. The pool is not changed.
        """
        head = _best_head(pool._sources(group), lambda p: -p.mean_level(group))
        return None if head is None else pool._by_order[head[1]]

    def __repr__(self) -> str:
        return "MostProficient()"


class LeastSkilled:
    """Fewest skills first, keeping scarce multi-skilled agents free; ties longest idle.

    Cisco Unified CCX "Least Skilled" (there by level, here by skill count). O(p).
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent with the fewest skills, or ``None``.

        Counts every skill of the agent, not only those ``group`` requires;
        ties go to the smallest ``(idle_since, order)``. O(p) for p admitted
        profiles with someone available. The pool is not changed.
        """
        head = _best_head(pool._sources(group), lambda p: p.skill_count)
        return None if head is None else pool._by_order[head[1]]

    def __repr__(self) -> str:
        return "LeastSkilled()"


class LeastOccupied:
    """Lowest load ratio (tasks held over slots, all channels); ties longest idle.

    Avaya's "least occupied agent"; spreads digital work across multitasking
    agents. O(m) for m available agents.
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent with the lowest :meth:`Agent.load_ratio`, or ``None``.

        Ties go to the smallest ``(idle_since, order)``. Scans every available
        agent: O(m) for m available agents of the admitted profiles. The pool
        is not changed.
        """
        return _best_scan(pool, group, Agent.load_ratio)

    def __repr__(self) -> str:
        return "LeastOccupied()"


class FewestTasks:
    """Fewest tasks taken so far; ties longest idle.

    Asterisk app_queue ``fewestcalls``, FreeSWITCH ``agent-with-fewest-calls``.
    O(m) for m available agents.
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent with the smallest ``tasks_handled``, or ``None``.

        Ties go to the smallest ``(idle_since, order)``. Scans every available
        agent: O(m) for m available agents of the admitted profiles. The pool
        is not changed.
        """
        return _best_scan(pool, group, lambda agent: agent.tasks_handled)

    def __repr__(self) -> str:
        return "FewestTasks()"


class LeastTalkTime:
    """Least time spent holding tasks up to ``now``; ties longest idle.

    FreeSWITCH ``agent-with-least-talk-time``. O(m) for m available agents.
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent with the least :meth:`Agent.talk_time` up to ``now``, or ``None``.

        Ties go to the smallest ``(idle_since, order)``. Scans every available
        agent: O(m) for m available agents of the admitted profiles. The pool
        is not changed.
        """
        return _best_scan(pool, group, lambda agent: agent.talk_time(now))

    def __repr__(self) -> str:
        return "LeastTalkTime()"


class TopDown:
    """First available agent in registration order.

    FreeSWITCH ``top-down``, Asterisk ``linear``: agents registered first
    take the most work. O(p).
    """

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent registered first (smallest ``order``), or ``None``.

        Idle time is not read. O(p) for p admitted profiles with someone
        available; the first registration-order strategy used on a pool also
        starts the pool's order index, O(n log n) once for n agents.
        """
        pool._order_index()
        best: int | None = None
        for _, lists in pool._sources(group):
            order = lists.by_order[0]
            if best is None or order < best:
                best = order
        return None if best is None else pool._by_order[best]

    def __repr__(self) -> str:
        return "TopDown()"


class RoundRobin:
    """The next available agent in registration order after the last one chosen.

    Wraps to the start after the last agent. The position belongs to this
    object: use one per queue for per-queue rotation. Asterisk ``rrmemory``,
    FreeSWITCH ``round-robin``. O(p log n).
    """

    def __init__(self) -> None:
        self.last_order = -1

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """The available agent with the smallest ``order`` above ``last_order``, or ``None``.

        When no available agent comes after ``last_order``, wraps to the
        smallest ``order``. Sets ``last_order`` to the chosen agent's
        ``order`` (unchanged when none is available). O(p log n) for p
        admitted profiles with someone available and n agents; the first
        registration-order strategy used on a pool also starts the pool's
        order index, O(n log n) once.
        """
        pool._order_index()
        after: int | None = None
        first: int | None = None
        for _, lists in pool._sources(group):
            by_order = lists.by_order
            head = by_order[0]
            if first is None or head < first:
                first = head
            position = by_order.bisect_right(self.last_order)
            if position < len(by_order):
                order = by_order[position]
                if after is None or order < after:
                    after = order
        chosen = after if after is not None else first
        if chosen is None:
            return None
        self.last_order = chosen
        return pool._by_order[chosen]

    def __repr__(self) -> str:
        return f"RoundRobin(last_order={self.last_order})"


class RandomAgent:
    """Uniformly random among available agents, drawn from ``rng``.

    Candidates are put in longest-idle order, then ``rng.integers(m)`` picks
    one, so the choice is reproducible from the generator's state. Nothing is
    drawn when no agent is available. Asterisk and FreeSWITCH ``random``.
    O(p + m log m) for m available agents of p admitted profiles.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        if not hasattr(rng, "integers"):
            raise InvalidInputError(
                f"rng: got {bounded_repr(rng)} of type {type(rng).__name__} "
                "(expected a numpy.random.Generator)"
            )
        self.rng = rng

    def choose(
        self, pool: AgentPool, group: RequirementGroup, *, task: Task | None, now: float
    ) -> Agent | None:
        """A uniformly random available agent, or ``None`` without drawing.

        Lists the candidates longest idle first, then draws one index with
        ``rng.integers(m)``. O(p + m log m) for m available agents of p
        admitted profiles. The pool is not changed; the generator advances.
        """
        candidates = list(pool.available_agents(group))
        if not candidates:
            return None
        return candidates[int(self.rng.integers(len(candidates)))]

    def __repr__(self) -> str:
        return "RandomAgent(rng=...)"


_LONGEST_IDLE = LongestIdle()
# Read on every capacity test: an enum member read through its class costs a
# metaclass attribute lookup, a global does not.
_READY = Presence.ready
_FLOAT_MAX = sys.float_info.max
_NO_FREE: tuple[str, ...] = ()

_BY_NAME: dict[str, Callable[..., AgentSelection]] = {
    "longest_idle": LongestIdle,
    "most_proficient": MostProficient,
    "least_skilled": LeastSkilled,
    "least_occupied": LeastOccupied,
    "round_robin": RoundRobin,
    "random": RandomAgent,
    "fewest_tasks": FewestTasks,
    "least_talk_time": LeastTalkTime,
    "top_down": TopDown,
}


def selection_by_name(name: str, **params: Any) -> AgentSelection:
    """A built-in strategy by name; ``random`` needs ``rng=``.

    >>> selection_by_name("longest_idle")
    LongestIdle()
    """
    factory = _BY_NAME.get(name) if isinstance(name, str) else None
    if factory is None:
        raise InvalidInputError(
            f"strategy name: got {bounded_repr(name)} (expected one of {sorted(_BY_NAME)})"
        )
    return build(f"strategy {name!r}", factory, params)
