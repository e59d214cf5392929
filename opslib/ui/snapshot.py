"""Static HTML snapshots: a plan or a scenario as one file that opens offline.

For people without access to the ``opslib serve`` server: the apps' "export" buttons call
:func:`snapshot_html` (or :func:`save_snapshot`) with the page's figures, tables and notes.
The file holds everything it needs: plotly.js is inlined once (the 1.3 MB bundle the apps draw
with when every figure's traces are of its types, :data:`opslib.ui.charts.LIBRARY_TRACES`, else
plotly.py's whole plotly.js, about 4.8 MB), the figures keep their hover and zoom, the tables are
plain HTML, and a footer says when it was made and by which opslib version.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

__all__ = ["Paragraph", "download_link", "save_snapshot", "snapshot_html"]

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:24px auto;max-width:1200px;padding:0 16px;color:#1f2328}
h1{font-size:1.6em;margin-bottom:4px}h2{font-size:1.25em;margin-top:28px}
.opslib-stamp{color:#57606a;font-size:.9em}
table.opslib-table{border-collapse:collapse;font-size:.9em;margin:8px 0}
table.opslib-table th,table.opslib-table td{border:1px solid #d0d7de;padding:4px 8px}
table.opslib-table th{background:#f6f8fa;text-align:left}
table.opslib-table td{text-align:right}
.opslib-note{color:#57606a;font-size:.9em}
"""


_WORDS = {
    "en": {"stamp": "Generated {stamp} by opslib {version} &middot; a static snapshot: the numbers do not update.",
           "cut": "First {shown:,} of {total:,} rows."},
    "zh": {"stamp": "生成于 {stamp}，opslib {version} &middot; 静态快照：数字不会更新。",
           "cut": "仅显示前 {shown:,} 行，共 {total:,} 行。"},
}


class Paragraph(str):
    """Plain text for a snapshot: escaped, unlike a bare ``str`` (which is taken as HTML)."""


def _is_figure(obj) -> bool:
    try:
        import plotly.graph_objects as go
    except ImportError:  # pragma: no cover - plotly is a dependency
        return False
    return isinstance(obj, go.Figure)


def _trace_types(fig) -> set:
    return {trace.type for trace in fig.data}


def _section_html(obj, include_plotlyjs: bool, max_rows: int, words: dict) -> tuple[str, bool]:
    """One section as HTML; the flag says whether it inlined plotly.js."""
    if _is_figure(obj):
        import plotly.io as pio

        body = pio.to_html(obj, full_html=False, include_plotlyjs=include_plotlyjs,
                           config={"displaylogo": False, "responsive": True})
        return f'<div class="opslib-figure">{body}</div>', include_plotlyjs
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        shown = obj.head(max_rows)
        table = shown.to_html(classes="opslib-table", border=0, index=not isinstance(obj.index, pd.RangeIndex),
                              na_rep="", float_format=lambda v: f"{v:,.6g}")
        note = ""
        if len(obj) > max_rows:
            note = f'<p class="opslib-note">{words["cut"].format(shown=max_rows, total=len(obj))}</p>'
        return table + note, False
    if isinstance(obj, Paragraph):
        return f"<p>{html.escape(obj)}</p>", False
    if isinstance(obj, str):
        return obj, False
    raise TypeError(
        f"a snapshot section must be a plotly Figure, a pandas DataFrame or Series, a str (HTML) or a "
        f"Paragraph (text); got {type(obj).__name__}."
    )


def _sections(sections) -> list[tuple[str | None, object]]:
    """Normalize ``sections`` to ``[(heading or None, content), ...]``."""
    if isinstance(sections, dict):
        return list(sections.items())
    out = []
    for item in sections:
        if isinstance(item, tuple) and len(item) == 2 and (item[0] is None or isinstance(item[0], str)):
            out.append(item)
        else:
            out.append((None, item))
    return out


