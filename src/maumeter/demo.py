"""Demo data for a first run: three orgs with 18 months and more of realistic activity.

* ``demo`` — a growing SaaS (Europe/Paris; soft plan of 3,000 MAU with prices, about 70 %
  used): projects ``web`` and ``mobile``; anonymous visitors, some of whom sign up on their
  second visit (``identify`` links their anonymous id to a user id, with the traits
  ``country`` and ``plan``); phones, tablets and desktops (``context.userAgent`` on the web,
  ``context.device.type`` in the app, whose ``decisions-and-tracking`` rule ignores screens);
  Optimizely style ``Decision`` events per experiment and flag; about +7 % a month.
* ``chatbot`` — a chatbot (America/New_York; soft plan of 1,000 with rollover in yearly
  terms): ``Message Sent`` / ``Message Received``, quiet weekends, a summer dip and a December
  peak, traits ``language`` and ``channel`` (in ``context.traits``); 24 months, so that the
  yearly season can be decomposed (two full seasons are needed).
* ``legacy`` — a declining account (America/Chicago) whose activity fades over its last six
  months, downgraded this month from a hard 1,000 to a ``hard`` cap just above its usage:
  the admissions driven through :meth:`Meter.admit` at the end are partly refused.

Everything goes through the real paths (``import_records`` for history, ``ingest`` for
today's events, ``admit``, ``statements.close``, ``alerts.tick``; never a table), from
generators seeded with ``seed`` and the meter's clock: the same clock gives the same counts.
Every ended month is closed; ``demo`` alerts at 50 % too, so each story has alerts to show.
The keys are well known (:data:`DEMO_ORGS`): a demo store is for trying things, never for
production (``serve --no-demo``). About 200,000 events; ten to fifteen seconds on two cores.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from maumeter.core.months import Month, day_bounds, local_date, zone
from maumeter.meter import Meter
from maumeter.store.duckdb import OrgInfo, ProjectInfo

ACTOR = "demo"
CHUNK = 25_000


@dataclass(frozen=True, slots=True)
class DemoProject:
    name: str
    activity: str
    write_key: str


PRICES = {"monthly_price": "249", "overage_price": "0.10"}


@dataclass(frozen=True, slots=True)
class DemoOrg:
    """One demo org: its keys, its projects, its plan (``Meter.set_plan`` JSON) and how many
    complete months of history it gets."""

    name: str
    timezone: str
    secret_key: str
    projects: tuple[DemoProject, ...]
    plan: Mapping[str, Any]
    months: int
    story: str


DEMO_ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "demo",
        "Europe/Paris",
        "sk_demo_org",
        (
            DemoProject("web", "any-activity", "wk_demo_web"),
            DemoProject("mobile", "decisions-and-tracking", "wk_demo_mobile"),
        ),
        {"tier": "custom", "allotment": 3000, "policy": "soft", **PRICES},
        18,
        "a growing SaaS: web and mobile, experiments and flags, visitors who sign up",
    ),
    DemoOrg(
        "chatbot",
        "America/New_York",
        "sk_demo_chatbot",
        (DemoProject("bot", "conversation", "wk_demo_bot"),),
        {
            "tier": "custom",
            "allotment": 1000,
            "policy": "soft",
            "rollover": {"enabled": True, "max_carried": 300},
        },
        24,  # two full years: the yearly season can be decomposed
        "a chatbot with weekly and yearly seasonality",
    ),
    DemoOrg(
        "legacy",
        "America/Chicago",
        "sk_demo_legacy",
        (DemoProject("app", "any-activity", "wk_demo_legacy"),),
        {"tier": "custom", "allotment": 1000, "policy": "hard"},  # until this month's downgrade
        18,
        "a declining account at its hard cap, refusing admissions",
    ),
)
DEMO_ORG = "demo"
DEMO_PROJECT = "web"
DEMO_WRITE_KEY = "wk_demo_web"
DEMO_SECRET_KEY = "sk_demo_org"

USER_AGENTS = {
    "desktop": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.4 Safari",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/124.0 Safari",
    ),
}
DEVICES = ("desktop", "mobile", "tablet")
CHANNEL_CONTEXT = {
    "whatsapp": {"device": {"type": "mobile"}},
    "messenger": {"device": {"type": "mobile"}},
    "slack": {"device": {"type": "desktop"}},
}
COUNTRIES = ("FR", "DE", "US", "GB", "ES", "IT", "NL")
# (experiment, its flag, first and last month, counted from the first month of history)
EXPERIMENTS = (
    ("exp_pricing_page", "pricing_v2", 2, 9),
    ("exp_onboarding_checklist", "onboarding_v2", 6, 14),
    ("exp_dashboard_layout", "new_dashboard", 11, 18),
    ("exp_search_ranking", "smart_search", 14, 18),
)
ROLLOUTS = (("dark_mode", 0), ("ai_assistant", 12))  # app flags without an experiment
WEB_PAGES = ("/app", "/app/projects", "/app/reports", "/app/settings", "/pricing", "/docs")
LANDING = ("/", "/pricing", "/blog/okr-templates", "/features", "/docs")


class _Calendar:
    """The local days of one org's demo, from the first month of history to today."""

    def __init__(self, now: datetime, timezone: str, months: int) -> None:
        tz = zone(timezone)
        self.months = months  # complete months before the current one
        self.current = Month.of(now, tz)
        self.first_month = Month.from_index(self.current.index - months)
        first, today = self.first_month.first_day(), local_date(now, tz)
        days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
        self.today = len(days) - 1
        self.midnight = np.array([day_bounds(d, tz)[0].timestamp() for d in days])
        start, end = day_bounds(today, tz)
        # the share of today already lived; never nearly none: a new month is never empty
        self.elapsed = max((now - start) / (end - start), 0.1)
        self.weekday = np.array([d.weekday() for d in days])
        self.month_of_year = np.array([d.month for d in days])
        self.month = np.array([Month.of_date(d).index - self.first_month.index for d in days])
        self.age = np.arange(len(days)) / 30.44  # months since the first day

    def arrivals(self, rng: np.random.Generator, per_day: np.ndarray) -> np.ndarray:
        """The first day of each newcomer: Poisson arrivals (today's only so far)."""
        rate = per_day.copy()
        rate[-1] *= self.elapsed
        return np.repeat(np.arange(len(rate)), rng.poisson(rate))

    def active(
        self,
        rng: np.random.Generator,
        join: np.ndarray,
        leave: np.ndarray,
        rate: np.ndarray,
        factor: np.ndarray,
        arrive: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(person, day) pairs, by person then day: person p is active on day d of
        ``[join, leave)`` with probability ``rate[p] * factor[d]``, and on its join day when
        ``arrive[p]``."""
        factor = factor.copy()
        factor[-1] *= self.elapsed
        span = np.arange(len(factor))
        persons, days = [], []
        for lo in range(0, len(join), 2048):
            j, n = join[lo : lo + 2048], len(join[lo : lo + 2048])
            hit = rng.random((n, len(span))) < rate[lo : lo + n, None] * factor[None, :]
            hit &= (span >= j[:, None]) & (span < leave[lo : lo + n, None])
            hit[np.arange(n)[arrive[lo : lo + n]], j[arrive[lo : lo + n]]] = True
            p, d = np.nonzero(hit)
            persons.append(p + lo)
            days.append(d)
        return np.concatenate(persons), np.concatenate(days)

    def starts(self, rng: np.random.Generator, days: np.ndarray, hours: list[float]) -> np.ndarray:
        """A session start (epoch seconds) on each day, hours drawn from a profile (0-21 h:
        a session ends the same local day, even on a DST day)."""
        weights = np.array(hours + [0.0] * (24 - len(hours)))
        hour = rng.choice(24, size=len(days), p=weights / weights.sum())
        return self.midnight[days] + hour * 3600 + rng.integers(0, 3600, len(days))


class _Log:
    """The records of one org, per project: history (timestamped) and today's (billed now)."""

    def __init__(self, cal: _Calendar, prefix: str) -> None:
        self.cal, self.prefix = cal, prefix
        self.records: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self.count = 0

    def add(self, project: str, day: int, at: float, record: dict[str, Any]) -> None:
        self.count += 1
        record["messageId"] = f"{self.prefix}-{self.count:07d}"
        self.records.setdefault(project, []).append((-1.0 if day == self.cal.today else at, record))

    def split(self, project: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        items = self.records.get(project, [])
        past = sorted((item for item in items if item[0] >= 0), key=lambda item: item[0])
        stamps = np.datetime_as_string(
            np.array([at for at, _ in past]).astype("datetime64[s]"), timezone="UTC"
        )
        for (_, record), stamp in zip(past, stamps, strict=True):
            record["timestamp"] = str(stamp)
        return [r for _, r in past], [r for at, r in items if at < 0]


def _anon(rnd: random.Random) -> str:
    h = f"{rnd.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _saas(cal: _Calendar, log: _Log, seed: int, keys: tuple[str, str]) -> None:
    """``demo``: visitors (bouncers, browsers, trials who sign up on their second day) and
    members; web every day, the app on some days for half the identified persons."""
    rng, rnd = np.random.default_rng([seed, 1]), random.Random(seed * 31 + 1)
    weekly = np.where(cal.weekday < 5, 1.0, 0.55)
    base = np.zeros(700, dtype=int)  # members who signed up before the history starts
    join = np.concatenate([base, cal.arrivals(rng, 8.6 * 1.072**cal.age * weekly)])
    n = len(join)
    kind = rng.choice(4, size=n, p=[0.42, 0.18, 0.12, 0.28])  # bounce, trial, browse, member
    kind[: len(base)] = 3
    life = np.select(
        [kind == 0, kind == 2], [np.zeros(n), rng.exponential(20, n)], rng.exponential(330, n)
    )
    rate = np.where(kind % 2 == 1, np.minimum(rng.lognormal(np.log(0.065), 0.8, n), 0.8), 0.08)
    arrive = np.arange(n) >= len(base)
    persons, days = cal.active(rng, join, join + 1 + life.astype(int), rate, weekly, arrive)
    starts = cal.starts(rng, days, [0] * 7 + [2, 6, 9, 10, 9, 6, 8, 9, 9, 8, 6, 4, 4, 3, 2])
    device = rng.choice(3, size=n, p=[0.55, 0.33, 0.12])
    app_user = rng.random(n) < 0.5
    seen = np.zeros(n, dtype=int)
    anon: dict[int, str] = {}
    experiments = [
        [(x, f) for x, f, a, b in EXPERIMENTS if a <= m <= b] for m in range(cal.months + 1)
    ]
    xkey, fkey = keys
    for p, d, t in zip(persons.tolist(), days.tolist(), starts.tolist(), strict=True):
        k, kd, month = int(seen[p]), int(kind[p]), int(cal.month[d])
        seen[p] += 1
        if p not in anon:
            anon[p] = _anon(rnd)
        who: dict[str, Any] = {"anonymousId": anon[p]}
        signup = {3: 0, 1: 1}.get(kd)
        if signup is not None and k >= signup:
            who["userId"] = f"u{p:05d}"
        if signup == k:
            traits = {"email": f"u{p:05d}@example.com", "country": rnd.choice(COUNTRIES)}
            traits["plan"] = rnd.choices(("free", "pro", "team"), (6, 3, 1))[0]
            log.add("web", d, t, {"type": "identify", **who, "traits": traits})
        if "userId" in who and app_user[p] and k > signup and rnd.random() < 0.45:
            ctx = {"device": {"type": "tablet" if device[p] == 2 else "mobile"}}
            ctx["os"] = {"name": rnd.choice(("iOS", "Android"))}
            app = {"userId": who["userId"], "context": ctx}
            if rnd.random() < 0.35:  # screens alone do not count under this rule
                log.add("mobile", d, t, {"type": "screen", **app, "name": "Home"})
            if rnd.random() < 0.7:
                log.add("mobile", d, t + 40, {"type": "track", **app, "event": "Task Completed"})
            live = [f for f, since in ROLLOUTS if month >= since]
            if rnd.random() < 0.5:
                flag, on = rnd.choice(live), rnd.random() < 0.6
                props = {fkey: flag, "enabled": on, "variation": "on" if on else "off"}
                record = {"type": "track", **app, "event": "Decision", "properties": props}
                log.add("mobile", d, t + 5, record)
            continue
        ua = rnd.choice(USER_AGENTS[DEVICES[device[p]]])
        path = rnd.choice(LANDING if "userId" not in who else WEB_PAGES)
        ctx = {"userAgent": ua, "page": {"url": "https://app.example.com" + path}}
        log.add("web", d, t + 1, {"type": "page", **who, "name": path, "context": ctx})
        if "userId" in who and rnd.random() < 0.25:
            name = rnd.choice(("Task Created", "Report Viewed", "Invite Sent", "Logged In"))
            log.add("web", d, t + 90, {"type": "track", **who, "event": name, "context": ctx})
        running = experiments[month]
        if running and rnd.random() < 0.2:
            exp, flag = rnd.choice(running)
            variation = ("control", "treatment")[(p + len(exp)) % 2]
            props = {xkey: exp, fkey: flag, "variation": variation, "enabled": True}
            record = {"type": "track", **who, "event": "Decision", "properties": props}
            log.add("web", d, t + 2, {**record, "context": ctx})


def _chatbot(cal: _Calendar, log: _Log, seed: int) -> None:
    """``chatbot``: conversations, weekly and yearly seasons, a flat trend."""
    rng, rnd = np.random.default_rng([seed, 2]), random.Random(seed * 31 + 2)
    yearly = np.array([1.0, 1.0, 1.02, 1.0, 0.95, 0.86, 0.7, 0.66, 0.95, 1.03, 1.12, 1.32])
    weekly = np.array([1.0, 1.04, 1.02, 0.98, 0.9, 0.48, 0.4])
    factor = yearly[cal.month_of_year - 1] * weekly[cal.weekday] * (1 + 0.006 * cal.age)
    base = np.zeros(620, dtype=int)  # the users of the bot before the history starts
    join = np.concatenate([base, cal.arrivals(rng, 10.0 * factor)])
    n = len(join)
    known = rng.random(n) < 0.5  # identified channels; the rest is the anonymous web widget
    known[: len(base)] = rng.random(len(base)) < 0.83  # the widget's visitors do not stay
    life = np.where(known, rng.exponential(120, n), rng.exponential(25, n)).astype(int)
    rate = np.minimum(rng.lognormal(np.log(0.06), 0.7, n), 0.7)
    arrive = np.arange(n) >= len(base)
    persons, days = cal.active(rng, join, join + 1 + life, rate, factor, arrive)
    starts = cal.starts(rng, days, [1] * 7 + [2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 5, 6, 7, 7, 6])
    traits: dict[int, dict[str, str]] = {}
    contexts: dict[int, dict[str, Any]] = {}
    for p, d, t in zip(persons.tolist(), days.tolist(), starts.tolist(), strict=True):
        if p not in traits:
            channel = rnd.choice(("whatsapp", "slack", "messenger")) if known[p] else "web"
            language = rnd.choices(("en", "es", "fr", "de", "pt"), (10, 4, 2, 2, 2))[0]
            traits[p] = {"language": language, "channel": channel}
            contexts[p] = {"traits": traits[p], **CHANNEL_CONTEXT.get(channel, {})}
            if channel == "web":
                contexts[p]["userAgent"] = rnd.choice(USER_AGENTS[rnd.choice(DEVICES)])
        who = {"userId": f"c{p:05d}"} if known[p] else {"anonymousId": f"widget-{p:05d}"}
        ctx = contexts[p]
        for i in range(1 + (rnd.random() < 0.1)):
            record = {"type": "track", **who, "event": "Message Sent", "context": ctx}
            log.add("bot", d, t + 60 * i, record)
            if rnd.random() < 0.4:
                record = {"type": "track", **who, "event": "Message Received", "context": ctx}
                log.add("bot", d, t + 60 * i + 3, record)


def _legacy(cal: _Calendar, log: _Log, seed: int) -> list[str]:
    """``legacy``: an installed base that fades over the last six months; returns the user ids
    of everyone who came back one day, for the admissions of today."""
    rng, rnd = np.random.default_rng([seed, 3]), random.Random(seed * 31 + 3)
    weekly = np.where(cal.weekday < 5, 1.0, 0.2)
    fade = cal.months - 6
    decline = np.where(cal.age < fade, 1.0, 0.9 ** np.maximum(cal.age - fade, 0))
    base = np.zeros(820, dtype=int)  # the accounts' users at the start of the history
    join = np.concatenate([base, cal.arrivals(rng, np.where(cal.age < fade, 1.3, 0.15) * weekly)])
    n = len(join)
    leave = join + rng.exponential(700, n).astype(int)
    leaving = rng.random(n) < 0.3  # the users who stop during the fade
    start = int(np.searchsorted(cal.age, fade))
    quit_day = start + rng.exponential(90, n).astype(int)
    leave = np.where(leaving, np.minimum(leave, np.maximum(quit_day, join + 1)), leave)
    rate = np.minimum(rng.lognormal(np.log(0.09), 0.6, n), 0.6)
    arrive = np.arange(n) >= len(base)
    persons, days = cal.active(rng, join, leave, rate, weekly * decline, arrive)
    starts = cal.starts(rng, days, [0] * 8 + [8, 10, 9, 7, 5, 8, 9, 8, 6, 3])
    seen: set[int] = set()
    for p, d, t in zip(persons.tolist(), days.tolist(), starts.tolist(), strict=True):
        who = {"userId": f"lg{p:04d}"}
        ua = USER_AGENTS["desktop" if p % 10 else "mobile"][p % 2]
        ctx = {"userAgent": ua, "page": {"url": "https://billing.example.com/invoices"}}
        if p not in seen:
            seen.add(p)
            traits = {"company": f"Account {p % 37:02d}", "role": rnd.choice(("admin", "clerk"))}
            traits["country"] = rnd.choice(("US", "CA", "MX"))
            log.add("app", d, t, {"type": "identify", **who, "traits": traits})
        log.add("app", d, t + 1, {"type": "page", **who, "name": "invoices", "context": ctx})
        if rnd.random() < 0.2:
            name = rnd.choice(("Logged In", "Invoice Sent", "Report Exported"))
            log.add("app", d, t + 60, {"type": "track", **who, "event": name, "context": ctx})
    this_month = set(persons[cal.month[days] == cal.months].tolist())
    return [f"lg{p:04d}" for p in sorted(seen - this_month)] + [f"lg-new{i}" for i in range(200)]


def key_lines(meter: Meter | None = None) -> list[str]:
    """Two lines per demo org, its keys and its story; with ``meter``, only the orgs whose
    keys work in its store (an older store has only ``demo``)."""
    lines = []
    for spec in DEMO_ORGS:
        first = spec.projects[0]
        if meter is not None and meter.authenticate(first.write_key) is None:
            continue
        lines.append(
            f"demo org {spec.name}: write key {first.write_key}, secret key {spec.secret_key}"
        )
        projects = ", ".join(f"{p.name} {p.write_key}" for p in spec.projects)
        lines.append(f"  projects: {projects} — {spec.story}")
    return lines


def _load(meter: Meter, spec: DemoOrg, log: _Log) -> None:
    for project in spec.projects:
        past, today = log.split(project.name)
        chunks = (past[i : i + CHUNK] for i in range(0, len(past), CHUNK))
        meter.import_records(chunks, spec.name, project.name)
        if today:
            meter.ingest(today, spec.name, project.name)


def _refuse_admissions(meter: Meter, app: ProjectInfo, candidates: list[str]) -> int:
    """Downgrade ``legacy`` to a hard cap just above its usage, then admit returning users
    until some are refused; returns the refusals."""
    usage = meter.mau("legacy").mau
    last = meter.mau("legacy", meter.current_month("legacy").prev()).mau
    cap = max(int(last * 0.85), usage + 12) // 10 * 10 + 10
    meter.set_plan("legacy", {"tier": "custom", "allotment": cap, "policy": "hard"}, ACTOR)
    refused = 0
    for i, user in enumerate(candidates):
        decision = meter.admit(app, {"userId": user, "messageId": f"legacy-admit-{i:04d}"})
        refused += not decision.admitted
        if refused >= 9:
            break
    return refused


def create_demo(meter: Meter, seed: int = 7) -> tuple[OrgInfo, ProjectInfo]:
    """The three demo orgs (:data:`DEMO_ORGS`) with their history, every ended month closed,
    today's activity, ``legacy``'s refusals and the alerts due; returns the ``demo`` org and
    its ``web`` project (their keys are on the values)."""
    now = meter.clock()
    keys = (meter.statements.experiment_key, meter.statements.flag_key)
    made: dict[str, tuple[OrgInfo, dict[str, ProjectInfo]]] = {}
    candidates: list[str] = []
    for spec in DEMO_ORGS:
        cal = _Calendar(now, spec.timezone, spec.months)
        org = meter.create_org(spec.name, spec.timezone, secret_key=spec.secret_key, actor=ACTOR)
        plan = dict(spec.plan)
        if "rollover" in plan:  # carried within yearly terms from the first month
            plan["term"] = {"start": str(cal.first_month), "months": 12}
        meter.set_plan(spec.name, plan, ACTOR)
        projects = {
            p.name: meter.create_project(spec.name, p.name, p.activity, p.write_key, ACTOR)
            for p in spec.projects
        }
        made[spec.name] = (org, projects)
        log = _Log(cal, spec.name)
        if spec.name == "demo":
            _saas(cal, log, seed, keys)
        elif spec.name == "chatbot":
            _chatbot(cal, log, seed)
        else:
            candidates = _legacy(cal, log, seed)
        _load(meter, spec, log)
        month = cal.first_month
        while month < cal.current:
            meter.statements.close(spec.name, month, now, ACTOR)
            month = month.next()
    _refuse_admissions(meter, made["legacy"][1]["app"], candidates)
    meter.alerts.configure(DEMO_ORG, [50, 80, 90, 100])
    meter.alerts.tick(now)
    org, projects = made[DEMO_ORG]
    return org, projects[DEMO_PROJECT]
