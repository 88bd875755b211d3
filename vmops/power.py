"""The four power actions, each declared once with everything the dashboard knows about it.

A power action's spec says what it is called, which permission it needs, how Azure carries it
out (the gateway call, the states that show it done or over, the one Azure shows meanwhile),
when the VM's state allows it and why not, in which states a row offers it first, what is
asked before sending it, what the multi-select preview says of it, and its ``az`` and
PowerShell commands. The operation the engine runs (``vmops.specs``), the rows and pages, the
services, the forms and the commands are all read from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils.html import format_html

from contoso_images import azure
from vmops.choices import PowerAction, PowerState
from vmops.rules import Availability, VmState, availability

OPERATE = "vmops.operate_virtualmachine"

#: Why a generalized VM takes no power action, except one that stops its compute billing.
GENERALIZED = "Generalized VMs cannot be started again; capture an image or delete the VM."


@dataclass(frozen=True, kw_only=True)
class PowerActionSpec:
    """Everything about one power action. Read, never dispatched on: code that needs to know
    what an action does asks its spec, so a fifth action would be one more declaration."""

    # --- What it is ---
    #: Its value in URLs and forms; its operation kind is ``vm.<value>``.
    action: PowerAction
    #: What buttons, records and messages call it.
    label: str
    #: The Django permission a user needs to ask for it (checked on the server).
    permission: str

    # --- How Azure carries it out (the operation's one step, vmops.specs.PowerStep) ---
    #: Sends it: ``begin(subscription_id, resource_group, vm_name)`` returns the poller's token.
    begin: Callable[[str, str, str], str]
    #: Live power states in which Azure already shows what it would produce: nothing is sent.
    done_in: tuple[PowerState, ...]
    #: The power state Azure shows while it runs.
    transition: PowerState
    #: Power states that show it over once it was sent.
    ends_in: tuple[PowerState, ...]

    # --- When it may run (after the guards every action shares, vmops.rules) ---
    #: Settled power states that refuse it, with the reason shown.
    refused_in: Mapping[str, str] = field(default_factory=dict)
    #: Power states in which a generalized VM may still take it (it can never run again).
    generalized_in: tuple[PowerState, ...] = ()

    # --- How the pages offer it ---
    #: Settled power states in which a row offers it first: what people then most often want.
    primary_in: tuple[PowerState, ...] = ()
    #: It ends compute billing: a VM stopped but still billed shows it as the warning's answer.
    stops_billing: bool = False
    #: Asked before sending it, naming the VM (``{name}``); "" for a one-click action.
    question: str = ""
    #: The power states in which the question is asked.
    asked_in: tuple[PowerState, ...] = tuple(PowerState)
    #: The button that answers the question ("<label> now" unless said).
    answer: str = ""
    #: A safer action offered beside the question ("Deallocate instead").
    instead: PowerAction | None = None
    #: What the multi-select preview says before it is sent to many VMs, and whether as a
    #: warning (its confirm button is then marked dangerous).
    bulk_note: str = ""
    bulk_warns: bool = False

    # --- Its equivalent commands (``{target}``: the VM, quoted for that shell) ---
    az: str
    powershell: str
    #: Their title on the VM page (the label unless said).
    command_label: str = ""

    @property
    def value(self) -> str:
        return self.action.value

    @property
    def kind(self) -> str:
        """Its operation kind (``vm.deallocate``)."""
        return self.action.operation_kind

    @property
    def ends_as_it_began(self) -> bool:
        """It may end in a state it can be sent from (a restart: running to running), so a
        VM in its end state does not show that it happened; only Azure's provisioning status
        stamped anew after the request left does."""
        return any(
            state not in self.done_in and state not in self.refused_in for state in self.ends_in
        )

    def refusal(self, state: VmState) -> str:
        """Its own rule, once the VM passed the shared guards: why not, or ""."""
        if self._barred_as_generalized(state):
            return GENERALIZED
        return self.refused_in.get(state.power_state, "")

    def availability(self, state: VmState) -> Availability:
        return availability(state, self.refusal)

    def is_primary(self, state: VmState) -> bool:
        return state.power_state in self.primary_in and not self._barred_as_generalized(state)

    def confirmation(self, *, power_state: str, name: str) -> str:
        """The question to ask before sending it to the VM ``name``; "" to send at once."""
        if not self.question or power_state not in self.asked_in:
            return ""
        return self.question.format(name=name)

    @property
    def answer_label(self) -> str:
        return self.answer or f"{self.label} now"

    def _barred_as_generalized(self, state: VmState) -> bool:
        return state.generalized and state.power_state not in self.generalized_in


START = PowerActionSpec(
    action=PowerAction.START,
    label="Start",
    permission=OPERATE,
    begin=azure.vm_begin_start,
    done_in=(PowerState.RUNNING,),
    transition=PowerState.STARTING,
    ends_in=(PowerState.RUNNING,),
    refused_in={PowerState.RUNNING: "The VM is already running."},
    primary_in=(PowerState.DEALLOCATED, PowerState.UNKNOWN),
    az="az vm start {target}",
    powershell="Start-AzVM {target}",
)
POWER_OFF = PowerActionSpec(
    action=PowerAction.POWER_OFF,
    label="Stop",
    permission=OPERATE,
    begin=azure.vm_begin_power_off,
    # A deallocated VM is not running either: stopping it has nothing left to do.
    done_in=(PowerState.STOPPED, PowerState.DEALLOCATED),
    transition=PowerState.STOPPING,
    ends_in=(PowerState.STOPPED, PowerState.DEALLOCATED),
    refused_in={
        PowerState.STOPPED: "The VM is already stopped.",
        PowerState.DEALLOCATED: "The VM is deallocated; it is not running.",
    },
    primary_in=(PowerState.RUNNING,),
    # Stopping without deallocating keeps the bill running: asked, with the way out offered.
    question="Stop {name}? Stopping keeps it allocated: it stays billed for compute. "
    "Deallocate instead to stop compute charges (disks are billed either way).",
    answer="Stop and keep billing",
    instead=PowerAction.DEALLOCATE,
    bulk_note=format_html(
        "Stopping keeps the VMs allocated: <strong>{}</strong>. "
        "Choose Deallocate instead to stop compute charges.",
        "they stay billed for compute",
    ),
    bulk_warns=True,
    az="az vm stop {target}",
    powershell="Stop-AzVM {target} -StayProvisioned -Force",
    command_label="Stop (stays allocated and billed)",
)
DEALLOCATE = PowerActionSpec(
    action=PowerAction.DEALLOCATE,
    label="Deallocate",
    permission=OPERATE,
    begin=azure.vm_begin_deallocate,
    done_in=(PowerState.DEALLOCATED,),
    transition=PowerState.DEALLOCATING,
    ends_in=(PowerState.DEALLOCATED,),
    refused_in={PowerState.DEALLOCATED: "The VM is already deallocated."},
    # Deallocating a generalized VM only releases the compute it is still billed for.
    generalized_in=(PowerState.STOPPED,),
    primary_in=(PowerState.STOPPED,),
    stops_billing=True,
    # Cuts off whoever uses a VM that may be running; a VM that is only stopped is one click.
    question="Deallocate {name}? It is running: it shuts down now and releases its compute "
    "(compute billing stops; a dynamic public IP address may change).",
    asked_in=(PowerState.RUNNING, PowerState.STARTING, PowerState.UNKNOWN),
    bulk_note="Deallocating releases the compute (billing stops); the disks stay and are "
    "still billed. Running VMs shut down now; dynamic public IP addresses may change.",
    az="az vm deallocate {target}",
    powershell="Stop-AzVM {target} -Force",
    command_label="Deallocate (stops compute billing)",
)
RESTART = PowerActionSpec(
    action=PowerAction.RESTART,
    label="Restart",
    permission=OPERATE,
    begin=azure.vm_begin_restart,
    done_in=(),  # a running VM still needs its restart
    transition=PowerState.STARTING,
    # It ends running, as it began: the provisioning status stamped anew tells it happened.
    ends_in=(PowerState.RUNNING,),
    refused_in=dict.fromkeys(
        (PowerState.STOPPED, PowerState.DEALLOCATED), "Only a running VM can be restarted."
    ),
    question="Restart {name}? It goes offline for a minute or two; everyone connected to it "
    "is disconnected.",
    bulk_note="Each VM goes offline for a minute or two; everyone connected to it is disconnected.",
    bulk_warns=True,
    az="az vm restart {target}",
    powershell="Restart-AzVM {target}",
)

#: In the order buttons, forms and commands list them.
POWER_ACTIONS = (START, POWER_OFF, DEALLOCATE, RESTART)
_BY_VALUE = {spec.value: spec for spec in POWER_ACTIONS}


def power_action(value: str) -> PowerActionSpec:
    """The spec of the action ``value`` (``deallocate``); KeyError for anything else."""
    return _BY_VALUE[value]


def is_power_action(value: str) -> bool:
    return value in _BY_VALUE