def snapshot_html(
    title: str,
    sections: dict | Iterable,
    *,
    subtitle: str = "",
    generated_at: dt.datetime | None = None,
    max_rows: int = 2000,
    lang: str = "en",
) -> str:
    """A self-contained HTML page of figures, tables and text.

    Parameters
    ----------
    title : str
        The page title (escaped).
    sections : dict or iterable
        In order, either ``{heading: content}`` or a sequence of ``content`` or
        ``(heading, content)`` pairs (``heading`` None for none). ``content`` is a plotly
        ``Figure``, a pandas ``DataFrame`` or ``Series``, a :class:`Paragraph` (text,
        escaped) or a ``str`` (HTML, inserted as is: build it from trusted values only).
    subtitle : str, optional
        A line under the title (the scenario's settings, the data folder), escaped.
    generated_at : datetime, optional
        The stamp; default now, in local time.
    max_rows : int, default 2000
        Longer tables are cut to their first ``max_rows`` rows, and the page says so.
    lang : {"en", "zh"}, default "en"
        The language of the page's own words (the stamp, the cut-table note) and its ``lang``
        attribute; the titles and sections are the caller's.

    Returns
    -------
    str
        A complete HTML document. plotly.js is inlined once (in the head: the apps'
        1.3 MB bundle when every figure's traces are of its types; else plotly.py's whole
        library, with the first figure), so the page opens offline and carries the library
        once however many figures it has.
    """
    import opslib

    if lang not in _WORDS:
        raise ValueError(f"lang must be one of {sorted(_WORDS)}; got {lang!r}.")
    words = _WORDS[lang]
    stamp = (generated_at or dt.datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip()
    from opslib.ui.charts import LIBRARY_TRACES, _plotly_library

    parts = []
    items = _sections(sections)
    figures = [content for _, content in items if _is_figure(content)]
    light = bool(figures) and all(_trace_types(fig) <= LIBRARY_TRACES for fig in figures)
    library = f"<script>{_plotly_library()}</script>\n" if light else ""  # before the figures' scripts
    plotly_included = light  # else plotly.py inlines its own with the first figure
    for heading, content in items:
        if heading:
            parts.append(f"<h2>{html.escape(str(heading))}</h2>")
        body, inlined = _section_html(content, include_plotlyjs=not plotly_included, max_rows=max_rows,
                                      words=words)
        plotly_included = plotly_included or inlined
        parts.append(body)
    sub = f'<p>{html.escape(subtitle)}</p>' if subtitle else ""
    footer = ('<p class="opslib-stamp">'
              + words["stamp"].format(stamp=html.escape(stamp), version=html.escape(opslib.__version__)) + "</p>")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="opslib {html.escape(opslib.__version__)}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n{library}</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{sub}\n{footer}\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def save_snapshot(path: str | Path, title: str, sections: dict | Sequence, **options) -> Path:
    """Write :func:`snapshot_html` to ``path`` (UTF-8) and return the path.

    Parameters
    ----------
    path : str or Path
        The ``.html`` file to write; its folder must exist.
    title, sections, **options
        As :func:`snapshot_html`.
    """
    path = Path(path)
    if not path.parent.exists():
        raise FileNotFoundError(f"the folder {path.parent} does not exist; create it or choose another path.")
    path.write_text(snapshot_html(title, sections, **options), encoding="utf-8")
    return path


def download_link(data: bytes, filename: str, mime: str, label: str, css_class: str = "") -> str:
    """An HTML link that downloads ``data`` as ``filename`` (a ``data:`` URL: no server route needed).

    What the apps use for CSV, Excel and snapshot downloads in Voila: the
    bytes travel with the page, so build the link when asked for, not on
    every update.
    """
    encoded = base64.b64encode(data).decode("ascii")
    klass = f" class='{html.escape(css_class)}'" if css_class else ""
    return (f"<a{klass} download='{html.escape(filename)}' href='data:{mime};base64,{encoded}' "
            f"style='margin:0 16px 0 8px'>{html.escape(label)}</a>")
