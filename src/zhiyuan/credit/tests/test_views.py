"""Credit pages: who sees which page (403 for the wrong role, 404 for what is outside one's scope),
the bank's door through consent with every request logged, and every form posting through to its
service with the change showing — or the field error with nothing written.

The clock is frozen on the working day the service tests use (the calendar covers 2026)."""

import datetime as dt
import functools
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from zhiyuan.credit import scorecard, scoring
from zhiyuan.credit.features import FEATURES, dropped_text
from zhiyuan.credit.models import (
    Consent,
    Feed,
    FeedLoad,
    FeedUpload,
    FinancingOffer,
    HeadcountRecord,
    LoanProduct,
    Objection,
    ObjectionStatus,
    OfferStatus,
    PurgeLog,
    ReportAccess,
    ScoreModel,
    TaxRecord,
)
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

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["credit:overview", "credit:objections", "credit:models", "credit:purges", "credit:needs"]
MANAGER_PAGES = ["credit:feeds"]


@pytest.fixture(autouse=True)
def _clock():
    with at(TODAY.year, TODAY.month, TODAY.day):
        yield


def english(client):
    client.cookies["django_language"] = "en"
    return client


def page(client, name, *args, **query) -> tuple[int, str]:
    url = reverse(name, args=args)
    response = client.get(url, query or None)
    html = response.content.decode() if response["Content-Type"].startswith("text/") else ""
    return response.status_code, html


def field_errors(response, form_name: str, field: str) -> list[str]:
    form = response.context[form_name]
    return [str(message) for message in form.errors.get(field, [])]


