"""Answers that tell the person nothing: the maintained list of formulaic phrases, in Russian and
English, each with the reason it is refused, and the check that an answer says something
concrete besides them.

The articles' own examples are here: "Обработано", "Ваше обращение обработано, гуляйте.",
"Обращение рассмотрено, меры приняты.", "Your appeal has been processed", "Measures have been
taken". A formulaic phrase is allowed beside what was done ("Обращение рассмотрено: вас записали
к онкологу на 12 марта, 10:00, кабинет 214"): the phrases are taken out and what is left must
still say something concrete. A dismissive phrase is refused wherever it stands.

To add a phrase, add a pattern to its formula (or a formula with its reason) and a refused
example to `tests/consult/appeals/test_resolutions.py`.
"""

import re
from dataclasses import dataclass

# Words, numbers aside, that what is left of an answer needs at least this many of to say
# something concrete: "Записали к кардиологу 12 марта" has four, "Вас записали на приём" two.
CONCRETE_WORDS = 4
# Words that say nothing by themselves: function words, and the appeal talking of itself (as
# normalised: "е" for "ё"). Words under three letters never count, so they are not listed.
FILLER_TEXT = """
для при под над без через про его ее их них она они оно вас вам вами ваш ваша ваше ваши
вашего вашей вашему вашим вашу нас нам нами наш наша наше наши все всем уже также только
тоже был была было были будет будут быть есть это этот эта эти этого что чтобы как так там
тут где когда или либо если даже еще очень обращение обращения обращению обращением жалоба
жалобы жалобу вопрос вопросу вопроса заявление заявления запрос запроса данное данный
the and but for with from into onto about your yours you our ours they them their its are
was were been being has have had will would shall should can could may might this that
these those there here which what when who whom not all any some also just very appeal
appeals request complaint question enquiry inquiry matter issue case
"""
FILLER_WORDS = frozenset(FILLER_TEXT.split())


@dataclass(frozen=True)
class Formula:
    """Phrases refused for one reason. `code` is the validation error's type
    (`formulaic.<code>`), which the console words in the reader's language."""

    code: str
    reason: str
    patterns: tuple[re.Pattern[str], ...]
    # Refused wherever it stands, however much else the answer says.
    dismissive: bool = False


@dataclass(frozen=True)
class Refused:
    code: str
    reason: str
    phrase: str | None  # the words refused, as written; None when nothing concrete is said

    @property
    def message(self) -> str:
        return f'{self.reason} Refused: "{self.phrase}".' if self.phrase else self.reason


def _phrases(*patterns: str) -> tuple[re.Pattern[str], ...]:
    """Each pattern as whole words, a space standing for any run of spaces and punctuation
    between them; patterns are written in lower case with "е" for "ё"."""
    return tuple(
        re.compile(r"(?<!\w)" + pattern.replace(" ", r"[\s,;:.!—–-]+") + r"(?!\w)")
        for pattern in patterns
    )


_APPEAL_RU = r"(?:ваше |ваш |ваша |данное |данный )?(?:обращение|заявление|жалоба|вопрос|запрос)"
_APPEAL_EN = r"(?:your |the |this )?(?:appeal|request|complaint|question|enquiry|inquiry|issue)"
_DONE_RU = r"(?:обработан|рассмотрен|отработан|исполнен|выполнен|закрыт|решен|урегулирован)[аоы]?"
_DONE_EN = (
    r"(?:processed|handled|reviewed|considered|resolved|closed|dealt with|addressed|actioned"
    r"|registered|received|noted|done)"
)

