"""Writes on the chain maps: mapping local firms to nodes (rules, then people), the outside firms
targeted at a gap, their Excel import, and turning a target into an investment lead.

Mapping. Each node carries rules — keywords and GB/T 4754 industry code prefixes. `nodes_map_suggest`
applies every node's rules to every listed product of every operating firm and writes the result as
SUGGESTED `NodeFirm` rows with the matching products and what matched (`matched_by`). A person then
confirms or rejects a suggestion, marks key firms, or adds a firm by hand; the rules never touch a
CONFIRMED or REJECTED row again (so a rejection sticks), and a suggestion whose rules no longer match
is withdrawn. The keyword match uses the catalog's one analysis pipeline (see `keyword_features`).

Who may do what: the investment office, the project office and administrators map firms; the
investment office and administrators enter targets and turn them into leads (the pipeline's own rule
for leads). `actor=None` is the system (data migrations, the demo). Every write is audited.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from zhiyuan.accounts.models import Role, User
from zhiyuan.catalog.analysis import bigram_tokens, normalize, word_tokens
from zhiyuan.catalog.models import Product
from zhiyuan.chains.models import IndustryChain, MappingStatus, Node, NodeFirm, Target, TargetStatus
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.excel import read_header_table
from zhiyuan.core.services import audit_record, audit_record_many
from zhiyuan.enterprises.models import Chain, Enterprise
from zhiyuan.enterprises.models import Status as EnterpriseStatus
from zhiyuan.investments.models import Project
from zhiyuan.investments.services import lead_create

# Who may do what.
MAPPING_ROLES = frozenset({Role.ADMIN, Role.INVESTMENT, Role.PROJECT})
TARGET_ROLES = frozenset({Role.ADMIN, Role.INVESTMENT})

# The target fields a person fills in, with their length limits.
TARGET_FIELDS = {"name": 200, "location": 100, "main_products": 300, "reason": 4000, "contact": 100}
# The statuses a person may give a target; LEAD comes only with `target_to_lead`.
SETTABLE_TARGET_STATUSES = {TargetStatus.IDENTIFIED, TargetStatus.CONTACTED, TargetStatus.DROPPED}

# The product fields the keywords are matched against (not materials: what a firm buys is not what it makes).
MATCHED_PRODUCT_FIELDS = ["name", "category", "model_numbers", "specifications", "keywords"]
MANUAL = "manual"
MATCHED_BY_LIMIT = 200
WRITE_BATCH = 2000
ANALYSED_CACHE = 50_000  # distinct field values kept analysed during one mapping run

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LIST_SPLIT = re.compile(r"[,，、;；\n]+")


def _require(actor: User | None, roles: frozenset) -> None:
    if actor is not None and getattr(actor, "role", None) not in roles:
        raise PermissionDeniedError()


def may_map(user: User | None) -> bool:
    """May confirm, reject, add and mark the firms at a node, and refresh the rules' suggestions."""
    return bool(user and user.is_authenticated and user.is_active and user.role in MAPPING_ROLES)


def may_target(user: User | None) -> bool:
    """May enter, import and edit targets and turn them into investment leads."""
    return bool(user and user.is_authenticated and user.is_active and user.role in TARGET_ROLES)


def split_list(text: str) -> list[str]:
    """A comma-separated list (also ，、; or new lines) as its non-empty items, each once, in order."""
    return list(dict.fromkeys(item.strip() for item in _LIST_SPLIT.split(text or "") if item.strip()))


# -- mapping by rules --------------------------------------------------------------------------------


def keyword_features(keyword: str) -> frozenset[str]:
    """What a product's text must contain for `keyword` to match: the keyword's word tokens
    (catalog.analysis.word_tokens), each found among the product's word or bigram tokens.

    A Chinese word token is required as its character pairs (bigram tokens) — which a product that
    has the word as a word token always has too — because the segmenter cuts a word differently in
    a longer context: with 硬质合金刀片 in the user dictionary, the product 硬质合金刀片 has the words
    硬质, 合金, 刀片 and 硬质合金刀片 but not 硬质合金, yet it has every pair of 硬质合金. A one-character
    word is required as that character; a Latin/digit token (YG8, m8x30 and its parts) as itself.
    """
    features: set[str] = set()
    for token in word_tokens(keyword):
        if _HAN.search(token):
            if len(token) == 1:
                features.add(token)
            else:
                features.update(bigram_tokens(token))
        else:
            features.add(token)
    return frozenset(features)


