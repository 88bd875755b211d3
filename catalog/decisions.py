"""The four review decisions, each declared once with everything the catalog knows about it.

A decision's spec says which review status it puts in force, whether it needs a note saying
why, whether it takes an end of life, whether it can still be made on an image deleted in
Azure, the hint beside its button, and, for a gallery version, its effect in Azure: the
operation that carries it out (its kind, label and step), what it sets on the version
(exclude from latest, end of life) and the equivalent ``az`` and PowerShell commands. The
service, the operations the engine runs (``catalog.specs``), the review form and the
commands are all read from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.choices import Decision, ReviewStatus
from catalog.models import CatalogImage


@dataclass(frozen=True, kw_only=True)
class GalleryEffect:
    """What a decision does to a gallery image version in Azure. The decision is in force
    (its badge) only once Azure has done it."""

    #: The kind of the operation that carries it out (one OperationSpec, in catalog.specs).
    kind: str
    #: The operation's label ("Approval of …") and its one step's.
    label: str
    step_label: str
    #: What it sets on the version's publishing profile (an end of life too, when given).
    exclude_from_latest: bool
    #: Said beside the decision's button on a gallery version.
    hint: str
    #: The equivalent ``az sig image-version update`` and ``Update-AzGalleryImageVersion``
    #: arguments (``{end_of_life}``: the date, quoted for that shell), and their title.
    az: str
    powershell: str
    command_label: str


@dataclass(frozen=True, kw_only=True)
class DecisionSpec:
    """Everything about one review decision. Read, never dispatched on: the service, the
    review form and the commands ask the spec what a decision does."""

    #: As stored on the decision (its label is the model field's choice).
    decision: Decision
    #: The review status it puts in force ("": the status does not change).
    status_after: str
    #: Said beside its button where it changes nothing in Azure.
    hint: str = "Recorded in the catalog; nothing changes in Azure."
    #: It needs a note saying why.
    note_required: bool = True
    #: What the note's field is called.
    note_label: str = "Reason"
    #: It may come with an end-of-life date (set on a gallery version in Azure as well).
    takes_end_of_life: bool = False
    #: It can still be made on an image deleted in Azure (it only adds to the record).
    when_gone: bool = False
    #: Carried out on a gallery version in Azure; the status changes once Azure has done it.
    effect: GalleryEffect | None = None

    @property
    def value(self) -> str:
        return self.decision.value

    @property
    def label(self) -> str:
        return self.decision.label

    def hint_for(self, image: CatalogImage) -> str:
        if image.is_gallery_version and self.effect is not None:
            return self.effect.hint
        return self.hint


APPROVE = DecisionSpec(
    decision=Decision.APPROVE,
    status_after=ReviewStatus.APPROVED,
    note_required=False,
    effect=GalleryEffect(
        kind="catalog.approve",
        label="Approval",
        step_label="Include the version in latest",
        exclude_from_latest=False,
        hint="Includes it in latest in Azure (clears exclude-from-latest).",
        az="--set publishingProfile.excludeFromLatest=false",
        powershell="-PublishingProfileExcludeFromLatest:$false",
        command_label="Approve: include it in latest",
    ),
)
REJECT = DecisionSpec(
    decision=Decision.REJECT,
    status_after=ReviewStatus.REJECTED,
    effect=GalleryEffect(
        kind="catalog.reject",
        label="Rejection",
        step_label="Exclude the version from latest",
        exclude_from_latest=True,
        hint="Excludes it from latest in Azure.",
        az="--set publishingProfile.excludeFromLatest=true",
        powershell="-PublishingProfileExcludeFromLatest",
        command_label="Reject: exclude it from latest",
    ),
)
DEPRECATE = DecisionSpec(
    decision=Decision.DEPRECATE,
    status_after=ReviewStatus.DEPRECATED,
    takes_end_of_life=True,
    effect=GalleryEffect(
        kind="catalog.deprecate",
        label="Deprecation",
        step_label="Exclude the version from latest, set its end of life",
        exclude_from_latest=True,
        hint="Excludes it from latest and sets its end of life in Azure.",
        az="--set publishingProfile.excludeFromLatest=true "
        "publishingProfile.endOfLifeDate={end_of_life}",
        powershell="-PublishingProfileExcludeFromLatest "
        "-PublishingProfileEndOfLifeDate {end_of_life}",
        command_label="Deprecate: exclude it from latest and set its end of life",
    ),
)
COMMENT = DecisionSpec(
    decision=Decision.COMMENT,
    status_after="",
    hint="Recorded with the image; its status does not change.",
    note_label="Comment",
    when_gone=True,
)

#: In the order the review form offers them.
DECISIONS = (APPROVE, REJECT, DEPRECATE, COMMENT)
_BY_VALUE = {spec.value: spec for spec in DECISIONS}


def decision_spec(value: str) -> DecisionSpec:
    """The spec of the decision ``value`` (``deprecate``); KeyError for anything else."""
    return _BY_VALUE[value]


@dataclass(frozen=True)
class OfferedDecision:
    """A decision as an image's review buttons offer it, with the hint for that image."""

    spec: DecisionSpec
    hint: str


def offered_decisions(image: CatalogImage) -> list[OfferedDecision]:
    """The decisions worth offering now: not the one in force, and on an image deleted in
    Azure only those that add to its record."""
    if image.gone_at:
        wanted = [spec for spec in DECISIONS if spec.when_gone]
    else:
        wanted = [spec for spec in DECISIONS if spec.status_after != image.review_status]
    return [OfferedDecision(spec, spec.hint_for(image)) for spec in wanted]
