"""Turn-taking: one pure, clock-free TurnTaker fed facts (speech, words, playback, time) that answers with commands.

Nothing here reads a clock, starts a task or touches audio: the runtime feeds facts
stamped with timeline seconds and executes the commands, so every rule is tested with
synthetic sequences in milliseconds. The modules: ``facts`` (what goes in and out),
``words`` (what the user's words say), ``user_turn`` (the open turn and how long its pause
must last), ``overlaps`` (sound over the agent) and ``taker`` (the agent's state, routing
each fact).

The rules:

* **A user turn** is every speech span since the last answer became audible. An answer
  prepared in a pause and dropped because the user went on never drops their words: the
  next :class:`Speculate` / :class:`Commit` covers the turn from its first span. A user who
  interrupts an answer within ``continuation_ms`` of its start, with words that carry on their
  sentence ("that I will forget everything"), was not done: the answer stops and the turn goes on
  from its first span.
* **End of turn** is decided in the pause. The answer is prepared :attr:`speculate_after_s`
  into it; the turn ends once the pause has lasted what the evidence asks for: ``hold_ms``
  when the words trail off mid-clause ("and", "um,", "because", a comma), when the face holds
  the floor (looking away with the mouth open, as people do while searching for a word) or when
  the acoustic end-of-turn model says "not finished" (its last two scores average below
  ``end_of_turn_low``); ``end_of_turn_pause_ms`` when two checks of the acoustic model say
  "finished" (averaging ``end_of_turn_threshold`` or more: single scores jump) and the words
  agree; ``fast_endpoint_ms`` after a complete sentence; ``silence_ms`` otherwise. Without the
  words only ``hold_ms`` ends a turn (the answer needs them anyway).
* **Sound over the agent** is an overlap. Speech that has been both as loud as the user's own
  running speech level and voiced stops the agent once it lasts ``barge_in_ms``; soft or
  unvoiced sound (a murmured "yeah", a cough) or speech while the user nods along only after
  ``backchannel_max_ms``; an overlap that ends sooner is ignored (noted as a backchannel or
  noise). A stopped agent resumes where it stopped once the user has stayed quiet
  ``resume_after_ms`` after an overlap that held no real words (only backchannels and fillers,
  a false start that trails off, none, or words the recognizer was unsure of or that its length
  could not hold: inventions) and was shorter than ``false_interruption_ms``; otherwise the stopped answer is
  discarded (what was heard stays in the history) and the overlap becomes the user's new turn.
* **Initiative**: a backchannel after ``backchannel_after_s`` of unbroken user speech; one
  check-in after ``proactive_silence_s`` of silence while the fused valence is clearly negative.

An impossible fact (a pause without speech, time running backwards, playback that never
started finishing) logs one warning and is ignored.
"""
from dialogue.turntaking.facts import (AgentFinished, AgentStarted, Backchannel, CheckIn, Command, Commit, Discard,
                                       EndOfTurnScore, FaceSignal, Fact, Heard, OverlapIgnored, ResumeAgent, Sound,
                                       Speculate, SpeechEnd, SpeechPause, SpeechResume, SpeechStart, StopAgent,
                                       StopRequest, Tick, Transcribe)
from dialogue.turntaking.taker import TurnTaker
from dialogue.turntaking.words import continues, could_say, is_complete, no_real_words, only_backchannel, trails_off

__all__ = ["AgentFinished", "AgentStarted", "Backchannel", "CheckIn", "Command", "Commit", "Discard",
           "EndOfTurnScore", "FaceSignal", "Fact", "Heard", "OverlapIgnored", "ResumeAgent", "Sound", "Speculate",
           "SpeechEnd", "SpeechPause", "SpeechResume", "SpeechStart", "StopAgent", "StopRequest", "Tick", "Transcribe",
           "TurnTaker", "continues", "could_say", "is_complete", "no_real_words", "only_backchannel", "trails_off"]