def text_features(text: str) -> set[str]:
    """Everything a product's text offers to the keyword match: its word tokens, its bigram tokens and
    its single Chinese characters (the characters of its bigram tokens)."""
    bigrams = bigram_tokens(text)
    features = set(word_tokens(text))
    features.update(bigrams)
    features.update(char for bigram in bigrams for char in bigram)
    return features


@dataclass
class _Rule:
    node_id: int
    keywords: list[tuple[str, frozenset[str]]]
    codes: list[str]


@dataclass
class _Match:
    products: set[int] = field(default_factory=set)
    keywords: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    def matched_by(self) -> str:
        """A language-neutral record of what matched, e.g. `kw=硬质合金,刀片;ic=3240` (see
        selectors.matched_by_display for the words shown)."""
        parts = []
        if self.keywords:
            parts.append("kw=" + ",".join(self.keywords))
        if self.codes:
            parts.append("ic=" + ",".join(self.codes))
        text = ";".join(parts)
        if len(text) > MATCHED_BY_LIMIT:
            text = text[: MATCHED_BY_LIMIT - 1] + "…"
        return text


def _rules(nodes: Iterable[dict]) -> list[_Rule]:
    rules = []
    for node in nodes:
        keywords = [(keyword, keyword_features(keyword)) for keyword in split_list(node["keywords"])]
        rules.append(
            _Rule(
                node_id=node["id"],
                keywords=[(keyword, features) for keyword, features in keywords if features],
                codes=[code.upper() for code in split_list(node["industry_codes"])],
            )
        )
    return rules


def _product_postings(needed: set[str]) -> tuple[dict[str, set[int]], dict[int, int]]:
    """An inverted index of the listed products of operating firms over the features the rules need:
    {feature: product ids}, and {product id: enterprise id}. Each distinct field value is analysed
    once (categories and keywords repeat across products)."""
    postings: dict[str, set[int]] = defaultdict(set)
    owner: dict[int, int] = {}
    analysed: dict[str, frozenset[str]] = {}
    products = Product.objects.filter(is_active=True, enterprise__status=EnterpriseStatus.OPERATING).values_list(
        "id", "enterprise_id", *MATCHED_PRODUCT_FIELDS
    )
    for product_id, enterprise_id, *texts in products.iterator(chunk_size=WRITE_BATCH):
        owner[product_id] = enterprise_id
        found: set[str] = set()
        for text in texts:
            if not text:
                continue
            features = analysed.get(text)
            if features is None:
                if len(analysed) >= ANALYSED_CACHE:
                    analysed.clear()
                features = analysed[text] = frozenset(text_features(text) & needed)
            found |= features
        for feature in found:
            postings[feature].add(product_id)
    return postings, owner