FORMULAS = (
    Formula(
        "processed",
        "It says only that the appeal was processed or looked into, not what was done.",
        _phrases(
            _APPEAL_RU + r"(?: был[аоы]?)? " + _DONE_RU,
            _APPEAL_RU + r"(?: был[аоы]?)? принят[аоы]? (?:в работу|к рассмотрению|к сведению)",
            _APPEAL_RU + r" (?:находится|находятся) (?:в работе|на рассмотрении)",
            r"(?:информация )?принят[аоы]? к сведению",
            r"по (?:вашему )?обращению (?:была )?проведена (?:служебная )?(?:работа|проверка)",
            r"(?:была )?проведена (?:служебная )?проверка",
            r"нарушений не (?:выявлено|установлено|обнаружено)",
            r"(?:факты|изложенные факты|доводы) не подтвердил(?:ись|ся|ось)",
            r"ответ (?:вам )?(?:направлен|дан|предоставлен)",
            _DONE_RU,
            _APPEAL_EN + r"(?: has| have)?(?: been| was| is)? " + _DONE_EN,
            r"(?:we )?(?:have )?(?:processed|handled|reviewed|considered|looked into|dealt with"
            r"|addressed) " + _APPEAL_EN + r"?",
            r"(?:duly )?noted",
            r"no (?:violations|breaches) (?:were )?(?:found|identified|detected)",
            r"(?:the )?(?:facts|allegations) (?:were|have) not been confirmed",
            _DONE_EN,
        ),
    ),
    Formula(
        "measures",
        "It says measures were or will be taken without saying which.",
        _phrases(
            r"(?:все |необходимые |соответствующие |надлежащие |исчерпывающие )?мер[ыа]"
            r"(?: был[аи])? (?:приняты|принята|будут приняты|принимаются)",
            r"(?:приняты|принята|будут приняты|принимаются|примем|приняли) (?:все )?"
            r"(?:необходимые |соответствующие |надлежащие |исчерпывающие )?мер[ыа]",
            r"(?:проведена |будет проведена )?(?:разъяснительная )?беседа"
            r"(?: с (?:сотрудник|персонал|врач|медицинск)\w*)?",
            r"(?:виновн\w+ |сотрудник\w* )?(?:привлечен[аоы]? к (?:дисциплинарной )?"
            r"ответственности|наказан[аоы]?)",
            r"(?:all |the )?(?:necessary |appropriate |relevant |required |proper )?"
            r"(?:measures|action|actions|steps)(?: have| has| were| will| are being)?"
            r"(?: been| be)? (?:taken|implemented)",
            r"(?:we )?(?:have |will )?(?:take|taken|took) (?:all )?(?:the )?"
            r"(?:necessary |appropriate |relevant |proper )(?:measures|action|actions|steps)",
            r"(?:the )?(?:staff|employee|doctor|nurse)s? (?:has |have )?been "
            r"(?:spoken to|reprimanded|disciplined)",
        ),
    ),
    Formula(
        "forwarded",
        "It says the appeal was passed on without saying to whom and what they will do.",
        _phrases(
            r"(?:направлен|передан|перенаправлен|переадресован)[аоы]? (?:в|для|на) "
            r"(?:соответствующ|компетентн|профильн|ответственн|уполномоченн)\w* \w+",
            r"(?:направлен|передан|перенаправлен)[аоы]? (?:для|на) "
            r"(?:рассмотрени|исполнени|проработк)\w*",
            r"(?:forwarded|passed|referred|sent|escalated|transferred)(?: on)? to the "
            r"(?:relevant|appropriate|competent|responsible|right) (?:department|service"
            r"|organisation|organization|authority|body|team|specialists?)",
            r"(?:forwarded|passed on|sent) for (?:review|consideration|processing)",
        ),
    ),
    Formula(
        "under_control",
        "It says the matter is being watched without saying what will happen and when.",
        _phrases(
            r"(?:взят[аоы]?|поставлен[аоы]?|находится|остается|оставлен[аоы]?) (?:на|под) "
            r"(?:особ\w+ |личн\w+ |строг\w+ )?контрол\w*",
            r"на контроле",
            r"(?:taken|placed|kept|put) under (?:control|review|supervision)",
            r"(?:is|remains) under (?:control|review)",
        ),
    ),
    Formula(
        "courtesy",
        "Courtesy says nothing about what was done.",
        _phrases(
            r"(?:спасибо|благодарим(?: вас)?) за (?:ваше )?(?:обращение|звонок|терпение|ожидание)",
            r"с уважением",
            r"всего (?:доброго|хорошего)",
            r"хорошего (?:дня|вечера)",
            r"будьте здоровы",
            r"желаем (?:вам )?(?:здоровья|скорейшего выздоровления)",
            r"приносим (?:свои )?извинения(?: за (?:доставленные )?неудобства)?",
            r"(?:thank you|thanks) for (?:your )?(?:appeal|call|patience|message|contacting us)",
            r"(?:best|kind|warm) regards",
            r"have a (?:nice|good) day",
            r"(?:we apologi[sz]e|sorry) for (?:any|the) inconvenience(?: caused)?",
        ),
    ),
    Formula(
        "dismissive",
        "It dismisses the person instead of helping them.",
        _phrases(
            r"гуляй(?:те)?",
            r"не (?:беспокойте|звоните|пишите) (?:нам )?больше",
            r"не (?:мешайте|отвлекайте)(?: нас)?",
            r"(?:это )?не наш[аиу]? (?:проблем[аы]|забот[аы]|дело)",
            r"обращайтесь куда (?:хотите|угодно)",
            r"разбирайтесь сами",
            r"сами виноваты",
            r"go away",
            r"stop (?:calling|writing|bothering)(?: us)?",
            r"not our (?:problem|concern|business)",
            r"(?:deal with|sort) it (?:out )?yourself",
            r"(?:it'?s|it is) your (?:own )?(?:fault|problem)",
        ),
        dismissive=True,
    ),
)
NOT_CONCRETE = Refused(
    "not_concrete",
    "It does not say anything concrete: say whom you called, what was agreed, and where and "
    "when the person will be seen or helped.",
    None,
)


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("ё", "е"))


def _concrete_words(text: str) -> int:
    return sum(
        1
        for word in re.findall(r"\w+", text)
        if any(character.isdigit() for character in word)
        or (len(word) >= 3 and word not in FILLER_WORDS)
    )


def refusal(answer: str) -> Refused | None:
    """Why `answer` is refused, or None: a dismissive phrase anywhere, or too little concrete
    left once the formulaic phrases are taken out (the first of them named as the reason)."""
    text = _normalised(answer)
    found = sorted(
        (
            (match.start(), match.end(), formula)
            for formula in FORMULAS
            for pattern in formula.patterns
            for match in pattern.finditer(text)
        ),
        key=lambda each: (each[0], -each[1]),  # the longest of those that start first
    )
    for start, end, formula in found:
        if formula.dismissive:
            return Refused(formula.code, formula.reason, text[start:end])
    left = list(text)
    for start, end, _formula in found:
        left[start:end] = " " * (end - start)
    if _concrete_words("".join(left)) >= CONCRETE_WORDS:
        return None
    if not found:
        return NOT_CONCRETE
    start, end, formula = found[0]
    return Refused(formula.code, formula.reason, text[start:end])
