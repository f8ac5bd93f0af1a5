"""fervideo.engine.source: sampling options, frame-sampler arithmetic and VideoSource on small files written here."""

import math
import os

import cv2
import numpy as np
import pytest

import fervideo.engine.source
from fervideo.core.errors import InputError, UsageError
from fervideo.engine.source import FALLBACK_FPS, FrameSampler, Sampling, VideoSource
from tests.faults import Cv2WithoutRate, raw_mjpeg

WIDTH, HEIGHT, FRAMES, FPS = 64, 48, 20, 10.0
STEP = 12  # grey level of frame i is i * STEP


def write_video(path, frames=FRAMES, fps=FPS, size=(WIDTH, HEIGHT)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), i * STEP, np.uint8))
    writer.release()
    return path


@pytest.fixture
def video(tmp_path):
    return write_video(tmp_path / "tiny.mp4")


def run_sampler(sampling, fps=30.0, frames=300):
    """Indices a sampler picks on a clean timeline of `frames` frames at `fps`."""
    sampler = FrameSampler(sampling, fps)
    picked = []
    for index in range(frames):
        time_s = index / fps
        if sampler.past_end(time_s):
            break
        if sampler.in_range(time_s) and sampler(index, time_s):
            picked.append(index)
    return picked


# --- Sampling validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"every": 0},
        {"every": -2},
        {"fps": 0.0},
        {"fps": -1.0},
        {"start": -0.5},
        {"end": -1.0},
        {"start": 2.0, "end": 2.0},
        {"start": 3.0, "end": 1.0},
    ],
)
def test_sampling_rejects_bad_options(kwargs):
    with pytest.raises(UsageError):
        Sampling(**kwargs)


def test_sampling_accepts_good_options():
    sampling = Sampling(every=3, start=1.0, end=2.5)
    assert (sampling.every, sampling.start, sampling.end) == (3, 1.0, 2.5)
    assert Sampling(fps=0.5).fps == 0.5


# --- FrameSampler arithmetic ---------------------------------------------------------------------


@pytest.mark.parametrize("every", [1, 2, 3, 7])
def test_every_n_from_first_frame(every):
    assert run_sampler(Sampling(every=every), frames=50) == list(range(0, 50, every))


def test_every_n_counts_from_first_in_range_frame():
    # start 1.0 s at 30 fps: frame 30 is the first in range and the first picked
    picked = run_sampler(Sampling(every=4, start=1.0, end=2.0))
    assert picked == list(range(30, 60, 4))


@pytest.mark.parametrize("target", [1.0, 2.0, 5.0, 10.0, 7.0, 12.5])
def test_fps_picks_about_target_per_second(target):
    seconds = 10
    picked = run_sampler(Sampling(fps=target), fps=30.0, frames=30 * seconds)
    assert picked[0] == 0
    assert abs(len(picked) - target * seconds) <= 1
    gaps = np.diff(picked) / 30.0
    # never two picks closer than about one target period, less a frame of rounding
    assert gaps.min() >= 1 / target - 1 / 30 - 1e-9
    assert gaps.max() <= 1 / target + 1 / 30 + 1e-9


def test_fps_even_division_is_exact():
    assert run_sampler(Sampling(fps=10.0), fps=30.0, frames=60) == list(range(0, 60, 3))


def test_fps_above_source_rate_keeps_every_frame():
    assert run_sampler(Sampling(fps=60.0), fps=30.0, frames=40) == list(range(40))


def test_fps_with_start_and_end():
    picked = run_sampler(Sampling(fps=5.0, start=2.0, end=4.0), fps=30.0)
    assert picked == list(range(60, 120, 6))


def test_range_start_and_end():
    picked = run_sampler(Sampling(start=0.5, end=1.0), fps=30.0)
    assert picked == list(range(15, 30))  # end is exclusive


def test_sampler_tolerates_jittered_timestamps():
    # timestamps a hair before the nominal time must not drop a frame at the range start
    sampler = FrameSampler(Sampling(start=1.0), 30.0)
    assert sampler.in_range(1.0 - 1e-4)
    assert not sampler.in_range(1.0 - 1 / 30)
    assert not sampler.past_end(1e6)
    assert FrameSampler(Sampling(end=2.0), 30.0).past_end(2.0 - 1e-4)


# --- VideoSource on a video ----------------------------------------------------------------------


def test_video_info(video):
    with VideoSource(video) as source:
        info = source.info
        assert (info.frames, info.width, info.height, info.is_image) == (FRAMES, WIDTH, HEIGHT, False)
        assert info.fps == pytest.approx(FPS)
        assert info.duration == pytest.approx(FRAMES / FPS)
        assert info.warnings == []
        assert info.to_dict()["frames"] == FRAMES


def test_video_frames_all(video):
    with VideoSource(video) as source:
        frames = list(source.frames())
        assert source.frames_read == FRAMES
    assert [f.index for f in frames] == list(range(FRAMES))
    assert all(f.sampled for f in frames)
    times = [f.time_s for f in frames]
    assert times[0] == 0.0
    assert np.all(np.diff(times) > 0)
    assert times == pytest.approx([i / FPS for i in range(FRAMES)], abs=1e-3)
    for f in frames:
        assert f.image.shape == (HEIGHT, WIDTH, 3) and f.image.dtype == np.uint8
        assert abs(float(f.image.mean()) - f.index * STEP) < STEP / 2  # the right frame was decoded