def compute_matches(nodes: Iterable[dict] | None = None) -> dict[tuple[int, int], _Match]:
    """Apply the rules of `nodes` (all nodes by default; dicts with id, keywords and industry_codes)
    to the products and firms: {(node id, enterprise id): what matched}.

    One pass over the products builds an inverted index of just the features the keywords need; a
    keyword's products are then the intersection of its features' postings. Industry codes match the
    operating firms whose industry code starts with them."""
    if nodes is None:
        nodes = Node.objects.values("id", "keywords", "industry_codes")
    rules = _rules(nodes)
    needed = {feature for rule in rules for _keyword, features in rule.keywords for feature in features}
    postings, owner = _product_postings(needed) if needed else ({}, {})
    firms = list(
        Enterprise.objects.filter(status=EnterpriseStatus.OPERATING).values_list("id", "industry_id").iterator()
    )
    matches: dict[tuple[int, int], _Match] = defaultdict(_Match)
    for rule in rules:
        for keyword, features in rule.keywords:
            found: set[int] | None = None
            for feature in sorted(features, key=lambda f: len(postings.get(f, ()))):
                found = set(postings.get(feature, ())) if found is None else found & postings.get(feature, set())
                if not found:
                    break
            for product_id in found or ():
                match = matches[(rule.node_id, owner[product_id])]
                match.products.add(product_id)
                if keyword not in match.keywords:
                    match.keywords.append(keyword)
        if rule.codes:
            for enterprise_id, industry in firms:
                code = next((code for code in rule.codes if (industry or "").upper().startswith(code)), None)
                if code:
                    matches[(rule.node_id, enterprise_id)].codes.append(code)
    return dict(matches)


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def nodes_map_suggest(*, actor: User | None = None) -> int:
    """Apply every node's rules and bring the SUGGESTED mappings up to date: new matches become
    suggestions (with their products and `matched_by`), suggestions whose products or reasons changed
    are updated, and suggestions the rules no longer support are withdrawn. CONFIRMED and REJECTED
    rows are never touched. Returns how many suggestions were created, changed or withdrawn.

    Set-based: the matching reads the products once (see `compute_matches`); the writes are bulk
    inserts, updates and deletes in one transaction, with one audit entry per chain that changed."""
    _require(actor, MAPPING_ROLES)
    nodes = list(Node.objects.values("id", "keywords", "industry_codes", "segment__chain_id"))
    chain_of = {node["id"]: node["segment__chain_id"] for node in nodes}
    matches = compute_matches(nodes)
    through = NodeFirm.products.through
    with transaction.atomic():
        rows = NodeFirm.objects.select_for_update().values("id", "node_id", "enterprise_id", "status", "matched_by")
        existing = {(row["node_id"], row["enterprise_id"]): row for row in rows}
        current_products: dict[int, set[int]] = defaultdict(set)
        links_now = through.objects.filter(nodefirm__status=MappingStatus.SUGGESTED)
        for firm_id, product_id in links_now.values_list("nodefirm_id", "product_id").iterator(chunk_size=WRITE_BATCH):
            current_products[firm_id].add(product_id)

        to_create: list[tuple[NodeFirm, set[int]]] = []
        to_update: list[tuple[NodeFirm, set[int]]] = []
        changed_chains: dict[int, int] = defaultdict(int)
        for key, match in matches.items():
            row = existing.get(key)
            if row is None:
                firm = NodeFirm(node_id=key[0], enterprise_id=key[1], matched_by=match.matched_by())
                to_create.append((firm, match.products))
                changed_chains[chain_of[key[0]]] += 1
            elif row["status"] == MappingStatus.SUGGESTED:
                reason = match.matched_by()
                if reason != row["matched_by"] or match.products != current_products.get(row["id"], set()):
                    to_update.append((NodeFirm(pk=row["id"], matched_by=reason), match.products))
                    changed_chains[chain_of[key[0]]] += 1
        stale = []
        for key, row in existing.items():
            if row["status"] == MappingStatus.SUGGESTED and key not in matches:
                stale.append(row["id"])
                changed_chains[chain_of[key[0]]] += 1

        NodeFirm.objects.bulk_create([firm for firm, _products in to_create], batch_size=WRITE_BATCH)
        NodeFirm.objects.bulk_update([firm for firm, _products in to_update], ["matched_by"], batch_size=WRITE_BATCH)
        for chunk in _chunks([firm.pk for firm, _products in to_update]):
            through.objects.filter(nodefirm_id__in=chunk).delete()
        links = [
            through(nodefirm_id=firm.pk, product_id=product_id)
            for firm, products in [*to_create, *to_update]
            for product_id in sorted(products)
        ]
        through.objects.bulk_create(links, batch_size=WRITE_BATCH)
        for chunk in _chunks(stale):
            NodeFirm.objects.filter(pk__in=chunk, status=MappingStatus.SUGGESTED).delete()

        for chain in IndustryChain.objects.filter(pk__in=changed_chains):
            audit_record(
                actor=actor,
                action="chains.chain.mapped",
                obj=chain,
                changes={"suggestions changed": [None, changed_chains[chain.pk]]},
            )
    return len(to_create) + len(to_update) + len(stale)


# -- mapping by people -------------------------------------------------------------------------------


