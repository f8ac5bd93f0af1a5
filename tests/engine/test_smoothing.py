import math

import numpy as np
import pytest

from fervideo.engine.smoothing import EmaSmoother


def step_sequence(fps=30.0, seconds=6.0, switch=3.0, noise=0.3, seed=0):
    """Happy, then sad from `switch` on, each frame with heavy noise that often flips the raw top class."""
    rng = np.random.default_rng(seed)
    times = np.arange(0, seconds, 1 / fps)
    probs = np.full((len(times), 7), 0.05)
    probs[times < switch, 3] = 0.2  # happy
    probs[times >= switch, 4] = 0.2  # sad
    probs += rng.uniform(0, noise, probs.shape)
    return times, probs / probs.sum(axis=1, keepdims=True)


def smooth_series(times, probs, seconds, track=1):
    smoother = EmaSmoother(seconds)
    return np.concatenate([smoother(np.array([track]), p[None], t) for t, p in zip(times, probs, strict=True)])


def test_raw_series_flickers_but_smoothed_does_not():
    times, probs = step_sequence()
    raw_top = probs.argmax(axis=1)
    smoothed_top = smooth_series(times, probs, 0.5).argmax(axis=1)
    assert np.count_nonzero(np.diff(raw_top)) > 20  # the noise really does flip the raw label
    before, after = smoothed_top[times < 3.0][15:], smoothed_top[times >= 4.5]
    assert (before == 3).all() and (after == 4).all()  # no flips in the noisy stretches
    assert np.count_nonzero(np.diff(smoothed_top[15:])) == 1  # settled after half a second: one clean switch


def test_reaches_new_emotion_within_expected_time():
    times, probs = step_sequence(noise=0.0)
    smoothed = smooth_series(times, probs, 0.5)
    switch_at = times[np.argmax(smoothed.argmax(axis=1) == 4)]
    # clean step from 0.45 to 0.05: the two curves cross after tau * ln 2
    assert 3.0 < switch_at <= 3.0 + 0.5 * math.log(2) + 2 / 30


def test_independent_of_sampling_rate():
    t30, p30 = step_sequence(fps=30, noise=0.0)
    t10, p10 = t30[::3], p30[::3]
    s30 = smooth_series(t30, p30, 0.5)[::3]
    s10 = smooth_series(t10, p10, 0.5)
    # the same time constant in seconds: equal before the step, close after it (the step is seen at
    # the same instant; the two differ only in how long they assume the new value has held)
    assert np.abs(s30 - s10)[t10 < 3.0].max() < 1e-6
    assert np.abs(s30 - s10).max() < 0.1
    assert np.abs(s30 - s10)[t10 > 4.0].max() < 0.01


def test_rows_sum_to_one_and_tracks_are_independent():
    smoother = EmaSmoother(1.0)
    a = np.eye(7)[[3]].astype(np.float32)
    b = np.eye(7)[[4]].astype(np.float32)
    smoother(np.array([1]), a, 0.0)
    out = smoother(np.array([1, 2]), np.concatenate([b, b]), 0.1)
    assert np.allclose(out.sum(axis=1), 1)
    assert out[0, 3] > 0.8  # track 1 remembers happy
    assert out[1, 4] == pytest.approx(1.0)  # track 2 starts fresh


def test_zero_seconds_is_identity_and_forget_resets():
    smoother = EmaSmoother(0.0)
    p = np.random.default_rng(1).dirichlet(np.ones(7), size=2).astype(np.float32)
    assert np.allclose(smoother(np.array([1, 2]), p, 0.0), p)
    smoother = EmaSmoother(10.0)
    smoother(np.array([1]), np.eye(7)[[3]], 0.0)
    smoother.forget(set())
    assert np.allclose(smoother(np.array([1]), np.eye(7)[[4]], 0.1), np.eye(7)[[4]])


def test_negative_time_constant_is_refused():
    with pytest.raises(ValueError):
        EmaSmoother(-1)


def test_the_analyzer_forgets_the_smoothing_state_of_tracks_that_are_gone(tmp_path):
    from fervideo.engine.source import VideoSource
    from tests.helpers import make_step_video, scripted_analyzer

    analyzer = scripted_analyzer(smooth=0.5)
    seen = []
    real = EmaSmoother.forget

    def spy(self, keep):
        seen.append(set(keep))
        real(self, keep)

    EmaSmoother.forget = spy
    try:
        with VideoSource(make_step_video(tmp_path / "step.mp4")) as source:
            list(analyzer.run(source))
    finally:
        EmaSmoother.forget = real
    assert seen and all(keep <= {1, 2} for keep in seen) and seen[-1] == {1, 2}  # the live tracks, batch by batch
    smoother = EmaSmoother(1.0)
    smoother(np.array([1, 2]), np.eye(7)[[3, 4]], 0.0)
    smoother.forget({2})
    assert set(smoother.state) == {2}
