"""The investment project code (投资项目代码): structure YYYY-RRRRRR-DD-TT-NNNNNN, year range, region."""

import pytest
from django.utils import timezone

from zhiyuan.investments.codes import normalize_project_code, project_code_error

VALID = [
    "2019-430202-34-03-012345",  # 荷塘区
    "2014-430202-34-03-000001",  # the first year codes were assigned
    "2020-110105-89-01-00001X",  # a check letter
    "2023-650100-44-02-99999Z",
]


@pytest.mark.parametrize("code", VALID)
def test_well_formed_codes_pass(code):
    assert project_code_error(code) is None


def test_this_year_passes_and_next_year_does_not():
    year = timezone.localdate().year
    assert project_code_error(f"{year}-430202-34-03-012345") is None
    assert project_code_error(f"{year + 1}-430202-34-03-012345") is not None


@pytest.mark.parametrize(
    "code",
    [
        "",
        "2019430202340301234X",  # no dashes
        "2019-430202-34-03-01234",  # serial too short
        "2019-430202-34-03-0123456",  # serial too long
        "19-430202-34-03-012345",  # two-digit year
        "2019-43020-34-03-012345",  # region too short
        "2019-430202-3-03-012345",  # department one digit
        "2019-430202-34-3-012345",  # type one digit
        "2019-430202-34-03-X12345",  # a letter outside the check position
        "2019-430202-34-03-01234-",  # punctuation as check character
        "2019_430202_34_03_012345",  # wrong separators
        "2019-430202-34-03-012345-1",  # trailing part
        "2019-43O202-34-03-012345",  # letter O for zero in the region
    ],
)
def test_malformed_codes_are_refused(code):
    message = project_code_error(code)
    assert message
    assert "YYYY-RRRRRR-DD-TT-NNNNNN" in str(message)


@pytest.mark.parametrize("code", ["2013-430202-34-03-012345", "2000-430202-34-03-012345"])
def test_years_before_2014_are_refused(code):
    message = project_code_error(code)
    assert message and "2014" in str(message)


@pytest.mark.parametrize("region", ["990202", "000000", "100000", "700000", "390101"])
def test_region_must_be_a_province_level_prefix(region):
    message = project_code_error(f"2019-{region}-34-03-012345")
    assert message and "430202" in str(message)


def test_normalize_upper_cases_and_removes_spaces_keeping_dashes():
    assert normalize_project_code(" 2020-110105-89-01-00001x ") == "2020-110105-89-01-00001X"
    assert normalize_project_code("2019 - 430202 - 34 - 03 - 012345") == "2019-430202-34-03-012345"
    assert normalize_project_code(None) == ""


def test_lower_case_check_letter_is_accepted_after_normalising():
    assert project_code_error("2020-110105-89-01-00001x") is None
