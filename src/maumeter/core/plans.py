"""Plans: the tier table, an org's plan, its contract term and rollover settings.

The org is the pool: its plan caps the distinct persons counted over all its projects. Terms
renew back to back: term ``i`` covers ``start + i * months`` to ``start + (i + 1) * months - 1``;
months before the first term's start belong to no term (and roll nothing over, see
``maumeter.core.caps``). A tier table comes from configuration JSON; errors name the field.

Prices are ``Decimal`` (never binary floats): JSON numbers and strings are read through their
decimal text, and written back as strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.months import Month, zone

__all__ = [
    "DEFAULT_TIERS",
    "Plan",
    "Policy",
    "Rollover",
    "Term",
    "Tier",
    "TierTable",
    "recommend",
]

MAX_ALLOTMENT = 2**63 - 1  # what the stores keep in a BIGINT


class Policy(StrEnum):
    """What happens at the cap (DESIGN.md, "Plan"): refuse new persons, bill overage, or nothing."""

    HARD = "hard"
    SOFT = "soft"
    NONE = "none"


def _policy(value: Any) -> Policy | None:
    return Policy(value) if isinstance(value, str) and value in Policy._value2member_map_ else None


def _count(value: Any, name: str, problems: list[Problem], minimum: int = 0) -> int | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not minimum <= value <= MAX_ALLOTMENT
    ):
        problems.append(Problem(name, f"expected a whole number from {minimum}, got {value!r}"))
        return None
    return value


def _price(value: Any, name: str, problems: list[Problem]) -> Decimal | None:
    """A non-negative finite price; JSON numbers and strings ("0.02") alike, never binary floats."""
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise TypeError
        price = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if price.is_finite() and price >= 0:
            return price
    except (TypeError, InvalidOperation):
        pass
    problems.append(Problem(name, f"expected a non-negative decimal such as '0.02', got {value!r}"))
    return None


def _check_price(value: Any, name: str, problems: list[Problem]) -> None:
    """Prices held by a value are Decimals already: parsing happens at the edge (``parse``)."""
    if value is not None and (not isinstance(value, Decimal) or not value.is_finite() or value < 0):
        problems.append(Problem(name, f"expected a non-negative Decimal, got {value!r}"))


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems)


@dataclass(frozen=True, slots=True)
class Tier:
    """A row of the price list; ``allotment`` None is the custom tier (above the others)."""

    name: str
    allotment: int | None
    monthly_price: Decimal | None = None
    overage_price: Decimal | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(Problem("name", f"expected a tier name, got {self.name!r}"))
        if self.allotment is not None:
            _count(self.allotment, "allotment", problems, minimum=1)
        _check_price(self.monthly_price, "monthly_price", problems)
        _check_price(self.overage_price, "overage_price", problems)
        _raise(problems)

    @property
    def custom(self) -> bool:
        return self.allotment is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; prices as strings so that no float ever touches them."""
        return {
            "name": self.name,
            "allotment": self.allotment,
            "monthly_price": None if self.monthly_price is None else str(self.monthly_price),
            "overage_price": None if self.overage_price is None else str(self.overage_price),
        }


