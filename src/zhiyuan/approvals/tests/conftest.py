"""Fixtures of the approval-desk tests: a project with a code for each firm, catalogue items, uploads."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhiyuan.approvals.models import ApprovalItem
from zhiyuan.investments.models import Project, Stage


@pytest.fixture
def project_a(db, firm_a):
    """A signed project of firm A in the preparation stage, with its 投资项目代码."""
    return Project.objects.create(
        name="硬质合金深加工项目", code="2019-430202-34-03-012345", stage=Stage.PREPARING, pool="reserve",
        enterprise=firm_a, contract_date=dt.date(2019, 3, 1), total_investment=50000,
    )


@pytest.fixture
def project_b(db, firm_b):
    return Project.objects.create(
        name="高分子涂料扩产项目", code="2019-430202-26-03-000777", stage=Stage.PREPARING, pool="reserve",
        enterprise=firm_b, contract_date=dt.date(2019, 4, 1), total_investment=12000,
    )


@pytest.fixture
def permit_item(db):
    """建筑工程施工许可证: five required PDFs and one optional (seeded by the migration)."""
    return ApprovalItem.objects.get(code="construction_permit")


def pdf(name: str = "file.pdf", content: bytes = b"%PDF-1.4 test") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")
