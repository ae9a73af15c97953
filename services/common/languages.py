"""Which of the languages a page or message is written in suits the reader: a browser's
`Accept-Language` read once, the same way, by every page that speaks more than one."""

from collections.abc import Collection


def primary_subtag(tag: str) -> str:
    """A BCP 47 tag's language subtag, the part pages are translated by ("en-GB": "en")."""
    return tag.strip().split("-")[0].lower()


def preferred_language(header: str | None, supported: Collection[str], default: str) -> str:
    """The one of `supported` that an `Accept-Language` header (RFC 9110 12.5.4) weighs
    highest, the earlier of equal weights; `default` when it names none of them. A range is
    matched by its primary subtag ("en-GB" is "en"); q=0 means "not this one", and a range
    whose weight is not a number is passed over."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, parameters = item.partition(";")
        weight = 1.0
        name, _, value = parameters.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        if (language := primary_subtag(tag)) in supported and weight > 0:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else default
