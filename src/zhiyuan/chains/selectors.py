"""Reads of the chain maps: each node's local strength, the chain trees, the gaps with their targets and
how far the targets have come (targets → leads → signed), for the pages and `/api/chains/`.

A node's local firms are its CONFIRMED and SUGGESTED firms among operating enterprises — a rules'
suggestion counts until someone rejects it, so a fresh map is not empty; the confirmed count is
given beside it. Output is the sum of those firms' revenue (万元). Strength compares the firm count
with the node's `weak_below`: none (0), weak (< weak_below), covered, strong (≥ 2 × weak_below).
A gap is a node whose strength is none or weak.

Chains are district business: district staff read them; firms, banks and the city do not.
Every statistic is computed for many nodes at once in a handful of grouped queries (no N+1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhiyuan.accounts.models import User
from zhiyuan.accounts.permissions import is_district_staff
from zhiyuan.chains.models import IndustryChain, MappingStatus, Node, NodeFirm, Position, Segment, Target
from zhiyuan.chains.services import MANUAL
from zhiyuan.core.errors import NotFoundError
from zhiyuan.enterprises.models import Status as EnterpriseStatus
from zhiyuan.investments.models import Stage

# A lead counts as signed once its project reached 签约 or any later stage.
SIGNED_STAGES = [stage.value for stage in list(Stage)[list(Stage).index(Stage.SIGNED) :]]
COUNTED_STATUSES = [MappingStatus.CONFIRMED, MappingStatus.SUGGESTED]
KEY_FIRMS_SHOWN = 5


class Strength(models.TextChoices):
    NONE = "none", gettext_lazy("No local supply")
    WEAK = "weak", gettext_lazy("Weak")
    COVERED = "covered", gettext_lazy("Covered")
    STRONG = "strong", gettext_lazy("Strong")


GAP_STRENGTHS = frozenset({Strength.NONE, Strength.WEAK})


def may_view(user: User | None) -> bool:
    """District staff read the chain maps; nobody else does."""
    return is_district_staff(user)


def strength_for(firms: int, weak_below: int) -> Strength:
    """none with no firm, weak below `weak_below`, strong from twice `weak_below`, covered between."""
    if firms <= 0:
        return Strength.NONE
    if firms < weak_below:
        return Strength.WEAK
    if firms >= 2 * weak_below:
        return Strength.STRONG
    return Strength.COVERED


@dataclass
class Conversion:
    """How far a set of targets has come: entered, turned into leads, signed."""

    targets: int = 0
    leads: int = 0
    signed: int = 0

    def add(self, other: Conversion) -> None:
        self.targets += other.targets
        self.leads += other.leads
        self.signed += other.signed


@dataclass
class NodeStats:
    """A node's local supply and its targets' progress."""

    firms: int = 0  # confirmed + suggested, operating firms
    confirmed: int = 0
    suggested: int = 0
    output: Decimal = Decimal(0)  # sum of the firms' revenue, 万元
    key_firms: list[str] = field(default_factory=list)
    conversion: Conversion = field(default_factory=Conversion)
    strength: Strength = Strength.NONE

    @property
    def is_gap(self) -> bool:
        return self.strength in GAP_STRENGTHS


def node_stats(nodes: Iterable[Node]) -> dict[int, NodeStats]:
    """{node id: NodeStats} for `nodes`, in three grouped queries whatever their number."""
    nodes = list(nodes)
    ids = [node.pk for node in nodes]
    stats = {node_id: NodeStats() for node_id in ids}
    counted = NodeFirm.objects.filter(
        node_id__in=ids, status__in=COUNTED_STATUSES, enterprise__status=EnterpriseStatus.OPERATING
    )
    for row in counted.values("node_id", "status").annotate(n=Count("id"), output=Sum("enterprise__revenue")):
        entry = stats[row["node_id"]]
        entry.firms += row["n"]
        entry.output += row["output"] or Decimal(0)
        if row["status"] == MappingStatus.CONFIRMED:
            entry.confirmed += row["n"]
        else:
            entry.suggested += row["n"]
    for node_id, name, short_name in (
        counted.filter(is_key=True)
        .order_by("node_id", "-enterprise__revenue", "enterprise__name")
        .values_list("node_id", "enterprise__name", "enterprise__short_name")
    ):
        stats[node_id].key_firms.append(short_name or name)
    for row in (
        Target.objects.filter(node_id__in=ids)
        .values("node_id")
        .annotate(
            targets=Count("id"),
            leads=Count("id", filter=Q(project__isnull=False)),
            signed=Count("id", filter=Q(project__stage__in=SIGNED_STAGES)),
        )
    ):
        stats[row["node_id"]].conversion = Conversion(row["targets"], row["leads"], row["signed"])
    for node in nodes:
        stats[node.pk].strength = strength_for(stats[node.pk].firms, node.weak_below)
    return stats


@dataclass
class NodeView:
    node: Node
    stats: NodeStats


@dataclass
class SegmentView:
    """A segment's nodes with their stats, also grouped upstream → midstream → downstream."""

    segment: Segment
    nodes: list[NodeView]

    @property
    def columns(self) -> list[tuple[Position, list[NodeView]]]:
        return [(position, [view for view in self.nodes if view.node.position == position]) for position in Position]


