"""Shared test fixtures: the personas of DESIGN.md §2 and two firms to scope them by."""

import datetime as dt

import pytest
from django.test import Client
from stdnum.cn import uscc as uscc_module

from zhiyuan.accounts.personas import PERSONAS, ensure_persona
from zhiyuan.enterprises.services import enterprise_create

PASSWORD = "test-pass-123"


def make_uscc(serial: int, region: str = "430202") -> str:
    """A valid USCC for tests: registration office 9 (市场监管), type 1 (企业), the region, a serial."""
    body = f"91{region}{serial:09d}"
    return body + uscc_module.calc_check_digit(body)


@pytest.fixture
def firm_a(db):
    return enterprise_create(
        actor=None,
        data={
            "uscc": make_uscc(1),
            "name": "株洲硬质合金集团有限公司",
            "short_name": "株硬集团",
            "industry": "3240",
            "staff": 5000,
            "revenue": 500000,
            "total_assets": 900000,
            "established_on": dt.date(1954, 1, 1),
            "contact_name": "张三",
            "contact_phone": "13812341234",
        },
    )


@pytest.fixture
def firm_b(db):
    return enterprise_create(
        actor=None,
        data={
            "uscc": make_uscc(2),
            "name": "株洲飞鹿高新材料技术股份有限公司",
            "short_name": "飞鹿股份",
            "industry": "2641",
            "staff": 400,
            "revenue": 30000,
            "contact_phone": "13987654321",
        },
    )


@pytest.fixture
def personas(db, firm_a, firm_b):
    """Every persona by key: admin, leader, investment, project, service_staff, specialist,
    window_clerk, statistics, firm_a, firm_b, bank, city."""
    firms = {"firm_a": firm_a, "firm_b": firm_b}
    return {p.key: ensure_persona(p, password=PASSWORD, enterprise=firms.get(p.key)) for p in PERSONAS}


@pytest.fixture
def login(personas):
    """login("specialist") → a test client signed in as that persona."""

    def _login(key: str) -> Client:
        client = Client()
        client.force_login(personas[key])
        return client

    return _login
