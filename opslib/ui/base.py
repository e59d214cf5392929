"""What every opslib app shares: callbacks whose errors show on the page, and the data it opens.

In Voila an exception raised in a widget callback vanishes: the page just stops updating.
Apps built on :class:`GuardedApp` run every callback inside an ``Output`` widget and every
part of a refresh through :meth:`GuardedApp._guard`, which writes a failure in words into
``error_panel`` (and the traceback to the log) while the other parts still update.
"""

from __future__ import annotations

import html
import logging
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import ipywidgets as widgets

from opslib.data.workspace import Workspace

__all__ = ["ALL_CATEGORIES", "GuardedApp", "data_stamp", "open_workspace", "section", "when_opened"]

log = logging.getLogger("opslib.ui")

#: Category dropdown value meaning "no category filter".
ALL_CATEGORIES = ""

_PANEL_STYLE = (
    "background:#fde2e1;color:#8a1c13;border:1px solid #e0a09a;"
    "border-radius:6px;padding:8px 12px;margin:8px 0"
)


class GuardedApp:
    """Mixin for app widgets: guarded callbacks and an error panel.

    Call :meth:`_init_guard` in ``__init__`` before building the layout; place
    ``error_panel`` near the top of the page and ``log_output`` anywhere (it
    catches what a callback prints or raises).

    Attributes
    ----------
    error_panel : ipywidgets.HTML
        The refusal of the data (``refusal``) and the parts that failed, in words.
    log_output : ipywidgets.Output
        The output area every callback runs in.
    refusal : str or None
        Why the data was refused, when the app opened on refused data.
    """

    app_name = "app"
    refusal_note = "this page shows what could be read."

    def _init_guard(self, translator=None) -> None:
        #: The app's :class:`opslib.ui.i18n.Translator`, when it has one: the error panel's
        #: heading then follows the page language (the failure itself stays as raised).
        self.translator = translator
        self.error_panel = widgets.HTML()
        self.log_output = widgets.Output()
        self._errors: dict[str, str] = {}
        self.refusal: str | None = None

    @property
    def selected_category(self) -> str | None:
        """The category filter as the engine functions take it (None: all categories)."""
        value = self.category.value
        return None if value in (ALL_CATEGORIES, None) else value

    def _callback(self, func: Callable[[], None]) -> Callable[[dict], None]:
        """Wrap a refresh so that it runs inside ``log_output`` (exceptions stay visible)."""

        def handler(change: dict) -> None:
            # imported here: charts imports plotly, which a page without charts does not need
            from opslib.ui.charts import figures_after_next_paint

            with self.log_output, figures_after_next_paint():  # on a served page: numbers first
                func()

        return handler

    def _guard(self, what: str, func: Callable[[], None]) -> None:
        """Run one part of a refresh; on failure say so in the error panel."""
        self._errors.pop(what, None)
        try:
            func()
        except Exception as exc:  # noqa: BLE001 - shown on the page, logged with its traceback
            log.error("%s: could not %s\n%s", self.app_name, what, traceback.format_exc())
            self._errors[what] = f"Could not {what}: {type(exc).__name__}: {exc}"

    def _relabel_workspace(self) -> None:
        """``workspace_label``: the workspace's name (``_workspace_title``) after the word in the page language."""
        self.workspace_label.value = (f"<div style='color:#555'>{html.escape(self.tr.t('workspace'))}: "
                                      f"<b>{html.escape(self._workspace_title)}</b></div>")

    def _show_errors(self) -> None:
        """Write the refusal and the failed parts into ``error_panel`` (empty when none)."""
        parts = []
        if self.refusal:
            parts.append(
                f"<div class='opslib-refusal' style='{_PANEL_STYLE}'><b>The data was refused.</b> "
                f"The apps that plan on it will not open until this is fixed; {self.refusal_note}"
                f"<pre style='white-space:pre-wrap;margin:6px 0 0 0'>{html.escape(self.refusal)}</pre></div>"
            )
        if self._errors:
            items = "".join(f"<li>{html.escape(e)}</li>" for e in self._errors.values())
            tr = self.translator
            title = tr.t("error_title") if tr else "Something went wrong."
            note = tr.t("error_note") if tr else "The parts below that failed show older or no numbers."
            parts.append(
                f"<div class='opslib-error' style='{_PANEL_STYLE}'>"
                f"<b>{html.escape(title)}</b> {html.escape(note)}"
                f"<ul style='margin:4px 0'>{items}</ul></div>"
            )
        self.error_panel.value = "".join(parts)


def section(title: str) -> widgets.HTML:
    """A section heading of an app page."""
    return widgets.HTML(f"<h3 style='margin:18px 0 6px 0'>{html.escape(title)}</h3>")


def open_workspace(*, as_read_when_refused: bool = True) -> tuple[Workspace, str | None]:
    """The workspace the apps open on, even when its data breaks a rule.

    Calls :func:`opslib.data.default_workspace` (``$OPSLIB_DATA`` if set,
    else the demo shop).

    Parameters
    ----------
    as_read_when_refused : bool, default True
        If the data is refused, load the same folder without refusing, so that
        the page can show what is wrong with it; otherwise return an empty
        workspace.

    Returns
    -------
    workspace : Workspace
        The tables (an empty workspace when nothing could be read).
    refusal : str or None
        Why :func:`~opslib.data.default_workspace` refused the data, in words;
        None when it did not.
    """
    from opslib.data import io
    from opslib.errors import DataError

    try:
        return io.default_workspace(), None
    except DataError as exc:
        refusal = str(exc)
    if not as_read_when_refused:
        return Workspace(name="no data"), refusal
    folder = os.environ.get(io.DATA_ENV_VAR, "").strip() or io.demo_folder()
    try:
        return io.load_workspace(folder, validate=False), refusal
    except (DataError, OSError, ValueError):
        return Workspace(name="no data"), refusal


