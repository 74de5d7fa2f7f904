"""One analysis pipeline, in Python, for indexing and for querying — whichever backend stores the
tokens (Tantivy or PostgreSQL full text), both get exactly these tokens, so both find the same things.

For a text, `analyze(text)` returns token lists per *kind*:

- `word`: the text normalised — NFKC (full-width → half-width, ① → 1), lower case, traditional →
  simplified (OpenCC t2s) — then segmented with rjieba using a user dictionary built from the
  enterprise names, the product names and the managed industry vocabulary; runs of Latin letters
  and digits are kept whole (YG8, 316l, 6205-2rs, m8×30 → m8x30) **and** split into their parts
  (6205, 2rs; m8, 30), so a model number is found whole or by a part;
- `bigram`: every pair of adjacent Chinese characters (and each single character of a run of one),
  so a word hidden inside a longer word is still found (钢管 in 不锈钢管材, 处理 in 待处理);
- `pinyin`: for names only — the full pinyin (yingzhihejin) and the initials (yzhj) of each word,
  so 株硬 is found by "zy" and 硬质合金 by "yingzhi…" typed without a Chinese input method.

A query goes through the same steps; `query_terms` adds the managed synonyms. Matches of the
exact/word kind rank above bigram and pinyin matches (the backends weight them: see BOOSTS).
Nothing in a query is syntax: quotes, colons, asterisks, parentheses and AND/OR are only text.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import rjieba
from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

# How much a match of each kind weighs, relative to a bigram match.
BOOSTS = {"word": 4.0, "pinyin": 1.5, "bigram": 1.0}
MAX_QUERY_CHARS = 200

_T2S = OpenCC("t2s")


def _traditional_characters() -> frozenset[str]:
    """Every character OpenCC's t2s would change: the keys of its character table, and the
    characters of its phrase table that the simplified phrase does not keep. Text without any of
    them is already simplified, and skips the (pure-Python, slow) conversion."""
    import opencc

    folder = Path(opencc.__file__).parent / "dictionary"
    chars: set[str] = set()
    for line in (folder / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            chars.add(line.split("\t", 1)[0])
    for line in (folder / "TSPhrases.txt").read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            source, target = line.split("\t", 1)
            chars.update(char for char in source if char not in target)
    return frozenset(chars)


_TRADITIONAL = _traditional_characters()
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# A model number or a Latin/digit run: letters, digits and the joiners inside them (6205-2RS, M8x30, 3.5).
_ALNUM_RUN = re.compile(r"[0-9a-z]+(?:[-./x+][0-9a-z]+)*")
# Where a run splits into parts: its joiners, and an x between digits (m8x30 → m8, 30).
_ALNUM_SPLIT = re.compile(r"[-./+]|(?<=\d)x(?=\d)")
# A multiplication sign between a letter or digit and a digit is the x of a dimension (M8×30, M8*30).
_TIMES = re.compile(r"(?<=[0-9A-Za-z])\s*[×*Ｘ]\s*(?=[0-9])")


def normalize(text: str) -> str:
    """NFKC, lower case, traditional → simplified, a dimension's × or * → x; whitespace collapsed."""
    text = _TIMES.sub("x", unicodedata.normalize("NFKC", text or "")).lower()
    if not _TRADITIONAL.isdisjoint(text):
        text = _T2S.convert(text)
    return " ".join(text.split())


class _Segmenter:
    """rjieba with the user dictionary; rebuilt when the dictionary changes (see `load_user_words`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jieba = rjieba.Jieba()
        self.words: frozenset[str] = frozenset()

    def load(self, words: Iterable[str]) -> None:
        new = frozenset(normalize(word) for word in words if word and len(word.strip()) >= 2)
        if new == self.words:
            return
        jieba = rjieba.Jieba()
        for word in new:
            if _HAN.search(word) and " " not in word:
                jieba.add_word(word, None, None)
        with self._lock:
            self._jieba, self.words = jieba, new
        _pinyin_tokens.cache_clear()  # the words inside a name may be cut differently now

    def cut(self, text: str) -> list[str]:
        """Search-mode segmentation: a long word and the words inside it (硬质合金刀片, 硬质合金, 刀片 …).

        jieba's search mode only looks for two- and three-character words inside a long one, so the
        known four-character words inside a word of five or more (硬质合金 in 硬质合金刀片) are added here."""
        jieba = self._jieba
        words = jieba.cut_for_search(text, True)
        inner = [
            word[i : i + 4]
            for word in words
            if len(word) >= 5
            for i in range(len(word) - 3)
            if jieba.has_word(word[i : i + 4])
        ]
        return words + inner if inner else words


_SEGMENTER = _Segmenter()


def load_user_words(words: Iterable[str]) -> None:
    """Replace the segmenter's user dictionary (enterprise names, product names, vocabulary)."""
    _SEGMENTER.load(words)


