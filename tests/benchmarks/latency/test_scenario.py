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

OVERLAPS = """\
set tune
user: I had a long day at work.
backchannel after 0.6: yeah
backchannel after 0.9 -12dB: mm-hm
cough after 1.2
cough after 1.6 -3dB
pause 3
user: And then my boss called.
false_interrupt after 1.0: hmm
pause 3
"""


def test_parses_every_directive_with_its_line_number() -> None:
    s = parse_scenario(GOOD, "demo.txt")
    assert s.name == "demo" and s.suite == "quick" and s.agent_latency == 1.0 and s.split == "report"
    assert [(st.kind, st.line) for st in s.steps] == [
        ("pause", 4), ("user", 5), ("hesitate", 6), ("user", 7), ("interrupt", 8), ("user", 9), ("silence", 10)]
    assert s.steps[1].text == "Hello there."
    assert s.steps[4].seconds == 0.8 and s.steps[6].seconds == 12.0


def test_overlaps_over_the_agent_with_their_words_and_levels() -> None:
    s = parse_scenario(OVERLAPS, "o.txt")
    assert s.split == "tune"
    got = [(st.kind, st.line, st.seconds, st.text, st.level_db) for st in s.steps if st.kind not in ("user", "pause")]
    assert got == [("backchannel", 3, 0.6, "yeah", -9.0), ("backchannel", 4, 0.9, "mm-hm", -12.0),
                   ("cough", 5, 1.2, "", 0.0), ("cough", 6, 1.6, "", -3.0), ("false_interrupt", 9, 1.0, "hmm", 0.0)]


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
    ("set train\nuser: hi\npause 1\n", "s.txt:1", "set must be one of tune, report"),
    ("backchannel after 1: yeah\nuser: hi\npause 1\n", "s.txt:1", "needs an earlier user"),
    ("user: hi\nbackchannel after 1\npause 3\n", "s.txt:2", "backchannel needs the words"),
    ("user: hi\nbackchannel 1: yeah\npause 3\n", "s.txt:2", "expected `backchannel after SECONDS [LEVELdB]: WORDS`"),
    ("user: hi\nbackchannel after soon: yeah\npause 3\n", "s.txt:2", "needs a number of seconds"),
    ("user: hi\nbackchannel after 1 loud: yeah\npause 3\n", "s.txt:2", "must be decibels like -12dB"),
    ("user: hi\ncough after 1 +9dB\npause 3\n", "s.txt:2", "must be within -40..+3 dB"),
    ("user: hi\ncough after 1: ahem\npause 3\n", "s.txt:2", "cough takes no words"),
    ("user: hi\nfalse_interrupt after 1: uh\nuser: so\npause 3\n", "s.txt:3", "must be followed by pause or silence"),
    ("user: hi\nhesitate 0.5\ncough after 1\nuser: x\npause 3\n", "s.txt:3", "must be followed by a user"),
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
    assert {"pauses", "hesitation", "interrupt"} <= {s.name for s in quick}
    kinds = {st.kind for s in full for st in s.steps}
    assert {"user", "pause", "hesitate", "interrupt", "silence", "backchannel", "cough", "false_interrupt"} <= kinds


@pytest.mark.parametrize("split", ["tune", "report"])
def test_each_set_has_its_own_mid_clause_hesitations_and_sounds_over_the_agent(split: str) -> None:
    scenarios = load_suite("full", split=split)
    assert {s.split for s in scenarios} == {split}
    mid_clause = [(s.name, st) for s in scenarios if s.name.startswith(split)
                  for st in s.steps if st.kind == "hesitate"]
    assert 6 <= len(mid_clause) <= 10 and 2 <= len({name for name, _ in mid_clause}) <= 3
    assert all(0.6 <= st.seconds <= 1.0 for _, st in mid_clause)
    kinds = {st.kind for s in scenarios for st in s.steps}
    assert {"backchannel", "cough", "false_interrupt", "interrupt"} <= kinds
    assert all(0.6 <= st.seconds <= 1.5 for s in scenarios for st in s.steps
               if st.kind in ("backchannel", "cough", "false_interrupt"))
    assert load_suite("quick", split=split)   # a quick tuning loop exists for either set


def test_the_sets_share_no_sentence() -> None:
    said = {split: {st.text for s in load_suite("full", split=split) for st in s.steps if st.kind == "user"}
            for split in ("tune", "report")}
    assert not said["tune"] & said["report"]


def test_picking_a_set_that_has_no_scenario_is_an_error(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("set tune\nuser: hi\npause 1\n")
    assert [s.name for s in load_suite("full", tmp_path, "tune")] == ["a"]
    with pytest.raises(ValueError, match="no scenario in suite full belongs to set report"):
        load_suite("full", tmp_path, "report")


def test_a_bad_file_in_the_suite_directory_is_reported(tmp_path) -> None:
    (tmp_path / "ok.txt").write_text("user: hi\npause 1\n")
    (tmp_path / "bad.txt").write_text("user: hi\npause 1\nwhisper 2\n")
    with pytest.raises(ScenarioError, match=r"bad.txt:3: unknown directive 'whisper'"):
        load_suite("full", tmp_path)
    assert SCENARIO_DIR.is_dir()