@functools.lru_cache(maxsize=1)
def trained_spec() -> dict:
    """A scorecard trained on a small generated sample (once per test session: ~5 s)."""
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame(
        {
            "age_years": rng.uniform(0, 30, n),
            "tax_grade": rng.integers(1, 6, n).astype(float),
            "tax_growth": rng.normal(5, 20, n),
            "headcount": rng.integers(1, 300, n).astype(float),
            "headcount_change": rng.normal(0, 20, n),
            "electricity_change": rng.normal(0, 20, n),
            "overdue_events": rng.poisson(0.5, n).astype(float),
            "max_overdue_days": rng.poisson(10, n).astype(float),
            "court_cases": rng.poisson(0.3, n).astype(float),
            "penalties": rng.poisson(0.2, n).astype(float),
            "honours": rng.poisson(0.5, n).astype(float),
        }
    )
    logit = (
        -2.5
        - 0.08 * frame.age_years
        - 0.5 * (frame.tax_grade - 3)
        + 0.6 * frame.overdue_events
        - 0.03 * frame.headcount_change
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return scorecard.train(frame, y, [feature.variable() for feature in FEATURES], folds=3)


def trained_model(version: int = 1, *, active: bool = True) -> ScoreModel:
    spec = trained_spec()
    model = ScoreModel.objects.create(
        version=version,
        spec=spec,
        sample_size=spec["training"]["size"],
        bad_count=spec["training"]["bads"],
        auc=spec["metrics"]["cv"]["auc_mean"],
        ks=spec["metrics"]["cv"]["ks_mean"],
        is_synthetic=True,
    )
    if active:
        scoring.model_activate(actor=None, model=model)
    return model


# ---------------------------------------------------------------- who sees what


def test_index_sends_each_role_to_its_page(personas, login):
    expected = {
        "firm_a": "credit:my",
        "bank": "credit:bank",
        "service_staff": "credit:overview",
        "leader": "credit:overview",
    }
    for key, name in expected.items():
        response = login(key).get(reverse("credit:index"))
        assert response.status_code == 302 and response.url == reverse(name), key
    assert login("city").get(reverse("credit:index")).status_code == 403


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_render_for_staff(personas, login, name):
    for key in ("leader", "service_staff", "statistics"):
        assert page(login(key), name)[0] == 200, key


@pytest.mark.parametrize("name", ["credit:overview", "credit:models", "credit:purges", "credit:feeds"])
def test_staff_pages_are_refused_to_firms_banks_and_the_city(personas, login, name):
    for key in ("firm_a", "bank", "city"):
        assert page(login(key), name)[0] == 403, key


def test_feed_pages_are_for_credit_managers_only(personas, login):
    assert page(login("service_staff"), "credit:feeds")[0] == 200
    assert page(login("admin"), "credit:feeds")[0] == 200
    assert page(login("leader"), "credit:feeds")[0] == 403
    assert page(login("service_staff"), "credit:feed_template", "tax")[0] == 200
    assert page(login("service_staff"), "credit:feed_template", "gossip")[0] == 404
    assert page(login("leader"), "credit:feed_template", "tax")[0] == 403


def test_the_firm_page_and_the_bank_page_are_for_their_roles(personas, login):
    assert page(login("firm_a"), "credit:my")[0] == 200
    assert page(login("bank"), "credit:bank")[0] == 200
    for key in ("bank", "service_staff", "city"):
        assert page(login(key), "credit:my")[0] == 403, key
    for key in ("firm_a", "service_staff", "city"):
        assert page(login(key), "credit:bank")[0] == 403, key


def test_navigation_links_each_role_to_its_credit_page(personas, login):
    assert reverse("credit:index") in login("leader").get("/").content.decode()
    assert reverse("credit:my") in login("firm_a").get("/").content.decode()
    bank_home = login("bank").get("/").content.decode()
    assert reverse("credit:bank") in bank_home and reverse("credit:needs") in bank_home
    assert reverse("servicedesk:financing") not in bank_home


# ---------------------------------------------------------------- the report and the bank's door


def test_staff_open_any_report_and_a_firm_only_its_own(personas, login, firm_a, firm_b):
    tax_record(firm_a, 2025, "A")
    assert page(login("leader"), "credit:report", firm_a.uscc)[0] == 200
    assert page(login("service_staff"), "credit:report", firm_b.uscc)[0] == 200
    status, html = page(login("firm_a"), "credit:report", firm_a.uscc)
    assert status == 200 and firm_a.name in html and 'data-testid="objection-form"' in html
    assert page(login("firm_b"), "credit:report", firm_a.uscc)[0] == 404
    assert page(login("city"), "credit:report", firm_a.uscc)[0] == 404
    assert page(login("leader"), "credit:report", "91430202000000000X")[0] == 404
    # Staff read without the firm's objection forms.
    assert 'data-testid="objection-form"' not in page(login("leader"), "credit:report", firm_a.uscc)[1]


def test_bank_reads_only_under_a_live_consent_and_every_request_is_logged(personas, login, firm_a):
    bank, firm = login("bank"), login("firm_a")
    bank_org = personas["bank"].organisation
    # No consent: 404, logged as refused.
    assert page(bank, "credit:report", firm_a.uscc)[0] == 404
    refused = ReportAccess.objects.get()
    assert (refused.enterprise, refused.bank, refused.granted, refused.channel) == (firm_a, bank_org, False, "web")

    # The firm authorises the bank through its page.
    response = firm.post(
        reverse("credit:consent_grant"),
        {"bank": bank_org.pk, "purpose": "loan_approval", "valid_until": (TODAY + 30 * DAY).isoformat()},
    )
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.enterprise, consent.bank, consent.purpose) == (firm_a, bank_org, "loan_approval")
    assert consent.valid_until == TODAY + 30 * DAY

    # The bank sees the consent on its page and opens the report with it: 200, logged as granted.
    status, html = page(bank, "credit:bank")
    assert status == 200 and f"{reverse('credit:report', args=[firm_a.uscc])}?purpose=loan_approval" in html
    status, html = page(bank, "credit:report", firm_a.uscc, purpose="loan_approval")
    assert status == 200 and firm_a.name in html
    granted = ReportAccess.objects.order_by("-id").first()
    assert (granted.granted, granted.consent, granted.purpose, granted.user) == (
        True,
        consent,
        "loan_approval",
        personas["bank"],
    )
    # Another purpose is not consented: 404 and logged.
    assert page(bank, "credit:report", firm_a.uscc, purpose="credit_line")[0] == 404
    assert ReportAccess.objects.filter(granted=False).count() == 2

    # The firm sees the requests in its log.
    html = english(firm).get(reverse("credit:my")).content.decode()
    assert 'data-testid="access-table"' in html and html.count('data-granted="1"') == 1
    assert html.count('data-granted="0"') == 2

    # The firm revokes; the bank's next request is refused and logged.
    assert firm.post(reverse("credit:consent_revoke", args=[consent.pk])).status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == personas["firm_a"]
    assert page(bank, "credit:report", firm_a.uscc, purpose="loan_approval")[0] == 404
    assert ReportAccess.objects.order_by("-id").first().granted is False
    # Revoking twice is refused with a message, not an error page.
    response = firm.post(reverse("credit:consent_revoke", args=[consent.pk]), follow=True)
    assert response.status_code == 200 and "already revoked" in str(list(response.context["messages"])[-1])


