"""Size class per 工信部联企业〔2011〕300号, at both sides of every bound of every line."""

import pytest

from zhiyuan.enterprises.models import SizeClass
from zhiyuan.enterprises.sizeclass import ASSETS, LINES, REVENUE, STAFF, classify, line_for_industry

L, M, S, MI, U = SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO, SizeClass.UNKNOWN

# One GB/T 4754-2017 code per line of the standard.
SAMPLE_CODE = {
    "agriculture": "0111", "industry": "3311", "construction": "4710", "wholesale": "5111",
    "retail": "5211", "transport": "5411", "warehousing": "5910", "postal": "6010",
    "accommodation": "6110", "catering": "6210", "telecom": "6311", "software": "6511",
    "real_estate": "7010", "property": "7020", "leasing": "7111", "other": "7310",
}


def test_every_line_has_a_sample():
    assert set(SAMPLE_CODE) == set(LINES)
    for key, code in SAMPLE_CODE.items():
        assert line_for_industry(code).key == key


@pytest.mark.parametrize("key", sorted(LINES))
def test_bounds_on_both_sides(key):
    line = LINES[key]
    code = SAMPLE_CODE[key]
    classes = [L, M, S]
    for index, size_class in enumerate(classes):
        bounds = line.bounds[size_class]
        exactly = {STAFF: None, REVENUE: None, ASSETS: None, **bounds}
        assert classify(code, **exactly) == size_class, (key, size_class, "at bound")
        lower = classes[index + 1] if index + 1 < len(classes) else MI
        for measure in bounds:
            below = dict(exactly, **{measure: bounds[measure] - 1})
            assert classify(code, **below) == lower, (key, size_class, measure, "just below")


def test_examples_from_the_standard():
    assert classify("3311", staff=1000, revenue=40000) == L
    assert classify("3311", staff=999, revenue=50000) == M  # staff below large → drops one class
    assert classify("3311", staff=5000, revenue=1999) == S
    assert classify("3311", staff=19, revenue=100000) == MI  # 微型: one measure suffices
    assert classify("4710", revenue=80000, total_assets=80000) == L
    assert classify("7310", staff=300) == L


def test_railway_transport_falls_under_other():
    assert line_for_industry("5311").key == "other"


def test_missing_measure_is_unknown():
    assert classify("3311", staff=100, revenue=None) == U
    assert classify(None, staff=100, revenue=100) == U
    assert classify("7310", staff=None) == U
