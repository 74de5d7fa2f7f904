"""Credit selectors: who sees which consents, needs, offers and reports, the report itself, and matching
financing needs with loan products — in particular that a bank without a live consent cannot learn a
firm's grade from which needs match."""

import pytest

from zhiyuan.core.errors import NotFoundError
from zhiyuan.credit import selectors, services
from zhiyuan.credit.models import Feed, Purpose
from zhiyuan.credit.tests.test_services import (
    DAY,
    TODAY,
    at,
    financing_need,
    give_score,
    make_bank,
    make_consent,
    make_product,
    scoring_run,
    tax_record,
)


@pytest.fixture(autouse=True)
def _clock():
    with at(TODAY.year, TODAY.month, TODAY.day):
        yield


def listed(matches) -> dict[str, bool]:
    """product name → whether the grade was compared, for each match."""
    return {match.product.name: match.grade_checked for match in matches}


# -- consents, access, objections --------------------------------------------------------------------


def test_consents_visible_to(personas, firm_a, firm_b):
    bank, bank2 = personas["bank"], make_bank()
    a_to_bank = make_consent(firm_a, bank)
    b_to_bank2 = make_consent(firm_b, bank2)
    a_to_bank2 = make_consent(firm_a, bank2, revoked=True)
    assert set(selectors.consents_visible_to(personas["firm_a"])) == {a_to_bank, a_to_bank2}
    assert set(selectors.consents_visible_to(personas["firm_b"])) == {b_to_bank2}
    assert set(selectors.consents_visible_to(bank)) == {a_to_bank}
    assert set(selectors.consents_visible_to(bank2)) == {b_to_bank2, a_to_bank2}
    assert selectors.consents_visible_to(personas["service_staff"]).count() == 3
    assert selectors.consents_visible_to(personas["city"]).count() == 0
    assert selectors.consent_get_for(personas["firm_a"], a_to_bank.pk) == a_to_bank
    for user, pk in ((personas["firm_b"], a_to_bank.pk), (bank, b_to_bank2.pk), (bank, "x"), (bank, None)):
        with pytest.raises(NotFoundError):
            selectors.consent_get_for(user, pk)


def test_live_consents_of_bank(personas, firm_a, firm_b):
    bank = personas["bank"]
    live = make_consent(firm_a, bank, end=TODAY)
    make_consent(firm_b, bank, start=TODAY - 10 * DAY, end=TODAY - DAY)
    make_consent(firm_b, bank, start=TODAY + DAY)
    make_consent(firm_b, bank, revoked=True)
    make_consent(firm_b, make_bank())
    assert list(selectors.live_consents_of_bank(bank)) == [live]
    assert list(selectors.live_consents_of_bank(bank, today=TODAY + 100 * DAY)) == []
    assert selectors.live_consents_of_bank(personas["firm_a"]).count() == 0
    assert selectors.live_consents_of_bank(personas["admin"]).count() == 0


def test_objections_are_scoped_to_the_firm(personas, firm_a, firm_b):
    mine = services.objection_raise(
        actor=personas["firm_a"], feed="tax", record_id=tax_record(firm_a).pk, reason="不对"
    )
    theirs = services.objection_raise(
        actor=personas["firm_b"], feed="tax", record_id=tax_record(firm_b).pk, reason="不对"
    )
    assert list(selectors.objections_visible_to(personas["firm_a"])) == [mine]
    assert set(selectors.objections_visible_to(personas["service_staff"])) == {mine, theirs}
    assert selectors.objections_visible_to(personas["bank"]).count() == 0
    with pytest.raises(NotFoundError):
        selectors.objection_get_for(personas["firm_a"], theirs.pk)
    assert selectors.open_objection_keys(firm_a) == {(Feed.TAX, mine.record_id)}


# -- the report ------------------------------------------------------------------------------------------