@dataclass(frozen=True, slots=True)
class TierTable:
    """Tiers in order: strictly increasing allotments, at most one custom tier, last.

    The first tier is the default plan (Jimo: up to 2,500 MAU).
    """

    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not self.tiers:
            problems.append(Problem("tiers", "expected at least one tier"))
        names: set[str] = set()
        previous = 0
        for i, tier in enumerate(self.tiers):
            if tier.name in names:
                problems.append(Problem(f"tiers[{i}].name", f"duplicate tier {tier.name!r}"))
            names.add(tier.name)
            if tier.allotment is None:
                if i != len(self.tiers) - 1:
                    problems.append(
                        Problem(f"tiers[{i}].allotment", "only the last tier may be custom")
                    )
            elif tier.allotment <= previous:
                problems.append(
                    Problem(
                        f"tiers[{i}].allotment",
                        f"expected more than {previous:,}, got {tier.allotment:,}",
                    )
                )
            else:
                previous = tier.allotment
        _raise(problems)

    @classmethod
    def parse(cls, data: Any, field_name: str = "tiers") -> TierTable:
        """From configuration JSON: a list of ``{"name", "allotment", "monthly_price",
        "overage_price"}`` objects (allotment null = custom). Every problem is reported at once,
        named by its path (``tiers[2].overage_price``)."""
        if not isinstance(data, Sequence) or isinstance(data, str | bytes):
            raise InvalidInput.field(
                field_name, f"expected a list of tiers, got {type(data).__name__}"
            )
        problems: list[Problem] = []
        tiers: list[Tier] = []
        for i, item in enumerate(data):
            path = f"{field_name}[{i}]"
            if not isinstance(item, Mapping):
                problems.append(Problem(path, "expected an object with name and allotment"))
                continue
            found = len(problems)
            for key in sorted(set(item) - {"name", "allotment", "monthly_price", "overage_price"}):
                problems.append(Problem(f"{path}.{key}", "unknown field"))
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                problems.append(Problem(f"{path}.name", f"expected a tier name, got {name!r}"))
            allotment = item.get("allotment")
            if allotment is not None:
                _count(allotment, f"{path}.allotment", problems, minimum=1)
            monthly = _price(item.get("monthly_price"), f"{path}.monthly_price", problems)
            over = _price(item.get("overage_price"), f"{path}.overage_price", problems)
            if len(problems) == found:
                tiers.append(Tier(name, allotment, monthly, over))  # type: ignore[arg-type]
        _raise(problems)
        try:
            return cls(tuple(tiers))
        except InvalidInput as e:  # re-root the table's own problems under field_name
            raise InvalidInput(
                [Problem(field_name + p.field.removeprefix("tiers"), p.message) for p in e.problems]
            ) from None

    def to_list(self) -> list[dict[str, Any]]:
        return [tier.to_dict() for tier in self.tiers]

    @property
    def default(self) -> Tier:
        return self.tiers[0]

    def get(self, name: str) -> Tier:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        known = ", ".join(t.name for t in self.tiers)
        raise InvalidInput.field("tier", f"unknown tier {name!r}; expected one of {known}")

    def fits(self, mau: int) -> Tier:
        """The smallest tier whose allotment holds ``mau``; above them all, the custom tier, or
        the largest tier when the table has none (the customer then pays overage)."""
        for tier in self.tiers:
            if tier.allotment is None or tier.allotment >= mau:
                return tier
        return self.tiers[-1]


DEFAULT_TIERS = TierTable(
    (
        Tier("starter", 2_500),
        Tier("growth", 5_000),
        Tier("pro", 10_000),
        Tier("business", 25_000),
        Tier("scale", 50_000),
        Tier("custom", None),
    )
)


def recommend(table: TierTable, mau: int) -> Tier:
    """The tier for the next cycle after a month of ``mau``: the smallest one that holds it."""
    return table.fits(mau)


@dataclass(frozen=True, slots=True)
class Rollover:
    """Whether unused allotment carries into the next month, and at most how much in total."""

    enabled: bool = False
    max_carried: int | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not isinstance(self.enabled, bool):
            problems.append(
                Problem("rollover.enabled", f"expected true or false, got {self.enabled!r}")
            )
        if self.max_carried is not None:
            _count(self.max_carried, "rollover.max_carried", problems)
        _raise(problems)


