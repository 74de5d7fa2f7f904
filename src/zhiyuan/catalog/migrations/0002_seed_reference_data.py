"""Seed the catalog's reference data: the certifications products commonly hold, a few synonym groups
applied at query time, and industry vocabulary the segmenter keeps whole. The administrator edits
all three afterwards; this only adds what is missing (and removes only what it added, unchanged)."""

from django.db import migrations

CERTIFICATIONS = [
    "ISO 9001",
    "ISO 14001",
    "ISO 45001",
    "IATF 16949",
    "CRCC 铁路产品认证",
    "CCC 强制性认证",
    "医疗器械注册证",
    "医疗器械生产许可证",
    "GMP",
    "API 认证",
    "CE",
    "UL",
    "高新技术产品",
]

SYNONYMS = [
    "硬质合金,钨钢,cemented carbide",
    "数控刀具,CNC刀具",
    "碳纤维,碳素纤维",
    "紧固件,螺栓,螺钉",
    "涂料,油漆",
    "轴承,轴承座",
    "齿轮箱,变速箱",
]

VOCABULARY = [
    "硬质合金",
    "数控刀具",
    "硬质合金刀片",
    "钨钼",
    "碳纤维",
    "碳纤维复合材料",
    "预浸料",
    "高分子涂料",
    "牵引电机",
    "牵引变流器",
    "制动盘",
    "车桥",
    "齿轮箱",
    "轨道车辆",
    "装配式",
    "装配式建筑",
    "钢结构",
    "预制构件",
    "医疗器械",
    "体外诊断",
    "原料药",
]


def seed(apps, schema_editor):
    Certification = apps.get_model("catalog", "Certification")
    Synonym = apps.get_model("catalog", "Synonym")
    VocabularyTerm = apps.get_model("catalog", "VocabularyTerm")
    for order, name in enumerate(CERTIFICATIONS, start=1):
        Certification.objects.get_or_create(name=name, defaults={"order": order})
    for terms in SYNONYMS:
        if not Synonym.objects.filter(terms=terms).exists():
            Synonym.objects.create(terms=terms)
    for word in VOCABULARY:
        VocabularyTerm.objects.get_or_create(word=word)


def unseed(apps, schema_editor):
    Certification = apps.get_model("catalog", "Certification")
    Synonym = apps.get_model("catalog", "Synonym")
    VocabularyTerm = apps.get_model("catalog", "VocabularyTerm")
    Certification.objects.filter(name__in=CERTIFICATIONS, products__isnull=True).delete()
    Synonym.objects.filter(terms__in=SYNONYMS).delete()
    VocabularyTerm.objects.filter(word__in=VOCABULARY).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