def test_report_build(personas, firm_a, firm_b):
    old_run = scoring_run(TODAY - 30 * DAY)
    new_run = scoring_run(TODAY)
    give_score(firm_a, "BB", run=old_run, points=540)
    give_score(firm_a, "A", run=new_run, points=650)
    give_score(firm_b, "C", run=new_run, points=400)
    record = tax_record(firm_a, 2025, "A")
    report = selectors.report_build(firm_a)
    assert report.grade == "A" and report.score.points == 650
    assert report.pd_band == (0.005, 0.01)
    assert [(row["grade"], row["points"]) for row in report.trend] == [("BB", 540), ("A", 650)]
    assert report.model == new_run.model and not report.synthetic
    tax = next(item for item in report.freshness if item.feed == Feed.TAX)
    assert (tax.records, tax.latest_period, tax.sources) == (1, 2025, ["区税务局"])
    assert [row.id for row in report.records[Feed.TAX]] == [record.pk]
    assert report.disputed_count == 0
    empty = selectors.report_build(firm_b)
    assert empty.grade == "C" and empty.records == {}
    assert all(item.records == 0 for item in empty.freshness)


def test_report_enterprise_for(personas, firm_a, firm_b):
    assert selectors.report_enterprise_for(personas["firm_a"], firm_a.uscc) == firm_a
    assert selectors.report_enterprise_for(personas["leader"], firm_b.uscc.lower()) == firm_b
    for key in ("firm_b", "bank", "city"):
        with pytest.raises(NotFoundError):
            selectors.report_enterprise_for(personas[key], firm_a.uscc)
    with pytest.raises(NotFoundError):
        selectors.report_enterprise_for(personas["admin"], "91430202000000000X")


# -- needs, offers, products ---------------------------------------------------------------------------


def test_needs_and_offers_visible_to(personas, firm_a):
    published = financing_need(personas["firm_a"])
    private = financing_need(personas["firm_a"], share=False)
    others = financing_need(personas["firm_b"])
    assert set(selectors.needs_visible_to(personas["firm_a"])) == {published, private}
    assert set(selectors.needs_visible_to(personas["bank"])) == {published, others}
    assert set(selectors.needs_visible_to(personas["service_staff"])) == {published, others}
    assert selectors.needs_visible_to(personas["city"]).count() == 0
    with pytest.raises(NotFoundError):
        selectors.need_get_for(personas["bank"], private.pk)
    with pytest.raises(NotFoundError):
        selectors.need_get_for(personas["firm_b"], published.pk)
    bank2 = make_bank()
    mine = services.offer_create(actor=personas["bank"], need=published, amount="100", term_months=12, rate="4")
    theirs = services.offer_create(actor=bank2, need=others, amount="100", term_months=12, rate="4")
    assert list(selectors.offers_visible_to(personas["bank"])) == [mine]
    assert list(selectors.offers_visible_to(personas["firm_a"])) == [mine]
    assert list(selectors.offers_visible_to(personas["firm_b"])) == [theirs]
    assert set(selectors.offers_visible_to(personas["admin"])) == {mine, theirs}
    assert selectors.offers_visible_to(personas["city"]).count() == 0
    with pytest.raises(NotFoundError):
        selectors.offer_get_for(bank2, mine.pk)


def test_products_visible_to(personas):
    bank2 = make_bank()
    published = make_product(personas["bank"], name="甲")
    hidden = make_product(personas["bank"], name="乙", is_active=False)
    other_hidden = make_product(bank2, name="丙", is_active=False)
    assert set(selectors.products_visible_to(personas["bank"])) == {published, hidden}
    assert set(selectors.products_visible_to(bank2)) == {published, other_hidden}
    assert set(selectors.products_visible_to(personas["firm_a"])) == {published}
    with pytest.raises(NotFoundError):
        selectors.product_get_for(personas["firm_a"], hidden.pk)


# -- matching --------------------------------------------------------------------------------------