@dataclass(frozen=True, slots=True)
class Term:
    """A contract term: ``months`` months from ``start``, renewing back to back."""

    start: Month
    months: int

    def __post_init__(self) -> None:
        if not isinstance(self.start, Month):
            raise TypeError(f"Term.start must be a Month, got {self.start!r}")
        if (
            isinstance(self.months, bool)
            or not isinstance(self.months, int)
            or not 1 <= self.months <= 1200
        ):
            raise InvalidInput.field(
                "term.months", f"expected 1 to 1200 months, got {self.months!r}"
            )

    @property
    def end(self) -> Month:
        """The last month of the term (inclusive)."""
        return Month.from_index(self.start.index + self.months - 1)

    def contains(self, month: Month) -> bool:
        return self.start <= month <= self.end

    def renewal(self, i: int) -> Term:
        """Term ``i`` of the back-to-back sequence (0 is this one)."""
        return Term(Month.from_index(self.start.index + i * self.months), self.months)

    def covering(self, month: Month) -> Term | None:
        """The renewal that contains ``month``; None before the first term starts."""
        offset = month.index - self.start.index
        return None if offset < 0 else self.renewal(offset // self.months)


@dataclass(frozen=True, slots=True)
class Plan:
    """An org's plan. ``tier`` None means a custom allotment; prices default from the tier
    (``Plan.build``). ``timezone`` is the billing zone whose calendar months the plan meters."""

    tier: str | None
    allotment: int
    policy: Policy = Policy.NONE
    timezone: str = "UTC"
    term: Term | None = None
    rollover: Rollover = field(default_factory=Rollover)
    monthly_price: Decimal | None = None
    overage_price: Decimal | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _count(self.allotment, "allotment", problems)
        policy = _policy(self.policy)
        if policy is None:
            problems.append(Problem("policy", f"expected hard, soft or none, got {self.policy!r}"))
        else:
            object.__setattr__(self, "policy", policy)  # "soft" given as a plain string
        _check_price(self.monthly_price, "monthly_price", problems)
        _check_price(self.overage_price, "overage_price", problems)
        if not isinstance(self.rollover, Rollover):
            problems.append(Problem("rollover", f"expected a Rollover, got {self.rollover!r}"))
        if self.term is not None and not isinstance(self.term, Term):
            problems.append(Problem("term", f"expected a Term, got {self.term!r}"))
        try:
            zone(self.timezone)
        except InvalidInput as e:
            problems.extend(Problem("timezone", p.message) for p in e.problems)
        _raise(problems)

    @classmethod
    def build(
        cls,
        table: TierTable,
        tier: str | None = None,
        allotment: int | None = None,
        **options: Any,
    ) -> Plan:
        """A plan on ``tier`` of ``table`` (the default tier when neither tier nor allotment is
        given), or on a custom ``allotment``. The custom tier needs an allotment; a fixed tier
        refuses a different one. Prices not given come from the tier."""
        chosen = table.get(tier) if tier is not None else None
        if chosen is None and allotment is None:
            chosen = table.default
        if chosen is not None and chosen.allotment is not None:
            if allotment is not None and allotment != chosen.allotment:
                raise InvalidInput.field(
                    "allotment",
                    f"tier {chosen.name!r} allots {chosen.allotment:,}; omit the allotment or pick "
                    "the custom tier",
                )
            allotment = chosen.allotment
        elif allotment is None:
            raise InvalidInput.field("allotment", f"tier {tier!r} is custom: give an allotment")
        if chosen is not None:
            options.setdefault("monthly_price", chosen.monthly_price)
            options.setdefault("overage_price", chosen.overage_price)
        return cls(chosen.name if chosen else None, allotment, **options)

    @classmethod
    def parse(cls, data: Any, table: TierTable = DEFAULT_TIERS) -> Plan:
        """From API/CLI JSON: ``{"tier"?, "allotment"?, "policy"?, "timezone"?, "term"?:
        {"start": "YYYY-MM", "months"}, "rollover"?: {"enabled", "max_carried"?},
        "monthly_price"?, "overage_price"?}``."""
        if not isinstance(data, Mapping):
            raise InvalidInput.field("plan", "expected an object")
        known = {"tier", "allotment", "policy", "timezone", "term", "rollover"}
        known |= {"monthly_price", "overage_price"}
        problems = [Problem(k, "unknown field") for k in sorted(set(data) - known)]
        options: dict[str, Any] = {}
        if data.get("policy") is not None:
            options["policy"] = _policy(data["policy"])
            if options["policy"] is None:
                problems.append(
                    Problem("policy", f"expected hard, soft or none, got {data['policy']!r}")
                )
        if data.get("timezone") is not None:
            options["timezone"] = data["timezone"]
        if data.get("term") is not None:
            options["term"] = _term(data["term"], problems)
        if data.get("rollover") is not None:
            options["rollover"] = _rollover(data["rollover"], problems)
        for name in ("monthly_price", "overage_price"):
            if name in data:
                options[name] = _price(data[name], name, problems)
        if data.get("tier") is not None and not isinstance(data["tier"], str):
            problems.append(Problem("tier", f"expected a tier name, got {data['tier']!r}"))
        if data.get("allotment") is not None:
            _count(data["allotment"], "allotment", problems)
        _raise(problems)
        return cls.build(table, data.get("tier"), data.get("allotment"), **options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "allotment": self.allotment,
            "policy": str(self.policy),
            "timezone": self.timezone,
            "term": None
            if self.term is None
            else {"start": str(self.term.start), "months": self.term.months},
            "rollover": {
                "enabled": self.rollover.enabled,
                "max_carried": self.rollover.max_carried,
            },
            "monthly_price": None if self.monthly_price is None else str(self.monthly_price),
            "overage_price": None if self.overage_price is None else str(self.overage_price),
        }


def _term(value: Any, problems: list[Problem]) -> Term | None:
    if not isinstance(value, Mapping) or set(value) != {"start", "months"}:
        problems.append(Problem("term", 'expected {"start": "YYYY-MM", "months": N}'))
        return None
    try:
        return Term(Month.parse(value["start"]), value["months"])
    except InvalidInput as e:
        renamed = {"month": "term.start"}
        problems.extend(Problem(renamed.get(p.field, p.field), p.message) for p in e.problems)
        return None


def _rollover(value: Any, problems: list[Problem]) -> Rollover:
    if not isinstance(value, Mapping) or not set(value) <= {"enabled", "max_carried"}:
        problems.append(Problem("rollover", "expected {enabled, max_carried?}"))
        return Rollover()
    try:
        return Rollover(value.get("enabled", False), value.get("max_carried"))
    except InvalidInput as e:
        problems.extend(e.problems)
        return Rollover()
