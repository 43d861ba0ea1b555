"""Check every Slack payload the test suite sent, and manifest.yml, with code Steward did not write.

The emulator records each message and view it accepted when
STEWARD_EMULATOR_RECORD_DIR is set (see docs/slack-emulator.md). Passing the
emulator only proves the payloads pass our own reading of Slack's rules, so this
script checks them again with two independent judges:

* slack_sdk's Block Kit models: every block and view is parsed, must pass
  ``validate_json()`` (Slack's length and count limits as the SDK knows them),
  and must come back unchanged from ``to_dict()`` (a field the SDK does not know
  is dropped, which shows up as a difference);
* Slack's TypeScript types (@slack/types, @slack/web-api from npm, pinned in
  .ci/slack-types/package-lock.json): each payload becomes a typed constant, the
  method's arguments type for the call and ``KnownBlock[]`` for its blocks, and
  ``tsc --strict`` must accept them all.

manifest.yml is checked against @slack/web-api's ``Manifest`` type (which also
checks every scope name), and against the limits that type documents (name 35,
description 140, and so on): no npm or PyPI package ships Slack's manifest JSON
schema, so those limits are written here from Slack's documentation.

Known-bad samples are compiled with ``@ts-expect-error`` (known_bad.ts) and run
through slack_sdk, so a judge that stopped judging fails the check too.

Usage: check_slack_payloads.py RECORD_DIR [--types-dir .ci/slack-types]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

ROOT = Path(__file__).resolve().parents[1]
ARGUMENT_TYPES = {
    "chat.postMessage": "ChatPostMessageArguments",
    "chat.update": "ChatUpdateArguments",
    "chat.postEphemeral": "ChatPostEphemeralArguments",
    "views.open": "ViewsOpenArguments",
    "views.push": "ViewsPushArguments",
    "views.update": "ViewsUpdateArguments",
    "views.publish": "ViewsPublishArguments",
}
# Limits the Manifest type documents but cannot express: (path, limit).
MANIFEST_LENGTHS = [
    (("display_information", "name"), 35),
    (("display_information", "description"), 140),
    (("display_information", "long_description"), 4000),
    (("features", "bot_user", "display_name"), 80),
]
MANIFEST_ITEMS = [
    (("features", "shortcuts"), 10),
    (("features", "slash_commands"), 50),
    (("oauth_config", "scopes", "bot"), 255),
    (("settings", "event_subscriptions", "bot_events"), 100),
]
BOT_DISPLAY_NAME = re.compile(r"^[a-z0-9._-]+$")
HEX_COLOUR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
TS_HEADER = """import type { KnownBlock, HomeView, ModalView } from "@slack/types";
import type {
  ChatPostMessageArguments,
  ChatUpdateArguments,
  ChatPostEphemeralArguments,
  ViewsOpenArguments,
  ViewsPushArguments,
  ViewsUpdateArguments,
  ViewsPublishArguments,
  AppsManifestValidateArguments,
} from "@slack/web-api";

type Manifest = AppsManifestValidateArguments["manifest"];
"""
# Blocks Slack refuses; slack_sdk must refuse them, or it is not judging. The same
# for tsc is .ci/slack-types/known_bad.ts.
KNOWN_BAD_BLOCKS = [
    [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "a",
                    "text": {"type": "plain_text", "text": "x" * 76},
                }
            ],
        }
    ],
    [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
]


def load(record_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """The recorded calls as (file name, {method, arguments}), in a stable order."""
    return [(p.name, json.loads(p.read_text())) for p in sorted(record_dir.glob("*.json"))]


def _without_empty(view: dict[str, Any]) -> dict[str, Any]:
    """slack_sdk leaves out empty strings (an empty private_metadata), as Slack does."""
    return {k: v for k, v in view.items() if v != ""}


def sdk_problems(name: str, arguments: dict[str, Any]) -> list[str]:
    """What slack_sdk's models refuse, or do not recognise, in one call."""
    problems = []
    try:
        if isinstance(arguments.get("blocks"), list):
            parsed = Block.parse_all(arguments["blocks"])
            for block in parsed:
                block.validate_json()
            # to_dict() validates every nested element, which validate_json() alone does not.
            if [b.to_dict() for b in parsed] != arguments["blocks"]:
                problems.append(f"{name}: slack_sdk does not read the blocks back unchanged")
        if isinstance(arguments.get("view"), dict):
            view = View(**arguments["view"])
            view.validate_json()
            if view.to_dict() != _without_empty(arguments["view"]):
                problems.append(f"{name}: slack_sdk does not read the view back unchanged")
    except (SlackObjectFormationError, TypeError, KeyError, ValueError) as err:
        problems.append(f"{name}: slack_sdk refuses it: {err}")
    return problems


