"""Candidate regions and their features: classic image processing proposes, the trained model decides.

Every photo is first brought to one physical scale (`WORK_PX_PER_MM`), so kernels, thresholds and features are
in millimetres whatever the camera. Four proposers each look for one kind of departure from the cloth around it:

- spots (half scale): small colour or luminance departures from a ~8 mm median: holes, tears, small stains;
- blotches (quarter scale): departures from a ~5 cm median: stains, holes, the hang tag;
- fades (eighth scale): large, soft departures from a smooth surface fitted to the whole photo (which absorbs
  lighting gradients): fading;
- pills (working scale, counted at eighth scale): places where small blobs are much denser than elsewhere.

Each candidate gets the same feature vector (shape, contrast against a ring around it, edge sharpness, texture
change, how rare its colour is in the photo, how many look-alikes it has, and the photo's context). Pills are
finer than the working scale shows well, so the larger candidates are also examined on tiles cut from the photo
at its full resolution (brought to `FINE_PX_PER_MM` at most): small-blob energy and counts inside against the
ring around them and against reference tiles spread over the photo. Features a candidate has no value for
(no tile) are NaN, which the gradient-boosted trees handle as missing.

A survey runs on two threads (`forever.grading.helper`): the photo-wide measures, fades and blotches beside the
spots, pills and reference tiles, then the descriptions and tiles shared out job by job. Only the time depends on
it; a few helpers here do what a numpy call would, faster, with the same arithmetic (each tested to the bit).
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from forever.grading.helper import beside, share

# Photos are analysed at 8/3 pixels per millimetre: 1600 x 1200 for the station's 60 x 45 cm framing. A 3 mm
# hole is 8 pixels across there; finer detail (weave, single pills) is below what any proposer needs.
WORK_PX_PER_MM = 8 / 3

PROPOSERS: tuple[str, ...] = ("spot", "blotch", "fade", "pill")
MAX_CANDIDATES = {"spot": 40, "blotch": 16, "fade": 6, "pill": 6}

# Full-resolution tiles (pilling): at most this fine (a 0.6 mm pill is 3 pixels across; a finer camera's tiles
# are brought down to it, so features mean the same whatever the camera), at most MAX_TILES tiles of at most
# TILE_MM across, for candidates at least TILE_MIN_MM long; reference tiles on a grid over the photo.
FINE_PX_PER_MM = 2 * WORK_PX_PER_MM
MAX_TILES = 10
TILE_MM = 64.0
TILE_MIN_MM = 12.0
REFERENCE_GRID = (3, 2)
REFERENCE_MM = 24.0

_Region = tuple[tuple[int, int, int, int], np.ndarray, float, float]  # bbox, mask, peak, mean

FEATURE_NAMES: tuple[str, ...] = (
    "is_spot",
    "is_blotch",
    "is_fade",
    "is_pill",
    "log_area_mm2",
    "long_side_mm",
    "short_side_mm",
    "elongation",
    "fill",
    "solidity",
    "peak_z",
    "mean_z",
    "d_l",
    "d_a",
    "d_b",
    "d_chroma",
    "d_e",
    "darkest",
    "brightest",
    "texture_ratio",
    "edge_gradient",
    "edge_relative",
    "inside_l",
    "inside_chroma",
    "ring_l",
    "ring_chroma",
    "inside_mottle",
    "rectangularity",
    "neighbours",
    "colour_rarity",
    "look_alikes",
    "pill_ratio",
    "pill_density",
    "fade_d_l",
    "fade_d_chroma",
    "image_l",
    "image_chroma",
    "image_texture",
    "image_spread",
    "image_sharpness",
    "log_proposed",
    "touches_edge",
    "edge_step",
    "edge_tide",
    "edge_out_gradient",
    "ring_like_inside",
    "hue_shift",
    "lightness_ratio",
    "fine_energy_ring",
    "fine_energy_photo",
    "fine_peaks_ring",
    "fine_peaks_photo",
    "fine_peak_density",
    "fine_tail_photo",
    "fine_px_per_mm",
)


@dataclass(frozen=True)
class Candidate:
    """A proposed region: bbox [x, y, w, h] and mask (bbox-sized) in working pixels, and its features."""

    proposer: str
    bbox: tuple[int, int, int, int]
    mask: np.ndarray = field(repr=False, compare=False)
    features: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class FineSource:
    """The photo as decoded, finer than the working scale: where the full-resolution tiles are cut from."""

    image: np.ndarray = field(repr=False)  # BGR
    px_per_mm: float


@dataclass(frozen=True)
class PhotoMeasures:
    """What the proposers learnt about the whole photo: quality and the context every candidate shares."""

    sharpness: float
    exposure: float
    clipped: float
    image_l: float
    image_chroma: float
    image_texture: float
    image_spread: float


def to_working_scale(image: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Resample a BGR photo to WORK_PX_PER_MM: halved by area averaging while it is twice as fine or more (the
    resizer's fast path), then linearly for the rest (and up)."""
    factor = WORK_PX_PER_MM / px_per_mm
    while factor <= 0.5 + 1e-3:
        h, w = image.shape[:2]
        image = cv2.resize(image, (max(w // 2, 16), max(h // 2, 16)), interpolation=cv2.INTER_AREA)
        px_per_mm *= image.shape[1] / w
        factor = WORK_PX_PER_MM / px_per_mm
    if abs(factor - 1) < 1e-3:
        return image
    h, w = image.shape[:2]
    size = (max(round(w * factor), 16), max(round(h * factor), 16))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)  # 3x faster than area here, as sharp


def propose(image: np.ndarray, finer: FineSource | None = None) -> tuple[list[Candidate], PhotoMeasures]:
    """Candidates (with features) and photo measures for a BGR image already at the working scale; `finer` is
    the same photo at a finer scale, when there is one (the tiles are otherwise cut from `image`)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    half_bgr = cv2.resize(image, _scaled(image, 0.5), interpolation=cv2.INTER_AREA)
    quarter_bgr = cv2.resize(half_bgr, _scaled(image, 0.25), interpolation=cv2.INTER_AREA)
    eighth_bgr = cv2.resize(quarter_bgr, _scaled(image, 0.125), interpolation=cv2.INTER_AREA)
    sixteenth_bgr = cv2.resize(eighth_bgr, _scaled(image, 0.0625), interpolation=cv2.INTER_AREA)
    dog = _small_blobs(grey)
    texture = np.abs(dog)
    half = _level(half_bgr, 2, texture)
    quarter = _level(quarter_bgr, 4, half.texture)
    eighth = _level(eighth_bgr, 8, quarter.texture)
    source = finer or FineSource(image, WORK_PX_PER_MM)
    # The photo's measures, fades and blotches are worked out on the other core while the spots and pills are
    # proposed here (with the colour histogram and the reference tiles): the two share nothing until the
    # candidates are described.
    photo_side = beside(_photo_side, image, grey, half, quarter, eighth, dog, sixteenth_bgr)
    spot_z, spot_l = _departure(half, _median_background(quarter_bgr, 5, half.shape), smooth_px=0.6)
    spots = _either_way(spot_z, spot_l, high=6.0, low=3.5, min_area=3, limit=MAX_CANDIDATES["spot"])
    pill_ratio, pill_density = _pill_density(dog, texture, eighth.shape)
    pills = _hysteresis(
        pill_ratio, high=3.0, low=2.0, min_area=int((15 * eighth.ppm) ** 2), limit=MAX_CANDIDATES["pill"]
    )
    colour_histogram = _colour_histogram(quarter)
    reference = _reference_stats(source)
    measures, fade_residual, fades, blotches = photo_side.result()
    context = _Context(eighth, measures, pill_ratio, pill_density, fade_residual, colour_histogram)

    # Spots are described at the working scale and small blotches at the half scale: their edges and texture
    # need the finer pixels (a 4 mm stain is 11 pixels across at the working scale, 5 at the half).
    work = _Level(lab=None, texture=texture, ppm=WORK_PX_PER_MM, bgr=image)
    found = (
        ("spot", work, spots),
        ("blotch", quarter, blotches),
        ("fade", eighth, fades),
        ("pill", eighth, pills),
    )
    jobs = []
    for proposer, level, regions in found:
        for bbox, mask, peak, mean in regions:
            at = level
            if proposer == "spot" or (proposer == "blotch" and max(bbox[2], bbox[3]) <= 48):
                bbox, mask = _rescale_region(bbox, mask, 2.0)
                at = work if proposer == "spot" else half
            jobs.append((proposer, at, bbox, mask, peak, mean, context, len(regions)))
    candidates: list[Candidate] = [None] * len(jobs)  # type: ignore[list-item]

    def describing(chosen: list[int]) -> deque[Callable[[], None]]:
        """Jobs describing the chosen candidates, largest first (so no core is left with one large one)."""

        def job(i: int) -> Callable[[], None]:
            def run() -> None:
                candidates[i] = _describe(*jobs[i])

            return run

        return deque(job(i) for i in sorted(chosen, key=lambda i: -jobs[i][3].size))

    # Both cores describe the larger candidates, then one cuts their tiles while the other describes spots.
    spot_count = len(spots)
    share(describing(list(range(spot_count, len(jobs)))))
    share(_tile_jobs(candidates[spot_count:], source, reference), describing(list(range(spot_count))))
    _count_look_alikes(candidates)
    return candidates, measures


def _small_blobs(grey: np.ndarray) -> np.ndarray:
    """The small-blob response (a difference of Gaussians at ~0.5 and ~1.6 mm): pills, and the cloth's
    texture. (A function of its own, so its intermediate images are freed as it returns.)"""
    fine = cv2.GaussianBlur(grey, (0, 0), 0.5 * WORK_PX_PER_MM)
    half_grey = cv2.resize(fine, _scaled(grey, 0.5), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(
        cv2.GaussianBlur(half_grey, (0, 0), 0.8 * WORK_PX_PER_MM),
        grey.shape[::-1],
        interpolation=cv2.INTER_LINEAR,
    )
    return np.subtract(fine, coarse, out=fine)


def _photo_side(
    image: np.ndarray,
    grey: np.ndarray,
    half: _Level,
    quarter: _Level,
    eighth: _Level,
    dog: np.ndarray,
    sixteenth_bgr: np.ndarray,
) -> tuple[PhotoMeasures, np.ndarray, list[_Region], list[_Region]]:
    """The photo's measures, its departure from a smooth surface and the fades proposed from it, and the
    blotches."""
    fade_z, fade_residual = _surface_departure(eighth)
    fades = _hysteresis(
        fade_z, high=3.0, low=1.5, min_area=int((30 * eighth.ppm) ** 2), limit=MAX_CANDIDATES["fade"]
    )
    background = _median_background(sixteenth_bgr, 9, quarter.shape)
    blotch_z, blotch_l = _departure(quarter, background, smooth_px=1.0)
    blotches = _either_way(
        blotch_z,
        blotch_l,
        high=5.0,
        low=2.5,
        min_area=int((5 * quarter.ppm) ** 2),
        limit=MAX_CANDIDATES["blotch"],
        open_px=1,
    )
    return _measure(image, grey, half, quarter, dog), fade_residual, fades, blotches


# --- levels and maps ----------------------------------------------------------------------------------------


@dataclass
class _Level:
    """One scale of the photo: Lab (float32, L 0..255, a/b centred on 0), texture, pixels per mm.

    The working scale's level keeps its BGR pixels instead and converts only the crops asked for: its
    candidates (spots) cover a sliver of it."""

    lab: np.ndarray | None
    texture: np.ndarray
    ppm: float
    bgr: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.texture.shape[:2]

    def lab_crop(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        if self.lab is not None:
            return self.lab[y0:y1, x0:x1]
        return _to_lab(self.bgr[y0:y1, x0:x1])


def _scaled(image: np.ndarray, factor: float) -> tuple[int, int]:
    h, w = image.shape[:2]
    return max(round(w * factor), 4), max(round(h * factor), 4)


def _level(bgr: np.ndarray, reduction: int, texture: np.ndarray) -> _Level:
    texture = cv2.resize(texture, bgr.shape[1::-1], interpolation=cv2.INTER_AREA)
    return _Level(lab=_to_lab(bgr), texture=texture, ppm=WORK_PX_PER_MM / reduction)


def _to_lab(bgr: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).astype(np.float32)
    return _minus(lab, np.array([0, 128, 128], np.float32))  # a and b centred on 0


def _minus(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """`pixels - colour` for float32 pixels (an image, or rows) and one colour, the same to the bit (tested):
    OpenCV subtracts per channel at memory speed, numpy broadcasts a 3-long axis slowly (4.5 against 0.3 ms
    for a 1600 x 180 crop)."""
    if pixels.size == 0:
        return pixels - colour
    image = pixels.reshape(-1, 1, 3) if pixels.ndim == 2 else pixels
    return cv2.subtract(image, (*(float(v) for v in colour), 0.0)).reshape(pixels.shape)


def _pixels(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`image[mask]` for a contiguous (h, w, 3) image and a boolean (h, w) mask, in the same order (numpy's
    boolean indexing of a 3-channel image is five times slower than taking the rows by index)."""
    return image.reshape(-1, 3).take(np.flatnonzero(mask), axis=0)


def _mean(values: np.ndarray) -> np.ndarray:
    """`values.mean(axis=0)` of float32 values (fewer than 2**24 of them), the same to the bit (tested),
    without numpy's Python wrapper (~10 µs, and a survey takes some 500 means): the same pairwise sum over
    the count."""
    return np.add.reduce(values, axis=0) / len(values)


def _norm3(vectors: np.ndarray) -> np.ndarray:
    """`np.linalg.norm(vectors, axis=-1)` over a last axis of 3, with the same arithmetic to the bit (tested),
    six times faster: numpy reduces a 3-long axis one output at a time."""
    squares = vectors * vectors
    return np.sqrt(squares[..., 0] + squares[..., 1] + squares[..., 2])


def _median_background(bgr: np.ndarray, k: int, shape: tuple[int, int]) -> np.ndarray:
    """The cloth's own colour around each pixel: a median at a coarse scale, enlarged to `shape`."""
    k = max(min(k, (min(bgr.shape[:2]) - 2) | 1), 3)
    return cv2.resize(_to_lab(cv2.medianBlur(bgr, k)), shape[::-1], interpolation=cv2.INTER_LINEAR)


def _robust_scale(values: np.ndarray, floor: float) -> float:
    """1.4826 x the median absolute deviation (a standard deviation that ignores the defects themselves),
    from every fourth row and column."""
    sample = values[::4, ::4].ravel() if values.ndim == 2 else values[::4]
    return max(1.4826 * float(np.median(np.abs(sample - np.median(sample)))), floor)


def _departure(level: _Level, background: np.ndarray, *, smooth_px: float) -> tuple[np.ndarray, np.ndarray]:
    """How far each pixel's colour is from the cloth around it, in robust standard deviations, and its
    lightness part alone (signed: below 0 darker than the cloth)."""
    diff = cv2.GaussianBlur(level.lab, (0, 0), smooth_px)
    diff -= background
    scales = np.array(
        [
            _robust_scale(diff[..., 0], 1.5),
            _robust_scale(diff[..., 1], 0.8),
            _robust_scale(diff[..., 2], 0.8),
        ],
        np.float32,
    )
    diff /= scales
    return cv2.magnitude(cv2.magnitude(diff[..., 0], diff[..., 1]), diff[..., 2]), diff[..., 0]


def _surface_departure(level: _Level) -> tuple[np.ndarray, np.ndarray]:
    """Departure from a quadratic surface fitted (robustly) to L, a, b and chroma: what lighting can't explain."""
    h, w = level.shape
    design = _quadratic_design(h, w)
    chroma = np.hypot(level.lab[..., 1], level.lab[..., 2])
    planes = np.dstack([level.lab, chroma]).reshape(-1, 4)
    keep = np.ones(len(planes), bool)
    for _ in range(3):
        chosen = design[keep]
        coefficients = np.linalg.solve(chosen.T @ chosen + 1e-6 * np.eye(6), chosen.T @ planes[keep])
        residual = planes - design @ coefficients
        spread = 1.4826 * np.median(np.abs(residual), axis=0) + 1e-3
        keep = (np.abs(residual) < 2.5 * spread).all(axis=1)
        if keep.sum() < 50:
            break
    residual = cv2.GaussianBlur(residual.reshape(h, w, 4).astype(np.float32), (0, 0), 2.0)
    scales = np.array([_robust_scale(residual[..., c], f) for c, f in enumerate((0.8, 0.5, 0.5))], np.float32)
    z = np.sqrt(((residual[..., :3] / scales) ** 2).sum(axis=-1))
    return z, residual


@functools.lru_cache(maxsize=8)
def _quadratic_design(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xx, yy = xx / w - 0.5, yy / h - 0.5
    design = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], axis=-1).reshape(-1, 6)
    design.flags.writeable = False
    return design


def _pill_density(
    dog: np.ndarray, strength: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Small-blob density (per cm2) at the eighth scale, and its ratio to the photo's typical density;
    `strength` is the small-blob response's magnitude (`np.abs(dog)`, the texture)."""
    threshold = 4.0 * _robust_scale(dog, 0.6)
    peaks = (strength >= cv2.dilate(strength, np.ones((5, 5), np.uint8))) & (strength > threshold)
    share = cv2.resize(peaks.astype(np.float32), shape[::-1], interpolation=cv2.INTER_AREA)
    density = cv2.GaussianBlur(share, (0, 0), 2.5) * np.float32((WORK_PX_PER_MM * 10) ** 2)  # peaks per cm2
    typical = float(np.median(density)) + 0.3
    return density / typical, density


def _measure(
    image: np.ndarray, grey: np.ndarray, half: _Level, quarter: _Level, dog: np.ndarray
) -> PhotoMeasures:
    """Sharpness and exposure of the photo, and the context features every candidate shares."""
    chroma = np.hypot(quarter.lab[..., 1], quarter.lab[..., 2])
    small = image[::4, ::4]
    return PhotoMeasures(
        sharpness=float(np.clip(1 - (_edge_width(half) - 0.5) / 1.0, 0, 1)),
        exposure=float(grey[::4, ::4].mean()) / 255,
        clipped=float((small >= 254).any(axis=2).mean()),
        image_l=float(np.median(quarter.lab[..., 0])),
        image_chroma=float(np.median(chroma)),
        image_texture=_robust_scale(dog[::3, ::3], 0.0),
        image_spread=_robust_scale(quarter.lab[..., 0], 0.0),
    )


def _edge_width(level: _Level) -> float:
    """Blur of the photo's sharpest strong edges (Gaussian sigma, in pixels of `level`).

    Blurring an edge of width s by 2 more pixels leaves r = s / sqrt(s^2 + 4) of its gradient peak, so the
    median ratio over the strongest edges gives s. A photo with no edge at all (plain cloth) reads as sharp:
    there is nothing to judge it by, and nothing a blur would hide.
    """
    grey = cv2.GaussianBlur(np.ascontiguousarray(level.lab[..., 0]), (0, 0), 0.5)

    def gradient(values: np.ndarray) -> np.ndarray:
        return cv2.magnitude(cv2.Sobel(values, cv2.CV_32F, 1, 0), cv2.Sobel(values, cv2.CV_32F, 0, 1))

    sharp = gradient(grey)
    softened = gradient(cv2.GaussianBlur(grey, (0, 0), 2.0))
    strongest = sharp >= np.percentile(sharp[::2, ::2], 99.5)
    # The sharpest of the strong edges (a tenth of them): soft folds are strong too, but never sharp.
    ratio = float(np.clip(np.percentile(softened[strongest] / (sharp[strongest] + 1e-3), 10), 0.05, 0.99))
    return 2 * ratio / math.sqrt(1 - ratio * ratio)


_HISTOGRAM_BINS = (16, 32, 32)  # L in steps of 16, a and b in steps of 4 (from -64 to 64)
_BIN_OFFSET = np.array([0, 64, 64], np.float32)
_BIN_STEP = np.array([16, 4, 4], np.float32)
_BIN_LAST = np.array(_HISTOGRAM_BINS, np.float32) - 1


def _colour_bins(lab: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each Lab pixel's cell, channel by channel (a photo's pixels: numpy broadcasts a 3-long axis slowly)."""
    return tuple(
        np.clip((lab[..., c] + _BIN_OFFSET[c]) / _BIN_STEP[c], 0, _BIN_LAST[c]).astype(np.int32)
        for c in range(3)
    )


def _colour_histogram(level: _Level) -> np.ndarray:
    """The share of the photo in each Lab cell, smoothed over neighbouring cells so near colours count."""
    l_bin, a_bin, b_bin = _colour_bins(level.lab.reshape(-1, 3))
    nl, na, nb = _HISTOGRAM_BINS
    hist = np.bincount((l_bin * na + a_bin) * nb + b_bin, minlength=nl * na * nb).astype(np.float32)
    padded = np.pad(hist.reshape(nl, na, nb) / len(l_bin), 1)
    return sum(
        padded[1 + dl : 1 + dl + nl, 1 + da : 1 + da + na, 1 + db : 1 + db + nb]
        for dl in (-1, 0, 1)
        for da in (-1, 0, 1)
        for db in (-1, 0, 1)
    )


def _hysteresis(
    z: np.ndarray, *, high: float, low: float, min_area: int, limit: int, open_px: int = 0
) -> list[_Region]:
    """Connected regions above `low` that reach `high` somewhere: (bbox, mask, peak, mean), strongest first.

    `open_px` first removes lines thinner than that (seams, creases), which would otherwise join everything
    they cross into one region.
    """
    above = (z > low).astype(np.uint8)
    if open_px:
        above = cv2.morphologyEx(
            above, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * open_px + 1,) * 2)
        )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(above, connectivity=8)
    if count <= 1:
        return []
    strong = z >= high
    strong_labels = labels[strong]
    # A region's peak is one of its strong pixels (it has some, or it is not seeded): the peaks of all regions
    # from those alone, then masks and means for the `limit` strongest only (a cloth's weave can seed 1000).
    peaks = np.zeros(count, z.dtype)
    np.maximum.at(peaks, strong_labels, z[strong])
    seeded = np.zeros(count, bool)
    seeded[strong_labels] = True
    seeded[0] = False
    chosen = np.nonzero(seeded & (stats[:, cv2.CC_STAT_AREA] >= min_area))[0]
    sizes = stats[chosen, cv2.CC_STAT_WIDTH].astype(np.float64) * stats[chosen, cv2.CC_STAT_HEIGHT]
    strength = peaks[chosen].astype(np.float64) * np.sqrt(sizes)
    regions = []
    for i in chosen[np.argsort(-strength, kind="stable")[:limit]]:
        x, y, w, h = (int(v) for v in stats[i, :4])
        mask = labels[y : y + h, x : x + w] == i
        regions.append(((x, y, w, h), mask, float(peaks[i]), float(_mean(z[y : y + h, x : x + w][mask]))))
    return regions


def _either_way(
    z: np.ndarray, lightness: np.ndarray, *, limit: int, **hysteresis: float
) -> list[_Region]:
    """Regions of pixels darker than the cloth, and of pixels lighter, found apart (a dark hole beside a light
    print, a light one on a dark seam, are two regions, not one); pure hue changes show in both and are kept
    once."""
    tolerance = 1.0  # robust standard deviations of lightness: a pure hue change is neither darker nor lighter
    regions = _hysteresis(np.where(lightness < tolerance, z, 0), limit=limit, **hysteresis)
    regions += _hysteresis(np.where(lightness > -tolerance, z, 0), limit=limit, **hysteresis)
    regions.sort(key=lambda r: -r[2] * math.sqrt(r[1].shape[0] * r[1].shape[1]))
    kept: list[_Region] = []
    for region in regions:
        if all(_box_iou(region[0], other[0]) < 0.7 for other in kept):
            kept.append(region)
    return kept[:limit]


def box_intersection(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    """The area two [x, y, w, h] boxes share (0 when apart)."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def _box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    inter = box_intersection(a, b)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


@dataclass
class _Context:
    eighth: _Level
    measures: PhotoMeasures
    pill_ratio: np.ndarray
    pill_density: np.ndarray
    fade_residual: np.ndarray
    colour_histogram: np.ndarray


# --- features -----------------------------------------------------------------------------------------------


def _describe(
    proposer: str,
    level: _Level,
    bbox: tuple[int, int, int, int],
    mask: np.ndarray,
    peak: float,
    mean: float,
    context: _Context,
    proposed: int,
) -> Candidate:
    """The feature vector of one region found at `level`; its bbox and mask are returned in working pixels."""
    ppm = level.ppm
    _, _, w, h = bbox
    area_px = float(mask.sum())
    inside, ring, crop, crop_mask, ring_mask, texture = _inside_and_ring(level, bbox, mask)
    if ring.shape[0] == 0:
        ring = inside
    in_mean, ring_median = _mean(inside), _mean(ring)
    in_chroma = float(np.hypot(in_mean[1], in_mean[2]))
    ring_chroma = float(np.hypot(ring_median[1], ring_median[2]))
    d = in_mean - ring_median
    grey = np.ascontiguousarray(crop[..., 0])
    gradient = cv2.magnitude(
        cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    )
    edge = crop_mask & ~cv2.erode(crop_mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    edge_gradient = float(_mean(gradient[edge])) if edge.any() else 0.0
    in_texture = float(_mean(texture[crop_mask]))
    ring_texture = float(_mean(texture[ring_mask])) if ring_mask.any() else in_texture
    length, width = _axes(mask)
    points = cv2.findNonZero(mask.astype(np.uint8))
    hull_area = float(cv2.contourArea(cv2.convexHull(points))) + 1.0
    where, sub = _region_at(bbox, mask, ppm, context.eighth.ppm, context.eighth.shape)
    pill_ratio = float(_mean(context.pill_ratio[where][sub]))
    pill_density = float(_mean(context.pill_density[where][sub]))
    fade = _mean(context.fade_residual[where][sub])
    lightness = inside[:, 0]
    k_dark, k_bright = int(0.05 * (len(lightness) - 1)), int(0.95 * (len(lightness) - 1))
    ordered = np.partition(lightness, (k_dark, k_bright))
    dark, bright = ordered[k_dark] - ring_median[0], ordered[k_bright] - ring_median[0]
    m = context.measures
    features = np.array(
        [
            proposer == "spot",
            proposer == "blotch",
            proposer == "fade",
            proposer == "pill",
            math.log(area_px / ppm**2 + 1e-3),
            max(w, h) / ppm,
            min(w, h) / ppm,
            length / max(width, 1e-3),
            area_px / (w * h),
            area_px / hull_area,
            peak,
            mean,
            d[0],
            d[1],
            d[2],
            in_chroma - ring_chroma,
            float(np.linalg.norm(d)),
            dark,
            bright,
            (in_texture + 0.5) / (ring_texture + 0.5),
            edge_gradient,
            edge_gradient / (abs(d[0]) + abs(in_chroma - ring_chroma) + 1),
            in_mean[0],
            in_chroma,
            ring_median[0],
            ring_chroma,
            float(inside[:, 0].std()) / (abs(d[0]) + 2.0),
            _rectangularity(points, area_px),
            0.0,
            _rarity(context.colour_histogram, in_mean),
            0.0,
            pill_ratio,
            pill_density,
            fade[0],
            fade[3],
            m.image_l,
            m.image_chroma,
            m.image_texture,
            m.image_spread,
            m.sharpness,
            math.log(proposed + 1),
            _touches_edge(bbox, level.shape),
            *_edge_profile(crop, crop_mask, ring_median, ppm),
            _ring_like_inside(ring, in_mean, ring_median),
            _hue_shift(in_mean, ring_median),
            (in_mean[0] + 8.0) / (ring_median[0] + 8.0),
            *(math.nan for _ in _FINE),
        ],
        np.float32,
    )
    work_bbox, work_mask = _rescale_region(bbox, mask, WORK_PX_PER_MM / ppm)
    return Candidate(proposer=proposer, bbox=work_bbox, mask=work_mask, features=features)


def _edge_profile(crop: np.ndarray, inside: np.ndarray, background: np.ndarray, ppm: float) -> list[float]:
    """How the region's colour departure changes across its border, in bands ~1.5 mm wide (a pixel at least):

    - step: the share of the whole departure that happens across the border (near 1 for a stain's or a print's
      crisp edge, lower for the soft border of fading or of a lighting change);
    - tide: the band just inside against the band deeper in (above 1 for a stain's dried, darker rim);
    - out gradient: the band just outside against the band further out (a halo, or the cloth still changing).
    """
    departure = _norm3(_minus(crop, background))
    band = max(1.5 * ppm, 1.0)
    # The border is where the departure falls to half its level inside (the proposer's mask reaches further).
    level = _percentile(departure[inside], 90) if inside.any() else 0.0
    mask = ((departure >= 0.5 * level) & (cv2.dilate(inside.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)).astype(
        np.uint8
    )
    depth_in = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    depth_out = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 3)

    def mean_in(depth: np.ndarray, low: float, high: float, fallback: float) -> float:
        chosen = (depth > low) & (depth <= high)
        return float(_mean(departure[chosen])) if chosen.any() else fallback

    in_near = mean_in(depth_in, 0, band, 0.0)
    in_deep = mean_in(depth_in, band, 3 * band, in_near)
    out_near = mean_in(depth_out, 0, band, 0.0)
    out_far = mean_in(depth_out, band, 3 * band, out_near)
    return [
        (in_near - out_near) / (max(in_near, in_deep) - out_far + 2.0),
        (in_near + 1.0) / (in_deep + 1.0),
        (out_near + 1.0) / (out_far + 1.0),
    ]


def _ring_like_inside(ring: np.ndarray, inside: np.ndarray, background: np.ndarray) -> float:
    """The share of the ring closer in colour to the region than to the cloth: near 0 around a stain on plain
    cloth, more around a piece of something larger (a print's motif, a tag's corner, a seam)."""
    to_inside = _norm3(_minus(ring, inside))
    to_background = _norm3(_minus(ring, background))
    return float((to_inside < to_background).mean()) if len(ring) else 0.0


def _hue_shift(inside: np.ndarray, background: np.ndarray) -> float:
    """How far the region's hue turns from the cloth's (radians, 0 to pi), weighted by how coloured both are:
    a shadow or an opening onto the same cloth keeps its hue, a tint (coffee, wine, ink) turns it."""
    a0, b0, a1, b1 = float(background[1]), float(background[2]), float(inside[1]), float(inside[2])
    angle = abs(math.atan2(a0 * b1 - b0 * a1, a0 * a1 + b0 * b1))
    colour = min(math.hypot(a0, b0), math.hypot(a1, b1))
    return angle * colour / (colour + 4.0)


def _rescale_region(
    bbox: tuple[int, int, int, int], mask: np.ndarray, factor: float
) -> tuple[tuple[int, int, int, int], np.ndarray]:
    if factor == 1.0:
        return bbox, mask
    x, y, w, h = bbox
    nw, nh = max(round(w * factor), 1), max(round(h * factor), 1)
    resized = cv2.resize(mask.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST).astype(bool)
    if not resized.any():
        resized[nh // 2, nw // 2] = True
    return (int(x * factor), int(y * factor), nw, nh), resized


def _inside_and_ring(level: _Level, bbox: tuple[int, int, int, int], mask: np.ndarray):
    """Lab pixels inside the region and in a ring around it; the padded crop, its masks and texture."""
    x, y, w, h = bbox
    r = int(max(3, 0.5 * math.sqrt(mask.sum())))
    H, W = level.shape
    x0, y0, x1, y1 = max(x - r, 0), max(y - r, 0), min(x + w + r, W), min(y + h + r, H)
    crop = np.ascontiguousarray(level.lab_crop(y0, y1, x0, x1))
    crop_mask = np.zeros(crop.shape[:2], np.uint8)
    crop_mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = mask
    distance = cv2.distanceTransform(1 - crop_mask, cv2.DIST_L2, 3)  # pixels from the region
    ring_mask = (distance > 1.5) & (distance <= r)
    inside_mask = crop_mask > 0
    texture = level.texture[y0:y1, x0:x1]
    return _pixels(crop, inside_mask), _pixels(crop, ring_mask), crop, inside_mask, ring_mask, texture


def _axes(mask: np.ndarray) -> tuple[float, float]:
    """Lengths of the region's principal axes (pixels), from its second moments."""
    moments = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    if moments["m00"] <= 0:
        return 1.0, 1.0
    mu20, mu02, mu11 = (moments[k] / moments["m00"] for k in ("mu20", "mu02", "mu11"))
    common = math.sqrt(max((mu20 - mu02) ** 2 + 4 * mu11**2, 0.0))
    return 4 * math.sqrt(max((mu20 + mu02 + common) / 2, 0.0)) + 1, 4 * math.sqrt(
        max((mu20 + mu02 - common) / 2, 0.0)
    ) + 1


def _region_at(
    bbox: tuple[int, int, int, int], mask: np.ndarray, from_ppm: float, to_ppm: float, shape: tuple[int, int]
) -> tuple[tuple[slice, slice], np.ndarray]:
    """Where a region found at one scale lies at another: the slices and the mask there (never empty)."""
    (x, y, w, h), resized = _rescale_region(bbox, mask, to_ppm / from_ppm)
    H, W = shape
    x, y = min(x, W - 1), min(y, H - 1)
    w, h = min(resized.shape[1], W - x), min(resized.shape[0], H - y)
    resized = resized[:h, :w]
    if not resized.any():
        resized = np.ones_like(resized)
    return (slice(y, y + h), slice(x, x + w)), resized


def _rarity(histogram: np.ndarray, lab: np.ndarray) -> float:
    """How little of the photo shares this colour (1: nowhere else, 0: everywhere)."""
    # `_colour_bins` of one colour, its three channels in one pass (the same float32 arithmetic)
    bins = np.clip((np.asarray(lab, np.float32) + _BIN_OFFSET) / _BIN_STEP, 0, _BIN_LAST).astype(np.int32)
    return float(1 - min(histogram[bins[0], bins[1], bins[2]] * 10, 1.0))


def _rectangularity(points: np.ndarray, area: float) -> float:
    """Area over the smallest rotated rectangle around the region's points: 1 for a card or a label, less for
    a blot."""
    (_, _), (w, h), _ = cv2.minAreaRect(points)
    return area / max((w + 1) * (h + 1), 1.0)


def _percentile(values: np.ndarray, q: float) -> float:
    """`np.percentile(values, q)` of a 1-d float array without NaN, the same to the bit (tested), without its
    ~0.1 ms of checks: the linear interpolation between the two order statistics around (n - 1) q / 100."""
    n = len(values)
    virtual = (n - 1) * (q / 100)
    below = min(int(math.floor(virtual)), n - 1)
    above = min(below + 1, n - 1)
    ordered = np.partition(values, (below, above))
    low, high = ordered[below], ordered[above]
    gamma = virtual - below
    step = high - low
    return float(high - step * (1 - gamma) if gamma >= 0.5 else low + step * gamma)


def _touches_edge(bbox: tuple[int, int, int, int], shape: tuple[int, int]) -> float:
    x, y, w, h = bbox
    return float(x <= 1 or y <= 1 or x + w >= shape[1] - 1 or y + h >= shape[0] - 1)


_LOOK_ALIKE = FEATURE_NAMES.index("look_alikes")
_NEIGHBOURS = FEATURE_NAMES.index("neighbours")
_COLOUR = [FEATURE_NAMES.index(n) for n in ("inside_l", "d_a", "d_b")]
_AREA = FEATURE_NAMES.index("log_area_mm2")


def _count_look_alikes(candidates: list[Candidate]) -> None:
    """For each candidate, how many others from the same proposer share its colour and size (repeats of a
    print have many; a stain has none), and how many small spots lie within 25 mm of it (a barcode, a pilled
    patch, a print's motifs)."""
    spots = np.array(
        [[c.bbox[0] + c.bbox[2] / 2, c.bbox[1] + c.bbox[3] / 2] for c in candidates if c.proposer == "spot"]
    ).reshape(-1, 2)
    reach = 25 * WORK_PX_PER_MM
    for candidate in candidates:
        x, y, w, h = candidate.bbox
        near = (
            (spots[:, 0] > x - reach)
            & (spots[:, 0] < x + w + reach)
            & (spots[:, 1] > y - reach)
            & (spots[:, 1] < y + h + reach)
        )
        candidate.features[_NEIGHBOURS] = float(near.sum())
    by_proposer: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_proposer.setdefault(candidate.proposer, []).append(candidate)
    for group in by_proposer.values():
        if len(group) < 2:
            continue
        colours = np.array([c.features[_COLOUR] for c in group])
        areas = np.array([c.features[_AREA] for c in group])
        close = (np.linalg.norm(colours[:, None, :] - colours[None, :, :], axis=-1) < 8) & (
            np.abs(areas[:, None] - areas[None, :]) < 0.7
        )
        counts = close.sum(axis=1) - 1
        for candidate, count in zip(group, counts, strict=True):
            candidate.features[_LOOK_ALIKE] = float(count)


# --- full-resolution tiles (pilling) ------------------------------------------------------------------------

_FINE = [FEATURE_NAMES.index(n) for n in FEATURE_NAMES if n.startswith("fine_")]
_PILL_RATIO = FEATURE_NAMES.index("pill_ratio")
_TEXTURE_RATIO = FEATURE_NAMES.index("texture_ratio")
_TILED = frozenset({"pill", "blotch", "fade"})


@dataclass(frozen=True)
class _TileStats:
    """Small-blob statistics of one region of a tile, in the pill band (see `_pill_band`)."""

    energy: float
    peaks: float  # per cm2
    tail: float


def _tile_jobs(
    candidates: list[Candidate], source: FineSource, reference: tuple[_TileStats, float]
) -> deque[Callable[[], None]]:
    """Jobs filling the fine_* features of the larger candidates: pill proposals first, then those whose texture
    differs most from the cloth around them (pills raise it on smooth cloth, and blur a rib or a weave)."""

    def texture_change(c: Candidate) -> float:
        texture = abs(math.log(max(float(c.features[_TEXTURE_RATIO]), 1e-3)))
        return max(texture, math.log(max(float(c.features[_PILL_RATIO]), 1e-3)))

    chosen = sorted(
        (c for c in candidates if c.proposer in _TILED and max(c.bbox[2:]) >= TILE_MIN_MM * WORK_PX_PER_MM),
        key=lambda c: (c.proposer != "pill", -texture_change(c)),
    )[:MAX_TILES]

    def job(candidate: Candidate) -> Callable[[], None]:
        def run() -> None:
            candidate.features[_FINE] = _tile_features(candidate, source, *reference)

        return run

    return deque(job(c) for c in chosen)


def _tile_scale(source: FineSource) -> float:
    """Tile pixels per source pixel: 1, or less for a camera finer than FINE_PX_PER_MM."""
    return min(FINE_PX_PER_MM / source.px_per_mm, 1.0)


def _cut_tile(source: FineSource, window: tuple[int, int, int, int]) -> np.ndarray:
    """The grey pixels of a window given in working pixels (x0, y0, x1, y1), at the tile scale."""
    x0, y0, x1, y1 = window
    s = source.px_per_mm / WORK_PX_PER_MM
    crop = source.image[int(y0 * s) : int(math.ceil(y1 * s)), int(x0 * s) : int(math.ceil(x1 * s))]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    scale = _tile_scale(source)
    if scale < 0.99:
        size = (max(round(grey.shape[1] * scale), 1), max(round(grey.shape[0] * scale), 1))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey.astype(np.float32)


def _pill_band(grey: np.ndarray, ppm: float) -> np.ndarray:
    """A difference of Gaussians (0.3 and 0.9 mm): blobs the size of pills, 0.6 to 3 mm across."""
    return cv2.GaussianBlur(grey, (0, 0), 0.3 * ppm) - cv2.GaussianBlur(grey, (0, 0), 0.9 * ppm)


def _peaks(fine: np.ndarray, threshold: float, ppm: float) -> np.ndarray:
    """Local maxima of the pill band's magnitude (within ~0.8 mm) above `threshold`: one per pill."""
    strength = np.abs(fine)
    k = max(round(0.8 * ppm) | 1, 3)
    return (strength >= cv2.dilate(strength, np.ones((k, k), np.uint8))) & (strength > threshold)


def _region_stats(fine: np.ndarray, peaks: np.ndarray, region: np.ndarray, ppm: float) -> _TileStats | None:
    count = int(region.sum())
    if count < (4 * ppm) ** 2:  # under 4 x 4 mm: too few pixels to say anything
        return None
    values = np.abs(fine[region])
    k = int(0.99 * (len(values) - 1))
    return _TileStats(
        energy=float(_mean(values * values)),
        peaks=float(peaks[region].sum()) * (ppm * 10) ** 2 / count,
        tail=float(np.partition(values, k)[k]),
    )


def _reference_stats(source: FineSource) -> tuple[_TileStats, float]:
    """The photo's own small-blob statistics (median over a grid of tiles) and the pill threshold they set."""
    ppm = source.px_per_mm * _tile_scale(source)
    height, width = (round(v * WORK_PX_PER_MM / source.px_per_mm) for v in source.image.shape[:2])
    half = min(REFERENCE_MM * WORK_PX_PER_MM, width / 4, height / 4) / 2
    columns, rows = REFERENCE_GRID
    bands = []
    for i in range(columns):
        for j in range(rows):
            cx, cy = width * (i + 0.5) / columns, height * (j + 0.5) / rows
            window = (int(cx - half), int(cy - half), int(cx + half), int(cy + half))
            bands.append(_pill_band(_cut_tile(source, window), ppm))
    pooled = np.concatenate([fine[::2, ::2].ravel() for fine in bands])
    threshold = 4.0 * max(_robust_scale(pooled, 0.05), 0.05)
    stats = [
        _region_stats(fine, _peaks(fine, threshold, ppm), np.ones(fine.shape, bool), ppm) for fine in bands
    ]
    known = [s for s in stats if s is not None]
    if not known:
        return _TileStats(1.0, 0.0, 1.0), threshold
    return (
        _TileStats(*(float(np.median([getattr(s, f) for s in known])) for f in _TileStats.__dataclass_fields__)),
        threshold,
    )


def _tile_features(
    candidate: Candidate, source: FineSource, reference: _TileStats, threshold: float
) -> list[float]:
    """The fine_* features of one candidate, from a tile around it (or its middle, when it is larger): its
    pill band against the ring 1.5 to 6 mm around it, and against the photo's reference tiles."""
    x, y, w, h = candidate.bbox
    moments = cv2.moments(candidate.mask.view(np.uint8), binaryImage=True)  # its centroid, as np.nonzero's mean
    cx, cy = x + moments["m10"] / moments["m00"], y + moments["m01"] / moments["m00"]
    margin = 8 * WORK_PX_PER_MM
    half = min(max(w, h) / 2 + margin, TILE_MM * WORK_PX_PER_MM / 2)
    height, width = (round(v * WORK_PX_PER_MM / source.px_per_mm) for v in source.image.shape[:2])
    x0, y0 = max(int(cx - half), 0), max(int(cy - half), 0)
    x1, y1 = min(int(cx + half) + 1, width), min(int(cy + half) + 1, height)
    tile = _cut_tile(source, (x0, y0, x1, y1))
    ppm = source.px_per_mm * _tile_scale(source)
    placed = np.zeros((y1 - y0, x1 - x0), np.uint8)
    ix0, iy0, ix1, iy1 = max(x, x0), max(y, y0), min(x + w, x1), min(y + h, y1)
    placed[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = candidate.mask[iy0 - y : iy1 - y, ix0 - x : ix1 - x]
    inside = cv2.resize(placed, tile.shape[::-1], interpolation=cv2.INTER_NEAREST)
    distance = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3) / ppm  # mm from the region
    ring = (distance > 1.5) & (distance <= 6.0)
    fine = _pill_band(tile, ppm)
    peaks = _peaks(fine, threshold, ppm)
    mine = _region_stats(fine, peaks, inside > 0, ppm)
    if mine is None:
        return [math.nan] * len(_FINE)
    around = _region_stats(fine, peaks, ring, ppm)

    def log_ratio(a: float, b: float, floor: float) -> float:
        return math.log((a + floor) / (b + floor))

    return [
        log_ratio(mine.energy, around.energy, 0.01) if around else math.nan,
        log_ratio(mine.energy, reference.energy, 0.01),
        log_ratio(mine.peaks, around.peaks, 1.0) if around else math.nan,
        log_ratio(mine.peaks, reference.peaks, 1.0),
        mine.peaks,
        log_ratio(mine.tail, reference.tail, 0.1),
        ppm,
    ]
