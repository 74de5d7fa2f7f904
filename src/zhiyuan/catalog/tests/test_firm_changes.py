"""A firm's indexed fields changing re-indexes its products through the change log."""

from zhiyuan.catalog.models import ProductChange
from zhiyuan.catalog.services import product_create
from zhiyuan.enterprises.services import enterprise_update


def test_renaming_a_firm_logs_a_change_for_each_of_its_products(personas, firm_a, firm_b):
    first = product_create(actor=None, enterprise=firm_a, data={"name": "硬质合金刀片"})
    second = product_create(actor=None, enterprise=firm_a, data={"name": "数控刀具"})
    product_create(actor=None, enterprise=firm_b, data={"name": "水性涂料"})
    before = ProductChange.objects.count()

    enterprise_update(actor=personas["admin"], enterprise=firm_a, data={"name": "株洲钻石切削刀具股份有限公司"})

    logged = list(ProductChange.objects.filter(pk__gt=0).order_by("id")[before:].values_list("product_id", "op"))
    assert sorted(logged) == sorted([(first.pk, "upsert"), (second.pk, "upsert")])


def test_a_change_the_index_does_not_hold_logs_nothing(personas, firm_a):
    product_create(actor=None, enterprise=firm_a, data={"name": "硬质合金刀片"})
    before = ProductChange.objects.count()
    enterprise_update(actor=personas["admin"], enterprise=firm_a, data={"contact_name": "李四"})
    assert ProductChange.objects.count() == before
