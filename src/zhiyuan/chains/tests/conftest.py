"""Fixtures of the chain-map tests: the seeded nodes by name, firms and products to map."""

import pytest

from zhiyuan.catalog.models import Product
from zhiyuan.chains.models import Node
from zhiyuan.conftest import make_uscc
from zhiyuan.enterprises.services import enterprise_create


@pytest.fixture
def node(db):
    """node("数控刀具") → the seeded node of that name (names are unique across the seed)."""

    def _node(name: str) -> Node:
        return Node.objects.select_related("segment__chain").get(name=name)

    return _node


@pytest.fixture
def make_firm(db):
    """make_firm(serial, name, industry, revenue) → a registered, operating firm."""

    def _firm(serial: int, name: str, industry: str = "3399", revenue=None, **extra):
        data = {"uscc": make_uscc(serial), "name": name, "industry": industry, **extra}
        if revenue is not None:
            data["revenue"] = revenue
        return enterprise_create(actor=None, data=data)

    return _firm


@pytest.fixture
def make_product(db):
    """make_product(firm, name, **fields) → a listed product."""

    def _product(firm, name: str, **fields) -> Product:
        return Product.objects.create(enterprise=firm, name=name, **fields)

    return _product
