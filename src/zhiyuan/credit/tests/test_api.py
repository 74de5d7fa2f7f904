"""The credit API (/api/credit/…): the consent gate on reports for every kind of caller (each bank
request logged exactly once, granted or refused), consents and their bad input, objections, loan
products, offers on financing needs, scorecard models, loading feed rows, and the OpenAPI schema.
The clock is frozen on a working day of 2026 (covered by the working-day calendar)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from zhiyuan.accounts.models import Organisation
from zhiyuan.accounts.personas import DISTRICT_ORG
from zhiyuan.conftest import make_uscc
from zhiyuan.credit.models import (
    Consent,
    CreditScore,
    FeedLoad,
    FinancingOffer,
    LoanProduct,
    Objection,
    ObjectionStatus,
    OfferStatus,
    Purpose,
    ReportAccess,
    ScoreModel,
    ScoringRun,
    TaxRecord,
)
from zhiyuan.credit.tests.test_services import PRODUCT, financing_need, make_bank, tax_record

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 6, 10)
DAY = dt.timedelta(days=1)
REPORTS = "/api/credit/reports/"
CONSENTS = "/api/credit/consents/"
ACCESS_LOG = "/api/credit/access-log/"
OBJECTIONS = "/api/credit/objections/"
NEEDS = "/api/credit/needs/"
OFFERS = "/api/credit/offers/"
PRODUCTS = "/api/credit/products/"
MODELS = "/api/credit/models/"
FEEDS = "/api/credit/feeds/"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI), tick=True):
        yield


@pytest.fixture
def api(personas):
    """api("bank") → an API client authenticated as that persona (or as a user passed in)."""

    def _client(who):
        client = APIClient()
        client.force_authenticate(personas[who] if isinstance(who, str) else who)
        return client

    return _client


# -- helpers -------------------------------------------------------------------------------------------


def make_consent(personas, enterprise, bank_user, *, purpose=Purpose.LOAN_APPROVAL, start=None, end=None):
    """A consent row written directly (periods the service would refuse, such as one already over)."""
    return Consent.objects.create(
        enterprise=enterprise,
        bank=bank_user.organisation,
        purpose=purpose,
        valid_from=start or TODAY,
        valid_until=end or TODAY + 90 * DAY,
        granted_by=personas["firm_a"],
    )


def score_model(version: int, **fields) -> ScoreModel:
    spec = {"variables": [{"name": "headcount_change"}], "metrics": {"auc": 0.81, "ks": 0.5, "gini": 0.62}}
    defaults = {"spec": spec, "sample_size": 400, "bad_count": 40, "auc": 0.81, "ks": 0.5}
    return ScoreModel.objects.create(version=version, **{**defaults, **fields})


def give_score(enterprise, *, grade: str = "BBB", knockout: str = "") -> CreditScore:
    """A scored firm: a model, a finished run, one CreditScore with a reason code."""
    model = score_model(ScoreModel.objects.count() + 1, is_synthetic=True)
    run = ScoringRun.objects.create(model=model, as_of=TODAY, finished_at=dt.datetime(2026, 6, 10, tzinfo=SHANGHAI))
    reasons = [{"code": "HEADCOUNT_CHANGE", "feature": "headcount_change", "value": -38.0, "points_lost": 21.5}]
    if knockout:
        reasons.insert(0, {"code": knockout, "feature": "", "value": None, "points_lost": None})
    return CreditScore.objects.create(
        enterprise=enterprise,
        run=run,
        as_of=TODAY,
        points=612.4,
        pd=0.031,
        grade=grade,
        knockout=knockout,
        reasons=reasons,
        features={"headcount_change": -38.0, "tax_grade": None},
    )


def error_fields(response) -> set[str]:
    return set(response.json()["error"]["fields"])


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# -- reports: the consent gate -------------------------------------------------------------------------


def test_a_firm_reads_its_own_report_in_full_and_json_safe(api, personas, firm_a):
    give_score(firm_a, knockout="KO_TAX_D")
    record = tax_record(firm_a)
    response = api("firm_a").get(f"{REPORTS}{firm_a.uscc}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["uscc"], report["name"], report["grade"]) == (firm_a.uscc, firm_a.name, "BBB")
    assert (report["points"], report["pd"], report["as_of"]) == (612.4, 0.031, "2026-06-10")
    assert len(report["pd_band"]) == 2 and report["pd_band"][0] < report["pd_band"][1]
    assert report["model_version"] == 1 and report["synthetic"] is True
    assert report["knockout"]["code"] == "KO_TAX_D" and report["knockout"]["text"]
    assert [reason["code"] for reason in report["reasons"]] == ["KO_TAX_D", "HEADCOUNT_CHANGE"]
    assert report["reasons"][1]["points_lost"] == 21.5 and "38" in report["reasons"][1]["text"]
    assert report["trend"] == [{"as_of": "2026-06-10", "points": 612.4, "grade": "BBB", "pd": 0.031}]
    assert [feature["name"] for feature in report["features"]] == ["tax_grade", "headcount_change"]
    assert report["features"][0]["value"] is None and report["features"][0]["label"]
    tax = next(row for row in report["freshness"] if row["feed"] == "tax")
    assert (tax["records"], tax["latest_period"], tax["sources"]) == (1, "2025", ["区税务局"])
    [row] = report["records"]["tax"]
    assert row["id"] == record.pk and row["period"] == "2025" and row["source"] == "区税务局"
    assert row["details"] == {"grade": "B", "tax_paid": "120.50"}
    assert (row["adverse"], row["disputed"], report["disputed_count"], report["consent"]) == (False, False, 0, None)
    assert not ReportAccess.objects.exists()


def test_an_unscored_firm_has_a_report_without_a_score(api, firm_a):
    report = api("firm_a").get(f"{REPORTS}{firm_a.uscc}/").json()
    assert (report["grade"], report["points"], report["pd_band"], report["knockout"]) == ("", None, None, None)
    assert report["reasons"] == [] and report["trend"] == []


def test_a_firm_cannot_read_another_firms_report(api, firm_a, firm_b):
    response = api("firm_b").get(f"{REPORTS}{firm_a.uscc}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    unregistered = make_uscc(999)  # a valid code no firm in the registry has
    assert api("firm_b").get(f"{REPORTS}{unregistered}/").json() == response.json()


@pytest.mark.parametrize("key", ["leader", "service_staff", "statistics"])
def test_district_staff_read_any_report_without_consent_or_log(api, firm_a, firm_b, key):
    for firm in (firm_a, firm_b):
        assert api(key).get(f"{REPORTS}{firm.uscc}/").status_code == 200
    assert not ReportAccess.objects.exists()


def test_anonymous_and_the_city_are_refused(api, firm_a):
    assert APIClient().get(f"{REPORTS}{firm_a.uscc}/").status_code in (401, 403)
    assert api("city").get(f"{REPORTS}{firm_a.uscc}/").status_code == 403
    assert not ReportAccess.objects.exists()


def _expired(personas, firm_a, bank2):
    make_consent(personas, firm_a, personas["bank"], start=TODAY - 30 * DAY, end=TODAY - DAY)


def _not_started(personas, firm_a, bank2):
    make_consent(personas, firm_a, personas["bank"], start=TODAY + DAY, end=TODAY + 30 * DAY)


def _revoked(personas, firm_a, bank2):
    consent = make_consent(personas, firm_a, personas["bank"])
    client = APIClient()
    client.force_authenticate(personas["firm_a"])
    assert client.post(f"{CONSENTS}{consent.pk}/revoke/").status_code == 200


def _other_bank(personas, firm_a, bank2):
    make_consent(personas, firm_a, bank2)


def _live(personas, firm_a, bank2):
    make_consent(personas, firm_a, personas["bank"])


def _no_consent(personas, firm_a, bank2):
    """The firm consented to nobody."""


def _other_firm(personas, firm_a, bank2):
    make_consent(personas, personas["firm_b"].organisation.enterprise, personas["bank"])


@pytest.mark.parametrize(
    ("setup", "purpose", "granted"),
    [
        (_live, "", True),
        (_live, Purpose.LOAN_APPROVAL, True),
        (_live, Purpose.CREDIT_LINE, False),  # consent for another purpose
        (_live, Purpose.POST_LOAN, False),
        (_expired, "", False),  # valid_until yesterday
        (_not_started, "", False),
        (_revoked, "", False),
        (_other_bank, "", False),
        (_other_firm, "", False),
        (_no_consent, "", False),
    ],
)
def test_a_bank_reads_a_report_only_under_a_live_consent_and_every_request_is_logged_once(
    api, personas, firm_a, setup, purpose, granted
):
    bank2 = make_bank()
    setup(personas, firm_a, bank2)
    query = f"?purpose={purpose}" if purpose else ""
    response = api("bank").get(f"{REPORTS}{firm_a.uscc}/{query}")
    assert response.status_code == (200 if granted else 404), response.content
    [row] = ReportAccess.objects.all()
    assert (row.enterprise, row.bank, row.user, row.granted, row.channel) == (
        firm_a,
        personas["bank"].organisation,
        personas["bank"],
        granted,
        "api",
    )
    if granted:
        body = response.json()
        assert body["uscc"] == firm_a.uscc
        assert body["consent"]["id"] == row.consent_id and body["consent"]["purpose"] == Purpose.LOAN_APPROVAL
    else:
        assert response.json()["error"]["code"] == "not_found" and row.consent is None
    # A second request is a second log row.
    api("bank").get(f"{REPORTS}{firm_a.uscc}/{query}")
    assert ReportAccess.objects.filter(granted=granted).count() == 2


def test_the_firm_sees_the_banks_requests_in_its_access_log(api, personas, firm_a, firm_b):
    make_consent(personas, firm_a, personas["bank"])
    assert api("bank").get(f"{REPORTS}{firm_a.uscc}/").status_code == 200
    assert api("bank").get(f"{REPORTS}{firm_b.uscc}/").status_code == 404
    own = results(api("firm_a").get(ACCESS_LOG))
    assert [(row["enterprise"]["uscc"], row["granted"], row["user"]["id"]) for row in own] == [
        (firm_a.uscc, True, personas["bank"].pk)
    ]
    assert [row["granted"] for row in results(api("firm_b").get(ACCESS_LOG))] == [False]
    assert len(results(api("bank").get(ACCESS_LOG))) == 2
    assert results(api(make_bank()).get(ACCESS_LOG)) == []  # another bank sees none of it


def test_an_unknown_purpose_is_a_400(api, personas, firm_a):
    make_consent(personas, firm_a, personas["bank"])
    response = api("bank").get(f"{REPORTS}{firm_a.uscc}/?purpose=marketing")
    assert response.status_code == 400
    assert error_fields(response) == {"purpose"}


# -- consents ------------------------------------------------------------------------------------------


def test_a_firm_grants_a_consent_and_sees_it_live(api, personas, firm_a):
    bank = personas["bank"].organisation
    response = api("firm_a").post(
        CONSENTS, {"bank": bank.pk, "purpose": "loan_approval", "valid_until": "2026-09-10"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["bank"]["id"], body["purpose"], body["valid_from"], body["live"]) == (
        bank.pk,
        "loan_approval",
        "2026-06-10",
        True,
    )
    assert [row["id"] for row in results(api("bank").get(CONSENTS))] == [body["id"]]
    assert results(api("firm_b").get(CONSENTS)) == []
    assert api("firm_b").get(f"{CONSENTS}{body['id']}/").status_code == 404
    assert api("bank").get(f"{REPORTS}{firm_a.uscc}/").status_code == 200


def test_a_consent_not_yet_started_is_not_live(api, personas):
    response = api("firm_a").post(
        CONSENTS,
        {
            "bank": personas["bank"].organisation_id,
            "purpose": "credit_line",
            "valid_from": "2026-07-01",
            "valid_until": "2026-08-01",
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["live"] is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid_until": None}, "valid_until"),  # no end date
        ({"valid_from": "2026-07-01", "valid_until": "2026-06-30"}, "valid_until"),  # end before start
        ({"bank": "district"}, "bank"),  # a district department, not a bank
        ({"bank": "firm"}, "bank"),  # the firm's own organisation
        ({"bank": 999999}, "bank"),
        ({"bank": None}, "bank"),
        ({"purpose": "marketing"}, "purpose"),
        ({"valid_until": "2027-12-31"}, "valid_until"),  # longer than the configured maximum
        ({"valid_from": "2026-06-01"}, "valid_from"),  # in the past
        ({"valid_until": "next year"}, "valid_until"),
        ({"extra": 1}, "extra"),
    ],
)
def test_consent_bad_input_is_a_400_naming_the_field_and_creates_nothing(api, personas, changes, field):
    data = {"bank": personas["bank"].organisation_id, "purpose": "loan_approval", "valid_until": "2026-09-10"}
    data.update(changes)
    if data.get("bank") == "district":
        data["bank"] = Organisation.objects.get(name=DISTRICT_ORG).pk
    elif data.get("bank") == "firm":
        data["bank"] = personas["firm_a"].organisation_id
    response = api("firm_a").post(CONSENTS, data, format="json")
    assert response.status_code == 400, response.content
    assert field in error_fields(response)
    assert not Consent.objects.exists()


@pytest.mark.parametrize("key", ["bank", "leader", "service_staff"])
def test_only_a_firm_grants_consent(api, personas, key):
    data = {"bank": personas["bank"].organisation_id, "purpose": "loan_approval", "valid_until": "2026-09-10"}
    response = api(key).post(CONSENTS, data, format="json")
    assert response.status_code == 403
    assert not Consent.objects.exists()


def test_revoke_is_the_firms_once_and_then_a_409(api, personas, firm_a):
    consent = make_consent(personas, firm_a, personas["bank"])
    url = f"{CONSENTS}{consent.pk}/revoke/"
    assert api("firm_b").post(url).status_code == 404
    assert api("bank").post(url).status_code == 403
    response = api("firm_a").post(url)
    assert response.status_code == 200 and response.json()["live"] is False
    assert response.json()["revoked_by"]["id"] == personas["firm_a"].pk
    again = api("firm_a").post(url)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert api("bank").get(f"{REPORTS}{firm_a.uscc}/").status_code == 404


# -- objections ----------------------------------------------------------------------------------------


def test_objections_raise_flag_answer_and_withdraw(api, personas, firm_a, firm_b):
    record = tax_record(firm_a)
    other = tax_record(firm_a, year=2024)
    body = {"feed": "tax", "record_id": record.pk, "reason": "2025年纳税信用等级应为A"}
    assert api("firm_b").post(OBJECTIONS, body, format="json").status_code == 404
    assert api("bank").post(OBJECTIONS, body, format="json").status_code == 403
    response = api("firm_a").post(OBJECTIONS, body, format="json")
    assert response.status_code == 201, response.content
    objection = response.json()
    assert (objection["status"], objection["record_id"], objection["enterprise"]["id"]) == (
        "open",
        record.pk,
        firm_a.pk,
    )
    assert api("firm_a").post(OBJECTIONS, body, format="json").status_code == 409
    report = api("firm_a").get(f"{REPORTS}{firm_a.uscc}/").json()
    flags = {row["id"]: row["disputed"] for row in report["records"]["tax"]}
    assert flags == {record.pk: True, other.pk: False} and report["disputed_count"] == 1

    assert [row["id"] for row in results(api("firm_a").get(OBJECTIONS))] == [objection["id"]]
    assert results(api("firm_b").get(OBJECTIONS)) == []
    assert api("bank").get(OBJECTIONS).status_code == 403

    url = f"{OBJECTIONS}{objection['id']}/answer/"
    answer = {"upheld": False, "answer": "税务局核实等级无误。"}
    assert api("firm_a").post(url, answer, format="json").status_code == 403
    assert api("leader").post(url, answer, format="json").status_code == 403  # not a credit administrator
    missing = api("service_staff").post(url, {"upheld": False, "answer": " "}, format="json")
    assert missing.status_code == 400 and error_fields(missing) == {"answer"}
    answered = api("service_staff").post(url, answer, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == ObjectionStatus.REJECTED
    assert api("service_staff").post(url, answer, format="json").status_code == 409
    assert TaxRecord.objects.filter(pk=record.pk).exists()

    second = api("firm_a").post(OBJECTIONS, {**body, "record_id": other.pk}, format="json").json()
    withdraw = f"{OBJECTIONS}{second['id']}/withdraw/"
    assert api("firm_b").post(withdraw).status_code == 404
    assert api("service_staff").post(withdraw).status_code == 403
    assert api("firm_a").post(withdraw).json()["status"] == ObjectionStatus.WITHDRAWN
    assert api("firm_a").post(withdraw).status_code == 409
    assert api("firm_a").get(f"{REPORTS}{firm_a.uscc}/").json()["disputed_count"] == 0


def test_an_upheld_objection_removes_the_record(api, firm_a):
    record = tax_record(firm_a)
    objection = (
        api("firm_a")
        .post(OBJECTIONS, {"feed": "tax", "record_id": record.pk, "reason": "不是我们的记录"}, format="json")
        .json()
    )
    response = api("admin").post(
        f"{OBJECTIONS}{objection['id']}/answer/", {"upheld": True, "answer": "已更正。"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == ObjectionStatus.UPHELD
    assert not TaxRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"feed": "gossip", "record_id": 1, "reason": "x"}, "feed"),
        ({"feed": "tax", "record_id": "abc", "reason": "x"}, "record_id"),
        ({"feed": "tax", "record_id": "RECORD", "reason": ""}, "reason"),
    ],
)
def test_objection_bad_input(api, firm_a, body, field):
    record = tax_record(firm_a)
    if body["record_id"] == "RECORD":
        body = {**body, "record_id": record.pk}
    response = api("firm_a").post(OBJECTIONS, body, format="json")
    assert response.status_code == 400 and field in error_fields(response)
    assert not Objection.objects.exists()


# -- loan products -------------------------------------------------------------------------------------


def test_a_bank_publishes_and_edits_its_products(api, personas):
    response = api("bank").post(PRODUCTS, {**PRODUCT, "industry_sections": ["C"]}, format="json")
    assert response.status_code == 201, response.content
    product = response.json()
    assert (product["bank"]["id"], product["amount_min"], product["industry_sections"]) == (
        personas["bank"].organisation_id,
        "100.00",
        ["C"],
    )
    url = f"{PRODUCTS}{product['id']}/"
    patched = api("bank").patch(url, {"rate_max": "5.50", "is_active": False}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["rate_max"], patched.json()["is_active"], patched.json()["name"]) == (
        "5.50",
        False,
        "科创贷",
    )
    # Unpublished: the bank still sees it, others do not.
    assert [row["id"] for row in results(api("bank").get(PRODUCTS))] == [product["id"]]
    assert results(api("firm_a").get(PRODUCTS)) == []
    assert api("firm_a").get(url).status_code == 404


def test_another_banks_product_cannot_be_changed(api, personas):
    product = api("bank").post(PRODUCTS, PRODUCT, format="json").json()
    bank2 = make_bank()
    response = api(bank2).patch(f"{PRODUCTS}{product['id']}/", {"name": "改名"}, format="json")
    assert response.status_code == 404
    assert api(bank2).get(f"{PRODUCTS}{product['id']}/").status_code == 200  # published: everyone reads it
    assert LoanProduct.objects.get().name == "科创贷"
    assert api("firm_a").patch(f"{PRODUCTS}{product['id']}/", {"name": "改名"}, format="json").status_code == 403
    assert api("bank").put(f"{PRODUCTS}{product['id']}/", PRODUCT, format="json").status_code == 405


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_min": "2000"}, "amount_max"),  # minimum above the maximum
        ({"term_min_months": 48}, "term_max_months"),
        ({"rate_min": "7"}, "rate_max"),
        ({"rate_max": "40"}, "rate_max"),  # above the legal ceiling
        ({"amount_min": "-5"}, "amount_min"),
        ({"amount_max": "lots"}, "amount_max"),
        ({"min_grade": "Z"}, "min_grade"),
        ({"industry_sections": ["Q9"]}, "industry_sections"),
        ({"name": ""}, "name"),
    ],
)
def test_product_bad_input_is_a_400(api, changes, field):
    response = api("bank").post(PRODUCTS, {**PRODUCT, **changes}, format="json")
    assert response.status_code == 400, response.content
    assert field in error_fields(response)
    assert not LoanProduct.objects.exists()


def test_a_bad_patch_changes_nothing(api):
    product = api("bank").post(PRODUCTS, PRODUCT, format="json").json()
    response = api("bank").patch(f"{PRODUCTS}{product['id']}/", {"amount_max": "50"}, format="json")
    assert response.status_code == 400 and error_fields(response) == {"amount_max"}
    assert LoanProduct.objects.get().amount_max == Decimal("1000")


@pytest.mark.parametrize("key", ["firm_a", "leader"])
def test_only_banks_publish_products(api, key):
    assert api(key).post(PRODUCTS, PRODUCT, format="json").status_code == 403
    assert not LoanProduct.objects.exists()


# -- financing needs and offers ----------------------------------------------------------------------------


def test_needs_offers_and_their_outcome(api, personas, firm_a):
    need = financing_need(personas["firm_a"])
    product = api("bank").post(PRODUCTS, PRODUCT, format="json").json()
    api("bank").post(PRODUCTS, {**PRODUCT, "name": "大额贷", "amount_min": "800", "amount_max": "5000"}, format="json")

    [row] = results(api("bank").get(NEEDS))
    assert (row["id"], row["financing_amount"], row["matching_products"], row["offers"]) == (
        need.pk,
        "500.00",
        [product["id"]],
        [],
    )
    detail = api("bank").get(f"{NEEDS}{need.pk}/").json()
    assert [match["product"]["id"] for match in detail["matches"]] == [product["id"]]

    offer_body = {"product": product["id"], "amount": "400", "term_months": 12, "rate": "4.35", "message": "可面谈"}
    assert api("firm_a").post(f"{NEEDS}{need.pk}/offers/", offer_body, format="json").status_code == 403
    response = api("bank").post(f"{NEEDS}{need.pk}/offers/", offer_body, format="json")
    assert response.status_code == 201, response.content
    offer = response.json()
    assert (offer["status"], offer["amount"], offer["product"]["id"], offer["enterprise"]["id"]) == (
        OfferStatus.OFFERED,
        "400.00",
        product["id"],
        firm_a.pk,
    )
    assert api("bank").post(f"{NEEDS}{need.pk}/offers/", offer_body, format="json").status_code == 409

    # The firm sees its need with the offer, and its offers.
    [own] = results(api("firm_a").get(NEEDS))
    assert [item["id"] for item in own["offers"]] == [offer["id"]] and own["matching_products"] is None
    assert [item["id"] for item in results(api("firm_a").get(OFFERS))] == [offer["id"]]
    assert results(api("firm_b").get(OFFERS)) == [] and results(api("firm_b").get(NEEDS)) == []

    url = f"{OFFERS}{offer['id']}/"
    assert api("bank").post(f"{url}accept/").status_code == 403
    assert api("firm_b").post(f"{url}accept/").status_code == 404
    assert api("bank").post(f"{url}outcome/", {"granted": True, "amount": "400"}, format="json").status_code == 409
    accepted = api("firm_a").post(f"{url}accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == OfferStatus.ACCEPTED
    assert api("firm_a").post(f"{url}decline/").status_code == 409

    bad = api("bank").post(f"{url}outcome/", {"granted": True, "amount": "-1"}, format="json")
    assert bad.status_code == 400 and error_fields(bad) == {"amount"}
    future = api("bank").post(
        f"{url}outcome/", {"granted": True, "amount": "400", "granted_on": "2026-07-01"}, format="json"
    )
    assert future.status_code == 400 and error_fields(future) == {"granted_on"}
    assert api("firm_a").post(f"{url}outcome/", {"granted": True, "amount": "400"}, format="json").status_code == 403
    granted = api("bank").post(
        f"{url}outcome/", {"granted": True, "amount": "380", "granted_on": "2026-06-09"}, format="json"
    )
    assert granted.status_code == 200, granted.content
    assert (granted.json()["status"], granted.json()["granted_amount"], granted.json()["granted_on"]) == (
        OfferStatus.GRANTED,
        "380.00",
        "2026-06-09",
    )


def test_the_firm_declines_and_the_bank_withdraws(api, personas):
    need = financing_need(personas["firm_a"])
    bank2 = make_bank()
    body = {"amount": "300", "term_months": 6, "rate": "5"}
    first = api("bank").post(f"{NEEDS}{need.pk}/offers/", body, format="json").json()
    second = api(bank2).post(f"{NEEDS}{need.pk}/offers/", body, format="json").json()
    assert first["product"] is None
    declined = api("firm_a").post(f"{OFFERS}{first['id']}/decline/")
    assert declined.status_code == 200 and declined.json()["status"] == OfferStatus.DECLINED
    assert api("bank").post(f"{OFFERS}{second['id']}/withdraw/").status_code == 404  # another bank's offer
    withdrawn = api(bank2).post(f"{OFFERS}{second['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == OfferStatus.WITHDRAWN
    assert [row["id"] for row in results(api("bank").get(OFFERS))] == [first["id"]]
    assert len(results(api("leader").get(OFFERS))) == 2


def test_no_offer_on_an_unpublished_need(api, personas):
    need = financing_need(personas["firm_a"], share=False)
    body = {"amount": "300", "term_months": 6, "rate": "5"}
    response = api("bank").post(f"{NEEDS}{need.pk}/offers/", body, format="json")
    assert response.status_code == 404
    assert api("bank").get(f"{NEEDS}{need.pk}/").status_code == 404
    assert results(api("bank").get(NEEDS)) == []
    assert [row["id"] for row in results(api("firm_a").get(NEEDS))] == [need.pk]
    assert not FinancingOffer.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-3"}, "amount"),
        ({"amount": None}, "amount"),
        ({"term_months": 0}, "term_months"),
        ({"rate": "40"}, "rate"),
        ({"product": 999999}, "product"),
        ({"product": "OTHER"}, "product"),  # another bank's product
    ],
)
def test_offer_bad_input(api, personas, changes, field):
    need = financing_need(personas["firm_a"])
    body = {"amount": "300", "term_months": 6, "rate": "5", **changes}
    if body.get("product") == "OTHER":
        body["product"] = api(make_bank()).post(PRODUCTS, PRODUCT, format="json").json()["id"]
    response = api("bank").post(f"{NEEDS}{need.pk}/offers/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in error_fields(response)
    assert not FinancingOffer.objects.exists()


# -- models ----------------------------------------------------------------------------------------------


def test_models_are_listed_for_district_staff_and_activated_by_credit_administrators(api):
    score_model(1, is_active=True)
    score_model(2, auc=0.84)
    listed = results(api("leader").get(MODELS))
    assert [(row["version"], row["is_active"]) for row in listed] == [(2, False), (1, True)]
    assert listed[0]["metrics"]["auc"] == 0.81 and listed[0]["variables"] == ["headcount_change"]
    assert round(listed[0]["gini"], 2) == 0.68
    detail = api("leader").get(f"{MODELS}2/")
    assert detail.status_code == 200 and detail.json()["psi"]["dates"] == []
    for key in ("firm_a", "bank", "city"):
        assert api(key).get(MODELS).status_code == 403
        assert api(key).post(f"{MODELS}2/activate/").status_code == 403
    assert api("leader").post(f"{MODELS}2/activate/").status_code == 403
    assert ScoreModel.objects.get(is_active=True).version == 1
    response = api("admin").post(f"{MODELS}2/activate/")
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert ScoreModel.objects.get(is_active=True).version == 2
    assert api("admin").post(f"{MODELS}9/activate/").status_code == 404


# -- feeds -----------------------------------------------------------------------------------------------


def test_feed_rows_dry_run_then_written(api, firm_a, firm_b):
    rows = [
        {"uscc": firm_a.uscc, "year": 2025, "grade": "A", "tax_paid": "130.5"},
        {"uscc": firm_b.uscc, "year": 2025, "grade": "B"},
    ]
    url = f"{FEEDS}tax/"
    dry = api("service_staff").post(f"{url}?dry_run=1", {"source": "区税务局", "rows": rows}, format="json")
    assert dry.status_code == 200, dry.content
    assert (dry.json()["total"], dry.json()["to_create"], dry.json()["errors"], dry.json()["load"]) == (
        2,
        2,
        [],
        None,
    )
    assert not TaxRecord.objects.exists() and not FeedLoad.objects.exists()
    written = api("service_staff").post(url, {"source": "区税务局", "rows": rows}, format="json")
    assert written.status_code == 201, written.content
    load = FeedLoad.objects.get()
    assert written.json()["load"]["id"] == load.pk and (load.channel, load.source) == ("api", "区税务局")
    assert TaxRecord.objects.get(enterprise=firm_a).tax_paid == Decimal("130.50")
    assert [row["id"] for row in results(api("admin").get(FEEDS))] == [load.pk]


def test_bad_feed_rows_are_all_reported_and_nothing_is_written(api, firm_a):
    rows = [
        {"uscc": firm_a.uscc, "year": 2025, "grade": "A"},
        {"uscc": "91430202MA4L000000", "year": 2025, "grade": "A"},  # unknown firm
        {"uscc": firm_a.uscc, "year": 2024, "grade": "E"},  # no such grade
        {"uscc": firm_a.uscc, "year": 2023, "tax_paid": "-4"},  # negative amount
    ]
    response = api("service_staff").post(f"{FEEDS}tax/", {"source": "区税务局", "rows": rows}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "validation_failed"
    assert {error["row"] for error in body["report"]["errors"]} == {2, 3, 4}
    assert len(body["error"]["fields"]["rows"]) == len(body["report"]["errors"])
    assert not TaxRecord.objects.exists() and not FeedLoad.objects.exists()


def test_feed_endpoint_refuses_bad_calls(api, firm_a):
    rows = [{"uscc": firm_a.uscc, "year": 2025, "grade": "A"}]
    assert api("service_staff").post(f"{FEEDS}gossip/", {"source": "x", "rows": rows}, format="json").status_code == 400
    missing = api("service_staff").post(f"{FEEDS}tax/", {"source": "", "rows": rows}, format="json")
    assert missing.status_code == 400 and error_fields(missing) == {"source"}
    for key in ("leader", "bank", "firm_a"):
        assert api(key).post(f"{FEEDS}tax/", {"source": "x", "rows": rows}, format="json").status_code == 403
        assert api(key).get(FEEDS).status_code == 403
    assert not TaxRecord.objects.exists()


# -- OpenAPI ---------------------------------------------------------------------------------------------


def test_the_schema_documents_the_credit_api(api):
    response = api("leader").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, method in [
        ("/api/credit/reports/{uscc}/", "get"),
        ("/api/credit/consents/", "post"),
        ("/api/credit/consents/{id}/revoke/", "post"),
        ("/api/credit/access-log/", "get"),
        ("/api/credit/objections/{id}/answer/", "post"),
        ("/api/credit/objections/{id}/withdraw/", "post"),
        ("/api/credit/needs/", "get"),
        ("/api/credit/needs/{id}/offers/", "post"),
        ("/api/credit/offers/{id}/outcome/", "post"),
        ("/api/credit/products/{id}/", "patch"),
        ("/api/credit/models/{version}/activate/", "post"),
        ("/api/credit/feeds/{feed}/", "post"),
    ]:
        assert method in paths[path], path
    report = paths["/api/credit/reports/{uscc}/"]["get"]
    assert {"200", "404"} <= set(report["responses"])
    assert "purpose" in {parameter["name"] for parameter in report["parameters"]}
    assert "CreditReport" in response.json()["components"]["schemas"]
