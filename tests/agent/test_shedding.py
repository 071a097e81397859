"""Load shedding: late audio sheds face analysis first, then speculation; it comes back only once the CPU keeps up."""
from agent.shedding import NO_SPECULATION, NO_VIDEO, NORMAL, LoadShedder


def shedder():
    return LoadShedder(video_ms=150, speculation_ms=400, recover_s=1.0)


def test_audio_handled_on_time_sheds_nothing():
    s = shedder()
    assert [s.update(t * 0.032, 20) for t in range(100)] == [None] * 100 and s.level == NORMAL


def test_video_goes_first_then_speculation():
    s = shedder()
    assert s.update(0.0, 160) == NO_VIDEO
    assert s.update(0.032, 300) is None and s.level == NO_VIDEO
    assert s.update(0.064, 450) == NO_SPECULATION


def test_a_jump_straight_past_both_thresholds_sheds_both():
    assert shedder().update(0.0, 900) == NO_SPECULATION


def test_work_comes_back_one_step_at_a_time_after_a_calm_second():
    s = shedder()
    s.update(0.0, 900)
    t, changes = 0.0, []
    while t < 3.0:
        t += 0.032
        if (level := s.update(t, 30)) is not None:
            changes.append((round(t, 1), level))
    assert [level for _, level in changes] == [NO_VIDEO, NORMAL]
    assert changes[0][0] >= 1.0 and changes[1][0] - changes[0][0] >= 1.0


def test_lateness_that_hovers_near_the_threshold_does_not_flap():
    s = shedder()
    s.update(0.0, 160)
    lateness = [140, 100, 149, 120, 90] * 20          # under the threshold, but not well under it (half)
    assert all(s.update(0.032 * (i + 1), late) is None for i, late in enumerate(lateness))
    assert s.level == NO_VIDEO


def test_a_late_chunk_while_recovering_restarts_the_calm_period():
    s = shedder()
    s.update(0.0, 200)
    s.update(0.5, 10)
    s.update(0.9, 100)                                 # not calm: the clock restarts
    assert s.update(1.6, 10) is None and s.update(2.5, 10) is None and s.update(2.6, 10) == NORMAL
