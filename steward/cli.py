"""`steward`: the command line that starts and inspects a Steward deployment."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from core.casework.cases import CaseNotFound, get_case
from core.infra import audit
from core.infra.crypto import EncryptionKeyError, generate_key
from core.infra.privacy import configure_logging
from core.infra.settings import Settings, SettingsError, load_settings
from core.infra.settings_check import settings_problems
from core.policy import SETTING, CodeError, load_code
from core.policy.loading import read_file
from core.policy.wording import describe
from core.records.casefile import ExportRefused, export_case
from core.records.export import case_detail, export_allowed, list_cases
from core.records.transparency import Period, figures, markdown
from slackapp.socketmode import SocketModeRefused
from steward import runtime
from steward.keyfile import load_key


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        # The emulator needs no Steward settings or database: hand it its own arguments.
        from slackapp.emulator import main as emulator_main

        return emulator_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging()
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"steward: {exc}", file=sys.stderr)
        return 2
    if args.func is not cmd_policy_check:
        try:
            load_code(settings.code_of_conduct)
        except CodeError as exc:
            print(f"steward: {SETTING}: {exc}", file=sys.stderr)
            return 2
    if args.func not in (cmd_keys_new, cmd_policy_show, cmd_policy_check):
        try:
            loaded = load_key(settings, args.command)
        except EncryptionKeyError as exc:
            print(f"steward: {exc}", file=sys.stderr)
            return 2
        settings, args.key_note = loaded.settings, loaded.note
    if args.command in SERVICES:
        problems = settings_problems(
            settings,
            serves_http=args.command in ("run", "web"),
            socket_mode=bool(getattr(args, "socket_mode", False)),
        )
        for problem in problems:
            print(f"steward: {problem}", file=sys.stderr)
        if problems:
            return 2
    return int(args.func(args, settings) or 0)


# The long-running processes refuse to start on settings that cannot work; the other
# commands (doctor, db, cases) still run, so an operator can inspect and fix.
SERVICES = ("run", "web", "mail", "worker")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="steward", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="web, mail and worker in one process").set_defaults(
        func=cmd_run
    )
    commands.add_parser("mail", help="the conduct@ SMTP gateway").set_defaults(func=cmd_mail)
    web = commands.add_parser("web", help="the Slack endpoint")
    web.add_argument(
        "--socket-mode",
        action="store_true",
        help="connect out to Slack over Socket Mode instead (needs SLACK_APP_TOKEN)",
    )
    web.set_defaults(func=cmd_web)
    commands.add_parser("doctor", help="check settings, tokens and channels").set_defaults(
        func=cmd_doctor
    )
    commands.add_parser("worker", help="outbox delivery and deadlines").set_defaults(
        func=cmd_worker
    )

    commands.add_parser(
        "emulator",
        help="the local Slack emulator (--port P --app-url URL --signing-secret S)",
        add_help=False,
    )

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    keys = commands.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_command", required=True
    )
    keys.add_parser("new", help="print a new key for STEWARD_ENCRYPTION_KEY").set_defaults(
        func=cmd_keys_new
    )
    rotate = keys.add_parser("rotate", help="re-encrypt the record under the first key")
    rotate.add_argument("--batch-size", type=int, default=200, help="rows per transaction")
    rotate.set_defaults(func=cmd_keys_rotate)

    audit_commands = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit_commands.add_parser(
        "verify", help="check every case's audit hash chain; non-zero on a break"
    ).set_defaults(func=cmd_audit_verify)

    cases = commands.add_parser("cases", help="inspect cases").add_subparsers(
        dest="cases_command", required=True
    )
    listing = cases.add_parser("list", help="recent cases")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_cases_list)
    show = cases.add_parser("show", help="one case in full")
    show.add_argument("ref")
    show.add_argument("--json", action="store_true")
    show.add_argument(
        "--as",
        dest="steward",
        metavar="SLACK_USER",
        help="export for this steward: refused if they have a conflict on the case or are "
        "named in it; the export is audited in their name",
    )
    show.set_defaults(func=cmd_cases_show)

    export = commands.add_parser("export", help="write a case file (REF.json and REF.md)")
    export.add_argument("ref")
    export.add_argument("--out", required=True, help="the folder to write into")
    export.add_argument(
        "--as",
        dest="as_steward",
        metavar="SLACK_USER",
        help="the steward taking the file out (refused if conflicted or named in the case)",
    )
    export.add_argument(
        "--files", action="store_true", help="also write the evidence files to OUT/REF-files/"
    )
    export.set_defaults(func=cmd_export)

    report = commands.add_parser(
        "report", help="write a transparency report (report.md and report.png)"
    )
    report.add_argument("--from", dest="start", required=True, type=_date, metavar="DATE")
    report.add_argument("--to", dest="end", required=True, type=_date, metavar="DATE")
    report.add_argument("--out", required=True, help="the folder to write into")
    report.set_defaults(func=cmd_report)

    policy = commands.add_parser("policy", help="the code of conduct").add_subparsers(
        dest="policy_command", required=True
    )
    policy.add_parser("show", help="print the code of conduct in force").set_defaults(
        func=cmd_policy_show
    )
    check = policy.add_parser("check", help="validate a code of conduct file")
    check.add_argument("file")
    check.set_defaults(func=cmd_policy_check)
    return parser


def cmd_policy_show(args: argparse.Namespace, settings: Settings) -> int:
    print(describe(load_code(settings.code_of_conduct), settings))
    return 0


def cmd_policy_check(args: argparse.Namespace, settings: Settings) -> int:
    """Validate a community's own file: every problem, one a line, with its field."""
    try:
        code = read_file(Path(args.file))
    except CodeError as exc:
        count = len(exc.problems)
        print(f"{args.file}: {count} problem{'s' if count > 1 else ''}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"{args.file}: valid: {code.title}, {len(code.categories)} categories, "
        f"{len(code.decisions)} decision options, {len(code.checklist)} response steps "
        f"(version {code.version[:12]})"
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    runtime.open_database(settings, upgrade=True)
    print("database schema is up to date")
    return 0


def cmd_keys_new(args: argparse.Namespace, settings: Settings) -> int:
    print(generate_key())
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    """Re-seal in batches; safe to interrupt and run again while Steward keeps running."""
    from core.infra.rotation import remaining, rotate

    db = runtime.open_database(settings)

    def progress(table: str, count: int) -> None:
        print(f"  {table}: {count} rows re-encrypted", flush=True)

    try:
        done = rotate(db, batch_size=args.batch_size, progress=progress)
        left = sum(remaining(db).values())
    except EncryptionKeyError as exc:
        print(f"steward: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"{done} rows re-encrypted under the first key in STEWARD_ENCRYPTION_KEY.")
    if left:
        print(f"{left} rows are still under an older key: run `steward keys rotate` again.")
        return 1
    print("Nothing is left under an older key: the others can be removed from the setting.")
    return 0


def _login() -> str:
    """Who is at the command line, for the audit trail; containers may have no user entry."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from core.infra.auditchain import verify

    db = runtime.open_database(settings)
    try:
        with db.engine.connect() as conn:
            checked, broken = verify(conn)
    finally:
        db.dispose()
    for found in broken:
        print(f"BROKEN {found.chain}: audit event {found.event_id} {found.reason}")
    if broken:
        print(f"{len(broken)} audit chains broken ({checked} events checked)")
        return 1
    print(f"audit trail intact: {checked} events checked")
    return 0


def cmd_mail(args: argparse.Namespace, settings: Settings) -> int:
    db = runtime.open_database(settings)
    services = runtime.Services()
    try:
        server = services.start(runtime.build_mail_server(db, settings))
        health = services.start(
            runtime.build_health_server(
                runtime.build_health(db, settings), settings, settings.mail_health_port
            )
        )
        host, port = server.address
        print(
            f"Steward mail gateway: smtp://{host}:{port} for {settings.conduct_address}\n"
            f"  health: {health.base_url}/readyz  metrics: {health.base_url}/metrics",
            flush=True,
        )
        runtime.wait_for_signal()
    finally:
        services.stop()
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    db = runtime.open_database(settings)
    slack = runtime.build_slack(db, settings)
    services = runtime.Services()
    try:
        outbox = services.start(runtime.build_outbox_worker(db, settings, slack))
        election = services.start(runtime.build_election(db, settings, outbox))
        lines = ["Steward worker: delivering the outbox and firing deadlines"]
        if db.dialect == "postgresql":
            lines.append("  the deadline scheduler runs in one worker, elected by an advisory lock")
        if settings.worker_health_port is not None:
            health = runtime.build_health(db, settings, election.details)
            server = services.start(
                runtime.build_health_server(health, settings, settings.worker_health_port)
            )
            lines.append(f"  health: {server.base_url}/readyz  metrics: {server.base_url}/metrics")
        if slack is None:
            lines.append("  (no SLACK_BOT_TOKEN: Slack posts wait in the outbox until one is set)")
        print("\n".join(lines), flush=True)
        runtime.wait_for_signal()
    finally:
        services.stop()
    return 0


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    missing = web_credentials_missing(settings, args.socket_mode)
    if missing:
        print(
            f"steward web: set {' and '.join(missing)} "
            "(or use `steward run` for the built-in demo workspace)",
            file=sys.stderr,
        )
        return 2
    db = runtime.open_database(settings)
    slack = runtime.build_slack(db, settings)
    assert slack is not None
    services = runtime.Services()
    try:
        services.start(runtime.build_submission_processor(slack))
        if args.socket_mode:
            try:
                services.start(runtime.build_socket_mode(slack))
            except SocketModeRefused as exc:
                print(f"steward web: {exc}", file=sys.stderr)
                return 2
            # Nothing listens for Slack; the web port still answers the health routes.
            health = runtime.build_health(db, settings)
            server = services.start(
                runtime.build_health_server(health, settings, settings.web_port)
            )
            print(
                "Steward web: connected to Slack over Socket Mode "
                f"(health: {server.base_url}/readyz, metrics: {server.base_url}/metrics)",
                flush=True,
            )
        else:
            web = services.start(runtime.build_web_server(slack))
            print(
                f"Steward web: {web.events_url} (health: /healthz, /readyz, /metrics)", flush=True
            )
        runtime.wait_for_signal()
    finally:
        services.stop()
    return 0


def web_credentials_missing(settings: Settings, socket_mode: bool) -> list[str]:
    """Over HTTP, Slack signs its requests; over Socket Mode, the app token opens the socket."""
    needed = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET": (
            settings.slack_app_token if socket_mode else settings.slack_signing_secret
        ),
    }
    return [name for name, value in needed.items() if not value]


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    db = runtime.open_database(settings)
    services = runtime.Services()
    try:
        emulator = None
        if settings.uses_emulator:
            emulator, settings = runtime.start_emulator(settings)
            services.started.append(emulator)
        slack = runtime.build_slack(db, settings)
        assert slack is not None
        services.start(runtime.build_submission_processor(slack))
        # Mail first: once /healthz answers, conduct@ is listening too.
        mail = services.start(runtime.build_mail_server(db, settings))
        web = services.start(runtime.build_web_server(slack))
        if emulator is not None:
            emulator.app_url = web.events_url
        outbox = services.start(runtime.build_outbox_worker(db, settings, slack))
        mail.handler.stored = outbox.wake
        services.start(runtime.build_election(db, settings, outbox))
        print_addresses(settings, db.url, web.events_url, mail.address, emulator)
        if args.key_note:
            print(f"  {args.key_note}", flush=True)
        runtime.wait_for_signal()
    finally:
        services.stop()
    return 0


SAMPLE_REPORT = (
    "Subject: Comments at the meetup\\n\\nAt the meetup a member kept commenting "
    "on my appearance after I asked them to stop."
)


def sample_report_command(host: str, port: int, to: str) -> str:
    """A one-line shell command that emails a sample report to the gateway.

    It needs only Python, which `make run` already needed; the README's walk-through
    shows the same line.
    """
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return (
        f"python3 -c \"import smtplib; smtplib.SMTP('{host}', {port}).sendmail("
        f"'jordan@example.net', ['{to}'], "
        f"'From: jordan@example.net\\nTo: {to}\\n{SAMPLE_REPORT}')\""
    )


def print_addresses(
    settings: Settings, db_url: str, events_url: str, mail: tuple[str, int], emulator: Any
) -> None:
    host, port = mail
    out = settings.outbound_smtp_url or f"{settings.mail_out_dir}/ (as .eml files)"
    lines = []
    if emulator is not None:
        rule = "=" * 78
        lines += [
            rule,
            f"  viewer: {emulator.url}/",
            "  Open it in a browser: the demo Slack workspace. Then send a sample report",
            "  by email and watch its case thread appear in the staff channel:",
            "",
            "  " + sample_report_command(host, port, settings.conduct_address),
            rule,
        ]
    lines += [
        f"Steward is running on {db_url}",
        f"  slack:  {events_url} (health: {events_url.rsplit('/slack', 1)[0]}/healthz)",
        f"  mail:   smtp://{host}:{port} (send to {settings.conduct_address})",
        f"  outbound mail: {out}",
    ]
    if emulator is not None:
        lines += [
            f"  Slack emulator: {emulator.api_url} (the demo workspace)",
            f"    control API: {emulator.control_url}  state: {emulator.control_url}state",
            f"    staff channel: {settings.staff_channel}",
        ]
    print("\n".join(lines), flush=True)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from steward.doctor import report, run_checks

    return 0 if report(run_checks(settings)) else 1


def cmd_cases_list(args: argparse.Namespace, settings: Settings) -> int:
    db = runtime.open_database(settings)
    with db.session() as session:
        rows = list_cases(session)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no cases yet")
    for row in rows:
        due = row["next_deadline"]
        due_text = f"{due['kind']} {due['due_at']}" if due else "-"
        print(
            f"{row['ref']:<9} {row['code_name']:<24} {row['status']:<16} "
            f"{row['source']:<6} {due_text}"
        )
    return 0


def cmd_cases_show(args: argparse.Namespace, settings: Settings) -> int:
    db = runtime.open_database(settings)
    with db.session() as session:
        try:
            case = get_case(session, args.ref)
        except CaseNotFound:
            print(f"steward: no case {args.ref}", file=sys.stderr)
            return 1
        if args.steward and not export_allowed(session, case, args.steward):
            print(
                f"steward: {args.steward} may not see {case.ref}: they have a conflict on it "
                "or are named in it",
                file=sys.stderr,
            )
            return 1
        data = case_detail(session, case)
        if not args.steward:  # a steward's export was audited with their name just above
            audit.record(
                session,
                "case.exported",
                actor=audit.operator_actor(_login()),
                case=case,
                format="json" if args.json else "text",
            )
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"{data['ref']} ({data['code_name']}): {data['status']}, from {data['source']}")
    for entry in data["entries"]:
        print(f"- {entry['created_at']} [{entry['kind']}/{entry['source']}] {entry['text'][:200]}")
    for deadline in data["deadlines"]:
        state = deadline["fired_at"] and "fired" or deadline["cancelled_at"] and "cancelled"
        print(f"  deadline {deadline['kind']} due {deadline['due_at']} {state or 'pending'}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    db = runtime.open_database(settings)
    with db.session() as session:
        try:
            case = get_case(session, args.ref)
            files = export_case(
                session,
                case,
                Path(args.out),
                actor="cli",
                as_steward=args.as_steward,
                with_files=args.files,
            )
        except CaseNotFound:
            print(f"steward: no case {args.ref}", file=sys.stderr)
            return 1
        except ExportRefused as exc:
            print(f"steward export: {exc}", file=sys.stderr)
            return 1
    print(f"wrote {files.json} and {files.markdown}")
    if args.files:
        folder = files.json.with_name(f"{files.json.stem}-files")
        print(f"wrote {len(files.evidence)} evidence file(s) to {folder}/")
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Count the period, then write the Markdown and the chart drawn from the same figures."""
    from core.records.transparency_chart import write_chart  # matplotlib loads only when needed

    try:
        period = Period(args.start, args.end)
    except ValueError as exc:
        print(f"steward report: {exc}", file=sys.stderr)
        return 2
    code = load_code(settings.code_of_conduct)
    db = runtime.open_database(settings)
    with db.session() as session:
        data = figures(session, code, code.community_name(settings), period)
        audit.record(session, "report.published", actor="cli", period=str(period))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(markdown(data), encoding="utf-8")
    write_chart(data, out / "report.png")
    print(f"wrote {out / 'report.md'} and {out / 'report.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
