"""kill -9 durability: what the server acknowledged survives SIGKILL, exactly once.

Four sender threads post Segment batches (with repeats inside a batch, re-sends of earlier
message ids, and verbatim re-sends of batches whose answer was lost) while the server is
SIGKILLed at random moments 20 times and restarted on the same DuckDB file. Then, with the
server stopped: every acknowledged message id is stored exactly once, a batch that got no answer
is stored whole or not at all, ``maumeter verify`` passes, and MAU (the restarted server's and
the CLI's) equals the distinct user ids stored. The logic lives in ``bench/crashload.py``, shared
with the longer soak ``python -m bench.crash_soak``. About 40-60 s on two cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # the repo-root `bench` package, as tests/bench/conftest.py does
    sys.path.insert(0, ROOT)

from bench.crashload import Config, run  # noqa: E402

pytestmark = pytest.mark.e2e

SEED = 20_260_003


# `seconds` only bounds the load phase (20 kills take 40-60 s alone; beside the rest of the suite
# running in parallel a restart is slower and 90 s were all but used up): the 20 kills are still
# asserted below. The timeout is a hang guard above that bound and the audit that follows it.
@pytest.mark.timeout(360)
def test_acknowledged_events_survive_kill_9_exactly_once(tmp_path: Path) -> None:
    report = run(tmp_path, Config(seed=SEED, kills=20, seconds=180, max_load=1.0))
    print(report.summary())
    problems = "\n".join(p[:2000] for p in report.problems[:20])
    assert not report.problems, f"{report.summary()}\n{problems}"
    assert report.kills >= 20, report.summary()
    assert report.kills_mid_request >= 10, report.summary()  # kills landed under load
    assert report.acked > 0 and report.lost_in_flight > 0 and report.retries > 0, report.summary()
    assert report.lost_judged > 0, report.summary()  # some unanswered batches were judged
