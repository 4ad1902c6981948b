"""axe-core (tests/vendor/axe-core, from the npm registry) run inside a Playwright page."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def serious_violations(page) -> list[str]:
    """axe's serious and critical WCAG violations on the page as it is now, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
    return [f"{v['impact']} {v['id']}: {v['help']} ({', '.join(str(n['target']) for n in v['nodes'][:3])})"
            for v in result["violations"] if v["impact"] in BLOCKING]
