"""What one VM row (or the VM page's status panel) shows, worked out once in Python.

The list renders fifty of these per page; deciding badges, notes and buttons here instead of in
nested template includes keeps the page to one row partial per VM, and gives the list, the
row polls, the refusals and the VM page the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from contoso_images.operations.models import Operation, OperationStatus
from vmops.choices import PowerState
from vmops.models import VirtualMachine
from vmops.power import POWER_ACTIONS, PowerActionSpec, power_action
from vmops.row_html import actions_html, state_html
from vmops.rules import Availability, VmState

#: Operations older than this are polled less often: Azure takes minutes, not seconds.
SLOW_POLL_AFTER = timedelta(seconds=30)
SLOW_POLL_SECONDS = 5
#: The VM page also checks, slowly, whether a sync saw the VM change or disappear.
IDLE_POLL_SECONDS = 30


@dataclass(frozen=True)
class RowAction:
    kind: str
    label: str
    allowed: bool
    reason: str
    primary: bool
    #: The question asked before sending it ("" for one-click actions).
    confirm: str
    #: The button that answers the question.
    confirm_label: str
    #: It stops compute billing of a VM stopped but still billed: shown as the warning it answers.
    warn: bool
    #: Where the button posts; ``instead_url`` posts the safer action offered in the question.
    url: str = ""
    instead_url: str = ""
    instead_label: str = ""

    @property
    def button_label(self) -> str:
        return f"{self.label}…" if self.confirm else self.label


@dataclass(frozen=True)
class Note:
    """A line under the power state: ``kind`` is note, error or billing."""

    kind: str
    text: str
    code: str = ""


@dataclass(frozen=True)
class VmRow:
    vm: VirtualMachine
    operation: Operation | None
    #: All four, what the VM can do now first (the primary one at the head).
    actions: tuple[RowAction, ...]
    can_operate: bool
    polling: bool
    poll_seconds: int
    badges: tuple[tuple[str, str], ...]
    notes: tuple[Note, ...]
    show_progress: bool
    progress_label: str
    #: A request just refused on this row, with the reason (shown where the click happened).
    refusal: str = ""
    #: The action whose confirmation opens with the row (a POST that lacked the answer).
    confirm_open: str = ""
    tags: tuple[tuple[str, str], ...] = field(default=())
    #: The VM's page and the row's poll (reversed here once: fifty rows, four buttons each).
    detail_url: str = ""
    row_url: str = ""
    #: The image in a few words (offer and sku, or the custom image's name); the full label.
    image: str = ""
    #: The VM's age in words ("3 months"), and how long it has shown its state.
    age: str = ""
    since: str = ""
    #: The page's CSRF token, written into each action's form (``row_html``).
    csrf_token: str = ""
    #: While an operation is unfinished: what the VM is doing and who asked, in words
    #: ("Deallocating… (started by you 2 minutes ago)"), shown in place of the buttons.
    busy: str = ""

    @property
    def state_html(self) -> SafeString:
        """The power state cell (badges, progress, notes)."""
        return state_html(self)

    @property
    def list_actions_html(self) -> SafeString:
        """The list's actions cell (what the VM can do now)."""
        return actions_html(self, all_actions=False)

    @property
    def page_actions_html(self) -> SafeString:
        """The VM page's actions: all four, the others disabled with the reason."""
        return actions_html(self, all_actions=True)

    @property
    def offered(self) -> list[RowAction]:
        """The actions the VM can take now, the primary one first."""
        return [a for a in self.actions if a.allowed]

    @property
    def idle_reason(self) -> str:
        """Why no action is offered (the first reason), when none is."""
        if self.offered or not self.actions:
            return ""
        return self.actions[0].reason

    @property
    def reasons(self) -> list[tuple[str, str]]:
        """("Start, Restart", reason) pairs, one line per distinct reason (the VM page)."""
        grouped: dict[str, list[str]] = {}
        for action in self.actions:
            if not action.allowed:
                grouped.setdefault(action.reason, []).append(action.label)
        return [(", ".join(labels), reason) for reason, labels in grouped.items()]

    @property
    def is_unfinished(self) -> bool:
        return self.operation is not None and self.operation.is_unfinished


