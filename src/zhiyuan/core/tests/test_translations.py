"""The Chinese catalogue is complete and the compiled .mo matches the .po."""

import gettext
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings

PO_PATH = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")


def test_every_message_is_translated():
    catalogue = polib.pofile(str(PO_PATH))
    missing = [entry.msgid for entry in catalogue if not entry.obsolete and not entry.translated()]
    assert not missing, f"{len(missing)} untranslated or fuzzy messages, e.g. {missing[:5]}"


def test_compiled_catalogue_matches_source():
    catalogue = polib.pofile(str(PO_PATH))
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in catalogue:
        if entry.obsolete or not entry.translated():
            continue
        if entry.msgid_plural:
            got = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
            want = entry.msgstr_plural[0]
        elif entry.msgctxt:
            got, want = compiled.pgettext(entry.msgctxt, entry.msgid), entry.msgstr
        else:
            got, want = compiled.gettext(entry.msgid), entry.msgstr
        if got != want:
            stale.append(entry.msgid)
    assert not stale, f"django.mo is stale (run `make messages`): {stale[:5]}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_marked_string_is_in_the_catalogue(tmp_path):
    """Extract the strings afresh into a copy of the catalogue: nothing new may appear untranslated."""
    package = Path(settings.PACKAGE_DIR)
    work = tmp_path / "zhiyuan"
    shutil.copytree(package, work, ignore=shutil.ignore_patterns("__pycache__", "tests", "migrations"))
    subprocess.run(
        ["django-admin", "makemessages", "-l", "zh_Hans", "--no-location", "--no-obsolete"],
        cwd=work,
        check=True,
        capture_output=True,
        env={"PATH": str(Path(shutil.which("xgettext")).parent) + ":" + str(Path(__import__("sys").executable).parent)},
    )
    fresh = polib.pofile(str(work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in fresh if not entry.obsolete and not entry.translated()]
    assert not missing, f"strings marked for translation but missing from the catalogue: {missing[:10]}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/enterprises/", "/projects/"])
def test_ordering_choices_are_chinese(login, path):
    page = login("leader").get(path).content.decode()
    assert "（降序）" in page and "descending" not in page