def user_words() -> frozenset[str]:
    return _SEGMENTER.words


def _unique(tokens: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(token for token in tokens if token))


def _alnum_tokens(run: str) -> list[str]:
    parts = [part for part in _ALNUM_SPLIT.split(run) if part]
    tokens = [run]
    if len(parts) > 1:
        tokens.extend(parts)
    return tokens


def word_tokens(text: str) -> list[str]:
    """Segmented words of normalised text; Latin/digit runs whole and split; punctuation dropped."""
    normal = normalize(text)
    tokens: list[str] = []
    # Latin/digit runs first, whole, so the segmenter cannot break 6205-2rs at the hyphen.
    for run in _ALNUM_RUN.findall(normal):
        tokens.extend(_alnum_tokens(run))
    for piece in _HAN_RUN.findall(normal):
        tokens.extend(word for word in _SEGMENTER.cut(piece) if word.strip())
    return tokens


def bigram_tokens(text: str) -> list[str]:
    """Adjacent pairs of Chinese characters in each run; a one-character run stands alone."""
    tokens: list[str] = []
    for run in _HAN_RUN.findall(normalize(text)):
        if len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


@lru_cache(maxsize=65536)
def _run_syllables(run: str) -> tuple[str, ...]:
    """One pinyin syllable per character of a run of Chinese characters, read in the run's context
    (so polyphones follow their phrase)."""
    syllables = lazy_pinyin(run, style=Style.NORMAL, errors="ignore")
    return tuple(syllables) if len(syllables) == len(run) else tuple(lazy_pinyin(char)[0] for char in run)


def _spelled(syllables: tuple[str, ...]) -> list[str]:
    return ["".join(syllables), "".join(syllable[:1] for syllable in syllables)]


@lru_cache(maxsize=65536)
def _pinyin_tokens(text: str) -> tuple[str, ...]:
    tokens: list[str] = []
    for run in _HAN_RUN.findall(normalize(text)):
        syllables = _run_syllables(run)
        tokens.extend(_spelled(syllables))
        for word in _SEGMENTER.cut(run):
            start = run.find(word)
            if len(word) >= 2 and start >= 0 and word != run:
                tokens.extend(_spelled(syllables[start : start + len(word)]))
    return tuple(_unique(tokens))


def pinyin_tokens(text: str) -> list[str]:
    """Full pinyin and initials of each whole run of Chinese characters of a name (株硬 → zhuying, zy)
    and of each word of two or more characters inside it (硬质合金 → yingzhihejin, yzhj). Cached: firm
    and product names repeat across many products."""
    return list(_pinyin_tokens(text))


@dataclass
class Analyzed:
    """The tokens of one text, per kind."""

    word: list[str] = field(default_factory=list)
    bigram: list[str] = field(default_factory=list)
    pinyin: list[str] = field(default_factory=list)


def analyze(text: str, *, with_pinyin: bool = False) -> Analyzed:
    return Analyzed(
        word=word_tokens(text),
        bigram=bigram_tokens(text),
        pinyin=pinyin_tokens(text) if with_pinyin else [],
    )


@dataclass
class QueryTerms:
    """What a query searches for: word tokens (with synonyms), bigrams, and the query's own Latin
    tokens as pinyin candidates; `empty` when nothing searchable is left (only punctuation, emoji)."""

    text: str
    word: list[str]
    bigram: list[str]
    pinyin: list[str]

    @property
    def empty(self) -> bool:
        return not (self.word or self.bigram or self.pinyin)


def query_terms(query: str, synonyms: dict[str, list[str]] | None = None) -> QueryTerms:
    """Analyse a query the way documents are analysed, plus synonyms (each word → its group) and
    pinyin: a Latin query word may be a pinyin spelling or initials of a name. The query is cut to
    MAX_QUERY_CHARS; nothing in it is syntax."""
    text = (query or "")[:MAX_QUERY_CHARS]
    words = word_tokens(text)
    synonyms = synonyms or {}
    expanded = list(words)
    for word in words:
        expanded.extend(synonyms.get(word, []))
    # Synonyms that are several words long are searched by their own words too.
    expanded = _unique(
        token for item in expanded for token in ([item] if item in words else word_tokens(item) or [item])
    )
    latin = [token for token in words if not _HAN.search(token) and token.isalpha()]
    return QueryTerms(text=text, word=expanded, bigram=_unique(bigram_tokens(text)), pinyin=_unique(latin))
