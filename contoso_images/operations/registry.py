"""Kinds of operation: each is one :class:`OperationSpec` in one place, registered by its app.

A spec says what the action is called, which permission it needs, whether the target's state
allows it (the pre-check), and its steps. A step reads Azure before acting (so a step whose
outcome Azure already shows is skipped, and one that an earlier worker got accepted is watched
rather than sent again), sends one request, and says how to read the finished operation. The
engine (``engine/``) does the rest for every kind alike: claim, lease, hand-off, takeover,
reconcile and the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contoso_images.core.users import Person

if TYPE_CHECKING:
    from contoso_images.operations.models import Operation


@dataclass(frozen=True)
class Target:
    """The Azure resource an operation acts on, as it was when asked for."""

    id: str
    type: str
    name: str
    resource_group: str
    subscription_id: str

    @property
    def key(self) -> str:
        return self.id.lower()


@dataclass(frozen=True)
class Observation:
    """What a step's read of Azure says, before anything is sent (or while watching)."""

    #: Azure already shows the step's outcome: nothing needs to be sent.
    done: bool = False
    #: An earlier attempt was accepted and Azure is still carrying it out: watch, do not send.
    in_flight: bool = False
    #: Azure shows an outcome the step can no longer reach (a sentence for people).
    unexpected: str = ""
    #: Not ready to send yet (the guest is still shutting itself down): look again shortly.
    wait: bool = False
    #: Why, in words, for the record ("Azure already reported the VM as deallocated").
    note: str = ""


@dataclass
class StepContext:
    """What a step's callbacks see: the operation, and what this attempt has learned."""

    operation: Operation
    #: True once the engine watches an earlier attempt's request instead of sending one.
    watching: bool = False
    #: Set when a request for this step may already have left (a worker died after sending,
    #: or Azure's answer was lost): ``{"at": ISO time, "baseline": what baseline() read}``.
    #: observe() uses it to tell an accepted request from one that never arrived.
    sent: dict[str, Any] | None = None
    #: Per-attempt scratch space (a step may keep the row it read here).
    cache: dict[str, Any] = field(default_factory=dict)
    #: Shows a progress sentence on the operation (the engine wires it to the row it holds).
    report: Callable[[str], None] = lambda message: None
    #: The operation's spec (set by the engine).
    spec: OperationSpec | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = self.operation.parameters
        return parameters

    @property
    def is_takeover(self) -> bool:
        """True when an earlier claim of this operation may already have sent the request."""
        return self.operation.attempts > 1


class StepFailed(Exception):
    """A step found that the operation cannot go on (a pre-flight check, a verification).

    ``str(error)`` is the sentence for people; ``code`` is recorded as the error code.
    """

    def __init__(self, sentence: str, *, code: str = "Refused") -> None:
        super().__init__(sentence)
        self.code = code


class Step:
    """One request to Azure within an operation. Subclasses say what it reads and sends."""

    name: str = ""
    label: str = ""
    #: How the gateway reads the finished operation's body (``operation_status`` kinds).
    result_kind: str = ""
    #: Its effect cannot be undone (generalizing a VM): once it starts, no cancel.
    irreversible: bool = False
    #: False for a step that only waits for Azure (replication): when Azure shows it done,
    #: it succeeded rather than being skipped.
    sends: bool = True

    def is_irreversible(self, ctx: StepContext) -> bool:
        """Whether this step, with these parameters, cannot be undone."""
        return self.irreversible

    def observe(self, ctx: StepContext) -> Observation:
        """Read Azure and say whether the step is done, under way or still to send."""
        return Observation()

    def baseline(self, ctx: StepContext) -> dict[str, Any]:
        """What Azure showed just before the request left (kept with the "sent" marker), so
        that after a crash observe() can see whether the request changed anything."""
        return {}

    def begin(self, ctx: StepContext) -> str | None:
        """Send the request; return the continuation token, or None when Azure answered
        at once (a synchronous call such as generalize)."""
        raise NotImplementedError

    def accepted(self, ctx: StepContext) -> None:
        """Azure accepted the request (the token is stored): update caches that show it."""

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        """Azure finished the step successfully; ``result`` is what ``result_kind`` read
        (None when the engine settled the step from the resource). A step may leave a
        sentence for the record in ``ctx.cache["step_note"]``, here or in begin()."""


@dataclass(frozen=True)
class OperationSpec:
    """Everything about one kind of operation."""

    kind: str
    label: str
    #: The Django permission a user needs to ask for it (checked on the server).
    permission: str
    #: The ARM resource type of its target (``Microsoft.Compute/virtualMachines``).
    target_type: str
    steps: tuple[Step, ...]
    #: ``precheck(subject, parameters)`` returns why the action is refused now, or "".
    precheck: Callable[[Any, dict[str, Any]], str] = lambda subject, parameters: ""
    #: Called as the operation ends, either way, just before its end is recorded, so that
    #: whoever sees it finished also sees the caches it refreshed from Azure.
    finished: Callable[[StepContext], None] | None = None
    #: Called inside the transaction that records the operation's success (by the attempt
    #: that holds it, once): what the success puts in force commits or rolls back with it.
    on_succeeded: Callable[[StepContext], None] | None = None

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.kind} has no step {name!r}")


@dataclass(frozen=True)
class OperationEvent:
    """Something that happened to an operation, for the apps that keep a record of it.

    ``name`` is one of ``requested``, ``refused`` (no operation was created: ``reason`` says
    why), ``step_succeeded``, ``step_skipped``, ``succeeded``, ``failed``,
    ``cancel_requested`` and ``canceled``. Listeners run
    inside the transaction that records the change, so a record that cannot be written
    undoes the change rather than leave it unrecorded.
    """

    name: str
    kind: str
    target: Target
    user: Person | None = None
    operation: Operation | None = None
    step: str = ""
    reason: str = ""


Listener = Callable[[OperationEvent], None]

_specs: dict[str, OperationSpec] = {}
_listeners: list[Listener] = []


def register(spec: OperationSpec) -> OperationSpec:
    """Add a kind (apps call this when they are ready; registering again replaces it)."""
    if not spec.steps:
        raise ValueError(f"{spec.kind} has no steps")
    names = [step.name for step in spec.steps]
    if len(set(names)) != len(names):
        raise ValueError(f"{spec.kind} has two steps with the same name")
    _specs[spec.kind] = spec
    return spec


def get(kind: str) -> OperationSpec:
    try:
        return _specs[kind]
    except KeyError:
        raise LookupError(f"no operation kind {kind!r} is registered") from None


def find(kind: str) -> OperationSpec | None:
    return _specs.get(kind)


def kinds() -> list[str]:
    return sorted(_specs)


def listen(listener: Listener) -> None:
    """Call ``listener`` with every :class:`OperationEvent` (apps connect in ``ready``)."""
    if listener not in _listeners:
        _listeners.append(listener)


def notify(event: OperationEvent) -> None:
    for listener in list(_listeners):
        listener(event)


def notify_many(events: list[OperationEvent]) -> None:
    """A batch of events (a multi-select's requests): a listener with a ``many`` attribute
    takes them in one call, so recording a thousand costs a fixed number of queries."""
    for listener in list(_listeners):
        many = getattr(listener, "many", None)
        if many is not None:
            many(events)
        else:
            for event in events:
                listener(event)
