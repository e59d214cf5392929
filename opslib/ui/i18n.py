"""English and 简体中文 labels for the apps, switchable on the page.

Each app keeps its words in a dict ``{key: {"en": ..., "zh": ...}}`` (its own
module, merged with :data:`COMMON`) and a :class:`Translator` over them. Widgets
are labelled through :meth:`Translator.bind`, which records where each word goes,
so :meth:`Translator.set_language` relabels the whole page in one pass; text built
at refresh time (cards, chart titles, the "why this number" sentences) reads
:meth:`Translator.t` and is rebuilt by the app's own refresh, which the
translator calls after a switch.

Placeholders are ``str.format`` fields (``"{units:,.0f} units"``); both languages
of a key must use the same fields (:func:`check_strings`, tested).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping

import ipywidgets as widgets

__all__ = ["LANGUAGES", "COMMON", "Translator", "check_strings", "language_toggle"]

LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
"""Language code -> its name in that language (the toggle's labels)."""

COMMON: dict[str, dict[str, str]] = {
    "language": {"en": "Language", "zh": "语言"},
    "sku": {"en": "SKU", "zh": "商品"},
    "category": {"en": "Category", "zh": "品类"},
    "supplier": {"en": "Supplier", "zh": "供应商"},
    "all": {"en": "All", "zh": "全部"},
    "units": {"en": "units", "zh": "件"},
    "days": {"en": "days", "zh": "天"},
    "download_csv": {"en": "Download CSV", "zh": "下载 CSV"},
    "download_excel": {"en": "Download Excel", "zh": "下载 Excel"},
    "working": {"en": "Working…", "zh": "计算中…"},
    "done": {"en": "Done", "zh": "完成"},
    "error_title": {"en": "Something went wrong.", "zh": "出错了。"},
    "error_note": {"en": "The parts below that failed show older or no numbers.",
                   "zh": "下列出错的部分显示的是旧数据或没有数据。"},
    "apps_title": {"en": "opslib apps", "zh": "opslib 应用"},
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def check_strings(strings: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Problems of a string table: a missing language, or placeholders that differ between languages.

    Returns
    -------
    list of str
        One sentence per problem; empty when the table is complete.
    """
    problems = []
    for key, texts in strings.items():
        missing = [code for code in LANGUAGES if not texts.get(code)]
        if missing:
            problems.append(f"{key!r} has no text in {', '.join(missing)}")
            continue
        fields = {code: _fields(texts[code]) for code in LANGUAGES}
        if len({frozenset(f) for f in fields.values()}) > 1:
            problems.append(f"{key!r} uses different placeholders: {fields}")
    return problems


class Translator:
    """The words of one app in the language chosen on the page.

    Parameters
    ----------
    strings : mapping
        ``{key: {"en": text, "zh": text}}``; merged over :data:`COMMON`.
    language : {"en", "zh"}, default "en"

    Attributes
    ----------
    language : str
        The current language code.
    """

    def __init__(self, strings: Mapping[str, Mapping[str, str]] | None = None, language: str = "en"):
        self.strings: dict[str, dict[str, str]] = {**COMMON, **(strings or {})}
        self._check_language(language)
        self.language = language
        self._bindings: list[tuple[object, str, str, dict]] = []
        self._listeners: list[Callable[[str], None]] = []

    @staticmethod
    def _check_language(language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {sorted(LANGUAGES)}; got {language!r}.")

    def t(self, key: str, **fields) -> str:
        """The text of ``key`` in the current language, formatted with ``fields``.

        An unknown key raises ``KeyError`` (a typo must not ship as a blank label).
        """
        text = self.strings[key][self.language]
        return text.format(**fields) if fields else text

    def bind(self, widget, key: str, attribute: str = "description", **fields):
        """Set ``widget.<attribute>`` to the text of ``key`` now and after every language switch.

        ``attribute`` may be ``"description"``, ``"value"`` (HTML, Label), ``"placeholder"``,
        ``"tooltip"`` or ``"options"``; for ``"options"`` pass ``keys=[(key, value), ...]`` in
        ``fields`` to label a dropdown's choices while keeping their values.

        Returns
        -------
        The widget (so construction can be written inline).
        """
        self._bindings.append((widget, attribute, key, fields))
        self._apply(widget, attribute, key, fields)
        return widget

    def _apply(self, widget, attribute, key, fields) -> None:
        if attribute == "options":
            value = widget.value
            widget.options = [(self.t(k), v) for k, v in fields["keys"]]
            widget.value = value
        elif attribute == "title":  # Tab / Accordion titles: key is a list of keys
            for i, k in enumerate(fields["keys"]):
                widget.set_title(i, self.t(k))
        else:
            setattr(widget, attribute, self.t(key, **fields))

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(language)`` after every switch (to rebuild text made at refresh time)."""
        self._listeners.append(callback)

    def set_language(self, language: str) -> None:
        """Switch every bound label, then call the listeners."""
        self._check_language(language)
        if language == self.language:
            return
        self.language = language
        for widget, attribute, key, fields in self._bindings:
            self._apply(widget, attribute, key, fields)
        for callback in self._listeners:
            callback(language)


def language_toggle(translator: Translator) -> widgets.ToggleButtons:
    """The EN / 中文 switch of a page, wired to ``translator``."""
    toggle = widgets.ToggleButtons(
        options=[(name, code) for code, name in LANGUAGES.items()], value=translator.language,
        style={"button_width": "80px"}, layout=widgets.Layout(width="auto"),
    )
    toggle.add_class("opslib-language")
    toggle.observe(lambda change: translator.set_language(change["new"]), names="value")
    return toggle