def sdk_still_judges() -> list[str]:
    """Known-bad blocks that slack_sdk must refuse."""
    missed = []
    for blocks in KNOWN_BAD_BLOCKS:
        try:
            for block in Block.parse_all(blocks):
                block.to_dict()  # validates nested elements too; validate_json() does not
            missed.append(f"slack_sdk accepted a known-bad payload: {json.dumps(blocks)[:80]}")
        except SlackObjectFormationError:
            pass
    return missed


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """The documented manifest limits that no type can express."""
    problems = []
    for path, limit in MANIFEST_LENGTHS:
        value = _at(manifest, path)
        if isinstance(value, str) and len(value) > limit:
            problems.append(f"manifest {'.'.join(path)} is over {limit} characters")
    for path, limit in MANIFEST_ITEMS:
        value = _at(manifest, path)
        if isinstance(value, list) and len(value) > limit:
            problems.append(f"manifest {'.'.join(path)} has more than {limit} items")
    display = _at(manifest, ("features", "bot_user", "display_name"))
    if isinstance(display, str) and not BOT_DISPLAY_NAME.match(display):
        problems.append("manifest bot display_name may use only a-z, 0-9, '-', '_' and '.'")
    colour = _at(manifest, ("display_information", "background_color"))
    if colour is not None and not HEX_COLOUR.match(str(colour)):
        problems.append("manifest background_color must be #rgb or #rrggbb")
    for shortcut in _at(manifest, ("features", "shortcuts")) or []:
        if len(str(shortcut.get("callback_id", ""))) > 255:
            problems.append("manifest shortcut callback_id is over 255 characters")
        if len(str(shortcut.get("description", ""))) > 150:
            problems.append("manifest shortcut description is over 150 characters")
    return problems


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def write_typescript(
    recorded: list[tuple[str, dict[str, Any]]], manifest: dict[str, Any], out: Path
) -> None:
    """One .ts file per recorded call, named after it, so tsc's errors name the payload."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.ts"):
        old.unlink()
    (out / "manifest.ts").write_text(
        TS_HEADER + f"export const manifest: Manifest = {_literal(manifest)};\n"
    )
    for name, call in recorded:
        kind = ARGUMENT_TYPES.get(call["method"])
        if kind is None:
            continue
        arguments = call["arguments"]
        lines = [TS_HEADER, f"export const call: {kind} = {_literal(arguments)};"]
        if isinstance(arguments.get("blocks"), list):
            lines.append(f"export const blocks: KnownBlock[] = {_literal(arguments['blocks'])};")
        view = arguments.get("view")
        if isinstance(view, dict):
            view_type = "HomeView" if view.get("type") == "home" else "ModalView"
            lines.append(f"export const view: {view_type} = {_literal(view)};")
            lines.append(f"export const viewBlocks: KnownBlock[] = {_literal(view.get('blocks'))};")
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", name.removesuffix(".json"))
        (out / f"{stem}.ts").write_text("\n".join(lines) + "\n")


def run_tsc(types_dir: Path) -> list[str]:
    tsc = types_dir / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        return [f"{tsc} is missing: run `npm ci` in {types_dir}"]
    result = subprocess.run(
        [str(tsc), "--strict", "--noEmit", "-p", "tsconfig.json"],
        cwd=types_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return []
    lines = [line for line in result.stdout.splitlines() if "error TS" in line]
    return lines or [result.stdout.strip() or result.stderr.strip() or "tsc failed"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("record_dir", type=Path)
    parser.add_argument("--types-dir", type=Path, default=ROOT / ".ci" / "slack-types")
    parser.add_argument("--manifest", type=Path, default=ROOT / "manifest.yml")
    args = parser.parse_args(argv)
    recorded = load(args.record_dir)
    if not recorded:
        print(f"no payloads recorded in {args.record_dir}", file=sys.stderr)
        return 1
    manifest = yaml.safe_load(args.manifest.read_text())
    problems = sdk_still_judges() + manifest_problems(manifest)
    for name, call in recorded:
        problems += sdk_problems(name, call["arguments"])
    write_typescript(recorded, manifest, args.types_dir / "generated")
    problems += run_tsc(args.types_dir)
    methods: dict[str, int] = {}
    for _, call in recorded:
        methods[call["method"]] = methods.get(call["method"], 0) + 1
    summary = ", ".join(f"{n} {m}" for m, n in sorted(methods.items()))
    print(f"checked {len(recorded)} distinct payloads ({summary}) and manifest.yml")
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
