"""`maumeter serve`: uvicorn on the embedded store, with the demo org on an empty store."""

from __future__ import annotations

import uvicorn
from rich.console import Console

from maumeter.api.app import create_app
from maumeter.demo import DEMO_ORG, create_demo
from maumeter.meter import Meter


def run(db: str, host: str, port: int, demo: bool = True) -> None:
    """Serve until interrupted; the store is checkpointed and closed on the way out."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    meter = Meter.open(db)
    try:
        if demo and not meter.orgs():
            project = create_demo(meter)
            base = f"http://{host}:{port}"
            console.print(f"created the demo org [bold]{DEMO_ORG}[/] (project web) in {db}")
            console.print(f"write key: {project.write_key}")
            console.print("try:")
            console.print(
                f"  curl -u {project.write_key}: -H 'Content-Type: application/json' "
                f'-d \'{{"type":"track","userId":"ada","event":"Logged In"}}\' {base}/v1/track'
            )
            console.print(f"  curl {base}/api/v1/orgs/{DEMO_ORG}/usage")
        console.print(f"maumeter serving {db} at http://{host}:{port}  (API docs: /docs)")
        config = uvicorn.Config(create_app(meter), host=host, port=port, log_level="warning")
        uvicorn.Server(config).run()
    finally:
        meter.close()
