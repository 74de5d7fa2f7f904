"""The national investment project code (全国固定资产投资项目代码, GB/T 40058-2021).

Written YYYY-RRRRRR-DD-TT-NNNNNN: the year the code was assigned, the 6-digit administrative
region (430202 is 荷塘区), the 2-digit central guiding department, the 2-digit project type and a
6-character serial whose last character is the standard's check character. The check algorithm is
defined in the standard's text, which this project does not have, so the last character is only
checked to be a digit or capital letter: structure, year range and region are checked here.
"""

import re

from django.utils import timezone
from django.utils.translation import gettext as _

PROJECT_CODE_RE = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{5}[0-9A-Z])$")
# The first two digits of every province-level division (GB/T 2260).
PROVINCE_PREFIXES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
}
FIRST_YEAR = 2014  # the national online approval platform began assigning codes in 2014/2015


def normalize_project_code(value: str) -> str:
    """Upper-case, spaces removed; the dashes are kept since they are part of the written form."""
    return (value or "").replace(" ", "").strip().upper()


def project_code_error(value: str) -> str | None:
    """Why `value` is not a well-formed project code, or None when it is."""
    code = normalize_project_code(value)
    match = PROJECT_CODE_RE.match(code)
    if not match:
        return _("A project code is written YYYY-RRRRRR-DD-TT-NNNNNN, e.g. 2019-430202-34-03-012345.")
    year, region = int(match.group(1)), match.group(2)
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        return _("The year in the project code must be between %(first)s and this year.") % {"first": FIRST_YEAR}
    if region[:2] not in PROVINCE_PREFIXES:
        return _("The region part of the project code must be an administrative division code such as 430202.")
    return None