def vm_row(
    vm: VirtualMachine,
    operation: Operation | None,
    *,
    can_operate: bool,
    refusal: str = "",
    confirm_open: str = "",
    viewer_id: int | None = None,
    next_url: str = "",
    csrf_token: str = "",
) -> VmRow:
    """The row of one VM; ``operation`` is its unfinished one or the one a poll watches;
    ``viewer_id`` is the person looking (an operation they asked for is "started by you");
    ``next_url`` is where a form posted without JavaScript comes back to (in the action's
    query string, once per button, not a hidden field per form)."""
    unfinished = operation if operation is not None and operation.is_unfinished else None
    state = VmState.of(vm, busy_with=unfinished.label if unfinished else "")
    links = _links(vm.pk, next_url)
    urls = links.actions
    warn = vm.is_billed_while_stopped
    # What the VM can do now comes first, the primary action at the head (``_plan``).
    actions = [
        RowAction(
            kind=spec.value,
            label=spec.label,
            allowed=availability.allowed,
            reason=availability.reason,
            primary=primary,
            confirm=spec.confirmation(power_state=vm.power_state, name=vm.name),
            confirm_label=spec.answer_label,
            warn=warn and spec.stops_billing,
            url=urls[spec.value],
            instead_url=urls[instead.value] if instead else "",
            instead_label=f"{instead.label} instead" if instead else "",
        )
        for spec, availability, primary, instead in _plan(state)
    ]
    badges, notes = _state(vm, operation)
    return VmRow(
        vm=vm,
        operation=operation,
        actions=tuple(actions) if can_operate and not vm.gone_at else (),
        can_operate=can_operate,
        polling=unfinished is not None,
        poll_seconds=poll_seconds(unfinished),
        badges=badges,
        notes=notes,
        show_progress=unfinished is not None or vm.is_transitioning,
        progress_label=(
            f"{unfinished.label} in progress" if unfinished else vm.get_power_state_display()
        ),
        refusal=refusal,
        confirm_open=confirm_open,
        tags=tuple(sorted((str(k), str(v)) for k, v in (vm.tags or {}).items())),
        image=_image(vm),
        age=timesince(vm.created_at, depth=1) if vm.created_at else "",
        since=naturaltime(vm.in_state_since) if vm.in_state_since else "",
        busy=_busy(unfinished, viewer_id) if unfinished else "",
        csrf_token=csrf_token,
        detail_url=links.detail,
        row_url=links.row,
    )


@lru_cache(maxsize=256)
def _plan(
    state: VmState,
) -> tuple[tuple[PowerActionSpec, Availability, bool, PowerActionSpec | None], ...]:
    """Each power action in a VM state: whether it may run (and why not), whether it is the
    one offered first, and the safer action its question offers; what the VM can do first,
    the primary action at the head. Judged once per state, not per row: a page of fifty
    VMs is in a handful of states (the rules are pure functions of the state)."""
    plan = [
        (
            spec,
            spec.availability(state),
            spec.is_primary(state),
            power_action(spec.instead) if spec.instead else None,
        )
        for spec in POWER_ACTIONS
    ]
    plan.sort(key=lambda p: (not p[1].allowed, not p[2]))
    return tuple(plan)


#: Stands in for the VM id and action in URLs reversed once: the rows substitute them.
_PK, _KIND = 987654321, "__kind__"


@dataclass(frozen=True)
class _Links:
    detail: str
    row: str
    actions: dict[str, str]


@lru_cache(maxsize=8)
def _patterns(prefix: str) -> tuple[str, str, str]:
    """The VM page, row and action URLs, reversed once per script prefix (not six
    ``reverse`` calls per row: fifty rows, four buttons each)."""
    return (
        reverse("vmops:vm_detail", args=[_PK]),
        reverse("vmops:vm_row", args=[_PK]),
        reverse("vmops:vm_action", args=[_PK, _KIND]),
    )


