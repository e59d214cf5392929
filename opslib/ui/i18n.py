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

__all__ = ["LANGUAGES", "COMMON", "COLUMNS_ZH", "Translator", "check_strings", "language_toggle", "merge_strings"]

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
    "more_rows": {"en": "Showing {shown:,} of {total:,} rows.", "zh": "显示 {shown:,} 行，共 {total:,} 行。"},
    "all_categories": {"en": "All categories", "zh": "全部品类"},
    "workspace": {"en": "Workspace", "zh": "工作区"},
}


COLUMNS_ZH: dict[str, str] = {
    # items and sales
    "rank": "排名", "sku": "商品", "name": "名称", "category": "品类", "supplier": "供应商", "units": "销量",
    "gmv": "成交额", "share": "占比", "date": "日期", "month": "月份", "period": "周期", "status": "状态",
    "skus": "商品数", "lines": "行数", "unit_cost": "单位成本",
    # data health
    "days_tracked": "记录天数", "days_out_of_stock": "缺货天数", "share_out_of_stock": "缺货占比",
    "table": "表", "rows": "行数", "columns": "列数", "first_date": "首日", "last_date": "末日",
    # stock movement (入/出/存) and reconciliation
    "opening_units": "期初数量", "opening_value": "期初金额", "receipt_units": "入库数量", "receipt_value": "入库金额",
    "shipment_units": "出库数量", "shipment_value": "出库金额", "return_units": "退货数量", "return_value": "退货金额",
    "adjustment_units": "调整数量", "adjustment_value": "调整金额", "transfer_units": "调拨数量",
    "transfer_value": "调拨金额", "closing_units": "期末数量", "closing_value": "期末金额",
    "difference_units": "差异数量", "difference_value": "差异金额", "net_movement_units": "净变动数量",
    "expected_closing_units": "应有期末数量", "expected_closing_value": "应有期末金额", "closing_date": "期末日期",
    # stocktake (盘点)
    "book_units": "账面数量", "counted_units": "实盘数量", "variance_units": "盘差数量", "variance_value": "盘差金额",
    "variance_share": "盘差占比", "flagged": "超出容差", "lines_flagged": "超差行数", "lines_with_variance": "有盘差行数",
    "accuracy": "准确率", "shrinkage_units": "损耗数量", "shrinkage_value": "损耗金额", "shrinkage_share": "损耗占比",
    "book_date": "账面日期",
    # suppliers
    "received_lines": "到货行数", "deliveries": "到货次数", "on_time_rate": "准时率", "lead_time_mean_days": "平均交期（天）",
    "lead_time_std_days": "交期标准差（天）", "lead_time_p90_days": "交期 P90（天）", "fill_rate": "满足率",
    "rejected_rate": "拒收率", "open_lines": "未结行数", "qty_ordered": "订购数量", "qty_received": "到货数量",
    "qty_rejected": "拒收数量",
    # stock exceptions
    "on_hand_units": "在手数量", "stock_value": "库存金额", "weeks_of_cover": "可售周数",
    "days_since_last_sale": "距上次销售天数", "last_sale_date": "上次销售日期", "exception": "异常", "action": "建议",
    "weekly_units": "周销量", "excess_units": "超额数量", "excess_value": "超额金额",
}
"""Table headers in 简体中文, by column name (English shows the column names): see
:meth:`Translator.headers`."""


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


def merge_strings(*tables: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The string tables of the parts of one page, merged over :data:`COMMON`.

    A page built from several modules shares one :class:`Translator`; a key
    that two tables define with different texts would silently show one
    module's words in the other's place, so it is refused.

    Raises
    ------
    ValueError
        Naming the keys defined differently.
    """
    merged: dict[str, dict[str, str]] = {k: dict(v) for k, v in COMMON.items()}
    clashes = []
    for table in tables:
        for key, texts in table.items():
            if key in merged and dict(merged[key]) != dict(texts):
                clashes.append(key)
            merged.setdefault(key, dict(texts))
    if clashes:
        raise ValueError(f"string keys defined differently by two parts of the page: {sorted(set(clashes))}")
    return merged


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
        ``"tooltip"``, ``"options"`` or ``"title"``; for ``"options"`` pass ``keys=[(key, value), ...]``
        in ``fields`` to label a dropdown's choices while keeping their values (key None: the
        value is its own label, e.g. a category name); for ``"title"`` (Tab, Accordion) pass
        ``keys=[key, ...]``, one per child.

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
            widget.options = [(str(v) if k is None else self.t(k), v) for k, v in fields["keys"]]
            widget.value = value
        elif attribute == "title":  # Tab / Accordion titles: key is a list of keys
            for i, k in enumerate(fields["keys"]):
                widget.set_title(i, self.t(k))
        else:
            setattr(widget, attribute, self.t(key, **fields))

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Table headers for :func:`opslib.ui.tables.frame_html` in the current language.

        English: ``{}`` (the column names are the headers). 简体中文:
        :data:`COLUMNS_ZH` updated with ``extra``.
        """
        if self.language == "en":
            return {}
        return {**COLUMNS_ZH, **(extra or {})}

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

    def follow(language: str) -> None:  # another toggle of the same page switched
        if toggle.value != language:
            toggle.value = language

    translator.on_change(follow)
    return toggle