@pytest.fixture
def shelf(personas):
    """The bank persona's products around firm_a's need (500 for 12 months, firm_a in section C)."""
    bank = personas["bank"]
    return {
        "fits": make_product(bank, name="fits"),
        "too-small": make_product(bank, name="too-small", amount_min="10", amount_max="300"),
        "too-big": make_product(bank, name="too-big", amount_min="1000", amount_max="5000"),
        "term-too-long": make_product(bank, name="term-too-long", term_min_months=24, term_max_months=60),
        "term-too-short": make_product(bank, name="term-too-short", term_min_months=1, term_max_months=6),
        "section-c": make_product(bank, name="section-c", industry_sections=["C", "M"]),
        "section-a": make_product(bank, name="section-a", industry_sections=["A"]),
        "unpublished": make_product(bank, name="unpublished", is_active=False),
    }


AMOUNT_TERM_INDUSTRY = {"fits": False, "section-c": False}


def test_amount_term_and_industry_filter_for_everyone(personas, firm_a, shelf):
    assert firm_a.industry.section == "C"
    need = financing_need(personas["firm_a"], amount="500", term_months=12)
    for key in ("firm_a", "service_staff", "bank"):
        assert listed(selectors.matches_for_need(personas[key], need)) == AMOUNT_TERM_INDUSTRY, key
    assert listed(selectors.matches_for_bank(personas["bank"])) == AMOUNT_TERM_INDUSTRY
    # The boundaries are inclusive.
    edge = financing_need(personas["firm_a"], amount="1000", term_months=36)
    assert set(listed(selectors.matches_for_need(personas["firm_a"], edge))) == {
        "fits",
        "section-c",
        "too-big",
        "term-too-long",
    }


def test_matches_for_bank_lists_only_its_own_products_and_published_needs(personas, shelf):
    mine = financing_need(personas["firm_a"])
    financing_need(personas["firm_b"], share=False)
    bank2 = make_bank()
    make_product(bank2, name="theirs")
    matches = selectors.matches_for_bank(personas["bank"])
    assert {match.need for match in matches} == {mine}
    assert "theirs" not in listed(matches)
    assert listed(selectors.matches_for_bank(bank2)) == {"theirs": False}
    assert selectors.matches_for_bank(personas["firm_a"]) == []
    assert selectors.matches_for_bank(personas["admin"]) == []


def test_collateral_is_noted_not_filtered(personas):
    make_product(personas["bank"], name="secured", collateral_required=True)
    need = financing_need(personas["firm_a"])
    (match,) = selectors.matches_for_need(personas["firm_a"], need)
    assert match.product.name == "secured" and match.notes


@pytest.mark.parametrize(
    ("grade", "listed_for_firm"),
    [("AAA", True), ("A", True), ("BBB", False), ("C", False)],
)
def test_grade_is_compared_for_the_firm_and_staff(personas, firm_a, grade, listed_for_firm):
    give_score(firm_a, grade)
    make_product(personas["bank"], name="grade-a", min_grade="A")
    make_product(personas["bank"], name="any-grade")
    need = financing_need(personas["firm_a"])
    expected = {"any-grade": False, **({"grade-a": True} if listed_for_firm else {})}
    assert listed(selectors.matches_for_need(personas["firm_a"], need)) == expected
    assert listed(selectors.matches_for_need(personas["service_staff"], need)) == expected


@pytest.mark.parametrize("grade", ["AAA", "C"])
def test_a_bank_without_a_live_consent_does_not_learn_the_grade(personas, firm_a, grade):
    """Whatever the firm's grade, the bank sees the same list: the product is listed, the grade unchecked."""
    bank = personas["bank"]
    give_score(firm_a, grade)
    make_consent(firm_a, bank, revoked=True)
    make_consent(firm_a, bank, start=TODAY - 20 * DAY, end=TODAY - DAY)
    make_consent(firm_a, make_bank())  # another bank's consent tells this bank nothing
    make_product(bank, name="grade-a", min_grade="A")
    need = financing_need(personas["firm_a"])
    for matches in (selectors.matches_for_bank(bank), selectors.matches_for_need(bank, need)):
        (match,) = matches
        assert (match.product.name, match.grade_checked) == ("grade-a", False)
        assert any("A" in note for note in match.notes)


