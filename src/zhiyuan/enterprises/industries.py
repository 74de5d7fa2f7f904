"""Loading the GB/T 4754-2017 industry table shipped with the package (data/gbt4754-2017.csv)."""

import csv
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent / "data" / "gbt4754-2017.csv"

# Known defects of the shipped file, corrected on load: (code, name) -> (code, level).
# The file lists 3741 飞机制造 as a second 中类 "374"; the standard has it as 小类 3741.
CORRECTIONS = {("374", "飞机制造"): ("3741", 4)}


def read_industry_rows() -> list[dict]:
    """The rows of the standard in file order (parents before children), with section and division."""
    rows, section_of = [], {}
    with CSV_PATH.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, parent = row["code"].strip(), row["parent"].strip() or None
            level = int(row["level"])
            code, level = CORRECTIONS.get((code, row["name"].strip()), (code, level))
            # Where a 中类 has a single 小类 of the same name the file omits the 中类 (e.g. 0190 → 019):
            # attach the row to its nearest listed ancestor.
            while parent is not None and parent not in section_of and len(parent) > 2:
                parent = parent[:-1]
            section = code if level == 1 else section_of[parent]
            section_of[code] = section
            rows.append(
                {
                    "code": code,
                    "level": level,
                    "name": row["name"].strip(),
                    "parent_id": parent,
                    "section": section,
                    "division": code[:2] if level >= 2 else "",
                }
            )
    return rows


def load_industries(industry_model) -> int:
    """Insert the rows that are missing (idempotent); returns how many were added."""
    existing = set(industry_model.objects.values_list("code", flat=True))
    missing = [industry_model(**row) for row in read_industry_rows() if row["code"] not in existing]
    industry_model.objects.bulk_create(missing, batch_size=500)
    return len(missing)