def test_an_unknown_purpose_sends_the_bank_back_with_a_message(personas, login, firm_a):
    make_consent(firm_a, personas["bank"])
    response = english(login("bank")).get(reverse("credit:report", args=[firm_a.uscc]), {"purpose": "marketing"})
    assert response.status_code == 302 and response.url == reverse("credit:bank")


def test_grant_with_bad_input_shows_the_field_errors_and_writes_nothing(personas, login, firm_a):
    firm = english(login("firm_a"))
    response = firm.post(
        reverse("credit:consent_grant"), {"bank": personas["bank"].organisation.pk, "purpose": "loan_approval"}
    )
    assert response.status_code == 400 and field_errors(response, "consent_form", "valid_until")
    # A district department is not a bank: the form does not offer it.
    response = firm.post(
        reverse("credit:consent_grant"),
        {"bank": personas["admin"].organisation_id, "purpose": "loan_approval", "valid_until": "2026-07-01"},
    )
    assert response.status_code == 400 and field_errors(response, "consent_form", "bank")
    # Longer than the configured maximum: the service's error lands on the field.
    response = firm.post(
        reverse("credit:consent_grant"),
        {"bank": personas["bank"].organisation.pk, "purpose": "loan_approval", "valid_until": "2028-01-01"},
    )
    assert response.status_code == 400 and "at most" in field_errors(response, "consent_form", "valid_until")[0]
    assert not Consent.objects.exists()


def test_a_firm_cannot_revoke_another_firms_consent(personas, login, firm_a, firm_b):
    consent = make_consent(firm_a, personas["bank"])
    assert login("firm_b").post(reverse("credit:consent_revoke", args=[consent.pk])).status_code == 404
    assert login("bank").post(reverse("credit:consent_revoke", args=[consent.pk])).status_code == 403
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_report_shows_grade_pd_band_reasons_and_freshness(personas, login, firm_a):
    trained_model()
    tax_record(firm_a, 2025, "A")
    HeadcountRecord.objects.create(
        enterprise=firm_a,
        load=FeedLoad.objects.create(feed=Feed.HEADCOUNT, source="区人社局", channel="file"),
        month=dt.date(2026, 5, 1),
        headcount=120,
    )
    scoring.scoring_run_create(actor=None, as_of=TODAY)
    response = english(login("firm_a")).get(reverse("credit:my"))
    html = response.content.decode()
    score = response.context["score"]
    assert score is not None and f'data-grade="{score.grade}"' in html
    assert response.context["pd_band"] in html and "%–" in response.context["pd_band"]
    assert 'data-testid="synthetic-badge"' in html and "v1" in html
    assert 'id="score-trend-chart"' in html and "plotly/plotly.min.js" in html
    assert "区人社局" in html and "区税务局" in html  # what the report rests on
    assert 'data-testid="reasons"' in html


def test_a_firm_without_a_score_gets_the_explanation(personas, login, firm_a):
    status, html = page(english(login("firm_a")), "credit:my")
    assert status == 200 and 'data-testid="no-score"' in html and "No credit score yet" in html


def test_knockout_reason_comes_first_and_is_highlighted(personas, login, firm_a):
    score = give_score(firm_a, "C")
    score.knockout = "KO_DISHONEST"
    score.reasons = [
        {"code": "HEADCOUNT_CHANGE", "feature": "headcount_change", "value": -38.0, "points_lost": 12.0},
        {"code": "KO_DISHONEST", "feature": "", "value": None, "points_lost": None},
    ]
    score.save()
    html = english(login("leader")).get(reverse("credit:report", args=[firm_a.uscc])).content.decode()
    knockout = html.index('data-code="KO_DISHONEST"')
    assert knockout < html.index('data-code="HEADCOUNT_CHANGE"')
    assert "list-group-item-danger" in html[html.rindex("<li", 0, knockout) : knockout]
    assert "fell 38% in the last 12 months" in html
    assert 'data-testid="knockout"' in html


