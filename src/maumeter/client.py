"""The CLI's two ways to a store, with one interface: in process, or through a running server.

DuckDB lets one process hold a store. While ``maumeter serve`` holds it, the CLI sends the same
commands to the server's API instead (found through the store's sidecar file, or ``--server``),
and prints the same output: both ways answer with the dicts the HTTP API returns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from maumeter.analytics import answers
from maumeter.analytics.answers import ANSWERS
from maumeter.api.errors import STATUS
from maumeter.billing.webhooks import Webhooks
from maumeter.config import setting, webhook_policy
from maumeter.core.activity import ActivityRule
from maumeter.core.errors import (
    InvalidInput,
    MaumeterError,
    Problem,
    StoreUnavailable,
    TooManyRequests,
)
from maumeter.core.months import Month
from maumeter.meter import Meter

# The server names the error class in its answer (api/errors.py): the same class here, so a
# command fails the same way in process and through a server.
ERRORS: dict[str, type[MaumeterError]] = {cls.__name__: cls for cls in STATUS}


class Backend(Protocol):
    def create_org(
        self, name: str, timezone: str, cap: int | None, policy: str
    ) -> dict[str, Any]: ...
    def orgs(self) -> list[dict[str, Any]]: ...
    def create_project(self, org: str, name: str, rule: ActivityRule) -> dict[str, Any]: ...
    def projects(self, org: str) -> list[dict[str, Any]]: ...
    def usage(self, org: str, month: Month | None, project: str | None) -> dict[str, Any]: ...
    def analytics(self, name: str, org: str, **arguments: Any) -> Any: ...
    def accounts(self) -> list[dict[str, Any]]: ...
    def worksheet(self, data: Any) -> dict[str, Any]: ...
    def persons(
        self, org: str, month: Month | None, project: str | None
    ) -> Iterator[dict[str, Any]]: ...
    def verify(self, org: str, month: Month | None) -> dict[str, Any]: ...
    # plans and live usage
    def tiers(self) -> list[dict[str, Any]]: ...
    def plan(self, org: str) -> dict[str, Any]: ...
    def set_plan(self, org: str, plan: dict[str, Any]) -> dict[str, Any]: ...
    def live_usage(self, org: str) -> dict[str, Any]: ...
    def month_cap(self, org: str, month: Month | None) -> dict[str, Any]: ...
    # alerts and webhooks
    def webhook_add(self, org: str, url: str) -> dict[str, Any]: ...
    def webhooks(self, org: str) -> list[dict[str, Any]]: ...
    def webhook_remove(self, org: str, webhook_id: int) -> dict[str, Any]: ...
    def deliveries(self, org: str, webhook_id: int | None, limit: int) -> list[dict[str, Any]]: ...
    def alerts(self, org: str, month: Month | None) -> dict[str, Any]: ...
    def set_alerts(
        self, org: str, thresholds: list[int] | None, projected: bool | None
    ) -> dict[str, Any]: ...
    # statements
    def close_month(self, org: str, month: Month) -> dict[str, Any]: ...
    def statement(self, org: str, month: Month) -> dict[str, Any]: ...
    def statement_persons(self, org: str, month: Month, path: Path) -> int: ...
    def explain(self, org: str, person: str, month: Month | None) -> dict[str, Any]: ...
    def inflation(self, org: str, month: Month | None) -> dict[str, Any]: ...
    def erase(self, org: str, person: str) -> dict[str, Any]: ...
    def audit(self, org: str) -> dict[str, Any]: ...
    def set_rule(self, org: str, project: str, rule: ActivityRule) -> dict[str, Any]: ...


class Local:
    """In process, on a store this process holds."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def create_org(self, name: str, timezone: str, cap: int | None, policy: str) -> dict[str, Any]:
        return self.meter.describe_org(self.meter.create_org(name, timezone, cap, policy))

    def orgs(self) -> list[dict[str, Any]]:
        return [self.meter.describe_org(o) for o in self.meter.orgs()]

    def create_project(self, org: str, name: str, rule: ActivityRule) -> dict[str, Any]:
        return self.meter.describe_project(self.meter.create_project(org, name, rule))

    def projects(self, org: str) -> list[dict[str, Any]]:
        return [self.meter.describe_project(p) for p in self.meter.projects(org)]

    def usage(self, org: str, month: Month | None, project: str | None) -> dict[str, Any]:
        return self.meter.mau(org, month, project).to_dict()

    def analytics(self, name: str, org: str, **arguments: Any) -> Any:
        return ANSWERS[name](self.meter, org, **arguments)

    def accounts(self) -> list[dict[str, Any]]:
        return answers.accounts(self.meter)

    def worksheet(self, data: Any) -> dict[str, Any]:
        return answers.worksheet(self.meter, data)

    def persons(
        self, org: str, month: Month | None, project: str | None
    ) -> Iterator[dict[str, Any]]:
        for person in self.meter.active_persons(org, month, project):
            yield person.csv_row()

    def verify(self, org: str, month: Month | None) -> dict[str, Any]:
        return self.meter.verify(org, month).to_dict()

    # plans and live usage
    def tiers(self) -> list[dict[str, Any]]:
        return self.meter.tiers.to_list()

    def plan(self, org: str) -> dict[str, Any]:
        return {"org": org, **self.meter.plan(org).to_dict()}

    def set_plan(self, org: str, plan: dict[str, Any]) -> dict[str, Any]:
        return {"org": org, **self.meter.set_plan(org, plan).to_dict()}

    def live_usage(self, org: str) -> dict[str, Any]:
        return self.meter.live_usage(org).to_dict()

    def month_cap(self, org: str, month: Month | None) -> dict[str, Any]:
        return {"org": org, **self.meter.month_cap(org, month).to_dict()}

    # alerts and webhooks
    def _webhooks(self) -> Webhooks:
        hooks = self.meter.webhooks
        hooks.configure(webhook_policy())  # the operator's allow list, as the server has it
        return hooks

    def webhook_add(self, org: str, url: str) -> dict[str, Any]:
        hook, secret = self._webhooks().add(org, url)
        return {**hook.to_dict(), "secret": secret}

    def webhooks(self, org: str) -> list[dict[str, Any]]:
        return [h.to_dict() for h in self._webhooks().list(org)]

    def webhook_remove(self, org: str, webhook_id: int) -> dict[str, Any]:
        return self._webhooks().remove(org, webhook_id).to_dict()

    def deliveries(self, org: str, webhook_id: int | None, limit: int) -> list[dict[str, Any]]:
        return [d.to_dict() for d in self._webhooks().deliveries(org, webhook_id, limit)]

    def alerts(self, org: str, month: Month | None) -> dict[str, Any]:
        return self.meter.alerts.describe(org, month)

    def set_alerts(
        self, org: str, thresholds: list[int] | None, projected: bool | None
    ) -> dict[str, Any]:
        self.meter.alerts.configure(org, thresholds, projected)
        return self.meter.alerts.describe(org)

    # statements
    def close_month(self, org: str, month: Month) -> dict[str, Any]:
        statements = self.meter.statements
        statements.configure(setting("experiment_key"), setting("flag_key"))
        return statements.close(org, month).to_dict()

    def statement(self, org: str, month: Month) -> dict[str, Any]:
        return self.meter.statements.get(org, month).to_dict()

    def statement_persons(self, org: str, month: Month, path: Path) -> int:
        return self.meter.statements.export(org, month, path)

    def explain(self, org: str, person: str, month: Month | None) -> dict[str, Any]:
        return self.meter.statements.explain(org, person, month).to_dict()

    def inflation(self, org: str, month: Month | None) -> dict[str, Any]:
        return self.meter.statements.inflation(org, month).to_dict()

    def erase(self, org: str, person: str) -> dict[str, Any]:
        return self.meter.erase(org, person, actor="cli").to_dict()

    def audit(self, org: str) -> dict[str, Any]:
        entries = [e.to_dict() for e in self.meter.audit.entries(org)]
        return {"entries": entries, "verification": self.meter.audit.verify(org).to_dict()}

    def set_rule(self, org: str, project: str, rule: ActivityRule) -> dict[str, Any]:
        return self.meter.set_rule(org, project, rule, actor="cli").to_dict()


