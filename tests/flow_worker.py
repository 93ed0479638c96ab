"""One sweep worker for the tests: waits for a shared start signal, so that several start
together, runs the `supervise_all` flow on the Prefect server in PREFECT_API_URL, and prints
its report as JSON.

    python -m tests.flow_worker START_FILE AS_OF BATCH_SIZE
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import date
from pathlib import Path


def main(start: Path, as_of: date, batch_size: int) -> None:
    from flows.supervise import supervise_all  # slow: before the signal, not after

    deadline = time.monotonic() + 120
    while not start.exists():
        if time.monotonic() > deadline:
            raise SystemExit("no start signal within 120 s")
        time.sleep(0.02)
    report = asyncio.run(supervise_all(as_of=as_of, batch_size=batch_size))
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), int(sys.argv[3]))
