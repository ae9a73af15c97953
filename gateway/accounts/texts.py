# ruff: noqa: RUF001  # Russian words: their Cyrillic letters that look Latin are meant
"""The password page's words in Russian and English, and zxcvbn's advice in Russian (zxcvbn
itself speaks only English)."""

TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Выбор пароля",
        "lead": "Придумайте пароль для входа в telemed под именем {username}.",
        "new_password": "Новый пароль",
        "hint": "Не короче {min_length} символов. Лучше всего — несколько необычных слов.",
        "confirm_password": "Пароль ещё раз",
        "submit": "Сохранить пароль",
        "done_title": "Пароль сохранён",
        "done": "Теперь вы можете войти в telemed под именем {username} с новым паролем.",
        "invalid_title": "Ссылка не действует",
        "ask_again": "Попросите новую ссылку на странице входа или у администратора.",
        "link_unknown": "Эта ссылка недействительна: возможно, вместо неё уже отправлена новая.",
        "link_used": "По этой ссылке пароль уже выбран.",
        "link_expired": "Срок действия ссылки истёк.",
        "link_inactive": "Эта учётная запись отключена.",
        "csrf": "Форма устарела. Введите пароль ещё раз.",
        "mismatch": "Пароли не совпадают.",
        "weak_short": "Пароль короче {min_length} символов.",
        "weak_common": "Это один из самых распространённых паролей.",
        "weak_breached": "Этот пароль есть в списках паролей, утёкших при взломах.",
        "weak_weak": "Такой пароль слишком легко подобрать.",
    },
    "en": {
        "title": "Choose a password",
        "lead": "Choose the password you will sign in to telemed with as {username}.",
        "new_password": "New password",
        "hint": "At least {min_length} characters. A few uncommon words work best.",
        "confirm_password": "New password again",
        "submit": "Save the password",
        "done_title": "Password saved",
        "done": "You can now sign in to telemed as {username} with your new password.",
        "invalid_title": "This link does not work",
        "ask_again": "Ask for a new link on the sign-in page or from your administrator.",
        "link_unknown": "This link is not valid: a newer one may have replaced it.",
        "link_used": "A password has already been chosen with this link.",
        "link_expired": "This link has expired.",
        "link_inactive": "This account is deactivated.",
        "csrf": "The form expired. Please enter the password again.",
        "mismatch": "The two passwords differ.",
        "weak_short": "The password is shorter than {min_length} characters.",
        "weak_common": "This is one of the most common passwords.",
        "weak_breached": "This password appears in lists of passwords leaked in breaches.",
        "weak_weak": "This password would be guessed too easily.",
    },
}

# zxcvbn's warnings and suggestions (zxcvbn/feedback.py), and the rules' own.
RUSSIAN = {
    "Use a few words, avoid common phrases.": "Используйте несколько слов, избегайте "
    "расхожих фраз.",
    "No need for symbols, digits, or uppercase letters.": "Символы, цифры и заглавные буквы "
    "не обязательны.",
    "Add another word or two. Uncommon words are better.": "Добавьте ещё одно-два слова. "
    "Лучше редких.",
    "Straight rows of keys are easy to guess.": "Ряды клавиш подряд легко угадать.",
    "Short keyboard patterns are easy to guess.": "Короткие узоры на клавиатуре легко угадать.",
    "Use a longer keyboard pattern with more turns.": "Используйте более длинный узор на "
    "клавиатуре с поворотами.",
    'Repeats like "aaa" are easy to guess.': "Повторы вроде «aaa» легко угадать.",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "Повторы вроде "
    "«abcabcabc» ненамного труднее угадать, чем «abc».",
    "Avoid repeated words and characters.": "Избегайте повторяющихся слов и символов.",
    'Sequences like "abc" or "6543" are easy to guess.': "Последовательности вроде «abc» или "
    "«6543» легко угадать.",
    "Avoid sequences.": "Избегайте последовательностей.",
    "Recent years are easy to guess.": "Недавние годы легко угадать.",
    "Avoid recent years.": "Избегайте недавних лет.",
    "Avoid years that are associated with you.": "Избегайте годов, связанных с вами.",
    "Dates are often easy to guess.": "Даты часто легко угадать.",
    "Avoid dates and years that are associated with you.": "Избегайте дат и годов, связанных "
    "с вами.",
    "This is a top-10 common password.": "Это один из 10 самых распространённых паролей.",
    "This is a top-100 common password.": "Это один из 100 самых распространённых паролей.",
    "This is a very common password.": "Это очень распространённый пароль.",
    "This is similar to a commonly used password.": "Это похоже на распространённый пароль.",
    "A word by itself is easy to guess.": "Одно слово легко угадать.",
    "Names and surnames by themselves are easy to guess.": "Имена и фамилии сами по себе "
    "легко угадать.",
    "Common names and surnames are easy to guess.": "Распространённые имена и фамилии легко "
    "угадать.",
    "Capitalization doesn't help very much.": "Заглавные буквы мало помогают.",
    "All-uppercase is almost as easy to guess as all-lowercase.": "Все заглавные угадать почти "
    "так же легко, как все строчные.",
    "Reversed words aren't much harder to guess.": "Слова задом наперёд ненамного труднее угадать.",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": "Предсказуемые "
    "замены вроде «@» вместо «a» мало помогают.",
    "Choose a password you have not used anywhere else.": "Выберите пароль, который вы нигде "
    "больше не используете.",
    "It would be guessed too easily.": "Его слишком легко подобрать.",
    "Add another word or two.": "Добавьте ещё одно-два слова.",
}


def translated(language: str, text: str) -> str:
    """`text` (an English line of advice) in `language`, or as it is when there is no
    translation."""
    return RUSSIAN.get(text, text) if language == "ru" else text