class Remote:
    """Through a running server's HTTP API, with an admin token (or an org's secret key)."""

    def __init__(self, url: str, token: str, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"the server at {self.url} did not answer: {exc}") from None
        if response.status_code >= 400:
            raise _error(response)
        return response

    def create_org(self, name: str, timezone: str, cap: int | None, policy: str) -> dict[str, Any]:
        body = {"name": name, "timezone": timezone, "cap": cap, "policy": policy}
        return self._call("POST", "/api/v1/orgs", json=body).json()  # type: ignore[no-any-return]

    def orgs(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/orgs").json()  # type: ignore[no-any-return]

    def create_project(self, org: str, name: str, rule: ActivityRule) -> dict[str, Any]:
        body = {"name": name, "activity": rule.to_json()}
        return self._call("POST", f"/api/v1/orgs/{org}/projects", json=body).json()  # type: ignore[no-any-return]

    def projects(self, org: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/api/v1/orgs/{org}/projects").json()  # type: ignore[no-any-return]

    def usage(self, org: str, month: Month | None, project: str | None) -> dict[str, Any]:
        params = _params(month=month, project=project)
        return self._call("GET", f"/api/v1/orgs/{org}/usage", params=params).json()  # type: ignore[no-any-return]

    def analytics(self, name: str, org: str, **arguments: Any) -> Any:
        """``GET /api/v1/orgs/{org}/{name}`` with the arguments as query parameters."""
        renamed = {"start": "from", "end": "to"}
        params = {
            renamed.get(k, k): v.isoformat() if isinstance(v, date) else v
            for k, v in arguments.items()
        }
        return self._call("GET", f"/api/v1/orgs/{org}/{name}", params=_params(**params)).json()

    def accounts(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/accounts").json()  # type: ignore[no-any-return]

    def worksheet(self, data: Any) -> dict[str, Any]:
        return self._call("POST", "/api/v1/worksheet", json=data).json()  # type: ignore[no-any-return]

    def persons(
        self, org: str, month: Month | None, project: str | None
    ) -> Iterator[dict[str, Any]]:
        params = _params(month=month, project=project, format="csv")
        text = self._call("GET", f"/api/v1/orgs/{org}/persons", params=params).text
        yield from csv.DictReader(io.StringIO(text))

    def verify(self, org: str, month: Month | None) -> dict[str, Any]:
        params = _params(month=month)
        return self._call("POST", f"/api/v1/orgs/{org}/verify", params=params).json()  # type: ignore[no-any-return]

    # plans and live usage
    def tiers(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/tiers").json()  # type: ignore[no-any-return]

    def plan(self, org: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/orgs/{org}/plan").json()  # type: ignore[no-any-return]

    def set_plan(self, org: str, plan: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/api/v1/orgs/{org}/plan", json=plan).json()  # type: ignore[no-any-return]

    def live_usage(self, org: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/orgs/{org}/usage/live").json()  # type: ignore[no-any-return]

    def month_cap(self, org: str, month: Month | None) -> dict[str, Any]:
        params = _params(month=month)
        return self._call("GET", f"/api/v1/orgs/{org}/caps", params=params).json()  # type: ignore[no-any-return]

    # alerts and webhooks
    def webhook_add(self, org: str, url: str) -> dict[str, Any]:
        body = {"url": url}
        return self._call("POST", f"/api/v1/orgs/{org}/webhooks", json=body).json()  # type: ignore[no-any-return]

    def webhooks(self, org: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/api/v1/orgs/{org}/webhooks").json()  # type: ignore[no-any-return]

    def webhook_remove(self, org: str, webhook_id: int) -> dict[str, Any]:
        path = f"/api/v1/orgs/{org}/webhooks/{webhook_id}"
        return self._call("DELETE", path).json()  # type: ignore[no-any-return]

    def deliveries(self, org: str, webhook_id: int | None, limit: int) -> list[dict[str, Any]]:
        params = _params(webhook=webhook_id, limit=limit)
        path = f"/api/v1/orgs/{org}/webhooks/deliveries"
        return self._call("GET", path, params=params).json()  # type: ignore[no-any-return]

    def alerts(self, org: str, month: Month | None) -> dict[str, Any]:
        params = _params(month=month)
        return self._call("GET", f"/api/v1/orgs/{org}/alerts", params=params).json()  # type: ignore[no-any-return]

    def set_alerts(
        self, org: str, thresholds: list[int] | None, projected: bool | None
    ) -> dict[str, Any]:
        body = {"thresholds": thresholds, "projected": projected}
        return self._call("PUT", f"/api/v1/orgs/{org}/alerts", json=body).json()  # type: ignore[no-any-return]

    # statements
    def close_month(self, org: str, month: Month) -> dict[str, Any]:
        path = f"/api/v1/orgs/{org}/statements/{month}/close"
        return self._call("POST", path).json()  # type: ignore[no-any-return]

    def statement(self, org: str, month: Month) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/orgs/{org}/statements/{month}").json()  # type: ignore[no-any-return]

    def statement_persons(self, org: str, month: Month, path: Path) -> int:
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in ("csv", "parquet"):
            raise InvalidInput.field("format", f"expected a .csv or .parquet file, got {path}")
        answer = self._call(
            "GET", f"/api/v1/orgs/{org}/statements/{month}/persons", params={"format": fmt}
        )
        path.write_bytes(answer.content)
        return int(self.statement(org, month)["mau"])

    def explain(self, org: str, person: str, month: Month | None) -> dict[str, Any]:
        params = _params(person=person, month=month)
        return self._call("GET", f"/api/v1/orgs/{org}/explain", params=params).json()  # type: ignore[no-any-return]

    def inflation(self, org: str, month: Month | None) -> dict[str, Any]:
        params = _params(month=month)
        return self._call("GET", f"/api/v1/orgs/{org}/inflation", params=params).json()  # type: ignore[no-any-return]

    def erase(self, org: str, person: str) -> dict[str, Any]:
        path = f"/api/v1/orgs/{org}/persons/{quote(person, safe='')}"
        return self._call("DELETE", path).json()  # type: ignore[no-any-return]

    def audit(self, org: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/orgs/{org}/audit").json()  # type: ignore[no-any-return]

    def set_rule(self, org: str, project: str, rule: ActivityRule) -> dict[str, Any]:
        body = {"activity": rule.to_json()}
        path = f"/api/v1/orgs/{org}/projects/{project}/rule"
        return self._call("PUT", path, json=body).json()  # type: ignore[no-any-return]


def _params(**values: Any) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if v is not None}


def _error(response: httpx.Response) -> MaumeterError:
    """The server's error as the same error class the library would have raised."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("message") or f"HTTP {response.status_code} from the server"
    if response.status_code == 400:
        problems = [Problem(e["field"], e["message"]) for e in body.get("errors", [])]
        return InvalidInput(problems or [Problem("request", message)])
    found = ERRORS.get(str(body.get("error")), StoreUnavailable)
    if found is TooManyRequests:
        return TooManyRequests(message, float(response.headers.get("retry-after", "1")))
    return found(message)