# ---------------------------------------------------------------- objections


def test_objection_raise_flags_the_record_and_staff_answer_it(personas, login, firm_a):
    record = tax_record(firm_a, 2025, "C")
    firm = english(login("firm_a"))
    response = firm.post(
        reverse("credit:objection_raise", args=["tax", record.pk]), {"reason": "2025年已补缴,等级应为B"}
    )
    objection = Objection.objects.get()
    assert response.status_code == 302 and response.url == reverse("credit:objection_detail", args=[objection.pk])
    assert (objection.enterprise, objection.status, objection.record_id) == (firm_a, ObjectionStatus.OPEN, record.pk)

    # The record carries the disputed badge and the report its banner, for the firm and for staff.
    for client in (firm, english(login("leader"))):
        html = client.get(reverse("credit:report", args=[firm_a.uscc])).content.decode()
        assert 'data-testid="disputed-badge"' in html and 'data-testid="disputed-banner"' in html
        assert f'data-record="tax-{record.pk}"' in html

    # Staff see it in the queue; the leader reads it but only the credit managers answer.
    assert objection.record_label in page(login("leader"), "credit:objections")[1]
    assert 'data-testid="answer-form"' not in page(login("leader"), "credit:objection_detail", objection.pk)[1]
    assert 'data-testid="answer-form"' in page(login("service_staff"), "credit:objection_detail", objection.pk)[1]
    answer_url = reverse("credit:objection_answer", args=[objection.pk])
    assert login("leader").post(answer_url, {"upheld": "yes", "answer": "x"}).status_code == 403

    # No answer text: the field error, nothing changed.
    response = english(login("service_staff")).post(answer_url, {"upheld": "yes", "answer": ""})
    assert response.status_code == 400 and field_errors(response, "answer_form", "answer")
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.OPEN

    response = login("service_staff").post(answer_url, {"upheld": "yes", "answer": "经核实,已更正。"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.UPHELD and objection.answered_by == personas["service_staff"]
    assert not TaxRecord.objects.filter(pk=record.pk).exists()
    assert 'data-testid="disputed-badge"' not in firm.get(reverse("credit:my")).content.decode()


def test_objection_on_another_firms_record_is_not_found(personas, login, firm_a, firm_b):
    record = tax_record(firm_a)
    response = login("firm_b").post(reverse("credit:objection_raise", args=["tax", record.pk]), {"reason": "不对"})
    assert response.status_code == 404
    assert (
        login("bank").post(reverse("credit:objection_raise", args=["tax", record.pk]), {"reason": "x"}).status_code
        == 403
    )
    assert not Objection.objects.exists()


def test_objection_without_a_reason_is_refused_with_a_message(personas, login, firm_a):
    record = tax_record(firm_a)
    response = login("firm_a").post(reverse("credit:objection_raise", args=["tax", record.pk]), {"reason": " "})
    assert response.status_code == 302 and not Objection.objects.exists()


def test_the_firm_withdraws_its_objection_and_others_cannot_see_it(personas, login, firm_a, firm_b):
    record = tax_record(firm_a)
    login("firm_a").post(reverse("credit:objection_raise", args=["tax", record.pk]), {"reason": "不对"})
    objection = Objection.objects.get()
    assert page(login("firm_b"), "credit:objection_detail", objection.pk)[0] == 404
    assert page(login("bank"), "credit:objection_detail", objection.pk)[0] == 403
    assert page(login("firm_a"), "credit:objections")[0] == 200
    assert login("firm_b").post(reverse("credit:objection_withdraw", args=[objection.pk])).status_code == 404
    assert login("firm_a").post(reverse("credit:objection_withdraw", args=[objection.pk])).status_code == 302
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.WITHDRAWN


def test_overdue_objections_are_red_in_the_queue(personas, login, firm_a):
    record = tax_record(firm_a)
    login("firm_a").post(reverse("credit:objection_raise", args=["tax", record.pk]), {"reason": "不对"})
    Objection.objects.update(due_on=TODAY - DAY)
    html = page(login("service_staff"), "credit:objections")[1]
    assert 'data-testid="overdue"' in html and "table-danger" in html


# ---------------------------------------------------------------- products, needs and offers


def product_post(**changes) -> dict:
    data = {
        "name": "科创贷",
        "description": "面向园区科技型中小企业",
        "amount_min": "100",
        "amount_max": "1000",
        "term_min_months": "6",
        "term_max_months": "36",
        "rate_min": "3.45",
        "rate_max": "6.00",
        "min_grade": "BBB",
        "industry_sections": ["C", "I"],
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_bank_creates_and_edits_a_product(personas, login):
    bank = login("bank")
    assert page(bank, "credit:product_create")[0] == 200
    response = bank.post(reverse("credit:product_create"), product_post())
    assert response.status_code == 302
    product = LoanProduct.objects.get()
    assert (product.bank, product.min_grade, product.industry_sections) == (
        personas["bank"].organisation,
        "BBB",
        ["C", "I"],
    )
    assert product.amount_max == Decimal("1000")

    response = bank.post(reverse("credit:product_edit", args=[product.pk]), product_post(rate_max="5.5", is_active=""))
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.rate_max == Decimal("5.5") and not product.is_active
    # The edit form shows the stored values.
    html = page(bank, "credit:product_edit", product.pk)[1]
    assert 'value="5.50"' in html and '<option value="C" selected>' in html


def test_product_bad_input_shows_field_errors_and_writes_nothing(personas, login):
    response = english(login("bank")).post(
        reverse("credit:product_create"), product_post(amount_max="10", rate_max="40")
    )
    assert response.status_code == 400
    assert field_errors(response, "form", "amount_max") and field_errors(response, "form", "rate_max")
    assert not LoanProduct.objects.exists()


def test_only_the_bank_edits_its_own_products(personas, login):
    product = make_product(personas["bank"])
    other = make_bank()
    client = login("firm_a")
    assert client.get(reverse("credit:product_create")).status_code == 403
    assert client.post(reverse("credit:product_create"), product_post()).status_code == 403
    from django.test import Client

    other_client = Client()
    other_client.force_login(other)
    assert other_client.get(reverse("credit:product_edit", args=[product.pk])).status_code == 404
    # Everyone signed in sees the published products.
    for key in ("firm_a", "leader", "bank"):
        assert product.name in page(login(key), "credit:products")[1], key


def test_financing_journey_offer_accept_outcome(personas, login, firm_a):
    need = financing_need(personas["firm_a"], amount="500", term_months=12)
    product = make_product(personas["bank"])
    bank, firm = english(login("bank")), english(login("firm_a"))

    # The bank sees the need and that it fits its product.
    status, html = page(bank, "credit:needs")
    assert status == 200 and need.title in html and 'data-testid="matches"' in html and product.name in html
    status, html = page(bank, "credit:need_detail", need.pk)
    assert status == 200 and 'data-testid="offer-form"' in html

    # Bad offer: field errors, nothing written.
    response = bank.post(
        reverse("credit:offer_create", args=[need.pk]), {"amount": "-5", "term_months": "12", "rate": "4"}
    )
    assert response.status_code == 400 and response.context["forms"]["offer"].errors["amount"]
    assert not FinancingOffer.objects.exists()

    response = bank.post(
        reverse("credit:offer_create", args=[need.pk]),
        {"product": product.pk, "amount": "400", "term_months": "12", "rate": "4.2", "message": "可当周放款"},
    )
    assert response.status_code == 302
    offer = FinancingOffer.objects.get()
    assert (offer.bank, offer.product, offer.amount, offer.status) == (
        personas["bank"].organisation,
        product,
        Decimal("400"),
        OfferStatus.OFFERED,
    )
    # One live offer per bank: the form is gone.
    assert 'data-testid="offer-form"' not in page(bank, "credit:need_detail", need.pk)[1]

    # The firm sees the offer on its needs page and accepts it.
    status, html = page(firm, "credit:needs")
    assert status == 200 and 'data-testid="offers-received"' in html
    assert 'data-testid="accept-form"' in page(firm, "credit:need_detail", need.pk)[1]
    assert login("firm_b").post(reverse("credit:offer_accept", args=[offer.pk])).status_code == 404
    assert bank.post(reverse("credit:offer_accept", args=[offer.pk])).status_code == 403
    assert firm.post(reverse("credit:offer_accept", args=[offer.pk])).status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED

    # The bank records the loan granted.
    assert 'data-testid="outcome-form"' in page(bank, "credit:need_detail", need.pk)[1]
    prefix = f"outcome-{offer.pk}"
    response = bank.post(
        reverse("credit:offer_outcome", args=[offer.pk]), {f"{prefix}-granted": "yes", f"{prefix}-granted_amount": ""}
    )
    assert response.status_code == 400
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    response = bank.post(
        reverse("credit:offer_outcome", args=[offer.pk]),
        {f"{prefix}-granted": "yes", f"{prefix}-granted_amount": "380", f"{prefix}-granted_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.granted_amount, offer.granted_on) == (OfferStatus.GRANTED, Decimal("380"), TODAY)

    # The overview counts it as financing facilitated.
    response = login("leader").get(reverse("credit:overview"))
    assert response.context["facilitated"] == {"count": 1, "amount": Decimal("380.00")}


def test_bank_withdraws_and_firm_declines(personas, login, firm_a):
    need = financing_need(personas["firm_a"])
    bank2 = make_bank()
    from zhiyuan.credit import services

    first = services.offer_create(actor=personas["bank"], need=need, amount="300", term_months=12, rate="4")
    second = services.offer_create(actor=bank2, need=need, amount="200", term_months=12, rate="5")
    assert login("bank").post(reverse("credit:offer_withdraw", args=[first.pk])).status_code == 302
    assert login("bank").post(reverse("credit:offer_withdraw", args=[second.pk])).status_code == 404
    assert login("firm_a").post(reverse("credit:offer_decline", args=[second.pk])).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (OfferStatus.WITHDRAWN, OfferStatus.DECLINED)


def test_needs_pages_are_scoped(personas, login, firm_a, firm_b):
    mine = financing_need(personas["firm_a"])
    unpublished = financing_need(personas["firm_b"], share=False)
    assert page(login("city"), "credit:needs")[0] == 403
    assert page(login("firm_b"), "credit:need_detail", mine.pk)[0] == 404
    assert page(login("firm_b"), "credit:need_detail", unpublished.pk)[0] == 200
    assert page(login("bank"), "credit:need_detail", unpublished.pk)[0] == 404
    assert page(login("leader"), "credit:need_detail", mine.pk)[0] == 200


# ---------------------------------------------------------------- overview, search, models, purges


def test_overview_shows_grades_drift_and_searches_firms(personas, login, firm_a):
    run = scoring_run(TODAY)
    run.grade_counts = {"A": 3, "BB": 1}
    run.firms = 4
    run.drift_alert = True
    run.save()
    status, html = page(english(login("leader")), "credit:overview")
    assert status == 200 and 'data-testid="drift-alert"' in html and 'id="grade-chart"' in html
    assert 'data-testid="firms-scored">4<' in html
    leader = login("leader")
    results = leader.get(reverse("credit:search"), {"q": "株硬"}, HTTP_HX_REQUEST="true")
    assert results.status_code == 200 and reverse("credit:report", args=[firm_a.uscc]) in results.content.decode()
    exact = leader.get(reverse("credit:search"), {"q": firm_a.uscc.lower()})
    assert exact.status_code == 302 and exact.url == reverse("credit:report", args=[firm_a.uscc])
    assert login("bank").get(reverse("credit:search"), {"q": "株硬"}).status_code == 403


def test_models_list_detail_and_activation(personas, login, firm_a, firm_b):
    first = trained_model(1)
    scoring.scoring_run_create(actor=None, as_of=TODAY - 30 * DAY)
    scoring.scoring_run_create(actor=None, as_of=TODAY)
    second = trained_model(2, active=False)

    status, html = page(english(login("service_staff")), "credit:models")
    assert status == 200 and 'data-testid="active-badge"' in html and 'data-testid="activate-form"' in html
    assert "±" in html
    assert 'data-testid="activate-form"' not in page(login("leader"), "credit:models")[1]

    status, html = page(english(login("leader")), "credit:model_detail", 1)
    assert status == 200
    assert 'id="psi-chart"' in html and 'data-testid="scorecard"' in html and 'data-testid="bad-rates"' in html
    assert "Years in business" in html  # a variable's label
    for dropped in first.spec["dropped"]:
        with translation.override("en"):
            assert escape(dropped_text(dropped)) in html
    assert html.count("<tr class=") >= 2  # the two runs
    assert page(login("leader"), "credit:model_detail", 99)[0] == 404

    url = reverse("credit:model_activate", args=[2])
    assert login("leader").post(url).status_code == 403
    assert login("service_staff").post(url).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_active and not first.is_active


def test_purges_list_what_was_removed(personas, login, firm_a):
    PurgeLog.objects.create(
        cutoff=TODAY,
        total=1,
        removed={"court": [{"id": 7, "enterprise_id": firm_a.pk, "reference": "(2020)湘0211执123号"}]},
    )
    status, html = page(login("leader"), "credit:purges")
    assert status == 200 and "(2020)湘0211执123号" in html and firm_a.name in html


# ---------------------------------------------------------------- feeds: check, then confirm


def csv_file(rows: list[str], name: str = "tax.csv") -> SimpleUploadedFile:
    content = "\n".join(["统一社会信用代码,年度,纳税信用等级,纳税额(万元)", *rows]).encode("utf-8")
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_feed_upload_check_then_confirm(personas, login, firm_a, firm_b):
    client = english(login("service_staff"))
    response = client.post(
        reverse("credit:feed_upload"),
        {
            "feed": "tax",
            "source": "区税务局",
            "file": csv_file([f"{firm_a.uscc},2025,A,100", f"{firm_b.uscc},2025,B,50"]),
        },
    )
    upload = FeedUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse("credit:feed_upload_detail", args=[upload.pk])
    status, html = page(client, "credit:feed_upload_detail", upload.pk)
    assert status == 200 and 'data-testid="preview"' in html and 'data-testid="confirm-form"' in html
    assert not TaxRecord.objects.exists()  # the check writes nothing
    assert page(login("leader"), "credit:feed_upload_detail", upload.pk)[0] == 403

    response = client.post(reverse("credit:feed_upload_confirm", args=[upload.pk]))
    assert response.status_code == 302 and response.url == reverse("credit:feeds")
    assert set(TaxRecord.objects.values_list("enterprise_id", "grade")) == {(firm_a.pk, "A"), (firm_b.pk, "B")}
    upload.refresh_from_db()
    assert upload.state == FeedUpload.State.IMPORTED
    assert "区税务局" in page(client, "credit:feeds")[1]


def test_feed_upload_with_bad_rows_lists_them_and_cannot_be_confirmed(personas, login, firm_a):
    client = english(login("service_staff"))
    client.post(
        reverse("credit:feed_upload"),
        {
            "feed": "tax",
            "source": "区税务局",
            "file": csv_file([f"{firm_a.uscc},2025,Z,100", "91430202000000000X,2025,A,1"]),
        },
    )
    upload = FeedUpload.objects.get()
    status, html = page(client, "credit:feed_upload_detail", upload.pk)
    assert status == 200 and 'data-testid="row-errors"' in html and 'data-testid="confirm-form"' not in html
    response = client.post(reverse("credit:feed_upload_confirm", args=[upload.pk]))
    assert response.status_code == 400 and not TaxRecord.objects.exists()
    assert client.post(reverse("credit:feed_upload_discard", args=[upload.pk])).status_code == 302
    upload.refresh_from_db()
    assert upload.state == FeedUpload.State.DISCARDED


def test_feed_upload_form_errors(personas, login):
    client = english(login("service_staff"))
    response = client.post(reverse("credit:feed_upload"), {"feed": "tax", "source": ""})
    assert (
        response.status_code == 400
        and field_errors(response, "form", "file")
        and field_errors(response, "form", "source")
    )
    assert not FeedUpload.objects.exists()


def test_the_home_page_leads_banks_and_firms_to_their_credit_pages(login):
    bank_home = login("bank").get("/").content.decode()
    assert reverse("credit:bank") in bank_home and reverse("credit:needs") in bank_home
    assert reverse("credit:my") in login("firm_a").get("/").content.decode()