@pytest.mark.parametrize(("grade", "listed_for_bank"), [("AA", True), ("A", True), ("BBB", False), ("C", False)])
def test_a_bank_with_a_live_consent_has_the_grade_compared(personas, firm_a, grade, listed_for_bank):
    bank = personas["bank"]
    give_score(firm_a, grade)
    make_consent(firm_a, bank, purpose=Purpose.CREDIT_LINE)
    make_product(bank, name="grade-a", min_grade="A")
    need = financing_need(personas["firm_a"])
    expected = {"grade-a": True} if listed_for_bank else {}
    assert listed(selectors.matches_for_bank(bank)) == expected
    assert listed(selectors.matches_for_need(bank, need)) == expected


def test_revoking_the_consent_stops_the_comparison(personas, firm_a):
    bank = personas["bank"]
    give_score(firm_a, "C")
    consent = make_consent(firm_a, bank)
    make_product(bank, name="grade-a", min_grade="A")
    financing_need(personas["firm_a"])
    assert listed(selectors.matches_for_bank(bank)) == {}
    services.consent_revoke(actor=personas["firm_a"], consent=consent)
    assert listed(selectors.matches_for_bank(bank)) == {"grade-a": False}


def test_consent_from_one_firm_does_not_open_anothers_grade(personas, firm_a, firm_b):
    bank = personas["bank"]
    run = scoring_run()
    give_score(firm_a, "AA", run=run)
    give_score(firm_b, "C", run=run)
    make_consent(firm_a, bank)
    make_product(bank, name="grade-a", min_grade="A")
    need_a = financing_need(personas["firm_a"])
    need_b = financing_need(personas["firm_b"])
    by_need = {match.need: match.grade_checked for match in selectors.matches_for_bank(bank)}
    assert by_need == {need_a: True, need_b: False}


def test_the_current_grade_is_each_firms_latest(personas, firm_a, firm_b):
    """firm_a was scored in two runs (C, then AA); firm_b only in the first (AA). Each firm's own
    latest score counts, even when the firms' latest runs differ."""
    bank = personas["bank"]
    first = scoring_run(TODAY - 30 * DAY)
    second = scoring_run(TODAY)
    give_score(firm_a, "C", run=first)
    give_score(firm_b, "AA", run=first)
    give_score(firm_a, "AA", run=second)
    make_consent(firm_a, bank)
    make_consent(firm_b, bank)
    make_product(bank, name="grade-a", min_grade="A")
    need_a = financing_need(personas["firm_a"])
    need_b = financing_need(personas["firm_b"])
    matched = {match.need for match in selectors.matches_for_bank(bank) if match.grade_checked}
    assert matched == {need_a, need_b}
    assert selectors.latest_score(firm_a).grade == "AA"


def test_a_firm_without_a_score_is_listed_unchecked(personas):
    make_product(personas["bank"], name="grade-a", min_grade="A")
    need = financing_need(personas["firm_a"])
    assert listed(selectors.matches_for_need(personas["firm_a"], need)) == {"grade-a": False}


def test_average_grade_and_distribution(personas, firm_a, firm_b):
    assert selectors.average_grade() is None
    run = scoring_run()
    run.grade_counts = {"AA": 1, "BBB": 2, "C": 1}
    run.save()
    distribution = dict(selectors.grade_distribution())
    assert (distribution["AA"], distribution["BBB"], distribution["C"], distribution["AAA"]) == (1, 2, 1, 0)
    # Mean rank (1 + 3 + 3 + 8) / 4 = 3.75 → rank 4 (BB).
    assert selectors.average_grade() == "BB"
