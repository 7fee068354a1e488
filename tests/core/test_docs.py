"""The README is the door: its links, and those of the pages it leads to, open files in the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "sandbox" / "specs" / "README.md"]


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return LINK.findall(text)


def test_every_link_in_the_readme_and_docs_opens_a_file_in_the_repository():
    broken = []
    for page in PAGES:
        for target in links(page):
            if page.name == "README.md" and page.parent == ROOT:
                assert "://" not in target and not target.startswith("/"), f"README links outside the repository: {target}"
            if "://" in target or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists() or ROOT not in path.parents:
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_readme_keeps_the_two_commands_and_leads_to_every_areas_reference():
    readme = (ROOT / "README.md").read_text()
    assert "\n    bin/run\n" in readme and "\n    bin/test\n" in readme  # .ci/run calls the README's test command
    for area in ["accounts", "individuals", "salesrecords", "plans", "plansync", "hrsync", "carriers", "ams", "api", "running", "benchmarks"]:
        assert f"(docs/{area}.md)" in readme
    assert "/work/" not in "".join(page.read_text() for page in PAGES)
