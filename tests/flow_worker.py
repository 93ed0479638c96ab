"""One sweep worker for the tests: runs the `supervise_all` flow on the Prefect server in
PREFECT_API_URL and prints its report as JSON.

    python -m tests.flow_worker START_FILE AS_OF BATCH_SIZE WORKERS

Several start together and provably share the sweep: each says it is ready
(``START_FILE.ready-<pid>``) once its imports are done and waits for the start signal
(``START_FILE``); in its first batch, holding that batch's rows, it says so
(``START_FILE.in-<pid>``) and waits until all WORKERS are in a batch of their own, which each
can only be if SKIP LOCKED handed it rows the others do not hold.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any


def wait_for(what: str, ready: Any) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"no {what} within 120 s")
        time.sleep(0.02)


def main(start: Path, as_of: date, batch_size: int, workers: int) -> None:
    import flows.sweep
    from flows.supervise import supervise_all  # slow: before the signal, not after

    evaluate = flows.sweep._evaluate

    def first_batch_together(*args: Any, **kwargs: Any) -> None:
        mark = start.with_name(f"{start.name}.in-{os.getpid()}")
        if not mark.exists():
            mark.touch()
            wait_for("other worker in a batch",
                     lambda: len(list(start.parent.glob(f"{start.name}.in-*"))) >= workers)
        evaluate(*args, **kwargs)

    flows.sweep._evaluate = first_batch_together  # type: ignore[assignment]
    start.with_name(f"{start.name}.ready-{os.getpid()}").touch()
    wait_for("start signal", start.exists)
    report = asyncio.run(supervise_all(as_of=as_of, batch_size=batch_size))
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), int(sys.argv[3]),
         int(sys.argv[4]))
