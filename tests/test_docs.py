"""The documentation: the generated scenario reference is current, and every relative link resolves."""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "docs" / "scripts" / "scenario_reference.py"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _generator():
    spec = importlib.util.spec_from_file_location("scenario_reference", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scenario_reference_is_current():
    """docs/scenario-reference.md is what the generator writes from today's schema."""
    generator = _generator()
    committed = generator.PAGE.read_text(encoding="utf-8") if generator.PAGE.exists() else ""
    assert committed == generator.render(), (
        f"docs/scenario-reference.md is stale: run `{generator.COMMAND}` to regenerate it")


def test_scenario_reference_lists_every_key():
    """Spot checks that the page walks nested sections, lists and the shocks' union."""
    text = _generator().render()
    for key in ("`run.horizon_months`", "`portfolio.segments[].principal.median`", "`macro.cycle.start`",
                "`macro.shocks[].size_pp`", "`macro.shocks[].levels_pct`", "`funding.liabilities[].stress.from_month`",
                "`actions.originations.score_cutoff`", "`weighted_scenarios[].weight_pct`"):
        assert key in text, key
    for kind in ("step", "ramp", "hump", "path"):
        assert f"`shape: {kind}`" in text


def _slug(title):
    """The anchor Python-Markdown's toc extension (MkDocs) gives a heading."""
    title = re.sub(r"[`*]", "", title).strip().lower()
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", title))


def _anchors(page):
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def _links(page):
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    return [target for target in LINK.findall(text) if not re.match(r"^[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page):
    """Every relative link (and image) of the README and the docs pages names a file that exists, and its
    anchor, if any, a heading of that page."""
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"
