"""Scenario scripts: the line format, its one-line errors with file:line, and the shipped suites."""
from __future__ import annotations

import pytest

from benchmarks.latency.scenario import SCENARIO_DIR, ScenarioError, load_suite, parse_scenario

GOOD = """\
# a comment
suite quick
agent_latency 1.0
pause 1.5
user: Hello there.   # trailing comment
hesitate 0.6
user: I mean, hi.
interrupt after 0.8
user: Wait.
silence 12
"""


def test_parses_every_directive_with_its_line_number() -> None:
    s = parse_scenario(GOOD, "demo.txt")
    assert s.name == "demo" and s.suite == "quick" and s.agent_latency == 1.0
    assert [(st.kind, st.line) for st in s.steps] == [
        ("pause", 4), ("user", 5), ("hesitate", 6), ("user", 7), ("interrupt", 8), ("user", 9), ("silence", 10)]
    assert s.steps[1].text == "Hello there."
    assert s.steps[4].seconds == 0.8 and s.steps[6].seconds == 12.0


def test_digest_follows_the_text() -> None:
    assert parse_scenario(GOOD).digest == parse_scenario(GOOD).digest
    assert parse_scenario(GOOD).digest != parse_scenario(GOOD + "pause 1\n").digest


@pytest.mark.parametrize("text, where, reason", [
    ("user: hi\npause x\n", "s.txt:2", "needs a number"),
    ("user: hi\npause -1\n", "s.txt:2", "must be in"),
    ("user: hi\nshout loud\npause 1\n", "s.txt:2", "unknown directive 'shout'"),
    ("pause 1\nhesitate 0.5\nuser: hi\npause 1\n", "s.txt:2", "hesitate must follow a user"),
    ("user: hi\ninterrupt after 1\npause 2\n", "s.txt:3", "must be followed by a user"),
    ("user: hi\ninterrupt 1\nuser: x\npause 1\n", "s.txt:2", "interrupt after SECONDS"),
    ("interrupt after 1\nuser: x\npause 1\n", "s.txt:1", "needs an earlier user"),
    ("user:\npause 1\n", "s.txt:1", "no text"),
    ("suite slow\nuser: hi\npause 1\n", "s.txt:1", "suite must be"),
    ("pause 1\n", "s.txt:1", "no user: line"),
    ("pause 1\nuser: hi\n", "s.txt:2", "must end with pause or silence"),
])
def test_syntax_errors_name_file_line_and_reason(text: str, where: str, reason: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "s.txt")
    message = str(err.value)
    assert message.startswith(where + ":") and reason in message and "\n" not in message


def test_shipped_suites_cover_the_required_situations() -> None:
    full = load_suite("full")
    quick = load_suite("quick")
    assert {s.name for s in quick} < {s.name for s in full}
    kinds = {st.kind for s in full for st in s.steps}
    assert {"user", "pause", "hesitate", "interrupt", "silence"} <= kinds


def test_a_bad_file_in_the_suite_directory_is_reported(tmp_path) -> None:
    (tmp_path / "ok.txt").write_text("user: hi\npause 1\n")
    (tmp_path / "bad.txt").write_text("user: hi\npause 1\nwhisper 2\n")
    with pytest.raises(ScenarioError, match=r"bad.txt:3: unknown directive 'whisper'"):
        load_suite("full", tmp_path)
    assert SCENARIO_DIR.is_dir()
