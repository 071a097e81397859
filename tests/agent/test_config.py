"""Configuration: typed, validated, every knob documented, one-line errors naming the key."""
import tomllib
from pathlib import Path

import pytest

from agent.config import DEFAULT_CONFIG, Config, ConfigError, iter_knobs, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_config_is_embedded_toml_and_loads():
    cfg = load_config()
    assert isinstance(cfg, Config)
    assert DEFAULT_CONFIG == ROOT / "configs" / "embedded.toml"
    assert cfg.brain.backend == "cue" and cfg.tts.backend == "hibari" and cfg.asr.model == "bundled"


def test_embedded_toml_documents_every_knob_with_its_default():
    text = DEFAULT_CONFIG.read_text()
    data = tomllib.loads(text)
    defaults = Config()
    for key, default, doc in iter_knobs():
        section, name = key.split(".")
        assert name in data[section], f"{key} missing from embedded.toml"
        assert data[section][name] == (list(default) if isinstance(default, tuple) else default), key
        assert doc, f"{key} has no doc line"
        assert f"# {doc.split()[0]}" in text, key
    assert defaults == load_config()


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.toml")))
def test_every_shipped_config_loads(path):
    load_config(path)


def test_overrides_are_typed_from_toml_syntax():
    cfg = load_config(None, ["vad.threshold=0.7", "policy.backchannel_phrases=['Mm.', 'Yes.']",
                             "brain.persona=Be kind", "output.terminal=false"])
    assert cfg.vad.threshold == 0.7
    assert cfg.policy.backchannel_phrases == ("Mm.", "Yes.")
    assert cfg.brain.persona == "Be kind"
    assert cfg.output.terminal is False


@pytest.mark.parametrize("override, message", [
    ("vad.thresold=0.5", "vad.thresold: unknown setting; allowed here: "),
    ("vda.threshold=0.5", "vda: unknown setting"),
    ("vad.threshold=1.5", "vad.threshold: 1.5 is above the maximum 1.0"),
    ("vad.min_speech_ms=fast", "vad.min_speech_ms: expected an integer, got 'fast'"),
    ("brain.backend=gpt", "brain.backend: 'gpt' is not allowed; choose one of 'cue', 'llama', 'openai', 'transformers'"),
    ("output.terminal=2", "output.terminal: expected true or false"),
    ("vad.neg_threshold=0.9", "vad: neg_threshold must not exceed threshold"),
    ("novalue", "expected dotted.key=value"),
])
def test_bad_keys_and_values_fail_with_one_line_naming_the_key(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_malformed_config_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[vad\nthreshold = ")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_config(bad)


@pytest.mark.parametrize("override", ["vad.threshold=nan", "vad.threshold=inf", "asr.pad_s=-inf"])
def test_a_number_that_is_not_finite_is_refused_naming_the_key(override):
    with pytest.raises(ConfigError, match=override.split("=")[0].replace(".", r"\.") + ".*finite"):
        load_config(None, [override])


def test_a_folder_given_as_config_is_a_one_line_error(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
