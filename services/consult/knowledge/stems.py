"""Words of a text and their Snowball stems, as SQLite's full-text table indexes them and as
snippets find the words a search matched.

Each word is stemmed by its own script, as PostgreSQL's `russian` configuration does: Cyrillic
words by the Russian stemmer, Latin ones by the English. The stop words are those of the
Snowball lists PostgreSQL's configurations drop, so a search asks both databases for the same
words.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import snowballstemmer

WORD = re.compile(r"\w+")
CYRILLIC = re.compile(r"[а-яё]")
LATIN = re.compile(r"[a-z]")
# Words too common to tell articles apart (the Snowball project's Russian and English lists).
STOP_WORDS_TEXT = """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только
    ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже или
    ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут
    где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет
    ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы
    нее неё сейчас были куда зачем всех никогда можно при наконец два об другой хоть после
    над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо
    свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now
"""
STOP_WORDS = frozenset(STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int
    stem: str


@lru_cache(maxsize=1)
def _stemmers() -> tuple[Any, Any]:  # the package has no types
    return snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The word's stem, lower-case, "ё" read as "е" (as PostgreSQL's Russian stemmer does)."""
    lowered = word.lower().replace("ё", "е")
    russian, english = _stemmers()
    if CYRILLIC.search(lowered):
        return str(russian.stemWord(lowered))
    if LATIN.search(lowered):
        return str(english.stemWord(lowered))
    return lowered


def words(text: str) -> list[Word]:
    """The text's words but stop words, where they stand and their stems."""
    found = []
    for match in WORD.finditer(text):
        if match.group().lower() in STOP_WORDS:
            continue
        found.append(Word(match.group(), match.start(), match.end(), stem(match.group())))
    return found


def found(text: str, wanted: set[str]) -> list[Word]:
    """The words of `text` whose stems are `wanted`. A word is stemmed only if it begins as a
    wanted stem does (a stem is the start of its words but for "ё" and a final letter or two),
    so a long text costs little more than reading it."""
    starts = {stem[:2] for stem in wanted}
    matched = []
    for match in WORD.finditer(text):
        lowered = match.group().lower().replace("ё", "е")
        begins = lowered[:2] in starts or lowered[:1] in starts  # a stem may be one letter
        if begins and lowered not in STOP_WORDS and stem(lowered) in wanted:
            matched.append(Word(match.group(), match.start(), match.end(), stem(lowered)))
    return matched


def stems(text: str) -> str:
    """The text as the full-text table indexes it: its stems in order, spaces between."""
    return " ".join(word.stem for word in words(text))
