#!/bin/sh
# Makes the example bulletin in this folder: the seed plan of 上城区 (shangcheng-2021-2025),
# replayed through the week of 29 December 2025 to 4 January 2026 (New Year's Day off, Sunday
# the 4th a working day), with the history below, and issued on Monday 5 January 2026.
# Run from the repository root: sh docs/bulletin-example/make.sh
set -eu
here=docs/bulletin-example
export DUBAN_DATA_DIR="$(mktemp -d)"
duban=.venv/bin/duban
$duban init >/dev/null
plan=shangcheng-2021-2025
# Milestones 1–12 are the plan's projects, all due 2025-12-31 (see `duban status --plan $plan`).
$duban done 1 --evidence "区养老服务综合体主体竣工并通过验收" --as-of 2025-12-20 >/dev/null
$duban close 1 --as-of 2025-12-22 >/dev/null
$duban done 11 12 --evidence "两处社区助餐点建成投用，附照片与验收单" --as-of 2025-12-26 >/dev/null
$duban extend 4 --to 2026-03-31 --reason "消防审验排期顺延至一季度" --as-of 2025-12-15 >/dev/null
for day in 2025-12-29 2025-12-30 2025-12-31 2026-01-02 2026-01-04; do
    case $day in
        2025-12-29) $duban done 9 --evidence "老年食堂改造完成" --as-of $day >/dev/null
                    $duban close 12 --as-of $day >/dev/null ;;
        2025-12-30) $duban done 2 --evidence "凯旋街道居家养老服务中心开业" --as-of $day >/dev/null
                    $duban extension 4 --approve --reason "同意顺延" --as-of $day >/dev/null ;;
        2025-12-31) $duban done 5 10 --evidence "项目完工，资料已上传" --as-of $day >/dev/null ;;
        2026-01-02) $duban done 3 --evidence "采荷街道适老化改造完成（逾期两天）" --as-of $day >/dev/null ;;
        2026-01-04) $duban return 10 --reason "验收资料缺少消防意见书" --as-of 2026-01-03 >/dev/null
                    $duban ack 8 --reason "已约谈九堡街道" --as-of $day >/dev/null ;;
    esac
    $duban sweep --as-of $day >/dev/null
done
$duban bulletin generate --plan $plan --as-of 2026-01-05 --json > "$here/generated.json"
internal=$(python3 -c "import json,sys; print(json.load(open('$here/generated.json'))[0]['id'])")
public=$(python3 -c "import json,sys; print(json.load(open('$here/generated.json'))[1]['id'])")
$duban bulletin show "$internal" --html "$here/bulletin-internal.html" --pdf "$here/bulletin.pdf" \
    --xlsx "$here/bulletin.xlsx" --chart "$here/chart.png" >/dev/null
$duban bulletin show "$public" --html "$here/bulletin-public.html" >/dev/null
$duban bulletin show "$internal" --json > "$here/figures.json"
rm "$here/generated.json"
.venv/bin/python - "$here" <<'PY'
import sys
from pathlib import Path

import pypdfium2

here = Path(sys.argv[1])
pdf = pypdfium2.PdfDocument(str(here / "bulletin.pdf"))
for number in range(len(pdf)):  # each page as a picture, to look at without a PDF viewer
    pdf[number].render(scale=1.5).to_pil().save(here / f"bulletin-page-{number + 1}.png")
PY
echo "written to $here"
