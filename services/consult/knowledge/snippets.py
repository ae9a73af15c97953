"""A short passage of an article around the words a search matched, with where they are in
it, so a screen can mark them without the passage carrying any markup."""

import re
from dataclasses import dataclass, field

from services.consult.knowledge.stems import Word, found

WIDTH = 200  # characters: two lines of a list, a sentence or so
LEAD = 40  # characters kept before the first word matched
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
MARKUP = re.compile(r"^[#>*\-\s]+", re.MULTILINE)  # headings, quotes and list marks


@dataclass(frozen=True)
class Snippet:
    text: str
    # (start, end) of each word matched, in characters of `text`.
    highlights: list[tuple[int, int]] = field(default_factory=list)


def _window(found: list[Word], size: int) -> int:
    """Where the passage starts: before the matched word whose window holds the most
    different matched stems (the first such)."""
    best, best_count = found[0].start, 0
    for anchor in found:
        start = max(0, anchor.start - LEAD)
        count = len(
            {word.stem for word in found if start <= word.start and word.end <= start + size}
        )
        if count > best_count:
            best, best_count = start, count
    return best


def snippet(body: str, wanted: set[str], width: int = WIDTH) -> Snippet:
    """The passage of `body` (as one line) best showing the stems `wanted`; its beginning when
    none is in it (the title matched)."""
    plain = " ".join(MARKUP.sub("", body).split())
    matched = found(plain, wanted)
    start = _window(matched, width) if matched else 0
    if start > 0:  # start at a word
        space = plain.find(" ", start)
        start = space + 1 if 0 <= space < start + LEAD else start
    end = min(len(plain), start + width)
    if end < len(plain):  # end at a word
        space = plain.rfind(" ", start, end)
        end = space if space > start else end
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(plain) else ""
    shift = len(prefix) - start
    highlights = [
        (word.start + shift, word.end + shift)
        for word in matched
        if start <= word.start and word.end <= end
    ]
    return Snippet(prefix + plain[start:end] + suffix, highlights)
