"""Candidate regions and their features: classic image processing proposes, the trained model decides.

Every photo is first brought to one physical scale (`WORK_PX_PER_MM`), so kernels, thresholds and features are
in millimetres whatever the camera. Four proposers each look for one kind of departure from the cloth around it:

- spots (half scale): small colour or luminance departures from a ~8 mm median: holes, tears, small stains;
- blotches (quarter scale): departures from a ~5 cm median: stains, holes, the hang tag;
- fades (eighth scale): large, soft departures from a smooth surface fitted to the whole photo (which absorbs
  lighting gradients): fading;
- pills (working scale, counted at eighth scale): places where small blobs are much denser than elsewhere.

Each candidate gets the same feature vector (shape, contrast against a ring around it, edge sharpness, texture
change, how rare its colour is in the photo, how many look-alikes it has, and the photo's context).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

# Photos are analysed at 8/3 pixels per millimetre: 1600 x 1200 for the station's 60 x 45 cm framing. A 3 mm
# hole is 8 pixels across there; finer detail (weave, single pills) is below what any proposer needs.
WORK_PX_PER_MM = 8 / 3

PROPOSERS: tuple[str, ...] = ("spot", "blotch", "fade", "pill")
MAX_CANDIDATES = {"spot": 40, "blotch": 16, "fade": 6, "pill": 6}

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
)


@dataclass(frozen=True)
class Candidate:
    """A proposed region: bbox [x, y, w, h] and mask (bbox-sized) in working pixels, and its features."""

    proposer: str
    bbox: tuple[int, int, int, int]
    mask: np.ndarray = field(repr=False, compare=False)
    features: np.ndarray = field(repr=False, compare=False)


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
    """Resample a BGR photo to WORK_PX_PER_MM (area averaging down, linear up)."""
    factor = WORK_PX_PER_MM / px_per_mm
    if abs(factor - 1) < 1e-3:
        return image
    h, w = image.shape[:2]
    size = (max(round(w * factor), 16), max(round(h * factor), 16))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def propose(image: np.ndarray) -> tuple[list[Candidate], PhotoMeasures]:
    """Candidates (with features) and photo measures for a BGR image already at the working scale."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    half_bgr = cv2.resize(image, _scaled(image, 0.5), interpolation=cv2.INTER_AREA)
    quarter_bgr = cv2.resize(half_bgr, _scaled(image, 0.25), interpolation=cv2.INTER_AREA)
    eighth_bgr = cv2.resize(quarter_bgr, _scaled(image, 0.125), interpolation=cv2.INTER_AREA)
    sixteenth_bgr = cv2.resize(eighth_bgr, _scaled(image, 0.0625), interpolation=cv2.INTER_AREA)
    # Small-blob response (difference of Gaussians at ~0.5 and ~1.6 mm): pills, and the cloth's texture.
    fine = cv2.GaussianBlur(grey, (0, 0), 0.5 * WORK_PX_PER_MM)
    half_grey = cv2.resize(fine, half_bgr.shape[1::-1], interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(
        cv2.GaussianBlur(half_grey, (0, 0), 0.8 * WORK_PX_PER_MM),
        grey.shape[::-1],
        interpolation=cv2.INTER_LINEAR,
    )
    dog = fine - coarse
    texture = np.abs(dog)
    half = _level(half_bgr, 2, texture)
    quarter = _level(quarter_bgr, 4, half.texture)
    eighth = _level(eighth_bgr, 8, quarter.texture)
    measures = _measure(image, grey, half, quarter, dog)

    spot_z = _departure(half, _median_background(quarter_bgr, 5, half.shape), smooth_px=0.6)
    blotch_z = _departure(quarter, _median_background(sixteenth_bgr, 9, quarter.shape), smooth_px=1.0)
    fade_z, fade_residual = _surface_departure(eighth)
    pill_ratio, pill_density = _pill_density(dog, eighth.shape)

    context = _Context(
        eighth=eighth,
        measures=measures,
        pill_ratio=pill_ratio,
        pill_density=pill_density,
        fade_residual=fade_residual,
        colour_histogram=_colour_histogram(quarter),
    )
    found = {
        "spot": (half, _hysteresis(spot_z, high=6.0, low=3.5, min_area=3, limit=MAX_CANDIDATES["spot"])),
        "blotch": (
            quarter,
            _hysteresis(
                blotch_z,
                high=5.0,
                low=2.5,
                min_area=int((5 * quarter.ppm) ** 2),
                limit=MAX_CANDIDATES["blotch"],
                open_px=1,
            ),
        ),
        "fade": (
            eighth,
            _hysteresis(
                fade_z, high=3.0, low=1.5, min_area=int((30 * eighth.ppm) ** 2), limit=MAX_CANDIDATES["fade"]
            ),
        ),
        "pill": (
            eighth,
            _hysteresis(
                pill_ratio,
                high=3.0,
                low=2.0,
                min_area=int((15 * eighth.ppm) ** 2),
                limit=MAX_CANDIDATES["pill"],
            ),
        ),
    }
    # Small blotches are described at the half scale: their edges and texture need the finer pixels.
    candidates = []
    for proposer, (level, regions) in found.items():
        for bbox, mask, peak, mean in regions:
            if proposer == "blotch" and max(bbox[2], bbox[3]) <= 48:
                bbox, mask = _rescale_region(bbox, mask, 2.0)
                candidates.append(_describe(proposer, half, bbox, mask, peak, mean, context, len(regions)))
            else:
                candidates.append(_describe(proposer, level, bbox, mask, peak, mean, context, len(regions)))
    _count_look_alikes(candidates)
    return candidates, measures


# --- levels and maps ----------------------------------------------------------------------------------------


@dataclass
class _Level:
    """One scale of the photo: Lab (float32, L 0..255, a/b centred on 0), texture, pixels per mm."""

    lab: np.ndarray
    texture: np.ndarray
    ppm: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.lab.shape[:2]


def _scaled(image: np.ndarray, factor: float) -> tuple[int, int]:
    h, w = image.shape[:2]
    return max(round(w * factor), 4), max(round(h * factor), 4)


def _level(bgr: np.ndarray, reduction: int, texture: np.ndarray) -> _Level:
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).astype(np.float32)
    lab[..., 1:] -= 128
    return _Level(
        lab=lab,
        texture=cv2.resize(texture, bgr.shape[1::-1], interpolation=cv2.INTER_AREA),
        ppm=WORK_PX_PER_MM / reduction,
    )