def _decide(*, actor: User | None, node_firm: NodeFirm, status: str, is_key: bool | None = None) -> NodeFirm:
    with transaction.atomic():
        locked = NodeFirm.objects.select_for_update().get(pk=node_firm.pk)
        before = {"status": locked.status, "is_key": locked.is_key}
        locked.status = status
        if is_key is not None:
            locked.is_key = is_key
        if status == MappingStatus.REJECTED:
            locked.is_key = False
        after = {"status": locked.status, "is_key": locked.is_key}
        if after == before:
            return locked
        locked.decided_by = actor if getattr(actor, "pk", None) else None
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "is_key", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action=f"chains.nodefirm.{'key' if status == before['status'] else status}",
            obj=locked,
            changes={name: [before[name], after[name]] for name in after if before[name] != after[name]},
        )
    return locked


def node_firm_confirm(*, actor: User | None, node_firm: NodeFirm) -> NodeFirm:
    """Confirm that the firm belongs at the node (a rejected firm can be confirmed again)."""
    _require(actor, MAPPING_ROLES)
    return _decide(actor=actor, node_firm=node_firm, status=MappingStatus.CONFIRMED)


def node_firm_reject(*, actor: User | None, node_firm: NodeFirm) -> NodeFirm:
    """Reject the firm at the node: it no longer counts, and the rules will not suggest it again."""
    _require(actor, MAPPING_ROLES)
    return _decide(actor=actor, node_firm=node_firm, status=MappingStatus.REJECTED)


def node_firm_set_key(*, actor: User | None, node_firm: NodeFirm, is_key: bool) -> NodeFirm:
    """Mark (or unmark) a key firm of the node. A key firm is a confirmed one, so marking a suggested
    firm confirms it; a rejected firm must be confirmed first."""
    _require(actor, MAPPING_ROLES)
    if node_firm.status == MappingStatus.REJECTED and is_key:
        raise ConflictError(_("This firm was rejected at this node; confirm it before marking it as a key firm."))
    status = MappingStatus.CONFIRMED if is_key else node_firm.status
    return _decide(actor=actor, node_firm=node_firm, status=status, is_key=bool(is_key))


def node_firm_add(*, actor: User | None, node: Node, enterprise: Enterprise, is_key: bool = False) -> NodeFirm:
    """Put a local firm at a node by hand (confirmed). A firm the rules suggested, or someone rejected,
    is confirmed in place, keeping its matched products."""
    _require(actor, MAPPING_ROLES)
    if enterprise.status != EnterpriseStatus.OPERATING:
        raise ValidationFailed(_("This enterprise is no longer operating in the district."), field="enterprise")
    with transaction.atomic():
        existing = NodeFirm.objects.select_for_update().filter(node=node, enterprise=enterprise).first()
        if existing is not None:
            return _decide(actor=actor, node_firm=existing, status=MappingStatus.CONFIRMED, is_key=is_key or None)
        firm = NodeFirm.objects.create(
            node=node,
            enterprise=enterprise,
            status=MappingStatus.CONFIRMED,
            is_key=is_key,
            matched_by=MANUAL,
            decided_by=actor if getattr(actor, "pk", None) else None,
            decided_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="chains.nodefirm.added",
            obj=firm,
            changes={"status": [None, firm.status], "is_key": [None, firm.is_key]},
        )
    return firm


# -- targets -----------------------------------------------------------------------------------------


