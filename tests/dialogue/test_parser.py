"""The streaming tag parser: split-independent, never speaks <think>, tolerant of missing or garbled tags."""
from __future__ import annotations

import random

import pytest

from dialogue.parser import TagParser
from dialogue.types import AGENT_EMOTIONS, BrainDelta

FULL = ("<think>She smiles while telling me about the job. I should share her joy.</think>\n"
        "<decision>respond</decision>\n<emotion>Joyful</emotion>\n"
        "<response>  That's wonderful news! How did the interview go?</response>")


def run(chunks: list[str], **kw: object) -> tuple[list[BrainDelta], TagParser]:
    parser = TagParser(**kw)  # type: ignore[arg-type]
    out: list[BrainDelta] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    out += parser.close()
    return out, parser


def merged(deltas: list[BrainDelta]) -> list[tuple[str, str]]:
    """Deltas with consecutive text pieces joined (their split follows the chunking, their sum must not)."""
    out: list[tuple[str, str]] = []
    for d in deltas:
        kind, value = next((k, v) for k, v in vars(d).items() if v is not None)
        if kind == "text" and out and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + value)
        else:
            out.append((kind, value))
    return out


def spoken(deltas: list[BrainDelta]) -> str:
    return "".join(d.text for d in deltas if d.text is not None)


def random_chunks(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, min(12, len(text) - 1))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def test_full_answer_gives_decision_emotion_then_text():
    deltas, parser = run([FULL])
    assert merged(deltas) == [("decision", "respond"), ("emotion", "happy"),
                              ("text", "That's wonderful news! How did the interview go?")]
    assert parser.thinking == "She smiles while telling me about the job. I should share her joy."
    assert parser.warnings == []


@pytest.mark.parametrize("split", range(1, len(FULL)))
def test_every_split_position_yields_identical_deltas(split: int):
    whole, _ = run([FULL])
    deltas, parser = run([FULL[:split], FULL[split:]])
    assert merged(deltas) == merged(whole)
    assert "She smiles" in parser.thinking


def test_one_character_chunks_match_the_whole():
    assert merged(run(list(FULL))[0]) == merged(run([FULL])[0])


def test_text_is_emitted_before_the_response_closes():
    parser = TagParser()
    first = parser.feed("<decision>respond</decision><emotion>warm</emotion><response>I hear you. It sou")
    assert [d.text for d in first if d.text] == ["I hear you. It sou"]
    assert first[0].decision == "respond" and first[1].emotion == "warm"


def test_partial_tag_at_the_end_is_held_back_then_released_as_text_if_not_a_tag():
    parser = TagParser()
    out = parser.feed("<response>Three <resp")
    assert spoken(out) == "Three "
    out = parser.feed("onse>")  # a second <response> inside the response: dropped, nothing spoken
    assert spoken(out) == ""
    assert spoken(parser.feed("is < 5 <b")) == "is < 5 "
    assert spoken(parser.feed("ut not a tag")) == "<but not a tag"


def test_think_never_leaks_under_random_chunking():
    rng = random.Random(7)
    secret = "SECRET reasoning < with > odd <tags> and </thin k>"
    answers = [
        f"<think>{secret}</think><decision>respond</decision><response>Hello there.</response>",
        f"<THINK>{secret}</Think>Hello there.",
        f"<think>{secret}",  # never closed
        f"<think>{secret}<decision>respond</decision><response>Hello there.</response>",  # never closed either
        f"<response>Hello <think>{secret}</think>there.</response>",
    ]
    for answer in answers:
        for _ in range(60):
            deltas, parser = run(random_chunks(answer, rng))
            assert "SECRET" not in spoken(deltas)
            assert "SECRET" in parser.thinking


def test_unclosed_think_speaks_nothing_and_warns():
    deltas, parser = run(["<think>I wonder", " what to say <response>Hi</response>"])
    assert spoken(deltas) == ""
    assert [d.decision for d in deltas if d.decision] == ["wait"]
    assert any("never closed" in w for w in parser.warnings)


def test_missing_tags_make_the_text_outside_think_the_response():
    deltas, parser = run(["<think>hmm</think>\n  Oh no, I'm sorry.", " <emotion>sad</emotion>That sounds hard."])
    assert merged(deltas)[0] == ("decision", "respond")
    assert spoken(deltas) == "Oh no, I'm sorry. That sounds hard."
    assert any("no <response> tag" in w for w in parser.warnings)
    assert any("no <decision>" in w for w in parser.warnings)


