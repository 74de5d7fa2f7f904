"""Industry-chain maps (产业链图谱): chain → segment → node, the local firms and products mapped to
each node (by rules, confirmed by people), the gaps where local supply is missing or weak, and the
outside firms targeted to fill them — each of which can become an investment lead in one action.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Position(models.TextChoices):
    UPSTREAM = "upstream", _("Upstream")
    MIDSTREAM = "midstream", _("Midstream")
    DOWNSTREAM = "downstream", _("Downstream")


class IndustryChain(models.Model):
    """A leading chain (主导产业链), e.g. 新材料 or 轨道交通装备配套; `code` matches the registry's
    `Enterprise.chain` value where there is one."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("industry chain")
        verbose_name_plural = _("industry chains")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    """A segment of a chain (e.g. 硬质合金), holding its nodes from upstream to downstream."""

    chain = models.ForeignKey(IndustryChain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["chain", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["chain", "name"], name="chains_segment_unique_name")]

    def __str__(self) -> str:
        return f"{self.chain} · {self.name}"


class Node(models.Model):
    """A link of a segment (e.g. 钨钼原料 → 硬质合金棒材/刀片 → 数控刀具): its position and the rules that
    map firms and products to it — keywords matched against product and firm text, and GB/T 4754
    industry code prefixes. `weak_below` is how many mapped local firms make the node 'covered'."""

    segment = models.ForeignKey(Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(_("name"), max_length=100)
    position = models.CharField(_("position"), max_length=12, choices=Position.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True, help_text=_("Separated by commas."))
    industry_codes = models.CharField(
        _("industry code prefixes"),
        max_length=200,
        blank=True,
        help_text=_("GB/T 4754 codes or prefixes, separated by commas."),
    )
    weak_below = models.PositiveSmallIntegerField(_("weak below (firms)"), default=2)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("chain node")
        verbose_name_plural = _("chain nodes")
        ordering = ["segment", "order", "name"]

    def __str__(self) -> str:
        return self.name


class MappingStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested by the rules")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class NodeFirm(models.Model):
    """A local firm at a node: suggested by the rules (with the matching products), then confirmed
    or rejected by a person. Rejected mappings are kept so the rules do not suggest them again."""

    node = models.ForeignKey(Node, verbose_name=_("node"), on_delete=models.CASCADE, related_name="firms")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="chain_nodes"
    )
    products = models.ManyToManyField(
        "catalog.Product", verbose_name=_("products"), blank=True, related_name="chain_nodes"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MappingStatus.choices, default=MappingStatus.SUGGESTED
    )
    is_key = models.BooleanField(_("key firm"), default=False)
    matched_by = models.CharField(_("matched by"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("firm at a node")
        verbose_name_plural = _("firms at nodes")
        ordering = ["node", "-is_key", "enterprise"]
        constraints = [models.UniqueConstraint(fields=["node", "enterprise"], name="chains_nodefirm_unique")]

    def __str__(self) -> str:
        return f"{self.node}: {self.enterprise}"


class TargetStatus(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    CONTACTED = "contacted", _("Contacted")
    LEAD = "lead", _("Became a lead")
    DROPPED = "dropped", _("Dropped")


class Target(models.Model):
    """An outside firm that could fill a gap at a node (招商目标): who, where, what it makes, why; once
    turned into an investment lead, `project` keeps the link, so the map shows conversion."""

    node = models.ForeignKey(Node, verbose_name=_("node"), on_delete=models.CASCADE, related_name="targets")
    name = models.CharField(_("firm name"), max_length=200)
    location = models.CharField(_("location"), max_length=100, blank=True)
    main_products = models.CharField(_("main products"), max_length=300, blank=True)
    reason = models.TextField(_("why this firm"), blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=TargetStatus.choices, default=TargetStatus.IDENTIFIED)
    project = models.OneToOneField(
        "investments.Project",
        verbose_name=_("investment lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chain_target",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("investment target")
        verbose_name_plural = _("investment targets")
        ordering = ["node", "name"]
        constraints = [models.UniqueConstraint(fields=["node", "name"], name="chains_target_unique_name")]

    def __str__(self) -> str:
        return self.name