@dataclass
class ChainView:
    """A chain with its segments and the figures of its cards: coverage, gaps, conversion."""

    chain: IndustryChain
    segments: list[SegmentView]

    @property
    def nodes(self) -> list[NodeView]:
        return [view for segment in self.segments for view in segment.nodes]

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    @property
    def gap_count(self) -> int:
        return sum(1 for view in self.nodes if view.stats.is_gap)

    @property
    def covered_count(self) -> int:
        return self.node_count - self.gap_count

    @property
    def coverage(self) -> int:
        """The share of nodes that are not gaps, in whole per cent."""
        return round(100 * self.covered_count / self.node_count) if self.node_count else 0

    @property
    def strength_counts(self) -> list[tuple[Strength, int]]:
        """How many nodes have each strength, strongest last."""
        counts = dict.fromkeys(Strength, 0)
        for view in self.nodes:
            counts[view.stats.strength] += 1
        return list(counts.items())

    @property
    def conversion(self) -> Conversion:
        total = Conversion()
        for view in self.nodes:
            total.add(view.stats.conversion)
        return total


def _chains(queryset: QuerySet[IndustryChain]) -> list[ChainView]:
    chains = list(
        queryset.prefetch_related(
            Prefetch("segments", queryset=Segment.objects.order_by("order", "name")),
            Prefetch("segments__nodes", queryset=Node.objects.order_by("order", "name")),
        )
    )
    nodes = [node for chain in chains for segment in chain.segments.all() for node in segment.nodes.all()]
    stats = node_stats(nodes)
    return [
        ChainView(
            chain=chain,
            segments=[
                SegmentView(segment=segment, nodes=[NodeView(node, stats[node.pk]) for node in segment.nodes.all()])
                for segment in chain.segments.all()
            ],
        )
        for chain in chains
    ]


def chain_trees() -> list[ChainView]:
    """Every chain with its segments, nodes and node stats (six queries in all)."""
    return _chains(IndustryChain.objects.all())


def chain_tree(code: str) -> ChainView:
    """One chain by its code, as in `chain_trees`; NotFoundError when there is none."""
    found = _chains(IndustryChain.objects.filter(code=code))
    if not found:
        raise NotFoundError()
    return found[0]


def chain_firm_counts() -> dict[int, int]:
    """{chain id: distinct local firms mapped to any of its nodes (confirmed or suggested)}."""
    rows = (
        NodeFirm.objects.filter(status__in=COUNTED_STATUSES, enterprise__status=EnterpriseStatus.OPERATING)
        .values("node__segment__chain_id")
        .annotate(n=Count("enterprise_id", distinct=True))
    )
    return {row["node__segment__chain_id"]: row["n"] for row in rows}


