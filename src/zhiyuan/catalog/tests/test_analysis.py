"""The one analysis pipeline on a table of hard cases: bigrams hidden inside longer words, model
numbers whole and in parts, pinyin and initials of names, traditional → simplified, synonyms, mixed
Chinese and English, and input with nothing searchable in it."""

import pytest

from zhiyuan.catalog.analysis import (
    analyze,
    bigram_tokens,
    load_user_words,
    normalize,
    pinyin_tokens,
    query_terms,
    word_tokens,
)
from zhiyuan.catalog.models import Synonym
from zhiyuan.catalog.search.service import Highlighter, build_terms, fold


@pytest.fixture(autouse=True)
def base_dictionary():
    """The segmenter without a user dictionary (other tests load one from their products)."""
    load_user_words([])
    yield
    load_user_words([])


# (text, kind, tokens that must be among the text's tokens of that kind)
HARD_CASES = [
    ("不锈钢管材", "bigram", ["钢管"]),  # a word hidden inside a longer word
    ("待处理", "bigram", ["处理"]),
    ("待处理", "word", ["处理"]),
    ("YG8", "word", ["yg8"]),
    ("硬质合金刀片YG8", "word", ["yg8", "硬质合金", "刀片"]),
    ("316L不锈钢", "word", ["316l", "不锈钢"]),
    ("6205-2RS深沟球轴承", "word", ["6205-2rs", "6205", "2rs"]),
    ("M8×30六角螺栓", "word", ["m8x30", "m8", "30"]),
    ("M8*30", "word", ["m8x30"]),
    ("Ｍ８×３０", "word", ["m8x30"]),  # full-width letters and digits
    ("硬質合金", "word", ["硬质合金"]),  # traditional → simplified
    ("硬質合金", "bigram", ["硬质", "合金"]),
    ("cemented carbide inserts 刀片", "word", ["cemented", "carbide", "inserts", "刀片"]),
]


@pytest.mark.parametrize(("text", "kind", "expected"), HARD_CASES)
def test_hard_cases(text, kind, expected):
    tokens = getattr(analyze(text, with_pinyin=True), kind)
    for token in expected:
        assert token in tokens, (text, kind, token, tokens)


def test_a_model_number_is_one_token_whole_and_its_parts_separate():
    tokens = word_tokens("6205-2RS")
    assert tokens[0] == "6205-2rs"
    assert tokens.count("6205") == 1 and tokens.count("2rs") == 1
    assert "-" not in "".join(token for token in tokens if token != "6205-2rs")


def test_pinyin_full_and_initials_of_a_firm_name():
    tokens = pinyin_tokens("株洲硬质合金集团有限公司")
    for token in ["zhuzhou", "zz", "yingzhihejin", "yzhj"]:
        assert token in tokens
    # and of a short name as one run
    assert {"zhuyingjituan", "zyjt"} <= set(pinyin_tokens("株硬集团"))


def test_pinyin_only_when_asked_for():
    assert analyze("硬质合金刀片").pinyin == []


def test_traditional_and_simplified_analyse_alike():
    assert analyze("硬質合金刀片").word == analyze("硬质合金刀片").word
    assert normalize("數控刀具") == "数控刀具"


@pytest.mark.parametrize("text", ["", "   ", "！！！。。。", "?!.,;:'\"", "😀🚄🔩", "\x00\x01", "——……"])
def test_nothing_searchable_gives_empty_terms(text):
    terms = query_terms(text)
    assert terms.empty
    assert terms.word == terms.bigram == terms.pinyin == []


def test_query_syntax_is_only_text():
    terms = query_terms('" : * ( AND')
    assert terms.word == ["and"]
    assert all(char not in "".join(terms.word) for char in '":*()')
    terms = query_terms("name:YG8 OR model:*")
    assert {"name", "yg8", "or", "model"} <= set(terms.word)


def test_a_long_query_is_cut():
    terms = query_terms("刀" * 500)
    assert len(terms.text) == 200


def test_a_latin_query_word_is_also_a_pinyin_candidate():
    terms = query_terms("zy 刀片")
    assert terms.pinyin == ["zy"]
    assert "刀片" in terms.word


def test_mixed_chinese_and_english():
    terms = query_terms("YG8硬质合金inserts")
    assert {"yg8", "硬质合金", "inserts"} <= set(terms.word)
    assert "合金" in terms.bigram


def test_a_synonym_group_expands_a_query_word():
    terms = query_terms("钨钢刀片", {"钨钢": ["硬质合金", "cemented carbide"]})
    assert {"钨钢", "硬质合金", "cemented", "carbide"} <= set(terms.word)
    # bigrams come from the query as typed only
    assert "硬质" not in terms.bigram


@pytest.mark.django_db
def test_managed_synonyms_apply_and_follow_edits():
    group = Synonym.objects.create(terms="牵引电机, 牵引马达，traction motor")
    assert {"牵引马达", "traction", "motor"} <= set(build_terms("牵引电机维修").word)
    # a several-word term occurring in the query finds its group too
    assert "牵引电机" in build_terms("traction motor 6205").word
    group.is_active = False
    group.save()
    assert "牵引马达" not in build_terms("牵引电机维修").word
    group.is_active = True
    group.terms = "牵引电机, 电力机车电机"
    group.save()
    words = build_terms("牵引电机").word
    assert "电力机车" in words and "牵引马达" not in words


@pytest.mark.django_db
def test_the_seeded_synonyms_find_cemented_carbide():
    assert {"钨钢", "cemented", "carbide"} <= set(build_terms("硬质合金刀片").word)


def test_bigrams_of_single_characters():
    assert bigram_tokens("钢 管") == ["钢", "管"]
    assert bigram_tokens("钢管") == ["钢管"]


def test_highlighting_folds_case_width_and_script_character_by_character():
    assert fold("硬質合金ＹＧ８×") == "硬质合金yg8x"
    highlighter = Highlighter(query_terms("硬质合金 yg8"))
    assert str(highlighter.mark("硬質合金刀片 YG8")) == "<mark>硬質合金</mark>刀片 <mark>YG8</mark>"
    assert str(highlighter.mark("<b>硬质合金</b>")) == "&lt;b&gt;<mark>硬质合金</mark>&lt;/b&gt;"
    assert str(Highlighter(query_terms("😀")).mark("<i>x</i>")) == "&lt;i&gt;x&lt;/i&gt;"


def test_a_description_snippet_centres_on_the_first_match():
    highlighter = Highlighter(query_terms("刀片"))
    text = "甲" * 300 + "刀片" + "乙" * 300
    snippet = str(highlighter.snippet(text))
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>刀片</mark>" in snippet
    assert len(snippet) < 200