def test_video_decode_all_false_skips_unsampled(video):
    with VideoSource(video) as source:
        reference = {f.index: f.image for f in source.frames()}
    with VideoSource(video) as source:
        frames = list(source.frames(Sampling(every=3), decode_all=False))
    assert [f.index for f in frames] == list(range(FRAMES))
    for f in frames:
        assert f.sampled == (f.index % 3 == 0)
        if f.sampled:
            np.testing.assert_array_equal(f.image, reference[f.index])
        else:
            assert f.image is None


def test_video_decode_all_true_decodes_unsampled(video):
    with VideoSource(video) as source:
        frames = list(source.frames(Sampling(every=4), decode_all=True))
    assert all(f.image is not None for f in frames)
    assert [f.index for f in frames if f.sampled] == [0, 4, 8, 12, 16]


def test_video_range(video):
    with VideoSource(video) as source:
        frames = list(source.frames(Sampling(start=0.5, end=1.2)))
        assert source.frames_read <= 13  # stops reading once past the end
    assert [f.index for f in frames] == list(range(5, 12))
    assert frames[0].sampled
    assert abs(float(frames[0].image.mean()) - 5 * STEP) < STEP / 2


def test_video_fps_sampling(video):
    with VideoSource(video) as source:
        frames = list(source.frames(Sampling(fps=2.5)))
    assert [f.index for f in frames if f.sampled] == [0, 4, 8, 12, 16]


def test_close_is_idempotent(video):
    source = VideoSource(video)
    source.close()
    source.close()


# --- VideoSource on a photo ----------------------------------------------------------------------


def test_image_is_one_frame_video(tmp_path):
    path = tmp_path / "face.png"
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image)
    with VideoSource(path) as source:
        assert source.info.is_image
        assert (source.info.frames, source.info.width, source.info.height) == (1, 40, 30)
        frames = list(source.frames())
        assert source.frames_read == 1
    assert len(frames) == 1
    frame = frames[0]
    assert (frame.index, frame.time_s, frame.sampled) == (0, 0.0, True)
    np.testing.assert_array_equal(frame.image, image)  # png is lossless


def test_grey_image_becomes_bgr(tmp_path):
    path = tmp_path / "grey.png"
    assert cv2.imwrite(str(path), np.full((10, 12), 77, np.uint8))
    with VideoSource(path) as source:
        (frame,) = source.frames()
    assert frame.image.shape == (10, 12, 3)


def test_image_outside_range_is_an_input_error(tmp_path):
    path = tmp_path / "face.png"
    assert cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    with VideoSource(path) as source, pytest.raises(InputError, match="a photo is one frame at 0 s"):
        list(source.frames(Sampling(start=1.0)))
    for end in (0.5, 0.01):  # 0 s lies inside [0, end): within half a "frame" of a photo's 1 fps, yet inside
        with VideoSource(path) as source:
            assert len(list(source.frames(Sampling(end=end)))) == 1


def test_video_range_past_the_end_is_an_input_error(video):
    # empty outputs would look like a result; the message says where the video ends
    with VideoSource(video) as source, pytest.raises(InputError, match=r"no frame in the range from --start 5 s"):
        list(source.frames(Sampling(start=5.0)))
    assert source.frames_read == FRAMES


def test_range_check_does_not_stop_a_video_that_has_frames_in_range(video):
    with VideoSource(video) as source:
        assert [f.index for f in source.frames(Sampling(start=1.88))] == [19]  # the last frame only


@pytest.mark.parametrize("kwargs", [{"start": math.nan}, {"start": math.inf}, {"end": math.inf}, {"end": math.nan}])
def test_sampling_rejects_non_finite_times(kwargs):
    with pytest.raises(UsageError, match="finite"):
        Sampling(**kwargs)


# --- bad inputs ----------------------------------------------------------------------------------


def bad_inputs(tmp_path):
    fifo = tmp_path / "stream.mp4"
    os.mkfifo(fifo)  # a decoder would wait for a writer forever
    empty = tmp_path / "empty.mp4"
    empty.touch()
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    folder = tmp_path / "folder.mp4"
    folder.mkdir()
    bad_png = tmp_path / "broken.png"
    bad_png.write_bytes(b"\x89PNG not really" * 10)
    paths = {"missing": tmp_path / "missing.mp4", "empty": empty, "text": text, "folder": folder, "bad_png": bad_png}
    return {**paths, "fifo": fifo}


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "folder", "bad_png", "fifo"])
def test_bad_input_raises_input_error_naming_path(tmp_path, kind):
    path = bad_inputs(tmp_path)[kind]
    with pytest.raises(InputError) as info:
        VideoSource(path)
    assert str(path) in str(info.value)


def test_str_path_accepted(video):
    with VideoSource(str(video)) as source:
        assert source.info.frames == FRAMES
        assert math.isclose(source.info.fps, FPS)


# --- headers that leave things out -------------------------------------------------------------


def test_no_frame_rate_and_no_frame_count(video, monkeypatch):
    monkeypatch.setattr(fervideo.engine.source, "cv2", Cv2WithoutRate())
    with VideoSource(video) as source:
        info = source.info
        frames = list(source.frames())
    assert info.fps == FALLBACK_FPS and info.frames == 0 and info.duration == 0.0
    assert len(info.warnings) == 1 and "no usable frame rate" in info.warnings[0]
    assert [f.index for f in frames] == list(range(FRAMES))
    times = [f.time_s for f in frames]
    assert times == sorted(times) and len(set(times)) == FRAMES


def test_raw_stream_without_frame_count(tmp_path):
    with VideoSource(raw_mjpeg(tmp_path / "clip.mjpeg", frames=5)) as source:
        assert source.info.frames == 0 and source.info.fps > 0 and source.info.warnings == []
        assert [f.index for f in source.frames()] == list(range(5))
        assert source.frames_read == 5
