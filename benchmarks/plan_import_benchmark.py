"""Plan import benchmark: the cost of `duban plans validate` and `duban plans import` is linear.

    .venv/bin/python -m benchmarks.plan_import_benchmark [--sizes 1000 10000] [--milestones 2]

For each size it writes a plan file of that many projects (20 units, each project with
``--milestones`` milestones, a share of indicators), then times, on a fresh SQLite database:
- parsing and validating the file (``load_plan_file``);
- the first import (everything created, every event recorded);
- a re-import of the unchanged file (every row compared, nothing written).
It prints each figure and the ratio of the largest size to the smallest: for a linear cost that
ratio follows the ratio of the sizes (about 10 for 1,000 and 10,000). A small untimed run comes
first, so that imports and compiled statements do not count against the smallest size; the
peak memory is the process's (max RSS), reached with the largest size. Timings are wall-clock
on a shared machine: compare the ratios, not the seconds. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

UNITS = 20


def write_plan_file(path: Path, *, projects: int, milestones: int) -> None:
    """A valid plan file of ``projects`` projects, written line by line (no YAML library)."""
    lines = ["plan:", "  code: bench-2021-2025", "  name: 基准规划", "  issuer: 基准测试",
             "  period: 2021-2025", "units:"]
    for u in range(UNITS):
        lines += [f"  - code: bench-u{u}", f"    name: 基准单位{u}", "    kind: subdistrict"]
    lines.append("projects:")
    for p in range(projects):
        lines += [f'  - code: "{p}"', f"    name: 项目{p}", f"    unit: bench-u{p % UNITS}",
                  "    facts:", f"      建设内容: 第{p}号", "    milestones:"]
        for m in range(milestones):
            lines += [f"      - year: {2021 + m % 5}", f"        target: 完成第{m}步"]
    lines.append("indicators:")
    for i in range(max(1, projects // 100)):
        lines += [f'  - code: "I{i}"', f"    name: 指标{i}", "    targets:",
                  "      2025: 100", "    actuals:", "      2021: 20"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure(size: int, milestones: int, workdir: Path) -> dict[str, float]:
    from sqlmodel import Session

    from config.plan_loader import load_plan_file
    from models.store.database import make_engine, migrate
    from models.store.plan_import import import_plan

    path = workdir / f"plan-{size}.yaml"
    write_plan_file(path, projects=size, milestones=milestones)
    url = f"sqlite:///{workdir / f'bench-{size}.db'}"
    engine = make_engine(url)
    migrate(engine)
    now = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    figures: dict[str, float] = {"megabytes": path.stat().st_size / 1e6}
    start = time.perf_counter()
    loaded = load_plan_file(path)
    figures["validate"] = time.perf_counter() - start
    for name in ("import", "reimport"):
        start = time.perf_counter()
        with Session(engine) as session:
            import_plan(session=session, loaded=loaded, actor="benchmark", now=now)
            session.commit()
        figures[name] = time.perf_counter() - start
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--milestones", type=int, default=2, help="milestones per project")
    args = parser.parse_args()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        measure(100, args.milestones, Path(workdir))  # warm-up, not reported
        for size in args.sizes:
            results[size] = figures = measure(size, args.milestones, Path(workdir))
            print(f"{size:>7} projects ({figures['megabytes']:.1f} MB): validate "
                  f"{figures['validate']:.2f} s, import {figures['import']:.2f} s, "
                  f"re-import {figures['reimport']:.2f} s", flush=True)
    small, large = min(results), max(results)
    if small != large:
        print(f"ratio {large}/{small} projects = {large / small:.0f}×: " + ", ".join(
            f"{name} {results[large][name] / max(results[small][name], 1e-9):.1f}×"
            for name in ("validate", "import", "reimport")))
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
