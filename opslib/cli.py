"""The ``opslib`` command: serve the apps, build the demo shop, validate a data folder, write reports.

Examples
--------
::

    opslib serve                      # the apps on the demo shop, http://127.0.0.1:8866/
    opslib serve --data ~/shop_data   # the apps on your own tables
    opslib demo build --out data/demo --seed 7
    opslib validate ~/shop_data       # exit code 1 when the data has errors
    opslib report monthly --month 2026-09 --out 2026-09.xlsx   # or .html; --data PATH

``python -m opslib`` is the same command.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from opslib.errors import DataError

__all__ = ["main", "build_parser", "repo_root", "voila_command"]

DATA_ENV = "OPSLIB_DATA"


def repo_root() -> Path:
    """The folder holding ``apps/`` and ``voila.json`` (the source checkout)."""
    return Path(__file__).resolve().parents[1]


def voila_command(
    apps: Path,
    port: int = 8866,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    show_tracebacks: bool = False,
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
        Whether Voila opens a browser tab.
    show_tracebacks : bool, default False
        Show Python tracebacks on the pages (for developers).

    Returns
    -------
    list of str
        To run with ``cwd=repo_root()`` so that Voila reads the committed
        ``voila.json`` (Voila looks for it in the working directory and in the
        Jupyter config folders); the options given here override it.
    """
    cmd = [sys.executable, "-m", "voila", str(apps), f"--port={port}", f"--Voila.ip={host}"]
    if not open_browser:
        cmd.append("--no-browser")
    if show_tracebacks:
        cmd.append("--show_tracebacks=True")
    return cmd


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``opslib`` command."""
    parser = argparse.ArgumentParser(
        prog="opslib",
        description="Operations planning workbench for online shops.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the Voila apps", description="Serve the apps in apps/ with Voila.")
    serve.add_argument("--data", type=Path, help=f"data folder the apps open (sets {DATA_ENV}); default: the demo shop")
    serve.add_argument("--port", type=int, default=8866, help="TCP port (default: 8866)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    serve.add_argument(
        "--show-tracebacks", action="store_true", help="show Python tracebacks on the pages (for developers)"
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


def _serve(args: argparse.Namespace) -> int:
    root = repo_root()
    apps = root / "apps"
    if not apps.is_dir():
        print(f"error: no apps folder at {apps}; opslib serve runs from a source checkout.", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if args.data is not None:
        data = args.data.expanduser().resolve()
        if not data.is_dir():
            print(f"error: the data folder {data} does not exist.", file=sys.stderr)
            return 2
        env[DATA_ENV] = str(data)
    cmd = voila_command(apps, args.port, args.host, not args.no_browser, args.show_tracebacks)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    print(f"Serving the opslib apps at http://{shown}:{args.port}/", flush=True)
    if shown != args.host:
        print(f"(listening on every interface: other machines use this machine's address, port {args.port})", flush=True)
    print(f"Data: {env.get(DATA_ENV) or 'the demo shop'}. Press Ctrl+C to stop.", flush=True)
    proc = subprocess.Popen(cmd, cwd=root, env=env)
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


def plan_sheets(plan) -> dict:
    """The sheets of a replenishment plan workbook, in order: title -> frame."""
    import pandas as pd

    orders = plan.orders
    settings = pd.DataFrame({"setting": list(plan.settings), "value": [str(v) for v in plan.settings.values()]})
    return {
        "Plan": settings,
        "Orders by supplier": orders.by_supplier,
        "Orders": orders.orders,
        "At risk": orders.at_risk,
        "Excess": orders.excess,
        "Too much on order": orders.too_much_on_order,
        "Dead stock": orders.dead_stock,
        "Policies": plan.policies,
        "Warnings": plan.warnings,
    }


def _plan(args: argparse.Namespace) -> int:
    import pandas as pd

    from opslib.plan import replenishment_plan

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
            from openpyxl.styles import Font
            from openpyxl.utils import get_column_letter

            sheets = plan_sheets(plan)
            with pd.ExcelWriter(out, engine="openpyxl") as writer:
                for title, frame in sheets.items():
                    frame.to_excel(writer, sheet_name=title, index=False)
                    sheet = writer.book[title]
                    sheet.freeze_panes = "A2"
                    for j, col in enumerate(frame.columns, start=1):
                        sheet.cell(row=1, column=j).font = Font(bold=True)
                        width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
                        sheet.column_dimensions[get_column_letter(j)].width = min(60, width + 2)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    orders = plan.orders.orders
    print(f"Wrote the replenishment plan for {plan.orders.as_of.date()} to {out}: {len(orders)} SKUs to order "
          f"from {orders['supplier'].nunique() if len(orders) else 0} suppliers, {len(plan.orders.at_risk)} at risk, "
          f"{len(plan.warnings)} warnings.")
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
    sys.exit(main())
