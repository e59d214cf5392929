"""The ``opslib`` command: serve the apps, build the demo shop, validate a data folder, write reports.

Examples
--------
::

    opslib serve                      # the apps on the demo shop, http://127.0.0.1:8866/
    opslib serve --data ~/shop_data   # the apps on your own tables
    OPSLIB_TOKEN=... opslib serve --host 0.0.0.0   # to colleagues on the network, with a token
    opslib demo build --out data/demo --seed 7
    opslib validate ~/shop_data       # exit code 1 when the data has errors
    opslib report monthly --month 2026-09 --out 2026-09.xlsx   # or .html; --data PATH

``python -m opslib`` is the same command.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from opslib.errors import DataError

__all__ = ["main", "build_parser", "repo_root", "voila_command", "run_voila", "set_xsrf_cookie", "is_local_host",
           "LANDING_PATH"]

DATA_ENV = "OPSLIB_DATA"
TOKEN_ENV = "OPSLIB_TOKEN"
PASSWORD_ENV = "OPSLIB_PASSWORD"
#: Where `opslib serve` opens: apps/index.ipynb rendered by Voila (the tree stays at ``/``).
LANDING_PATH = "voila/render/index.ipynb"
#: First argument of ``python -m opslib.cli`` that runs Voila through :func:`run_voila`.
VOILA_LAUNCHER = "voila"
MIN_SECRET_LENGTH = 8
#: Voila settings `opslib serve` owns: they go through --host, --port, --token and --password.
_GUARDED_OPTIONS = ("ip", "port", "token", "auto_token", "password", "hashed_password", "identity_provider",
                    "authorizer", "allow_remote_access", "base_url", "server_url")


def repo_root() -> Path:
    """The folder holding ``apps/`` and ``voila.json`` (the source checkout)."""
    return Path(__file__).resolve().parents[1]


def voila_command(
    apps: Path,
    port: int = 8866,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    show_tracebacks: bool = False,
    token: bool = False,
    hashed_password: str | None = None,
    voila_options: Sequence[str] = (),
) -> list[str]:
    """The command line that runs Voila on the apps folder.

    Parameters
    ----------
    apps : Path
        The folder of app notebooks; Voila lists it in its tree view.
    port : int, default 8866
        TCP port.
    host : str, default "127.0.0.1"
        Interface to listen on; ``0.0.0.0`` listens on every interface.
    open_browser : bool, default True
        Whether Voila opens a browser tab (on its file tree; ``opslib serve`` passes False and
        opens the landing page itself).
    show_tracebacks : bool, default False
        Show Python tracebacks on the pages (for developers).
    token : bool, default False
        Require the token in the ``JUPYTER_TOKEN`` environment variable of the Voila process
        (``--Voila.auto_token=True``: Voila's identity provider then reads it from there, so the
        token is not on the command line, where ``ps`` would show it).
    hashed_password : str, optional
        A password hash made by ``jupyter_server.auth.passwd``; pages then ask for the password.
    voila_options : sequence of str
        Further ``--Class.trait=value`` options, last (they override ``voila.json``).

    Returns
    -------
    list of str
        To run with ``cwd=repo_root()`` so that Voila reads the committed
        ``voila.json`` (Voila looks for it in the working directory and in the
        Jupyter config folders); the options given here override it. It runs
        Voila through :func:`run_voila` (``python -m opslib.cli voila ...``), which
        makes every page set the cookie that lets a closed tab shut its kernel down.
    """
    cmd = [sys.executable, "-m", "opslib.cli", VOILA_LAUNCHER, str(apps), f"--port={port}", f"--Voila.ip={host}"]
    if not open_browser:
        cmd.append("--no-browser")
    if show_tracebacks:
        cmd.append("--show_tracebacks=True")
    if token:
        cmd.append("--Voila.auto_token=True")
    if hashed_password:
        cmd += [f"--PasswordIdentityProvider.hashed_password={hashed_password}",
                "--PasswordIdentityProvider.allow_password_change=False"]
    cmd += list(voila_options)
    return cmd


def set_xsrf_cookie(request_handler, notebook=None, cwd=None) -> None:
    """Give an app page the ``_xsrf`` cookie.

    When a tab closes, Voila's page posts ``/voila/api/shutdown/<kernel>`` with the
    ``_xsrf`` cookie's value. Voila 0.5 never sets that cookie on its pages, so the
    request is refused (403, voila-dashboards/voila#1458) and the kernel lives on until
    the culler finds it idle. Reading ``xsrf_token`` sets the cookie on the page response
    (before Voila flushes it), so the shutdown goes through with XSRF protection kept.

    It returns None (the signature of a Voila prelaunch hook, which it was until Voila's
    kernel preheating came in: the two are incompatible). :func:`run_voila` calls it at
    the start of every page request instead (:func:`_set_xsrf_cookie_on_pages`).
    """
    request_handler.xsrf_token  # noqa: B018 (reading the property sets the cookie)


def _set_xsrf_cookie_on_pages() -> None:
    """Make Voila's page handler call :func:`set_xsrf_cookie` before it renders a page.

    Unlike a prelaunch hook this works with preheated kernels too. Idempotent.
    """
    import functools

    from voila.tornado.handler import TornadoVoilaHandler

    if getattr(TornadoVoilaHandler, "_opslib_sets_xsrf", False):
        return
    render = TornadoVoilaHandler.get

    @functools.wraps(render)
    async def get(self, path=None):
        set_xsrf_cookie(self)
        return await render(self, path)

    TornadoVoilaHandler.get = get
    TornadoVoilaHandler._opslib_sets_xsrf = True


def _pool_kernels_start_idle_when_taken() -> None:
    """Make a preheated kernel's idle time count from when a visitor takes it, not from its preheating.

    Voila keeps pooled kernels from the culler, but once a page takes one the culler sees the
    idle time since the kernel finished preheating (minutes or hours) and, the browser not being
    connected yet, shuts it down at its next round: the page opens dead ("kernel does not
    exist"). Seen with a 20 s limit; with the 600 s of ``voila.json`` it would hit a page whose
    kernel waited over ten minutes whenever a culler round falls in the second or two before
    the browser connects. Idempotent.
    """
    import voila.app

    factory = voila.app.voila_kernel_manager_factory
    if getattr(factory, "_opslib_touches_taken_kernels", False):
        return

    def manager_factory(base_class, preheat_kernel, *args, **kwargs):
        cls = factory(base_class, preheat_kernel, *args, **kwargs)
        if not preheat_kernel:
            return cls

        class PoolKernelManager(cls):
            async def get_rendered_notebook(self, *a, **kw):
                from jupyter_server._tz import utcnow

                render_task, rendered_cache, kernel_id = await super().get_rendered_notebook(*a, **kw)
                kernel = self.get_kernel(kernel_id)
                kernel.last_activity = utcnow()
                return render_task, rendered_cache, kernel_id

        PoolKernelManager.__name__ = PoolKernelManager.__qualname__ = cls.__name__  # same config section
        return PoolKernelManager

    manager_factory._opslib_touches_taken_kernels = True
    voila.app.voila_kernel_manager_factory = manager_factory


def run_voila(argv: Sequence[str]) -> int:
    """Run Voila with ``argv`` (its own options), every page setting the ``_xsrf`` cookie.

    ``voila.json`` (working directory) and the options in ``argv`` are read as by
    ``python -m voila``. See :func:`set_xsrf_cookie` and
    :func:`_pool_kernels_start_idle_when_taken`.
    """
    from voila.app import Voila

    _set_xsrf_cookie_on_pages()
    _pool_kernels_start_idle_when_taken()
    Voila.launch_instance(argv=list(argv))
    return 0


def is_local_host(host: str) -> bool:
    """Whether ``host`` is this machine only (a loopback address or ``localhost``).

    Every other value, including ``0.0.0.0``, ``::``, a LAN address or a host name,
    serves the network.
    """
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``opslib`` command."""
    parser = argparse.ArgumentParser(
        prog="opslib",
        description="Operations planning workbench for online shops.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve", help="serve the Voila apps",
        description="Serve the apps in apps/ with Voila and open the landing page (apps/index.ipynb). "
                    "127.0.0.1 by default; another --host needs a token or a password.",
    )
    serve.add_argument("--data", type=Path, help=f"data folder the apps open (sets {DATA_ENV}); default: the demo shop")
    serve.add_argument("--port", type=int, default=8866, help="TCP port (default: 8866)")
    serve.add_argument(
        "--host", default="127.0.0.1",
        help="interface to listen on (default: 127.0.0.1, this machine only); any other value, such as 0.0.0.0, "
             f"serves the network and needs --token (or {TOKEN_ENV}) or --password",
    )
    serve.add_argument(
        "--token", default=None,
        help=f"a secret the pages require (?token=... in the URL, once per browser); default: {TOKEN_ENV}. "
             f"Prefer the environment variable: a command line is visible to other users of the machine",
    )
    serve.add_argument(
        "--password", action="store_true",
        help=f"ask for a password (typed twice) that the pages require; stored hashed. Non-interactive: {PASSWORD_ENV}",
    )
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    serve.add_argument(
        "--show-tracebacks", action="store_true", help="show Python tracebacks on the pages (for developers)"
    )
    serve.add_argument(
        "voila_options", nargs="*", metavar="-- VOILA_OPTION",
        help="after --, Voila settings that override voila.json, e.g. "
             "-- --MappingKernelManager.cull_idle_timeout=300",
    )

    demo = sub.add_parser("demo", help="the demo shop", description="Build the demo shop's tables.")
    parser.set_defaults(demo_parser=demo)
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="COMMAND")
    build = demo_sub.add_parser("build", help="write the demo shop's tables to a folder")
    build.add_argument("--out", type=Path, default=None, help="output folder (default: data/demo in the checkout)")
    build.add_argument("--seed", type=int, default=None, help="random seed (default: the generator's)")

    validate = sub.add_parser(
        "validate", help="check a data folder", description="Load a data folder and list what is wrong with it."
    )
    validate.add_argument("path", type=Path, help="folder of table files (items.csv, order_lines.csv, ...)")

    report = sub.add_parser("report", help="operations reports", description="Write an operations report.")
    parser.set_defaults(report_parser=report)
    report_sub = report.add_subparsers(dest="report_command", metavar="COMMAND")
    monthly = report_sub.add_parser(
        "monthly",
        help="the monthly operations report (Excel or HTML)",
        description="Write the monthly operations report of one month to Excel (.xlsx) or a static page (.html).",
    )
    monthly.add_argument("--data", type=Path, default=None, help="data folder (default: the demo shop)")
    monthly.add_argument("--month", default=None, help="the month, YYYY-MM (default: the last full month of the data)")
    monthly.add_argument("--out", type=Path, required=True, help="output file: .xlsx for Excel, .html for a web page")

    plan = sub.add_parser(
        "plan",
        help="today's replenishment plan (order list, policies, exceptions)",
        description="Forecast every SKU, solve its policy for the service target and write today's order list "
                    "with the exception lists to Excel (.xlsx, one sheet each) or the order list to CSV (.csv).",
    )
    plan.add_argument("--data", type=Path, default=None, help="data folder (default: the demo shop)")
    plan.add_argument("--out", type=Path, required=True, help="output file: .xlsx (all sheets) or .csv (order list)")
    plan.add_argument("--service", choices=["fill_rate", "cycle_service_level"], default="fill_rate",
                      help="service type of the target (default: fill_rate)")
    plan.add_argument("--target", type=float, default=0.95, help="service target as a fraction (default: 0.95)")
    plan.add_argument("--review-days", type=int, default=7, help="days between order reviews (default: 7)")
    plan.add_argument("--model", default="auto", help="forecast model (default: auto)")
    return parser


def _load_data(args: argparse.Namespace):
    """The workspace of ``--data`` (the demo shop without it), or the exit code after saying why not."""
    from opslib.data.io import load_demo, load_workspace

    if args.data is not None and not args.data.expanduser().exists():
        print(f"error: the data folder {args.data} does not exist.", file=sys.stderr)
        return 2
    try:
        return load_workspace(args.data.expanduser()) if args.data is not None else load_demo()
    except (DataError, OSError, ValueError) as exc:
        print(f"error: the data in {args.data or 'the demo shop'} cannot be loaded: {exc}", file=sys.stderr)
        return 1


def _serve_secret(args: argparse.Namespace) -> tuple[str | None, str | None] | int:
    """The token and the password hash of ``opslib serve``, or the exit code after saying why not."""
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    password = os.environ.get(PASSWORD_ENV) or None
    if args.password:
        import getpass

        try:
            first = getpass.getpass("Password for the apps: ")
            second = getpass.getpass("Again: ")
        except (EOFError, KeyboardInterrupt):
            print("\nerror: no password given.", file=sys.stderr)
            return 2
        if first != second:
            print("error: the two passwords differ.", file=sys.stderr)
            return 2
        password = first
    for what, secret in (("token", token), ("password", password)):
        if secret is not None and len(secret) < MIN_SECRET_LENGTH:
            print(f"error: the {what} must have at least {MIN_SECRET_LENGTH} characters; a random one: "
                  f"python -c \"import secrets; print(secrets.token_urlsafe(24))\"", file=sys.stderr)
            return 2
    if token is None and password is None and not is_local_host(args.host):
        print(
            f"error: --host {args.host} serves the apps to the network, where anyone who can reach port "
            f"{args.port} could use them and the data behind them. Set a token or a password first:\n"
            f"  {TOKEN_ENV}=$(python -c \"import secrets; print(secrets.token_urlsafe(24))\") "
            f"opslib serve --host {args.host}\n"
            f"  opslib serve --host {args.host} --password        (asks for it; or set {PASSWORD_ENV})\n"
            "or keep the default --host 127.0.0.1 (this machine only).",
            file=sys.stderr,
        )
        return 2
    hashed = None
    if password is not None:
        from jupyter_server.auth import passwd

        hashed = passwd(password)
    return token, hashed


def _voila_options(options: Sequence[str]) -> list[str] | int:
    """The ``-- VOILA_OPTION`` arguments, or the exit code after saying why one is refused."""
    for option in options:
        name = option.split("=", 1)[0].lstrip("-")
        trait = name.rsplit(".", 1)[-1].lower()
        if not option.startswith("--") or "=" not in option:
            print(f"error: Voila options go as --Class.trait=value after --; got {option!r}.", file=sys.stderr)
            return 2
        if trait in _GUARDED_OPTIONS or "token" in trait or "password" in trait:
            print(f"error: {name} is set by opslib serve itself: use --host, --port, --token or --password.",
                  file=sys.stderr)
            return 2
        if trait == "prelaunch_hook":
            print(f"error: {name} cannot be set on the command line (it is a Python callable).", file=sys.stderr)
            return 2
    settings = {option.split("=", 1)[0].lstrip("-").rsplit(".", 1)[-1].lower(): option.split("=", 1)[1].lower()
                for option in options}
    if settings.get("progressive_rendering") == "true" and settings.get("preheat_kernel") != "false":
        print("error: Voila refuses progressive_rendering with preheated kernels, which opslib serve uses; "
              "add --VoilaConfiguration.preheat_kernel=False to turn preheating off.", file=sys.stderr)
        return 2
    return list(options)


def _open_when_ready(proc, probe_url: str, open_url: str, timeout_s: float = 180.0) -> None:
    """Open ``open_url`` in a browser once the server answers on ``probe_url`` (any HTTP status)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(probe_url, timeout=2):
                pass
        except urllib.error.HTTPError:
            pass  # it answers (403 without the token)
        except OSError:
            time.sleep(0.5)
            continue
        webbrowser.open(open_url)
        return


def _serve(args: argparse.Namespace) -> int:
    root = repo_root()
    apps = root / "apps"
    if not apps.is_dir():
        print(f"error: no apps folder at {apps}; opslib serve runs from a source checkout.", file=sys.stderr)
        return 2
    env = dict(os.environ)
    for name in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE"):  # only --token / OPSLIB_TOKEN set the token
        env.pop(name, None)
    if args.data is not None:
        data = args.data.expanduser().resolve()
        if not data.is_dir():
            print(f"error: the data folder {data} does not exist.", file=sys.stderr)
            return 2
        env[DATA_ENV] = str(data)
    voila_options = _voila_options(args.voila_options)
    if isinstance(voila_options, int):
        return voila_options
    secret = _serve_secret(args)
    if isinstance(secret, int):
        return secret
    token, hashed_password = secret
    if token is not None:
        env["JUPYTER_TOKEN"] = token
    if args.host not in ("0.0.0.0", "::", "") and not is_local_host(args.host):
        # A preheated page waits for its visitor on ws://VOILA_APP_IP:port (voila.utils.wait_for_request,
        # through opslib.ui.when_opened); 127.0.0.1, its default, is not served when Voila listens on one
        # address only.
        env["VOILA_APP_IP"] = f"[{args.host}]" if ":" in args.host else args.host
    cmd = voila_command(apps, args.port, args.host, False, args.show_tracebacks,
                        token=token is not None, hashed_password=hashed_password, voila_options=voila_options)
    local = is_local_host(args.host)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    if ":" in shown:
        shown = f"[{shown}]"
    query = f"?{urllib.parse.urlencode({'token': token})}" if token is not None else ""
    landing = f"http://{shown}:{args.port}/{LANDING_PATH}{query}"
    print(f"Serving the opslib apps at {landing}", flush=True)
    print(f"(all files: http://{shown}:{args.port}/{query})", flush=True)
    if not local:
        where = socket.gethostname() if args.host in ("0.0.0.0", "::", "") else args.host
        print(f"Colleagues open http://{where}:{args.port}/{LANDING_PATH}{query}", flush=True)
        print("Plain HTTP: use a trusted network, or put an HTTPS proxy in front (see the README).", flush=True)
    if token is not None:
        print("The token is asked once per browser (a cookie keeps it); anyone with the link gets in.", flush=True)
    elif hashed_password is not None:
        print("The pages ask for the password.", flush=True)
    print(f"Data: {env.get(DATA_ENV) or 'the demo shop'}. Press Ctrl+C to stop.", flush=True)
    proc = subprocess.Popen(cmd, cwd=root, env=env)
    if not args.no_browser:
        probe = f"http://{shown}:{args.port}/"
        threading.Thread(target=_open_when_ready, args=(proc, probe, landing), daemon=True).start()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # A plain SIGTERM (kill, systemd stop) would end this process and orphan Voila and its kernels.
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.terminate())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Ctrl+C reaches Voila too (same process group); give it time to stop its kernels.
        try:
            return proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()
            proc.wait()
            return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _demo_build(args: argparse.Namespace) -> int:
    from opslib.data.demo import write_demo_shop

    out = args.out if args.out is not None else repo_root() / "data" / "demo"
    kwargs = {} if args.seed is None else {"seed": args.seed}
    try:
        result = write_demo_shop(out, **kwargs)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote the demo shop to {out}.")
    tables = getattr(result, "workspace", None)
    if hasattr(tables, "tables"):
        for name, frame in tables.tables().items():
            print(f"  {name}: {len(frame):,} rows")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from opslib.data.io import load_workspace
    from opslib.data.validate import validate

    path = args.path.expanduser()
    if not path.exists():
        print(f"error: {path} does not exist.", file=sys.stderr)
        return 2
    try:
        # Load without refusing: the point is to list everything that is wrong.
        ws = load_workspace(path, validate=False)
    except DataError as exc:
        print(f"The data in {path} cannot be loaded.\n{exc}")
        return 1
    except (OSError, ValueError) as exc:
        print(f"The data in {path} cannot be read: {type(exc).__name__}: {exc}")
        return 1
    report = ws.load_report if hasattr(ws.load_report, "findings") else validate(ws)
    print(_report_text(path, report))
    return 0 if report.ok else 1


def _report_monthly(args: argparse.Namespace) -> int:
    from opslib import ops

    out = args.out.expanduser()
    writers = {".xlsx": ops.write_excel, ".html": ops.write_html, ".htm": ops.write_html}
    writer = writers.get(out.suffix.lower())
    if writer is None:
        print(f"error: --out must end in .xlsx (Excel) or .html (web page); got {out.name!r}.", file=sys.stderr)
        return 2
    if not out.parent.exists():
        print(f"error: the folder {out.parent} does not exist; create it or choose another --out.", file=sys.stderr)
        return 2
    if args.month is not None:
        try:
            ops.parse_month(args.month)
        except ValueError as exc:
            print(f"error: --month: {exc}", file=sys.stderr)
            return 2
    ws = _load_data(args)
    if isinstance(ws, int):
        return ws
    try:
        month = ops.parse_month(args.month) if args.month is not None else ops.last_full_month(ws)
        report = ops.monthly_report(ws, month)
    except DataError as exc:
        print(f"error: the monthly report cannot be made from this data: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        writer(report, out)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote the monthly report of {report.shop} for {report.month} to {out}.")
    for note in report.notes:
        print(f"  note: {note}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from opslib.plan import plan_workbook, replenishment_plan

    out = args.out.expanduser()
    if out.suffix.lower() not in (".xlsx", ".csv"):
        print(f"error: --out must end in .xlsx (Excel) or .csv (the order list); got {out.name!r}.", file=sys.stderr)
        return 2
    if not out.parent.exists():
        print(f"error: the folder {out.parent} does not exist; create it or choose another --out.", file=sys.stderr)
        return 2
    if not 0 < args.target < 1:
        print(f"error: --target is a fraction between 0 and 1 (0.95 for 95%); got {args.target}.", file=sys.stderr)
        return 2
    ws = _load_data(args)
    if isinstance(ws, int):
        return ws
    try:
        plan = replenishment_plan(ws, service_type=args.service, target=args.target,
                                  review_period_days=args.review_days, model=args.model)
    except DataError as exc:
        print(f"error: the plan cannot be made from this data: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if out.suffix.lower() == ".csv":
            plan.orders.orders.to_csv(out, index=False)
        else:
            plan_workbook(plan, out)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    orders = plan.orders.orders
    print(f"Wrote the replenishment plan for {plan.orders.as_of.date()} to {out}: {len(orders)} SKUs to order "
          f"from {orders['supplier'].nunique() if len(orders) else 0} suppliers, {len(plan.orders.at_risk)} at risk, "
          f"{len(plan.warnings)} warnings.")
    for message in plan.warnings.loc[plan.warnings["step"] == "orders", "message"]:
        print(f"note: {message}")  # e.g. no stock table: the order list is empty for that reason, not for want of need
    return 0


def _report_text(path: Path, report) -> str:
    """The validation report in plain words, one finding per paragraph."""
    errors, warnings = len(report.errors), len(report.warnings)
    infos = len(getattr(report, "infos", []))
    tables = ", ".join(f"{t} ({n:,} rows)" for t, n in report.rows.items()) or "no tables"
    verdict = "OK" if report.ok else "NOT OK"
    lines = [
        f"Validated {path}: {verdict}.",
        f"Tables: {tables}.",
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}, "
        f"{infos} note{'s' if infos != 1 else ''}.",
    ]
    for i, f in enumerate(report.findings, 1):
        where = f.table + (f".{f.column}" if f.column else "")
        lines.append("")
        lines.append(f"{i}. {f.severity.upper()} in {where} (rule {f.rule}): {f.n_rows:,} row{'s' if f.n_rows != 1 else ''}.")
        detail = getattr(f, "detail", "")
        if detail:
            lines.append(f"   {detail}")
        examples = f.examples_text() if hasattr(f, "examples_text") else ""
        if examples:
            lines.append(f"   Examples: {examples}")
        if f.fix:
            lines.append(f"   Fix: {f.fix}")
    for s in getattr(report, "skipped", []) or []:
        lines.append("")
        lines.append(f"Skipped {s.n_rows:,} rows of {s.table} ({s.rule}): {s.reason}")
    for table, renamed in (getattr(report, "renamed", {}) or {}).items():
        pairs = ", ".join(f"{a} -> {b}" for a, b in renamed.items())
        lines.append(f"Renamed columns in {table}: {pairs}")
    unknown = getattr(report, "unknown_files", []) or []
    if unknown:
        lines.append(f"Ignored files (not a canonical table): {', '.join(unknown)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``opslib`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``opslib``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 success, 1 the data has errors, 2 a usage error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "demo":
        if args.demo_command == "build":
            return _demo_build(args)
        args.demo_parser.print_help()
        return 2
    if args.command == "validate":
        return _validate(args)
    if args.command == "plan":
        return _plan(args)
    if args.command == "report":
        if args.report_command == "monthly":
            return _report_monthly(args)
        args.report_parser.print_help()
        return 2
    parser.print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:2] == [VOILA_LAUNCHER]:  # what `opslib serve` runs: Voila with opslib's hook
        sys.exit(run_voila(sys.argv[2:]))
    sys.exit(main())