def _clean_target(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    allowed = set(TARGET_FIELDS) | ({"status"} if partial else set())
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be set here.")] for name in unknown})
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, limit in TARGET_FIELDS.items():
        if name not in data:
            continue
        raw = data.get(name)
        value = str(raw or "").strip() if name == "reason" else " ".join(str(raw or "").split())
        if len(value) > limit:
            errors.setdefault(name, []).append(_("At most %(limit)s characters.") % {"limit": limit})
        cleaned[name] = value
    if (not partial or "name" in cleaned) and not cleaned.get("name"):
        errors["name"] = [_("Give the firm's name.")]
    if "status" in data:
        try:
            status = TargetStatus(data["status"])
        except ValueError:
            status = None
        if status not in SETTABLE_TARGET_STATUSES:
            errors["status"] = [
                _("Choose identified, contacted or dropped; a target becomes a lead by its own action.")
            ]
        cleaned["status"] = status
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _duplicate_name(node: Node, name: str, *, exclude: int | None = None) -> ValidationFailed | None:
    if Target.objects.filter(node=node, name=name).exclude(pk=exclude).exists():
        return ValidationFailed(_("This node already has a target with this name."), field="name")
    return None


def target_create(*, actor: User | None, node: Node, data: dict[str, Any], is_demo: bool = False) -> Target:
    """Enter an outside firm that could fill the node's gap: name (required, unique at the node),
    location, main products, why, contact."""
    _require(actor, TARGET_ROLES)
    cleaned = _clean_target(data, partial=False)
    error = _duplicate_name(node, cleaned["name"])
    if error:
        raise error
    try:
        with transaction.atomic():
            target = Target.objects.create(
                node=node, created_by=actor if getattr(actor, "pk", None) else None, is_demo=is_demo, **cleaned
            )
            audit_record(
                actor=actor,
                action="chains.target.created",
                obj=target,
                changes={name: [None, value] for name, value in cleaned.items() if value},
            )
    except IntegrityError:
        raise ValidationFailed(_("This node already has a target with this name."), field="name") from None
    return target


def target_update(*, actor: User | None, target: Target, data: dict[str, Any]) -> Target:
    """Correct a target's details or move it between identified, contacted and dropped. A target
    that has become a lead keeps its status (the lead's own stage tells its progress)."""
    _require(actor, TARGET_ROLES)
    cleaned = _clean_target(data, partial=True)
    with transaction.atomic():
        locked = Target.objects.select_for_update().get(pk=target.pk)
        if "status" in cleaned and locked.project_id and cleaned["status"] != locked.status:
            raise ConflictError(_("This target is already an investment lead; follow it in the project pipeline."))
        if "name" in cleaned:
            error = _duplicate_name(locked.node, cleaned["name"], exclude=locked.pk)
            if error:
                raise error
        changes = {}
        for name, value in cleaned.items():
            old = getattr(locked, name)
            if old != value:
                changes[name] = [old, value]
                setattr(locked, name, value)
        if changes:
            try:
                with transaction.atomic():
                    locked.save(update_fields=list(changes))
            except IntegrityError:
                raise ValidationFailed(_("This node already has a target with this name."), field="name") from None
            audit_record(actor=actor, action="chains.target.updated", obj=locked, changes=changes)
    return locked


def _lead_name(target: Target) -> str:
    products = " ".join(target.main_products.split())
    name = _("Bring in %(firm)s %(products)s") % {"firm": target.name, "products": products}
    return name.strip()[:200]


def _lead_description(target: Target, node: Node) -> str:
    segment, chain = node.segment, node.segment.chain
    lines = [
        _("From the chain map: %(chain)s · %(segment)s · %(node)s, a node with no or weak local supply.")
        % {"chain": chain.name, "segment": segment.name, "node": node.name}
    ]
    if target.reason:
        lines.append(_("Why this firm: %(reason)s") % {"reason": target.reason})
    if target.main_products:
        lines.append(_("Main products: %(products)s") % {"products": target.main_products})
    if target.location:
        lines.append(_("Location: %(location)s") % {"location": target.location})
    if target.contact:
        lines.append(_("Contact: %(contact)s") % {"contact": target.contact})
    return "\n".join(lines)


def target_to_lead(*, actor: User | None, target: Target, is_demo: bool = False) -> Project:
    """Turn the target into an investment lead (线索) in the project pipeline, in one action: the lead is
    named after the firm and its products, carries the node's chain and a note with the reason, and the
    target keeps the link (status LEAD). A target that already has its lead → ConflictError."""
    _require(actor, TARGET_ROLES)
    with transaction.atomic():
        locked = Target.objects.select_for_update().select_related("node__segment__chain").get(pk=target.pk)
        if locked.project_id:
            raise ConflictError(
                _("This target is already an investment lead (%(project)s).") % {"project": locked.project}
            )
        node = locked.node
        code = node.segment.chain.code
        project = lead_create(
            actor=actor,
            data={
                "name": _lead_name(locked),
                "source": _("Industry-chain gap target")[:100],
                "investor_name": locked.name,
                "chain": code if code in Chain.values else Chain.OTHER,
                "description": _lead_description(locked, node),
            },
            is_demo=is_demo or locked.is_demo,
        )
        old_status = locked.status
        locked.project = project
        locked.status = TargetStatus.LEAD
        locked.save(update_fields=["project", "status"])
        audit_record(
            actor=actor,
            action="chains.target.to_lead",
            obj=locked,
            changes={"project": [None, str(project)], "status": [old_status, locked.status]},
        )
    target.project, target.status = project, locked.status
    return project


# -- target import -----------------------------------------------------------------------------------

# The sheet's columns, as the investment office writes them (data, not interface text).
CHAIN_HEADER = "产业链"
NODE_HEADER = "环节/节点"
NAME_HEADER = "企业名称"
LOCATION_HEADER = "所在地"
PRODUCTS_HEADER = "主营产品"
REASON_HEADER = "理由"
CONTACT_HEADER = "联系方式"
IMPORT_HEADERS = [
    CHAIN_HEADER,
    NODE_HEADER,
    NAME_HEADER,
    LOCATION_HEADER,
    PRODUCTS_HEADER,
    REASON_HEADER,
    CONTACT_HEADER,
]
REQUIRED_HEADERS = [CHAIN_HEADER, NODE_HEADER, NAME_HEADER]
HEADER_ALIASES = {
    "环节": NODE_HEADER,
    "节点": NODE_HEADER,
    "链节点": NODE_HEADER,
    "目标企业": NAME_HEADER,
    "企业": NAME_HEADER,
    "所在地区": LOCATION_HEADER,
    "地区": LOCATION_HEADER,
    "主要产品": PRODUCTS_HEADER,
    "主营业务": PRODUCTS_HEADER,
    "引进理由": REASON_HEADER,
    "推荐理由": REASON_HEADER,
    "联系人": CONTACT_HEADER,
    "联系电话": CONTACT_HEADER,
}
HEADER_FIELD = {
    NAME_HEADER: "name",
    LOCATION_HEADER: "location",
    PRODUCTS_HEADER: "main_products",
    REASON_HEADER: "reason",
    CONTACT_HEADER: "contact",
}
MAX_IMPORT_ROWS = 5000
# Between a segment and a node in the 环节/节点 column (硬质合金/数控刀具, 硬质合金 · 数控刀具 …).
NODE_SEPARATORS = ["/", "／", "·", "-", "—", ">", "→", "－", "|", ":", "："]


@dataclass(frozen=True)
class RowError:
    """One problem in the sheet: the Excel row number, the column header and why."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)d, %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ImportRow:
    """What one good row adds: a target at a node."""

    row: int
    node: Node
    data: dict[str, str]

    @property
    def name(self) -> str:
        return self.data["name"]


@dataclass
class TargetImportReport:
    """The outcome of an import or its dry run: the rows that would be (or were) added, every
    problem, and whether anything was written."""

    dry_run: bool
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})


def _key(value: Any) -> str:
    """Compare names without spaces, case or full-/half-width differences."""
    return re.sub(r"\s+", "", normalize(str(value or "")))


_HEADER_LOOKUP = {_key(header): header for header in IMPORT_HEADERS} | {
    _key(alias): header for alias, header in HEADER_ALIASES.items()
}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_sheet(file) -> tuple[dict[str, int], list[tuple[int, list[Any]]]]:
    """({header: column}, [(Excel row, cells)]) of the first sheet; ValidationFailed on `file`."""
    table = read_header_table(
        file,
        canonical=lambda cell: _HEADER_LOOKUP.get(_key(cell)),
        key_header=NAME_HEADER,
        required=REQUIRED_HEADERS,
        max_rows=MAX_IMPORT_ROWS,
    )
    return table.columns, table.body


class _NodeLookup:
    """Finds a chain by name or code and a node of it by name, or by segment and node name."""

    def __init__(self) -> None:
        self.chains: dict[str, IndustryChain] = {}
        self.nodes: dict[int, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
        for chain in IndustryChain.objects.all():
            self.chains[_key(chain.name)] = chain
            self.chains[_key(chain.code)] = chain
        for node in Node.objects.select_related("segment__chain"):
            names = self.nodes[node.segment.chain_id]
            keys = {_key(node.name)} | {_key(f"{node.segment.name}{sep}{node.name}") for sep in NODE_SEPARATORS}
            for key in keys:
                names[key].append(node)

    def chain_names(self) -> str:
        return "、".join(sorted({chain.name for chain in self.chains.values()}))

    def chain(self, value: str) -> IndustryChain | None:
        return self.chains.get(_key(value))

    def node(self, chain: IndustryChain, value: str) -> list[Node]:
        return self.nodes[chain.pk].get(_key(value), [])


def _plan_rows(columns: dict[str, int], body: list[tuple[int, list[Any]]]) -> TargetImportReport:
    report = TargetImportReport(dry_run=True)
    lookup = _NodeLookup()
    existing = set(Target.objects.values_list("node_id", "name"))
    seen: dict[tuple[int, str], int] = {}

    def cell(values: list[Any], header: str) -> str:
        index = columns.get(header)
        return _cell_text(values[index]) if index is not None and index < len(values) else ""

    for number, values in body:
        errors = report.errors
        before = len(errors)
        chain_text, node_text = cell(values, CHAIN_HEADER), cell(values, NODE_HEADER)
        node = None
        chain = lookup.chain(chain_text) if chain_text else None
        if not chain_text:
            errors.append(RowError(number, CHAIN_HEADER, _("This field is required.")))
        elif chain is None:
            errors.append(
                RowError(
                    number,
                    CHAIN_HEADER,
                    _("Unknown industry chain; use one of: %(names)s.") % {"names": lookup.chain_names()},
                )
            )
        if not node_text:
            errors.append(RowError(number, NODE_HEADER, _("This field is required.")))
        elif chain is not None:
            found = lookup.node(chain, node_text)
            if not found:
                errors.append(
                    RowError(number, NODE_HEADER, _("No node of %(chain)s has this name.") % {"chain": chain.name})
                )
            elif len(found) > 1:
                errors.append(
                    RowError(
                        number,
                        NODE_HEADER,
                        _("Several segments have a node with this name; write it as segment/node."),
                    )
                )
            else:
                node = found[0]
        data = {field_name: " ".join(cell(values, header).split()) for header, field_name in HEADER_FIELD.items()}
        data["reason"] = cell(values, REASON_HEADER)
        header_of = {field_name: header for header, field_name in HEADER_FIELD.items()}
        try:
            _clean_target(data, partial=False)
        except ValidationFailed as error:
            for name, messages in error.fields.items():
                for message in messages:
                    errors.append(RowError(number, header_of.get(name, name), str(message)))
        if node is not None and data["name"]:
            key = (node.pk, data["name"])
            if key in existing:
                errors.append(RowError(number, NAME_HEADER, _("This node already has a target with this name.")))
            elif key in seen:
                errors.append(
                    RowError(number, NAME_HEADER, _("Repeats row %(row)d of this file.") % {"row": seen[key]})
                )
            else:
                seen[key] = number
        if len(errors) == before and node is not None:
            report.rows.append(ImportRow(row=number, node=node, data=data))
    return report


def target_import(*, actor: User | None, file, dry_run: bool) -> TargetImportReport:
    """Import targets from Excel (产业链, 环节/节点, 企业名称, 所在地, 主营产品, 理由, 联系方式): every row
    is checked and every problem reported as (row, column, reason); nothing is written while any row
    is bad (or on a dry run), and the rows are written in one transaction, audited in bulk."""
    _require(actor, TARGET_ROLES)
    columns, body = _read_sheet(file)
    report = _plan_rows(columns, body)
    report.dry_run = dry_run
    if dry_run or report.errors:
        return report
    creator = actor if getattr(actor, "pk", None) else None
    try:
        with transaction.atomic():
            targets = Target.objects.bulk_create(
                [Target(node=row.node, created_by=creator, **row.data) for row in report.rows],
                batch_size=WRITE_BATCH,
            )
            audit_record_many(
                actor=actor,
                action="chains.target.imported",
                objs=targets,
                changes_for=lambda target: {"name": [None, target.name], "node": [None, str(target.node)]},
            )
    except IntegrityError:
        raise ConflictError(_("Targets were added while the file was being imported; check it again.")) from None
    report.written = True
    return report


def target_template_workbook() -> bytes:
    """The empty import sheet: the headers and one example row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "招商目标"
    sheet.append(IMPORT_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(
        [
            "新材料",
            "碳纤维/原丝",
            "吉林化纤集团有限责任公司",
            "吉林省吉林市",
            "碳纤维原丝、大丝束碳纤维",
            "本地碳纤维原丝空白，可配套碳纤维制品企业",
            "招商一局 0731-00000000",
        ]
    )
    for letter, width in zip("ABCDEFG", [12, 22, 32, 16, 28, 40, 24], strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