@pytest.mark.parametrize("text", ["just some words", "A sentence. Another one!", "x", "3 < 4 and 5 > 2"])
def test_random_text_without_tags_becomes_the_response(text: str):
    deltas, parser = run(random_chunks(text, random.Random(1)) if len(text) > 1 else [text])
    assert merged(deltas) == [("decision", "respond"), ("text", text)]
    assert parser.warnings


def test_humansense_answer_tag_is_the_response():
    deltas, _ = run(["<think>The video shows anger.</think><answer> B </answer>"])
    assert spoken(deltas) == "B "


def test_tags_are_case_insensitive_and_emotion_synonyms_map():
    deltas, parser = run(["<DECISION>Backchannel</DECISION><Emotion> Caring </Emotion><RESPONSE>Mm-hm.</RESPONSE>"])
    assert merged(deltas) == [("decision", "backchannel"), ("emotion", "warm"), ("text", "Mm-hm.")]
    assert parser.warnings == []


@pytest.mark.parametrize("raw, expected", [("empathetic", "warm"), ("worried", "concerned"), ("sorry", "apologetic"),
                                           ("joyful", "happy"), ("CALM.", "calm"), ("warm and caring", "warm")])
def test_emotion_normalisation(raw: str, expected: str):
    deltas, parser = run([f"<decision>respond</decision><emotion>{raw}</emotion><response>ok</response>"])
    assert merged(deltas)[1] == ("emotion", expected)
    assert parser.warnings == []


def test_unknown_emotion_becomes_the_default_with_a_warning():
    deltas, parser = run(["<decision>respond</decision><emotion>grumpy-ish</emotion><response>ok</response>"],
                         default_emotion="calm")
    assert merged(deltas)[1] == ("emotion", "calm")
    assert any("grumpy-ish" in w for w in parser.warnings)


def test_unknown_decision_becomes_respond_with_a_warning():
    deltas, parser = run(["<decision>maybe later</decision><response>Sure.</response>"])
    assert merged(deltas) == [("decision", "respond"), ("text", "Sure.")]
    assert any("maybe later" in w for w in parser.warnings)


def test_wait_decision_with_empty_response():
    deltas, _ = run(["<think>they are mid-sentence</think><decision>wait</decision><emotion>neutral</emotion>"
                     "<response></response>"])
    assert merged(deltas) == [("decision", "wait"), ("emotion", "neutral")]


def test_emotion_before_decision_is_reordered_after_it():
    deltas, _ = run(["<emotion>sad</emotion><decision>respond</decision><response>Oh.</response>"])
    assert merged(deltas) == [("decision", "respond"), ("emotion", "sad"), ("text", "Oh.")]


def test_unclosed_value_tags_end_at_the_next_tag_or_line():
    deltas, parser = run(["<decision>respond\n<emotion>warm<response>Hi.</response>"])
    assert merged(deltas) == [("decision", "respond"), ("emotion", "warm"), ("text", "Hi.")]
    assert any("not closed" in w for w in parser.warnings)


def test_truncated_closing_tag_is_not_spoken_and_trailing_text_is_ignored():
    assert spoken(run(["<response>Bye now.</resp"])[0]) == "Bye now."
    deltas, parser = run(["<response>Bye.</response> <response>Again!</response> trailing"])
    assert spoken(deltas) == "Bye."
    assert parser.warnings


def test_every_emotion_passes_through_unchanged():
    for emotion in AGENT_EMOTIONS:
        deltas, parser = run([f"<decision>respond</decision><emotion>{emotion}</emotion>"])
        assert merged(deltas)[1] == ("emotion", emotion)


def test_feed_after_close_and_bad_default_raise():
    parser = TagParser()
    parser.close()
    with pytest.raises(RuntimeError, match="after close"):
        parser.feed("x")
    with pytest.raises(ValueError, match="default_emotion 'grumpy'"):
        TagParser(default_emotion="grumpy")


def test_tag_soup_always_gives_one_decision_then_an_optional_emotion_then_text_whatever_the_chunking():
    rng = random.Random(3)
    pieces = ["<think>", "</think>", "<decision>", "</decision>", "<emotion>", "</emotion>", "<response>",
              "</response>", "<answer>", "respond", "warm", "wait", " ", "\n", "Hello.", "3 < 4", "<b>", "</ resp",
              "<", ">", "caring\n", "x" * 30, "<" + "y" * 30]
    for _ in range(400):
        answer = "".join(rng.choice(pieces) for _ in range(rng.randint(2, 12)))
        whole = merged(run([answer])[0])
        assert merged(run(random_chunks(answer, rng))[0]) == whole, answer
        kinds = [kind for kind, _ in whole]
        head = 2 if kinds[1:2] == ["emotion"] else 1
        assert kinds[0] == "decision" and all(kind == "text" for kind in kinds[head:]), answer
