"""A virtual clock for the turn-taking tests: a TurnTaker fed scripted speech, sound and words, its commands kept."""
from dialogue.settings import PolicySettings
from dialogue.turntaking import AgentStarted, Heard, Sound, Speculate, SpeechPause, SpeechResume, SpeechStart, TurnTaker
from perception.settings import VadSettings

CHUNK = 0.032
LOUD, SOFT = -20.0, -32.0


def taker(**policy):
    return TurnTaker(PolicySettings(**policy), VadSettings(), speculate_after_ms=96)


class Script:
    """Feeds facts to a TurnTaker with a virtual clock; collects commands with the time they came out."""

    def __init__(self, tt=None):
        self.tt = tt or taker()
        self.t = 0.0
        self.out = []

    def feed(self, *facts):
        for fact in facts:
            self.out += [(self.t, c) for c in self.tt.feed(fact)]
        return self

    def sound(self, seconds, p=0.0, level=-70.0, voiced=False):
        """Chunks of audio up to ``t + seconds``: ``p`` is the VAD's speech probability."""
        end = self.t + seconds
        while self.t < end - 1e-9:
            self.feed(Sound(self.t, CHUNK, p, level, voiced))
            self.t += CHUNK
        return self

    def say(self, seconds, level=LOUD, voiced=True):
        """User speech, with the VAD's start (confirmed after 200 ms, dated at the onset) and its pause."""
        onset = self.t
        self.sound(0.2, 0.9, level, voiced)
        self.feed(SpeechStart(onset) if not self.tt.user_speaking and not self._paused() else SpeechResume(onset))
        self.sound(seconds - 0.2, 0.9, level, voiced)
        self.feed(SpeechPause(self.t))
        return self

    def _paused(self):
        return self.tt.pause_t is not None and self.tt.agent_state in ("idle", "preparing")

    def quiet(self, seconds):
        return self.sound(seconds, 0.05)

    def commands(self, kind):
        return [c for _, c in self.out if isinstance(c, kind)]

    def first(self, kind):
        return next((t, c) for t, c in self.out if isinstance(c, kind))


def answer_heard(s, text):
    """The runtime transcribed the pause the TurnTaker speculated on."""
    spec = s.commands(Speculate)[-1]
    return s.feed(Heard(spec.pause_t, text))


def speaking(heard_s=2.0, **policy):
    """An agent answering for ``heard_s``: the user spoke (setting their level), the turn ended, the answer is audible."""
    s = Script(taker(**policy)).say(1.0)
    s.quiet(0.2)
    answer_heard(s, "Tell me something.").quiet(0.6)
    s.feed(AgentStarted(s.t))
    s.quiet(heard_s)
    return s
