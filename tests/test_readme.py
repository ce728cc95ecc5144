"""The README is what a newcomer reads on a fresh clone: everything it points to is in the repository."""

import re
import subprocess
from pathlib import Path

from voting_app.demo import TRIAL_ROUND_NAME
from voting_app.demo_town import TOWN_CANDIDATES, TOWN_CONGRESS, TOWN_PLACES, TOWN_SESSION

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_file_the_readme_names_is_in_the_repository():
    linked = re.findall(r"\]\(([^)#]+)\)", README)
    named = [p for p in re.findall(r"`([\w./-]+/[\w./-]*)`", README) if not p.startswith("/") and (ROOT / p.split("/")[0]).is_dir()]
    assert "docs/domain.md" in linked and "voting_app/ballots/counting.py" in named
    made_by_running = {p for p in named if _ignored_by_git(p)}
    missing = [p for p in {*linked, *named} - made_by_running if not (ROOT / p).exists()]
    assert not missing, missing
    assert "../" not in README


def test_the_readme_says_how_to_choose_host_and_port_and_which_round_to_try():
    assert re.search(r"make run HOST=\S+ PORT=\d+", README)
    assert TRIAL_ROUND_NAME in README


def test_the_readme_names_the_demo_congresses_of_both_styles():
    """The demo paragraph says what `demo_town` seeds: the district's tiers, the town's priority ballot."""
    assert TOWN_CONGRESS in README and TOWN_SESSION in README
    assert f"numbered {len(TOWN_CANDIDATES)} candidates by priority" in README and f"for {TOWN_PLACES} places" in README
    assert "three grades on the whole roster" in README


def test_the_domain_brief_keeps_the_counting_rules():
    brief = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    assert "more than half of the base" in brief and "废票" in brief


def _ignored_by_git(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0
