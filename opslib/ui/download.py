"""A download link whose file the kernel makes when it is clicked.

Voila 0.5 serves no files from the kernel, so the apps' downloads are ``data:`` links built
with the page (:func:`opslib.ui.snapshot.download_link`): the file is made, and sent, whether
or not anyone downloads it. That is right for a small CSV; an Excel workbook of a plan takes
0.7 s of pure Python to write (openpyxl) on the demo shop, which every recompute would pay.
:class:`FileButton` makes the file only when asked: the click sends a message to the kernel,
the kernel answers with the bytes (a binary buffer, not base64 in the page), and the browser
saves them under the file's name.
"""

from __future__ import annotations

from collections.abc import Callable

import anywidget
import traitlets

__all__ = ["FileButton"]

_ESM = """
function render({ model, el }) {
  const link = el.appendChild(document.createElement("a"));
  link.href = "#";
  link.style.margin = "0 16px 0 8px";
  let busy = false, timer = null;
  const label = () => {
    link.textContent = busy ? model.get("busy_label") : model.get("label");
    el.dataset.state = busy ? "busy" : "ready";
  };
  const onClick = (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    label();
    model.send({ want: "file" });
    timer = setTimeout(() => { busy = false; label(); }, 120000);  // no answer (a kernel gone): clickable again
  };
  const onMessage = (message, buffers) => {
    if (!message || !("file" in message || "error" in message)) return;
    clearTimeout(timer);
    busy = false;
    label();
    if (!message.file || !buffers || !buffers.length) return;  // the kernel said why on the page
    const url = URL.createObjectURL(new Blob([buffers[0]], { type: message.mime }));
    const save = document.body.appendChild(document.createElement("a"));
    save.href = url;
    save.download = message.file;
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  };
  link.addEventListener("click", onClick);
  model.on("msg:custom", onMessage);
  model.on("change:label", label);
  model.on("change:busy_label", label);
  label();
  return () => {
    clearTimeout(timer);
    link.removeEventListener("click", onClick);
    model.off("msg:custom", onMessage);
    model.off("change:label", label);
    model.off("change:busy_label", label);
  };
}
export default { render };
"""


class FileButton(anywidget.AnyWidget):
    """A link that downloads ``make()``'s bytes as ``filename``; the file is made when the link is clicked.

    Parameters
    ----------
    make : callable
        Returns the file's bytes; called in the kernel on each click.
    on_error : callable, optional
        Called with the exception when ``make`` fails (e.g. to say so in the page's error
        panel); the link then answers with no file, and the failure is not raised (it would
        vanish in a widget's message handler).
    label, filename, mime : str
        The link's text, the saved file's name and its type.
    busy_label : str
        The link's text while the kernel makes the file.

    The element (class ``opslib-file-button`` and any added with ``add_class``) says in
    ``data-state`` whether it is ``ready`` or ``busy``.
    """

    _esm = _ESM
    label = traitlets.Unicode("Download").tag(sync=True)
    busy_label = traitlets.Unicode("…").tag(sync=True)
    filename = traitlets.Unicode("download").tag(sync=True)
    mime = traitlets.Unicode("application/octet-stream").tag(sync=True)

    def __init__(self, make: Callable[[], bytes], *, on_error: Callable[[Exception], None] | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.make = make
        self.on_error = on_error
        self.add_class("opslib-file-button")
        self.on_msg(self._on_message)

    def _on_message(self, _widget, content, _buffers) -> None:
        if not (isinstance(content, dict) and content.get("want") == "file"):
            return
        try:
            data = bytes(self.make())
        except Exception as exc:  # noqa: BLE001 - said on the page by on_error; a raise here would vanish
            if self.on_error is not None:
                self.on_error(exc)
            self.send({"error": f"{type(exc).__name__}: {exc}"})
            return
        self.send({"file": self.filename, "mime": self.mime}, buffers=[data])
