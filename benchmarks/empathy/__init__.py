"""The empathy evaluation: labelled short conversations replayed through the real perception and cue brain, scored."""
