"""Copy events/schemas/*.json into template.yaml's AWS::EventSchemas::Schema resources (their Content, compact).

The files are the source of truth; tests/unit/test_events.py fails when the template differs. After editing a
schema: `.venv/bin/python scripts/event_schemas.py`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    template = ROOT / "template.yaml"
    text = template.read_text()
    for path in sorted((ROOT / "events" / "schemas").glob("*.json")):
        content = json.dumps(json.loads(path.read_text()), separators=(",", ":")).replace("'", "''")
        pattern = re.compile(
            rf"(\n  {path.stem}EventSchema:\n(?:      .*\n|    .*\n)*?      Content: ')[^\n]*(')"
        )
        text, count = pattern.subn(lambda m, c=content: m.group(1) + c + m.group(2), text)
        if count != 1:
            raise SystemExit(f"template.yaml: no {path.stem}EventSchema resource with a Content line")
    template.write_text(text)


if __name__ == "__main__":
    main()
