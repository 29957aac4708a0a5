"""The survey's fast paths give numpy's (or the plain loop's) answers to the bit, and its two threads change
nothing but the time."""

import math
import threading
from collections import deque
from concurrent.futures import Future

import cv2
import numpy as np
import pytest

from forever.grading import analysis, features
from forever.grading.features import _hysteresis, _mean, _minus, _norm3, _percentile, _pixels
from forever.grading.helper import beside, share
from forever.grading.synthetic import DefectSpec, Scene, render

RNG = np.random.default_rng(7)


def _image(height: int, width: int) -> np.ndarray:
    return (RNG.normal(size=(height, width, 3)) * RNG.choice([0.01, 1.0, 60.0])).astype(np.float32)


def test_minus_pixels_and_norm3_are_numpys_arithmetic_to_the_bit():
    colour = np.array([51.3, -7.25, 12.0625], np.float32)
    whole = _image(230, 310)
    for pixels in (whole, whole[17:140, 33:301], whole.reshape(-1, 3)[:999], np.zeros((0, 3), np.float32)):
        assert np.array_equal(_minus(pixels, colour), pixels - colour)
        assert np.array_equal(_norm3(pixels), np.linalg.norm(pixels, axis=-1))
    crop = np.ascontiguousarray(whole[5:90, 9:200])
    for fraction in (0.0, 0.01, 0.5, 1.0):
        mask = RNG.random(crop.shape[:2]) < fraction
        assert np.array_equal(_pixels(crop, mask), crop[mask])


def test_mean_is_numpys_to_the_bit():
    for n in [*range(1, 40), 127, 128, 129, 4097, 100_003]:
        values = (RNG.normal(size=n) * RNG.choice([0.001, 1.0, 1e4]) + RNG.choice([0, 100])).astype(np.float32)
        assert _mean(values) == values.mean() and _mean(values).dtype == np.float32
        rows = np.ascontiguousarray(RNG.normal(size=(n, 3)).astype(np.float32) * 50)
        assert np.array_equal(_mean(rows), rows.mean(axis=0)) and _mean(rows).dtype == np.float32


@pytest.mark.parametrize("q", [0, 10, 50, 90, 99.5, 100])
def test_percentile_is_numpys_to_the_bit(q):
    for n in [*range(1, 40), 101, 1000, 4097]:
        values = (RNG.normal(size=n) * RNG.choice([0.001, 1.0, 1000.0])).astype(np.float32)
        if n % 3 == 0:
            values = np.round(values, 1)  # ties
        assert _percentile(values, q) == float(np.percentile(values, q)), (n, q)


def _hysteresis_by_the_book(z, *, high, low, min_area, limit, open_px=0):
    """The plain loop `_hysteresis` replaced: every region's mask, peak and mean, then sorted."""
    above = (z > low).astype(np.uint8)
    if open_px:
        above = cv2.morphologyEx(
            above, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * open_px + 1,) * 2)
        )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(above, connectivity=8)
    seeded = np.zeros(count, bool)
    seeded[labels[z >= high]] = True
    seeded[0] = False
    regions = []
    for i in np.nonzero(seeded & (stats[:, cv2.CC_STAT_AREA] >= min_area))[0]:
        x, y, w, h = (int(v) for v in stats[i, :4])
        mask = labels[y : y + h, x : x + w] == i
        values = z[y : y + h, x : x + w][mask]
        regions.append(((x, y, w, h), mask, float(values.max()), float(values.mean())))
    regions.sort(key=lambda r: -r[2] * math.sqrt(r[1].shape[0] * r[1].shape[1]))
    return regions[:limit]


@pytest.mark.parametrize("open_px", [0, 1])
def test_hysteresis_keeps_the_same_regions_as_the_plain_loop(open_px):
    z = cv2.GaussianBlur(RNG.random((300, 400)).astype(np.float32), (0, 0), 1.5) * 40
    z = np.abs(z - np.median(z))
    for limit in (1, 6, 40, 10_000):
        got = _hysteresis(z, high=3.0, low=1.2, min_area=3, limit=limit, open_px=open_px)
        expected = _hysteresis_by_the_book(z, high=3.0, low=1.2, min_area=3, limit=limit, open_px=open_px)
        assert len(got) == len(expected) > 0
        for a, b in zip(got, expected, strict=True):
            assert a[0] == b[0] and a[2:] == b[2:] and np.array_equal(a[1], b[1])


def test_shared_jobs_run_once_each_on_both_threads():
    ran: list[tuple[int, str]] = []
    gate = threading.Barrier(2, timeout=10)

    def job(i: int):
        def run() -> None:
            if i < 2:
                gate.wait()  # the first two jobs can only finish if both threads are at work
            ran.append((i, threading.current_thread().name))

        return run

    share(deque(job(i) for i in range(0, 50)), deque(job(i) for i in range(50, 80)))
    assert sorted(i for i, _ in ran) == list(range(80))
    assert len({name for _, name in ran}) == 2


def test_work_started_from_the_helper_runs_there_at_once():
    def outer() -> str:
        return beside(lambda: threading.current_thread().name).result(timeout=5)

    assert beside(outer).result(timeout=10).startswith("grading")


def test_a_failing_shared_job_is_raised_after_both_threads_stop():
    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        share(deque([boom]), deque([lambda: None] * 5))


def test_the_survey_is_the_same_on_one_thread_as_on_two(monkeypatch):
    scene = Scene(
        seed=11,
        family="printed",
        colour="navy",
        defects=(DefectSpec("stain", 14.0), DefectSpec("pilling", 60.0, 0.8), DefectSpec("hole", 4.0)),
        nuisances=("fold", "lint"),
        width=2400,
        height=1800,
    )
    photo = render(scene).jpeg
    both = analysis.survey(photo)

    def inline(work, *args):
        done: Future = Future()
        done.set_result(work(*args))
        return done

    monkeypatch.setattr(features, "beside", inline)
    monkeypatch.setattr(features, "share", lambda *queues: [job() for queue in queues for job in queue])
    one = analysis.survey(photo)
    assert [c.bbox for c in one.candidates] == [c.bbox for c in both.candidates]
    assert [c.proposer for c in one.candidates] == [c.proposer for c in both.candidates]
    assert one.measures == both.measures
    # Features to float32 rounding: numpy's sums of float32 depend on where an array lands in memory.
    np.testing.assert_allclose(
        np.stack([c.features for c in one.candidates]),
        np.stack([c.features for c in both.candidates]),
        rtol=1e-5,
    )
