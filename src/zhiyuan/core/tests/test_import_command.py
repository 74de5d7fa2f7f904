"""`zhiyuan import KIND FILE` dispatches to the app's import command."""

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_projects_need_a_year(tmp_path):
    with pytest.raises(CommandError, match="--year"):
        call_command("import", "projects", str(tmp_path / "x.xlsx"))


@pytest.mark.django_db
@pytest.mark.parametrize("kind,extra", [("enterprises", []), ("projects", ["--year", "2026"])])
def test_missing_file_is_reported_by_the_app_command(tmp_path, kind, extra):
    with pytest.raises(CommandError) as excinfo:
        call_command("import", kind, str(tmp_path / "missing.xlsx"), *extra)
    assert "missing.xlsx" in str(excinfo.value)


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(CommandError):
        call_command("import", "products", str(tmp_path / "x.xlsx"))