T = TypeVar("T")


def _hold_charts():
    """A started :class:`opslib.ui.charts.FigureHold`, or None when ``$OPSLIB_CHARTS_AT_ONCE`` is 1."""
    from opslib.ui.painted import CHARTS_AT_ONCE_ENV_VAR, FigureHold

    if os.environ.get(CHARTS_AT_ONCE_ENV_VAR, "").strip() == "1":
        return None
    return FigureHold.start()


#: Longest wait of a preheating kernel for a quiet machine before it builds its app [s].
YIELD_MAX_S = 10.0
#: The machine counts as quiet below this share of all its cores in use.
QUIET_CPU_SHARE = 0.35


def _yield_to_visitors(max_s: float | None = None, quiet_share: float | None = None, sample_s: float = 0.5,
                       quiet_samples: int = 4) -> float:
    """Wait until the CPU is used under ``quiet_share`` of all cores in ``quiet_samples`` samples running
    (a pause between a visitor's clicks is not enough), at most ``max_s``.

    Returns the seconds waited (0 when psutil is missing: it comes with ipykernel).
    """
    max_s = YIELD_MAX_S if max_s is None else max_s
    quiet_share = QUIET_CPU_SHARE if quiet_share is None else quiet_share
    try:
        import psutil
    except ImportError:  # pragma: no cover - ipykernel depends on psutil
        return 0.0
    import time

    start = time.monotonic()
    quiet = 0
    psutil.cpu_percent(interval=None)  # starts the measurement
    while quiet < quiet_samples and time.monotonic() - start < max_s:
        quiet = quiet + 1 if psutil.cpu_percent(interval=sample_s) / 100.0 < quiet_share else 0
    return time.monotonic() - start


def data_stamp() -> tuple | None:
    """What the apps' data folder holds now: its path and each table file's name, size and mtime.

    The folder is ``$OPSLIB_DATA``, else the demo shop (:func:`opslib.data.default_workspace`); the
    files are :func:`opslib.data.cache.table_files` (not the saved settings, not subfolders).
    Two equal stamps mean an app built on the first would show the same tables as one built now.
    None when the folder cannot be listed.
    """
    from opslib.data import io
    from opslib.data.cache import table_files

    folder = Path(os.environ.get(io.DATA_ENV_VAR, "").strip() or io.demo_folder()).expanduser()
    try:
        return (str(folder), tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in table_files(folder)))
    except OSError:
        return None


def when_opened(build: Callable[..., T], *args, **kwargs) -> T:
    """``build(*args, **kwargs)``, made ahead of the visitor on a preheated Voila kernel and still current when shown.

    ``opslib serve`` keeps one kernel per app that has run its page up to this call before anyone
    asks for it (Voila's kernel preheating), so a page opens with its slow part (imports, the
    tables, forecasts, a fitted response) already done. Here such a kernel builds the app, then
    waits for its visitor (``voila.utils.wait_for_request``); if the data folder changed in
    between (:func:`data_stamp`), the app is built again, so nobody sees tables older than the
    moment they opened the page (an app's ``prepare_ahead()`` method, when it has one, runs before
    the wait: work of a first click done ahead); otherwise, if the app has a ``refresh_on_open()`` method, it is
    called, for what the app reads from the data folder besides the tables (files in subfolders
    and the replenishment settings do not count in the stamp).

    On any Voila kernel (preheated or not) the app's charts are kept back until the browser has
    painted the page (:mod:`opslib.ui.painted`): plotly.js takes 2 to 3 s of the browser's main
    thread to load and draw, and the numbers and controls are then on screen first. Outside Voila
    (a notebook, a test) it is just ``build(*args, **kwargs)``.

    Voila starts preheating the next kernel a second after a visitor takes one, so the build
    would compete for the CPU with that visitor's first clicks (the portfolio tab took 6.3 s
    instead of 4.7 s on two cores); a preheating kernel first waits until the machine is
    quiet, at most :data:`YIELD_MAX_S` seconds (:func:`_yield_to_visitors`). A second visitor
    arriving meanwhile waits that out: the kernel cannot peek at Voila's hand-over of the
    request without taking it (Voila delivers it to whoever listens then and keeps no copy).

    Parameters
    ----------
    build : callable
        Makes the app, e.g. :func:`opslib.ui.replenishment_app`.
    *args, **kwargs
        Passed to ``build``: ``when_opened(replenishment_app, currency="CNY")``.

    Returns
    -------
    The app ``build`` made (the second one when the data changed).
    """
    if "VOILA_PREHEAT" not in os.environ:  # not a Voila kernel: a notebook, a test
        return build(*args, **kwargs)
    from opslib.ui.painted import charts_after_paint

    if os.environ["VOILA_PREHEAT"] != "True":  # a plain Voila kernel: the visitor is waiting
        hold = _hold_charts()
        app = build(*args, **kwargs)
        charts_after_paint(app, hold)
        return app
    _yield_to_visitors()
    stamp = data_stamp()
    hold = _hold_charts()
    app = build(*args, **kwargs)
    ahead = getattr(app, "prepare_ahead", None)
    if callable(ahead):  # what the visitor would otherwise wait for at a first click
        ahead()
    from voila.utils import wait_for_request

    wait_for_request()
    if data_stamp() != stamp:
        log.info("the data folder changed while the page waited for its visitor: building it again")
        hold = _hold_charts()
        app = build(*args, **kwargs)
    else:
        refresh = getattr(app, "refresh_on_open", None)
        if callable(refresh):  # what the app keeps beside the tables (e.g. saved scenarios), read again
            refresh()
    charts_after_paint(app, hold)
    return app