def _median_background(bgr: np.ndarray, k: int, shape: tuple[int, int]) -> np.ndarray:
    """The cloth's own colour around each pixel: a median at a coarse scale, enlarged to `shape`."""
    k = max(min(k, (min(bgr.shape[:2]) - 2) | 1), 3)
    lab = cv2.cvtColor(cv2.medianBlur(bgr, k), cv2.COLOR_BGR2Lab).astype(np.float32)
    lab[..., 1:] -= 128
    return cv2.resize(lab, shape[::-1], interpolation=cv2.INTER_LINEAR)


def _robust_scale(values: np.ndarray, floor: float) -> float:
    """1.4826 x the median absolute deviation (a standard deviation that ignores the defects themselves),
    from every fourth row and column."""
    sample = values[::4, ::4].ravel() if values.ndim == 2 else values[::4]
    return max(1.4826 * float(np.median(np.abs(sample - np.median(sample)))), floor)


def _departure(level: _Level, background: np.ndarray, *, smooth_px: float) -> np.ndarray:
    """How far each pixel's colour is from the cloth around it, in robust standard deviations."""
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
    return cv2.magnitude(cv2.magnitude(diff[..., 0], diff[..., 1]), diff[..., 2])


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


def _pill_density(dog: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Small-blob density (per cm2) at the eighth scale, and its ratio to the photo's typical density."""
    strength = np.abs(dog)
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


def _colour_bins(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.clip(lab[..., 0] / 16, 0, 15).astype(np.int32),
        np.clip((lab[..., 1] + 64) / 4, 0, 31).astype(np.int32),
        np.clip((lab[..., 2] + 64) / 4, 0, 31).astype(np.int32),
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
) -> list[tuple[tuple[int, int, int, int], np.ndarray, float, float]]:
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
    seeded = np.zeros(count, bool)
    seeded[labels[z >= high]] = True
    seeded[0] = False
    chosen = np.nonzero(seeded & (stats[:, cv2.CC_STAT_AREA] >= min_area))[0]
    regions = []
    for i in chosen:
        x, y, w, h = (int(v) for v in stats[i, :4])
        mask = labels[y : y + h, x : x + w] == i
        values = z[y : y + h, x : x + w][mask]
        regions.append(((x, y, w, h), mask, float(values.max()), float(values.mean())))
    regions.sort(key=lambda r: -r[2] * math.sqrt(r[1].shape[0] * r[1].shape[1]))
    return regions[:limit]


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
    in_mean, ring_median = inside.mean(axis=0), ring.mean(axis=0)
    in_chroma = float(np.hypot(in_mean[1], in_mean[2]))
    ring_chroma = float(np.hypot(ring_median[1], ring_median[2]))
    d = in_mean - ring_median
    grey = np.ascontiguousarray(crop[..., 0])
    gradient = cv2.magnitude(
        cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    )
    edge = crop_mask & ~cv2.erode(crop_mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    edge_gradient = float(gradient[edge].mean()) if edge.any() else 0.0
    in_texture = float(texture[crop_mask].mean())
    ring_texture = float(texture[ring_mask].mean()) if ring_mask.any() else in_texture
    length, width = _axes(mask)
    hull_area = float(cv2.contourArea(cv2.convexHull(cv2.findNonZero(mask.astype(np.uint8))))) + 1.0
    where, sub = _region_at(bbox, mask, ppm, context.eighth.ppm, context.eighth.shape)
    pill_ratio = float(context.pill_ratio[where][sub].mean())
    pill_density = float(context.pill_density[where][sub].mean())
    fade = context.fade_residual[where][sub].mean(axis=0)
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
            _rectangularity(mask),
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
        ],
        np.float32,
    )
    work_bbox, work_mask = _rescale_region(bbox, mask, WORK_PX_PER_MM / ppm)
    return Candidate(proposer=proposer, bbox=work_bbox, mask=work_mask, features=features)


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
    crop = level.lab[y0:y1, x0:x1]
    crop_mask = np.zeros(crop.shape[:2], np.uint8)
    crop_mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = mask
    grown = cv2.dilate(crop_mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    ring_mask = (grown > 0) & ~(cv2.dilate(crop_mask, np.ones((3, 3), np.uint8)) > 0)
    inside_mask = crop_mask > 0
    return crop[inside_mask], crop[ring_mask], crop, inside_mask, ring_mask, level.texture[y0:y1, x0:x1]


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
    l_bin, a_bin, b_bin = (int(v) for v in _colour_bins(np.asarray(lab, np.float32)))
    return float(1 - min(histogram[l_bin, a_bin, b_bin] * 10, 1.0))


def _rectangularity(mask: np.ndarray) -> float:
    """Area over the smallest rotated rectangle around it: 1 for a card or a label, less for a blot."""
    points = cv2.findNonZero(mask.astype(np.uint8))
    (_, _), (w, h), _ = cv2.minAreaRect(points)
    return float(mask.sum()) / max((w + 1) * (h + 1), 1.0)


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