@lru_cache(maxsize=64)
def _next_query(next_url: str) -> str:
    """``?next=…`` of the row's buttons (the same for every row of a page)."""
    return f"?{urlencode({'next': next_url})}" if next_url else ""


def _links(pk: int, next_url: str) -> _Links:
    detail, row, action = _patterns(get_script_prefix())
    ident = str(pk)
    query = _next_query(next_url)
    base = action.replace(str(_PK), ident)
    return _Links(
        detail=detail.replace(str(_PK), ident),
        row=row.replace(str(_PK), ident),
        actions={a.value: base.replace(_KIND, a.value) + query for a in POWER_ACTIONS},
    )


def _busy(operation: Operation, viewer_id: int | None) -> str:
    """ "Deallocating… (started by you 2 minutes ago)": what the VM is doing, not a refusal
    (the buttons' reason, "Deallocate is already in progress.", read like one)."""
    kind = operation.kind.removeprefix("vm.")
    try:
        spec = power_action(kind)
    except (KeyError, ValueError):
        doing = f"{operation.label} in progress"
    else:
        doing = f"{spec.label}ing" if spec.ends_as_it_began else spec.transition.label
    if operation.requested_by_id is None:
        who = "the dashboard"
    elif operation.requested_by_id == viewer_id:
        who = "you"
    else:
        requester = operation.requested_by
        who = requester.get_username() if requester else "someone"
    verb = "queued" if operation.status == OperationStatus.QUEUED else "started"
    recent = timezone.now() - operation.requested_at < timedelta(minutes=1)
    when = "just now" if recent else naturaltime(operation.requested_at)
    return f"{doing}… ({verb} by {who} {when})"


def _image(vm: VirtualMachine) -> str:
    ref = vm.image_reference or {}
    if ref.get("offer"):
        return f"{ref['offer']} {ref.get('sku', '')}".strip()
    return vm.image_label.rsplit("/", 1)[-1] if vm.image_label else ""


def poll_seconds(operation: Operation | None) -> int:
    """Quick polls while a person is likely watching the click land, then calmer ones."""
    fast = int(settings.VM_ROW_POLL_SECONDS)
    if operation is None or timezone.now() - operation.requested_at < SLOW_POLL_AFTER:
        return fast
    return max(fast, SLOW_POLL_SECONDS)


def _state(
    vm: VirtualMachine, operation: Operation | None
) -> tuple[tuple[tuple[str, str], ...], tuple[Note, ...]]:
    badges: list[tuple[str, str]] = []
    notes: list[Note] = []
    if vm.gone_at:
        badges.append(("state-gone", "Deleted in Azure"))
        notes.append(Note("note", f"Gone from Azure since {vm.gone_at:%Y-%m-%d %H:%M} UTC."))
    else:
        badges.append((f"state-{vm.power_state}", vm.get_power_state_display()))
        if vm.generalized:
            badges.append(("state-generalized", "Generalized"))
        if vm.power_state == PowerState.UNKNOWN:
            notes.append(Note("note", "Azure did not report a power state for this VM."))
        if vm.is_billed_while_stopped:
            notes.append(
                Note(
                    "billing",
                    "Stopped — still billed for compute. Deallocate to stop compute charges; "
                    "disks are billed in both states.",
                )
            )
    if operation is not None:
        notes.append(_operation_note(operation))
    return tuple(badges), tuple(notes)


def _operation_note(operation: Operation) -> Note:
    if operation.is_unfinished:
        progress = f" — {operation.progress_message}" if operation.progress_message else ""
        return Note("progress", f"{operation.status_label.lower()}{progress}", operation.label)
    if operation.status == OperationStatus.SUCCEEDED:
        message = operation.progress_message
        detail = f": {message}" if message and message != "Completed." else ""
        return Note("note", f"{operation.label} succeeded{detail}.")
    summary = operation.error_summary or operation.error_message
    return Note("error", f"{operation.label} failed: {summary}", operation.error_code)
