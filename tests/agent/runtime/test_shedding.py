"""Load shedding: late audio or a busy CPU sheds face analysis first, then speculation; work comes back once calm."""
from agent.runtime.shedding import NO_SPECULATION, NO_VIDEO, NORMAL, LoadShedder


def shedder():
    return LoadShedder(video_ms=150, speculation_ms=400, video_wait=0.5, speculation_wait=1.0, smooth_s=2.0,
                       recover_s=1.0)


def test_audio_handled_on_time_on_a_quiet_machine_sheds_nothing():
    s = shedder()
    assert all(s.update(i * 0.25, late_ms=20, cpu_wait=0.1) is None for i in range(100)) and s.level == NORMAL


def test_video_goes_first_then_speculation():
    s = shedder()
    assert s.update(0.0, late_ms=160) == NO_VIDEO
    assert s.update(0.032, late_ms=300) is None and s.level == NO_VIDEO
    assert s.update(0.064, late_ms=450) == NO_SPECULATION


def test_a_jump_straight_past_both_thresholds_sheds_both():
    assert shedder().update(0.0, late_ms=900) == NO_SPECULATION


def test_another_process_taking_the_cores_sheds_work_even_while_audio_keeps_up():
    s = shedder()
    levels = [s.update(i * 0.25, late_ms=10, cpu_wait=1.4) for i in range(40)]
    assert [level for level in levels if level is not None] == [NO_VIDEO, NO_SPECULATION]


def test_a_short_burst_of_our_own_does_not_shed():
    s = shedder()
    s.update(0.0, cpu_wait=0.1)
    assert s.update(0.25, cpu_wait=1.6) is None          # one 250 ms burst: smoothed over 2 s it stays below 0.5
    assert all(s.update(0.25 * i, cpu_wait=0.1) is None for i in range(2, 20)) and s.level == NORMAL


def test_work_comes_back_one_step_at_a_time_after_a_calm_second():
    s = shedder()
    s.update(0.0, late_ms=900)
    t, changes = 0.0, []
    while t < 3.0:
        t += 0.032
        if (level := s.update(t, late_ms=30)) is not None:
            changes.append((round(t, 1), level))
    assert [level for _, level in changes] == [NO_VIDEO, NORMAL]
    assert changes[0][0] >= 1.0 and changes[1][0] - changes[0][0] >= 1.0


def test_lateness_that_hovers_near_the_threshold_does_not_flap():
    s = shedder()
    s.update(0.0, late_ms=160)
    lateness = [140, 100, 149, 120, 90] * 20          # under the threshold, but not well under it (half)
    assert all(s.update(0.032 * (i + 1), late_ms=late) is None for i, late in enumerate(lateness))
    assert s.level == NO_VIDEO


def test_a_late_chunk_while_recovering_restarts_the_calm_period():
    s = shedder()
    s.update(0.0, late_ms=200)
    s.update(0.5, late_ms=10)
    s.update(0.9, late_ms=100)                         # not calm: the clock restarts
    assert s.update(1.6, late_ms=10) is None and s.update(2.5, late_ms=10) is None
    assert s.update(2.6, late_ms=10) == NORMAL


def test_a_busy_cpu_keeps_work_shed_though_the_audio_is_calm():
    s = shedder()
    for i in range(40):                                # the cores have been taken for a while (0.4 waiting)
        s.update(0.25 * i, cpu_wait=0.4)
    assert s.level == NORMAL and s.update(10.0, late_ms=200) == NO_VIDEO
    assert all(s.update(10.0 + 0.25 * i, late_ms=10, cpu_wait=0.4) is None for i in range(1, 40))
    assert s.level == NO_VIDEO                         # audio keeps up again, but the CPU is not free enough