def chain_choices() -> list[tuple[str, str]]:
    return list(IndustryChain.objects.values_list("code", "name"))


# -- gaps ----------------------------------------------------------------------------------------------


@dataclass
class Gap:
    """A node with no or weak local supply, its stats and its targets (each with its project loaded)."""

    node: Node
    stats: NodeStats
    targets: list[Target]


def _targets_queryset() -> QuerySet[Target]:
    return Target.objects.select_related("project", "created_by").order_by("status", "name")


def gaps(*, chain: str | None = None) -> list[Gap]:
    """The gaps of every chain (or of the chain with code `chain`), in map order, with their targets."""
    nodes = Node.objects.select_related("segment__chain").prefetch_related(
        Prefetch("targets", queryset=_targets_queryset())
    )
    if chain:
        nodes = nodes.filter(segment__chain__code=chain)
    nodes = list(nodes.order_by("segment__chain__order", "segment__chain__name", "segment__order", "order", "name"))
    stats = node_stats(nodes)
    return [Gap(node, stats[node.pk], list(node.targets.all())) for node in nodes if stats[node.pk].is_gap]


# -- one node --------------------------------------------------------------------------------------------


@dataclass
class NodeDetail:
    node: Node
    stats: NodeStats
    firms: list[NodeFirm]  # confirmed and suggested first, then rejected
    targets: list[Target]


def node_get(pk) -> Node:
    try:
        return Node.objects.select_related("segment__chain").get(pk=pk)
    except (Node.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def node_detail(pk) -> NodeDetail:
    """A node with its stats, its firms (with their enterprises and matched products) and its targets."""
    node = node_get(pk)
    firms = list(
        NodeFirm.objects.filter(node=node)
        .select_related("enterprise__industry", "decided_by")
        .prefetch_related("products")
        .order_by("-is_key", "-enterprise__revenue", "enterprise__name")
    )
    order = {MappingStatus.CONFIRMED: 0, MappingStatus.SUGGESTED: 1, MappingStatus.REJECTED: 2}
    firms.sort(key=lambda firm: order.get(firm.status, 3))
    targets = list(_targets_queryset().filter(node=node))
    return NodeDetail(node=node, stats=node_stats([node])[node.pk], firms=firms, targets=targets)


def node_firm_get(node: Node, pk) -> NodeFirm:
    try:
        return NodeFirm.objects.select_related("enterprise").get(node=node, pk=pk)
    except (NodeFirm.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


# -- targets -----------------------------------------------------------------------------------------


def targets_list(*, chain: str | None = None, node: int | None = None, status: str | None = None) -> QuerySet[Target]:
    """Targets, newest first, optionally of one chain (by code), node or status."""
    queryset = Target.objects.select_related("node__segment__chain", "project", "created_by").order_by(
        "-created_at", "-id"
    )
    if chain:
        queryset = queryset.filter(node__segment__chain__code=chain)
    if node:
        queryset = queryset.filter(node_id=node)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def target_get(pk) -> Target:
    try:
        return Target.objects.select_related("node__segment__chain", "project", "created_by").get(pk=pk)
    except (Target.DoesNotExist, ValueError, TypeError):
        raise NotFoundError() from None


def target_is_signed(target: Target) -> bool:
    return bool(target.project_id and target.project.stage in SIGNED_STAGES)


def matched_by_display(value: str) -> str:
    """What matched, in words: `kw=硬质合金,刀片;ic=3240` → “Keywords: 硬质合金, 刀片 · Industry codes: 3240”."""
    if not value:
        return ""
    if value == MANUAL:
        return _("Added by hand")
    parts = []
    for part in value.split(";"):
        kind, _sep, items = part.partition("=")
        items = items.replace(",", ", ")
        if kind == "kw":
            parts.append(_("Keywords: %(items)s") % {"items": items})
        elif kind == "ic":
            parts.append(_("Industry codes: %(items)s") % {"items": items})
        else:
            parts.append(part)
    return " · ".join(parts)
