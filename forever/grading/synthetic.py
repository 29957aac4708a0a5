"""Procedural fabric photos with known defects: the training and evaluation data while no real photos exist.

A `Scene` says what to draw (fabric family and colour, defects, nuisances, camera); `render` draws it,
deterministically from the scene's seed, in physical units: the frame is `FRAME_MM` across its long side, so a
12 MP render shows the same fabric as a 3 MP one, in finer detail. Detail finer than the pixel grid is faded
out (as a camera's optics would) rather than aliased. Everything is vectorised numpy and OpenCV.

Defect injectors return their mask, size in millimetres, strength and severity; nuisances (folds, wrinkles,
seams, prints, lint, lighting gradients, blur, JPEG) change the picture but are not defects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from forever.grading.model import DEFECT_KINDS, FRAME_MM, grade_for, severity_for

FAMILIES: tuple[str, ...] = ("twill", "plain_weave", "jersey", "rib_knit", "fleece", "printed")
NUISANCES: tuple[str, ...] = ("fold", "wrinkles", "seam", "print", "lint", "lighting", "blur")
SCENARIOS: tuple[str, ...] = ("clean", "nuisance", *DEFECT_KINDS)

DEFAULT_SIZE = (1600, 1200)  # the working scale itself: quick to draw (tests)
STATION_SIZE = (3200, 2400)  # twice the working scale: the finest the pilling tiles look at (see features.py)
BENCH_SIZE = (4000, 3000)  # a 12 MP camera

# Ranges defects are drawn from (millimetres): wide enough to draw recall against size on both sides of the
# targets (holes from 3 mm, stains from 10 mm).
HOLE_MM = (1.5, 20.0)
TEAR_MM = (8.0, 70.0)
STAIN_MM = (4.0, 70.0)
PILLING_MM = (30.0, 150.0)
PILLING_INTENSITY = (0.15, 1.0)  # pills of 0.6 to 2.8 mm, 5 to 25 per cm2
FADING_MM = (70.0, 300.0)
FADING_DELTA_E = (4.0, 16.0)
STAIN_DELTA_E = (6.0, 30.0)  # colour difference at the stain's core: visible to a grader by construction

# Garment colours as photographed (sRGB).
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (34, 34, 37),
    "navy": (32, 40, 72),
    "charcoal": (62, 62, 66),
    "grey_marl": (142, 142, 144),
    "white": (236, 236, 231),
    "ecru": (226, 216, 196),
    "beige": (192, 172, 142),
    "camel": (172, 131, 86),
    "red": (172, 32, 42),
    "burgundy": (104, 28, 38),
    "forest": (42, 78, 52),
    "khaki": (122, 116, 82),
    "sky": (132, 172, 212),
    "pink": (232, 172, 182),
    "mustard": (202, 160, 52),
    "indigo": (38, 54, 96),
    "olive": (86, 88, 52),
    "cobalt": (40, 70, 160),
}
_DENIM_WEFT = (214, 208, 196)
_BACKDROP_LIGHT = (0.62, 0.63, 0.64)  # the station's light board, linear RGB


@dataclass(frozen=True)
class DefectSpec:
    """One defect to inject: kind, size in millimetres, strength (kind-specific, 0..1 when unitless)."""

    kind: str
    size_mm: float
    strength: float = 1.0


@dataclass(frozen=True)
class Scene:
    """Everything a synthetic photo shows; `render(scene)` always draws the same picture."""

    seed: int
    family: str
    colour: str
    defects: tuple[DefectSpec, ...] = ()
    nuisances: tuple[str, ...] = ()
    tag: bool = False
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    blur_mm: float = 0.0
    exposure: float = 1.0
    jpeg_quality: int = 90

    @property
    def px_per_mm(self) -> float:
        return max(self.width, self.height) / FRAME_MM


@dataclass(frozen=True)
class InjectedDefect:
    """A defect as drawn: bbox [x, y, w, h] in pixels, its mask inside the bbox, size and severity."""

    kind: str
    bbox: tuple[int, int, int, int]
    size_mm: float
    strength: float
    severity: str
    mask: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class Sample:
    """A rendered scene: the BGR picture, its JPEG bytes, what was injected and the grade it deserves."""

    scene: Scene
    image: np.ndarray = field(repr=False, compare=False)
    jpeg: bytes = field(repr=False, compare=False)
    defects: tuple[InjectedDefect, ...]
    tag_bbox: tuple[int, int, int, int] | None
    tag_mask: np.ndarray | None = field(repr=False, compare=False)
    grade: str
    refusal_reason: str | None


# --- scenes -------------------------------------------------------------------------------------------------


def random_scene(
    seed: int,
    *,
    family: str | None = None,
    scenario: str | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    families: tuple[str, ...] = FAMILIES,
    second_defect: float = 0.12,
) -> Scene:
    """A random scene: a clean piece, nuisances only, or one defect (a second one at `second_defect` odds)
    among nuisances."""
    rng = np.random.default_rng([seed, 7])
    family = family or str(rng.choice(families))
    scenario = scenario or str(rng.choice(SCENARIOS, p=[0.16, 0.24, 0.12, 0.12, 0.12, 0.12, 0.12]))
    colour = str(rng.choice(list(PALETTE)))
    if family == "twill" and rng.random() < 0.6:
        colour = "indigo"
    kinds: list[str] = []
    if scenario in DEFECT_KINDS:
        kinds.append(scenario)
        if rng.random() < second_defect:
            kinds.append(str(rng.choice([k for k in DEFECT_KINDS if k != scenario])))
    if "fading" in kinds and not _can_fade(colour):
        colour = str(rng.choice([c for c in PALETTE if _can_fade(c)]))
    defects = tuple(_random_defect(rng, kind) for kind in kinds)
    nuisance_odds = 0.0 if scenario == "clean" else 0.45
    nuisances = [n for n in NUISANCES if n not in ("lighting", "blur") and rng.random() < nuisance_odds]
    if scenario == "nuisance" and not nuisances:
        nuisances.append(str(rng.choice(["fold", "wrinkles", "seam", "print", "lint"])))
    if rng.random() < 0.5:
        nuisances.append("lighting")
    blur_mm = 0.0
    if scenario != "clean" and rng.random() < 0.25:
        nuisances.append("blur")
        blur_mm = float(rng.uniform(0.1, 0.35))
    tag = scenario in ("clean", "nuisance") and rng.random() < 0.35
    return Scene(
        seed=seed,
        family=family,
        colour=colour,
        defects=defects,
        nuisances=tuple(nuisances),
        tag=tag,
        width=size[0],
        height=size[1],
        blur_mm=blur_mm,
        exposure=float(rng.uniform(0.85, 1.1)),
        jpeg_quality=int(rng.integers(70, 96)),
    )


def _random_defect(rng: np.random.Generator, kind: str) -> DefectSpec:
    def log_uniform(low: float, high: float) -> float:
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))

    if kind == "hole":
        return DefectSpec(kind, log_uniform(*HOLE_MM))
    if kind == "tear":
        return DefectSpec(kind, log_uniform(*TEAR_MM))
    if kind == "stain":
        return DefectSpec(kind, log_uniform(*STAIN_MM), log_uniform(*STAIN_DELTA_E))
    if kind == "pilling":
        return DefectSpec(kind, float(rng.uniform(*PILLING_MM)), float(rng.uniform(*PILLING_INTENSITY)))
    return DefectSpec(kind, float(rng.uniform(*FADING_MM)), float(rng.uniform(*FADING_DELTA_E)))


def _can_fade(colour: str) -> bool:
    """Fading shows on dark or saturated colours; on white and pale greys there is nothing to lose."""
    lab = _lab(_linear(np.array(PALETTE[colour], np.float32) / 255))
    return lab[0] < 75 or math.hypot(lab[1], lab[2]) > 25


# --- rendering ----------------------------------------------------------------------------------------------


def render(scene: Scene) -> Sample:
    """Draw a scene: fabric, prints, defects, folds and lint, tag, lighting, then the camera and JPEG."""
    rng = np.random.default_rng([scene.seed, 11])
    ppm = scene.px_per_mm
    h, w = scene.height, scene.width
    base = _linear(np.array(PALETTE[scene.colour], np.float32) / 255)
    image = _FABRICS[scene.family](rng, h, w, ppm, base)
    if "print" in scene.nuisances:
        _placed_print(rng, image, ppm)
    shading = np.ones((h, w), np.float32)
    if "seam" in scene.nuisances:  # sewn before any damage: a hole cuts through the stitches too
        _seam(rng, image, shading, ppm, base)
    injected: list[InjectedDefect] = []
    taken: list[tuple[int, int, int, int]] = []
    # Fading first (it bleaches whatever else is there), holes and tears last (they cut through everything).
    order = {"fading": 0, "stain": 1, "pilling": 2, "hole": 3, "tear": 4}
    for spec in sorted(scene.defects, key=lambda d: order[d.kind]):
        injected.append(_INJECTORS[spec.kind](rng, image, ppm, spec, base, taken))
        taken.append(injected[-1].bbox)
    if "fold" in scene.nuisances:
        _fold(rng, shading, ppm)
    if "wrinkles" in scene.nuisances:
        _wrinkles(rng, shading, ppm)
    image *= shading[..., None]
    if "lint" in scene.nuisances:
        _lint(rng, image, ppm)
    tag_bbox, tag_mask = _hang_tag(rng, image, ppm, taken) if scene.tag else (None, None)
    if "lighting" in scene.nuisances:
        _lighting(rng, image)
    bgr = _camera(rng, image, ppm, scene)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, scene.jpeg_quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    grade, reason = grade_for([(d.kind, d.severity) for d in injected], tag=scene.tag)
    return Sample(
        scene=scene,
        image=bgr,
        jpeg=encoded.tobytes(),
        defects=tuple(injected),
        tag_bbox=tag_bbox,
        tag_mask=tag_mask,
        grade=grade,
        refusal_reason=reason,
    )


def full_mask(sample: Sample, defect: InjectedDefect) -> np.ndarray:
    """A defect's mask over the whole picture."""
    mask = np.zeros(sample.image.shape[:2], bool)
    x, y, w, h = defect.bbox
    mask[y : y + h, x : x + w] = defect.mask
    return mask


# --- colour -------------------------------------------------------------------------------------------------


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.power(np.clip(srgb, 0, 1), 2.2).astype(np.float32)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB (L 0..100) of one linear RGB colour."""
    srgb = np.power(np.clip(linear_rgb, 0, 1), 1 / 2.2).astype(np.float32).reshape(1, 1, 3)
    return cv2.cvtColor(srgb, cv2.COLOR_RGB2Lab).reshape(3)


def _delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(_lab(a) - _lab(b)))


# --- noise and geometry helpers -----------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell_px: float) -> np.ndarray:
    """Zero-mean, unit-variance noise whose features are about `cell_px` pixels across."""
    cell_px = max(cell_px, 1.0)
    # White noise four samples per feature, blurred, then enlarged: no lattice shows, unlike plain interpolation.
    step = max(cell_px / 4, 1.0)
    grid = rng.standard_normal((max(round(h / step), 1) + 1, max(round(w / step), 1) + 1), dtype=np.float32)
    grid = cv2.GaussianBlur(grid, (0, 0), 1.6, borderType=cv2.BORDER_REFLECT)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC if step > 1 else cv2.INTER_LINEAR)
    sample = out[::7, ::7]  # statistics from a subsample: the field is smooth, and this is 50x cheaper
    return (out - float(sample.mean())) * np.float32(1 / (float(sample.std()) + 1e-6))


def _visible(period_mm: float, ppm: float) -> float:
    """How much of a pattern of this period the pixel grid shows (0 beyond its resolution, no aliasing)."""
    period_px = period_mm * ppm
    return float(np.clip((period_px - 2.4) / 2.0, 0.0, 1.0))


def _fabric_grid(rng: np.random.Generator, h: int, w: int, ppm: float) -> tuple[np.ndarray, np.ndarray]:
    """Fabric coordinates in mm at each pixel: slightly rotated, and warped as cloth drapes."""
    angle = math.radians(rng.uniform(-6, 6))
    x = ((np.arange(w, dtype=np.float32) + 0.5) / ppm)[None, :]
    y = ((np.arange(h, dtype=np.float32) + 0.5) / ppm)[:, None]
    drape_px = ppm * rng.uniform(60, 150)
    amplitude = np.float32(rng.uniform(0.3, 1.5))
    gx = x * np.float32(math.cos(angle)) - y * np.float32(math.sin(angle))
    gx += amplitude * _smooth_noise(rng, h, w, drape_px)
    gy = x * np.float32(math.sin(angle)) + y * np.float32(math.cos(angle))
    gy += amplitude * _smooth_noise(rng, h, w, drape_px)
    return gx, gy


def _thread_tones(rng: np.random.Generator, index: np.ndarray, spread: float) -> np.ndarray:
    table = (spread * rng.standard_normal(4096)).astype(np.float32)
    return table[index & 4095]  # two's complement: also right for negative indices


def _colour(shade: np.ndarray, colour: np.ndarray) -> np.ndarray:
    return shade[..., None] * colour[None, None, :]


# --- fabric families ----------------------------------------------------------------------------------------


def _woven(
    rng: np.random.Generator, h: int, w: int, ppm: float, base: np.ndarray, *, twill: bool
) -> np.ndarray:
    period = rng.uniform(0.45, 0.9)
    vis = _visible(period, ppm)
    share = 2 / 3 if twill else 0.5  # how much of the face the warp shows
    shade = np.ones((h, w), np.float32)
    mix: np.ndarray | float = share
    if vis > 0:  # the weave itself, only where the pixel grid can show it
        gx, gy = _fabric_grid(rng, h, w, ppm)
        gx /= period
        gy /= period
        iu, iv = np.floor(gx).astype(np.int32), np.floor(gy).astype(np.int32)
        warp_up = ((iu - iv) % 3 != 0) if twill else ((iu + iv) & 1 == 0)
        gx -= iu
        gy -= iv
        profile = np.where(warp_up, np.sin(np.float32(np.pi) * gx), np.sin(np.float32(np.pi) * gy))
        tone = np.where(warp_up, _thread_tones(rng, iu, 0.06), _thread_tones(rng, iv, 0.06))
        shade += np.float32(vis) * (np.float32(0.22) * (profile - np.float32(0.64)) + tone)
        mix = (share + vis * (warp_up.astype(np.float32) - share))[..., None]
    # Slubs: yarns thicker or darker over centimetres, seen at any resolution as streaks along the warp.
    shade += np.float32(0.035) * _smooth_noise(rng, h, w, ppm * 2.5) * _smooth_noise(rng, h, w, ppm * 30)
    shade += np.float32(0.02) * _smooth_noise(rng, h, w, ppm * 12)
    if (twill and np.argmax(base) == 2) or rng.random() < 0.15:  # indigo warp, ecru weft (denim, chambray)
        weft = _linear(np.array(_DENIM_WEFT, np.float32) / 255)
        wear = 1 + 0.12 * np.clip(_smooth_noise(rng, h, w, ppm * 40), 0, None)[..., None]
        image = mix * base[None, None, :] * wear + (1 - mix) * weft[None, None, :]
        image *= shade[..., None]
        return image.astype(np.float32)
    return _colour(shade, base)


def _twill(rng, h, w, ppm, base):
    return _woven(rng, h, w, ppm, base, twill=True)


def _plain_weave(rng, h, w, ppm, base):
    return _woven(rng, h, w, ppm, base, twill=False)


def _knit_loops(gx: np.ndarray, gy: np.ndarray, wale: float, course: float) -> np.ndarray:
    """Jersey stitches: columns of V-shaped loops, in -1..1."""
    fx = gx / wale
    lx = fx - np.floor(fx) - 0.5
    loops = np.cos(2 * np.pi * (gy / course + 0.9 * np.abs(lx))) * (1 - 3.2 * lx * lx)
    return loops.astype(np.float32)


def _jersey(rng, h, w, ppm, base):
    gx, gy = _fabric_grid(rng, h, w, ppm)
    wale, course = rng.uniform(0.9, 1.6), rng.uniform(0.7, 1.2)
    vis = _visible(min(wale, course), ppm)
    shade = 1 + np.float32(vis * 0.16) * _knit_loops(gx, gy, wale, course)
    shade += 0.03 * _smooth_noise(rng, h, w, ppm * 1.2) * (0.5 + _visible(1.2, ppm))  # heather fibres
    shade += 0.02 * _smooth_noise(rng, h, w, ppm * 15)
    return _colour(shade, base)


def _rib_knit(rng, h, w, ppm, base):
    gx, gy = _fabric_grid(rng, h, w, ppm)
    rib = rng.uniform(2.0, 4.5)
    wale, course = rib / 2, rng.uniform(0.7, 1.1)
    ridge = np.cos(2 * np.pi * gx / rib)
    shade = 1 + _visible(rib, ppm) * (0.13 * ridge + 0.08 * np.sin(2 * np.pi * gx / rib))
    shade += _visible(course, ppm) * 0.12 * _knit_loops(gx, gy, wale, course) * (ridge > -0.3)
    shade += 0.02 * _smooth_noise(rng, h, w, ppm * 15)
    return _colour(shade, base)


def _fleece(rng, h, w, ppm, base):
    shade = 1 + 0.06 * _visible(0.8, ppm) * _smooth_noise(rng, h, w, ppm * 0.4)
    shade += 0.05 * _smooth_noise(rng, h, w, ppm * 1.5)
    shade += 0.03 * _smooth_noise(rng, h, w, ppm * 6)
    shade += 0.02 * _smooth_noise(rng, h, w, ppm * 25)
    return _colour(shade, base)


def _printed(rng, h, w, ppm, base):
    image = (_plain_weave if rng.random() < 0.5 else _jersey)(rng, h, w, ppm, base)
    motif = str(rng.choice(["dots", "stripes", "hearts", "checks", "floral"]))
    period_mm = rng.uniform(15, 60)
    colours = [
        _linear(np.array(PALETTE[c], np.float32) / 255)
        for c in rng.choice([c for c in PALETTE if c != "grey_marl"], size=2, replace=False)
    ]
    gx, gy = _fabric_grid(rng, h, w, ppm)
    if motif == "stripes":
        width = rng.uniform(0.2, 0.6)
        layer = (np.mod(gy / period_mm, 1.0) < width).astype(np.float32)
        _apply_print(image, cv2.GaussianBlur(layer, (0, 0), 0.6), colours[0])
        return image
    if motif == "checks":
        width = rng.uniform(0.3, 0.5)
        a = (np.mod(gx / period_mm, 1.0) < width).astype(np.float32)
        b = (np.mod(gy / period_mm, 1.0) < width).astype(np.float32)
        _apply_print(image, cv2.GaussianBlur(0.5 * (a + b), (0, 0), 0.6), colours[0])
        return image
    tile_px = max(int(period_mm * ppm), 8)
    tile = np.zeros((tile_px, tile_px), np.float32)
    centre = (tile_px // 2, tile_px // 2)
    scale = rng.uniform(0.15, 0.35) * tile_px
    if motif == "dots":
        cv2.circle(tile, centre, int(scale), 1.0, -1, cv2.LINE_AA)
    elif motif == "hearts":
        _draw_heart(tile, centre, scale)
    else:
        for _ in range(int(rng.integers(4, 8))):
            angle = rng.uniform(0, 360)
            axes = (int(scale * rng.uniform(0.3, 0.6)), int(scale * rng.uniform(0.12, 0.25)))
            offset = (
                int(centre[0] + scale * 0.5 * math.cos(math.radians(angle))),
                int(centre[1] + scale * 0.5 * math.sin(math.radians(angle))),
            )
            cv2.ellipse(tile, offset, axes, angle, 0, 360, 1.0, -1, cv2.LINE_AA)
    # Half-drop repeat, indexed through the draped fabric coordinates.
    ix = np.floor(gx * ppm).astype(np.int32)
    iy = np.floor(gy * ppm).astype(np.int32)
    row = np.floor_divide(iy, tile_px)
    layer = tile[np.mod(iy, tile_px), np.mod(ix + (row & 1) * (tile_px // 2), tile_px)]
    _apply_print(image, layer, colours[int(rng.integers(0, 2))])
    return image


def _apply_print(image: np.ndarray, layer: np.ndarray, colour: np.ndarray, opacity: float = 0.95) -> None:
    """Ink over the fabric: the ink takes the fabric's shading, so the weave shows through."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    shade = np.clip(grey * np.float32(1 / max(float(grey[::5, ::5].mean()), 1e-4)), 0.5, 1.5)
    alpha = np.float32(opacity) * layer
    image *= (1 - alpha)[..., None]
    image += (alpha * shade)[..., None] * colour[None, None, :]


def _draw_heart(canvas: np.ndarray, centre: tuple[int, int], scale: float, value: float = 1.0) -> None:
    """The Ami de Cœur heart: two lobes over a point."""
    cx, cy = centre
    r = max(int(scale * 0.55), 1)
    cv2.circle(canvas, (int(cx - r * 0.8), int(cy - r * 0.3)), r, value, -1, cv2.LINE_AA)
    cv2.circle(canvas, (int(cx + r * 0.8), int(cy - r * 0.3)), r, value, -1, cv2.LINE_AA)
    points = np.array([[cx - r * 1.75, cy], [cx + r * 1.75, cy], [cx, cy + r * 2.1]], np.int32)
    cv2.fillConvexPoly(canvas, points, value, cv2.LINE_AA)


_FABRICS: dict[str, Callable[..., np.ndarray]] = {
    "twill": _twill,
    "plain_weave": _plain_weave,
    "jersey": _jersey,
    "rib_knit": _rib_knit,
    "fleece": _fleece,
    "printed": _printed,
}


# --- placement ----------------------------------------------------------------------------------------------


def _place(
    rng: np.random.Generator,
    image: np.ndarray,
    box_w: int,
    box_h: int,
    taken: list[tuple[int, int, int, int]],
) -> tuple[int, int]:
    """A top-left corner for a box inside the frame, away from boxes already drawn where possible."""
    h, w = image.shape[:2]
    box_w, box_h = min(box_w, w - 2), min(box_h, h - 2)
    for _ in range(30):
        x = int(rng.integers(1, max(w - box_w, 2)))
        y = int(rng.integers(1, max(h - box_h, 2)))
        if not any(
            x < tx + tw and tx < x + box_w and y < ty + th and ty < y + box_h for tx, ty, tw, th in taken
        ):
            return x, y
    return x, y


def _padded_view(
    image: np.ndarray, x: int, y: int, w: int, h: int, pad: int
) -> tuple[np.ndarray, tuple[slice, slice]]:
    """The picture around a box grown by `pad` (clipped to the frame), and the matching part of a canvas
    of the grown box's size."""
    height, width = image.shape[:2]
    x0, y0 = max(x - pad, 0), max(y - pad, 0)
    x1, y1 = min(x + w + pad, width), min(y + h + pad, height)
    inner = (slice(y0 - (y - pad), y1 - (y - pad)), slice(x0 - (x - pad), x1 - (x - pad)))
    return image[y0:y1, x0:x1], inner


def _irregular_blob(rng: np.random.Generator, h: int, w: int, roughness: float) -> np.ndarray:
    """A smooth irregular shape filling most of an h x w box: signed field, > 0 inside."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ry, rx = h / 2, w / 2
    d = np.sqrt(((xx - rx + 0.5) / rx) ** 2 + ((yy - ry + 0.5) / ry) ** 2)
    noise = _smooth_noise(rng, h, w, max(min(h, w) / 4, 2))
    # Ragged inside the box, but always closing before its edge (no straight sides).
    return np.minimum((1 - d / 0.8) + roughness * 0.3 * noise, 3 * (1 - d))


def _supersampled_disc_mask(rng: np.random.Generator, size_px: float, roughness: float) -> np.ndarray:
    """An irregular round shape of about `size_px` across, as coverage 0..1 (anti-aliased)."""
    ss = 4
    n = max(int(math.ceil(size_px * 1.3)) + 4, 6)
    big = n * ss
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32)
    c = big / 2
    angle = np.arctan2(yy - c, xx - c)
    radius = (
        size_px
        * ss
        / 2
        * (
            1
            + roughness
            * sum(rng.uniform(-0.12, 0.12) * np.cos(k * angle + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5))
        )
    )
    inside = (np.hypot(yy - c, xx - c) <= radius).astype(np.float32)
    return cv2.resize(inside, (n, n), interpolation=cv2.INTER_AREA)


def _opening_colour(rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    """What shows through a hole: the light board under the piece, or the back panel in shadow."""
    dark_fabric = float(base.mean()) < 0.06
    if dark_fabric or rng.random() < 0.5:
        return np.array(_BACKDROP_LIGHT, np.float32) * rng.uniform(0.85, 1.15)
    return base * rng.uniform(0.12, 0.3)


def _cut(
    rng: np.random.Generator,
    image: np.ndarray,
    x: int,
    y: int,
    coverage: np.ndarray,
    base: np.ndarray,
    ppm: float,
) -> np.ndarray:
    """Open the fabric where `coverage` is 1: the opening's colour, a shadow inside the rim, frayed yarns."""
    h, w = coverage.shape
    region = image[y : y + h, x : x + w]
    opening = _opening_colour(rng, base)
    inside = (coverage > 0.5).astype(np.uint8)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3) / ppm  # mm from the rim, inside
    rim_shadow = 1 - 0.45 * np.exp(-depth / 0.5)
    fill = opening[None, None, :] * rim_shadow[..., None]
    fray = np.clip(coverage * (0.75 + 0.5 * rng.random((h, w), dtype=np.float32)), 0, 1)
    fray = np.where(depth > 0.6, coverage, fray)[..., None]
    region *= 1 - fray
    region += fray * fill
    # Broken yarn ends just outside the rim, a little lighter than the cloth.
    outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3) / ppm
    fuzz = (np.exp(-outside / 0.35) * (1 - coverage) * rng.random((h, w), dtype=np.float32) * 0.35)[..., None]
    region += fuzz * (np.clip(base * 1.6 + 0.03, 0, 1)[None, None, :] - region)
    return coverage > 0.5


def _inject_hole(rng, image, ppm, spec, base, taken) -> InjectedDefect:
    coverage = _supersampled_disc_mask(rng, spec.size_mm * ppm, roughness=1.0)
    n = coverage.shape[0]
    x, y = _place(rng, image, n, n, taken)
    mask = _cut(rng, image, x, y, coverage, base, ppm)
    return _defect("hole", x, y, mask, _equivalent_diameter(mask, ppm), 1.0)


def _inject_tear(rng, image, ppm, spec, base, taken) -> InjectedDefect:
    length_px = spec.size_mm * ppm
    width_mm = rng.uniform(0.5, 2.5)
    ss = 4
    angle = rng.uniform(0, np.pi)
    steps = 12
    t = np.linspace(-0.5, 0.5, steps)
    jag = np.cumsum(rng.normal(0, 0.06, steps))
    jag -= np.linspace(jag[0], jag[-1], steps)
    px = t * length_px * math.cos(angle) - jag * length_px * 0.25 * math.sin(angle)
    py = t * length_px * math.sin(angle) + jag * length_px * 0.25 * math.cos(angle)
    pad = width_mm * ppm + 4
    x0, y0 = px.min() - pad, py.min() - pad
    bw, bh = int(px.max() - x0 + pad) + 1, int(py.max() - y0 + pad) + 1
    canvas = np.zeros((bh * ss, bw * ss), np.float32)
    pts = np.stack([(px - x0) * ss, (py - y0) * ss], axis=1)
    for i in range(steps - 1):
        opening = math.sin(math.pi * (i + 0.5) / (steps - 1)) ** 0.7
        thickness = max(int(round(ss * ppm * (0.3 + width_mm * opening))), 1)
        cv2.line(
            canvas,
            tuple(int(v) for v in pts[i]),
            tuple(int(v) for v in pts[i + 1]),
            1.0,
            thickness,
            cv2.LINE_AA,
        )
    coverage = cv2.resize(canvas, (bw, bh), interpolation=cv2.INTER_AREA)
    x, y = _place(rng, image, bw, bh, taken)
    coverage = coverage[: image.shape[0] - y, : image.shape[1] - x]
    mask = _cut(rng, image, x, y, coverage, base, ppm)
    return _defect("tear", x, y, mask, spec.size_mm, 1.0)


# Stains: a tint multiplied into the cloth (darkening), or a colour the cloth is pulled towards (residues and
# bleach marks, which show on dark cloth where darkening would not).
_DARK_STAINS = {
    "coffee": (0.55, 0.38, 0.24),
    "wine": (0.50, 0.20, 0.30),
    "grease": (0.62, 0.60, 0.50),
    "ink": (0.30, 0.36, 0.62),
    "mud": (0.48, 0.40, 0.30),
}
_LIGHT_STAINS = {"bleach": None, "residue": (0.42, 0.42, 0.40), "paint": (0.55, 0.50, 0.40)}


def _inject_stain(rng, image, ppm, spec, base, taken) -> InjectedDefect:
    size_px = spec.size_mm * ppm
    aspect = rng.uniform(0.55, 1.0)
    bw, bh = (
        (int(size_px), int(size_px * aspect)) if rng.random() < 0.5 else (int(size_px * aspect), int(size_px))
    )
    bw, bh = max(bw, 3), max(bh, 3)
    x, y = _place(rng, image, bw, bh, taken)
    bw, bh = min(bw, image.shape[1] - x), min(bh, image.shape[0] - y)
    field_ = _irregular_blob(rng, bh, bw, roughness=rng.uniform(0.4, 1.2))
    mask = field_ > 0
    soft_px = rng.uniform(0.2, 1.2) * ppm
    pad = int(3 * soft_px) + 1
    padded = np.pad(mask, pad).astype(np.float32)
    inside = cv2.distanceTransform(padded.astype(np.uint8), cv2.DIST_L2, 3) / ppm
    tide = 1 + rng.uniform(0, 0.8) * np.exp(-inside / 0.8)  # dried edge, darker than the middle
    mottle = 1 + 0.15 * _smooth_noise(rng, *padded.shape, max(ppm * 2, 1))
    shape = cv2.GaussianBlur(padded, (0, 0), soft_px) * tide * mottle
    dark_cloth = float(base.mean()) < 0.05
    light_cloth = float(base.mean()) > 0.35
    lighten = dark_cloth or (not light_cloth and rng.random() < 0.3)
    if lighten:  # residues and bleach: pulled towards a colour (they show on dark cloth)
        name = str(rng.choice(list(_LIGHT_STAINS)))
        colour = (
            np.clip(base * 3.5 + np.array([0.10, 0.05, 0.02], np.float32), 0, 1)
            if name == "bleach"
            else np.array(_LIGHT_STAINS[name], np.float32)
        )
    else:  # coffee, wine, grease, ink, mud: a tint multiplied in
        colour = np.array(_DARK_STAINS[str(rng.choice(list(_DARK_STAINS)))], np.float32)

    def stained(opacity: float) -> np.ndarray:
        return base + opacity * 0.8 * (colour - base) if lighten else base * (1 - opacity * (1 - colour))

    low, high = 0.05, 1.0
    for _ in range(16):  # the opacity giving the asked colour difference (or the most this cloth allows)
        mid = (low + high) / 2
        low, high = (mid, high) if _delta_e(base, stained(mid)) < spec.strength else (low, mid)
    opacity = (low + high) / 2
    region, inner = _padded_view(image, x, y, bw, bh, pad)
    alpha = np.clip(shape[inner] * np.float32(opacity), 0, 1)[..., None]
    if lighten:
        region += alpha * (colour[None, None, :] - region) * 0.8
    else:
        region *= 1 - alpha * (1 - colour[None, None, :])
    strength = _delta_e(base, stained(opacity))
    extent = max(_feret(mask), 1) / ppm
    return _defect("stain", x, y, mask, extent, strength)


def _inject_pilling(rng, image, ppm, spec, base, taken) -> InjectedDefect:
    intensity = spec.strength
    size_px = spec.size_mm * ppm
    bw, bh = int(size_px), int(size_px * rng.uniform(0.5, 1.0))
    x, y = _place(rng, image, bw, bh, taken)
    bw, bh = min(bw, image.shape[1] - x), min(bh, image.shape[0] - y)
    patch = _irregular_blob(rng, bh, bw, roughness=0.8) > 0
    density = 3 + 22 * intensity  # pills per cm2
    count = int(density * patch.sum() / (ppm * 10) ** 2)
    ss = 2
    pills = np.zeros((bh * ss, bw * ss), np.float32)
    shadows = np.zeros_like(pills)
    px = rng.uniform(0, bw, count)
    py = rng.uniform(0, bh, count)
    keep = patch[py.astype(int).clip(0, bh - 1), px.astype(int).clip(0, bw - 1)]
    radii = (0.4 + 0.6 * intensity) * rng.uniform(0.7, 1.4, count) * ppm * ss
    for cx, cy, r in zip(px[keep] * ss, py[keep] * ss, radii[keep], strict=True):
        r_int = max(int(r), 1)
        cv2.circle(shadows, (int(cx + r * 0.4), int(cy + r * 0.5)), r_int, 1.0, -1, cv2.LINE_AA)
        cv2.circle(pills, (int(cx), int(cy)), r_int, 1.0, -1, cv2.LINE_AA)
    pills = cv2.resize(
        cv2.GaussianBlur(pills, (0, 0), ss * ppm * 0.12), (bw, bh), interpolation=cv2.INTER_AREA
    )
    shadows = cv2.resize(
        cv2.GaussianBlur(shadows, (0, 0), ss * ppm * 0.2), (bw, bh), interpolation=cv2.INTER_AREA
    )
    region = image[y : y + bh, x : x + bw]
    fuzz_colour = np.clip(base * rng.uniform(1.3, 1.8) + 0.01, 0, 1) if base.mean() < 0.4 else base * 0.8
    contrast = 0.6 + 0.4 * intensity
    region *= (1 - 0.3 * contrast * np.clip(shadows - pills, 0, 1))[..., None]
    alpha = (contrast * np.clip(pills, 0, 1))[..., None]
    region += alpha * (
        fuzz_colour[None, None, :] * (0.9 + 0.2 * rng.random((bh, bw, 1), dtype=np.float32)) - region
    )
    # Worn surface: the patch is a little fuzzier and lighter overall.
    haze = cv2.GaussianBlur(patch.astype(np.float32), (0, 0), ppm * 2) * 0.04 * intensity
    region += haze[..., None] * (fuzz_colour[None, None, :] - region)
    return _defect("pilling", x, y, patch, spec.size_mm, intensity)


def _faded(colour: np.ndarray, amount: float) -> np.ndarray:
    """A colour after sun and washing: lighter, less saturated."""
    grey = float(colour @ np.array([0.2126, 0.7152, 0.0722], np.float32))
    return ((1 - amount) * colour + amount * (grey * 1.4 + 0.05)).astype(np.float32)


def _inject_fading(rng, image, ppm, spec, base, taken) -> InjectedDefect:
    low, high = 0.0, 1.0
    for _ in range(20):  # the bleaching that reaches the asked colour difference on this cloth
        mid = (low + high) / 2
        low, high = (mid, high) if _delta_e(base, _faded(base, mid)) < spec.strength else (low, mid)
    amount = (low + high) / 2
    size_px = spec.size_mm * ppm
    bw = int(min(size_px, image.shape[1] * 0.7))
    bh = int(min(size_px * rng.uniform(0.5, 1.0), image.shape[0] * 0.7))
    x, y = _place(rng, image, bw, bh, taken)
    field_ = _irregular_blob(rng, bh, bw, roughness=0.6)
    mask = field_ > 0
    soft_px = rng.uniform(4, 12) * ppm
    pad = int(2.5 * soft_px)
    alpha = cv2.GaussianBlur(np.pad(mask, pad).astype(np.float32), (0, 0), soft_px)
    region, inner = _padded_view(image, x, y, bw, bh, pad)
    alpha = (np.clip(alpha[inner] * 1.6, 0, 1) * np.float32(amount))[..., None]
    grey = region @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    region += alpha * (grey[..., None] * 1.4 + 0.05 - region)
    strength = _delta_e(base, _faded(base, amount))
    return _defect("fading", x, y, mask, max(bw, bh) / ppm, strength)


_INJECTORS: dict[str, Callable[..., InjectedDefect]] = {
    "hole": _inject_hole,
    "tear": _inject_tear,
    "stain": _inject_stain,
    "pilling": _inject_pilling,
    "fading": _inject_fading,
}


def _defect(kind: str, x: int, y: int, mask: np.ndarray, size_mm: float, strength: float) -> InjectedDefect:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        ys, xs = np.array([0]), np.array([0])
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    return InjectedDefect(
        kind=kind,
        bbox=(x + x0, y + y0, x1 - x0, y1 - y0),
        size_mm=float(size_mm),
        strength=float(strength),
        severity=severity_for(kind, size_mm, strength),
        mask=mask[y0:y1, x0:x1].copy(),
    )


def _equivalent_diameter(mask: np.ndarray, ppm: float) -> float:
    return 2 * math.sqrt(float(mask.sum()) / math.pi) / ppm


def _feret(mask: np.ndarray) -> float:
    """The longest extent of a shape in pixels (from its convex hull)."""
    points = cv2.findNonZero(mask.astype(np.uint8))
    if points is None:
        return 0.0
    hull = cv2.convexHull(points).reshape(-1, 2).astype(np.float32)
    diffs = hull[:, None, :] - hull[None, :, :]
    return float(np.sqrt((diffs**2).sum(-1)).max())


# --- nuisances ----------------------------------------------------------------------------------------------


def _line_distance(h: int, w: int, point: tuple[float, float], angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance (px) across a line through `point` at `angle`, and position (px) along it."""
    x = np.arange(w, dtype=np.float32)[None, :] - point[0]
    y = np.arange(h, dtype=np.float32)[:, None] - point[1]
    across = -x * math.sin(angle) + y * math.cos(angle)
    along = x * math.cos(angle) + y * math.sin(angle)
    return across, along


def _fold(rng, shading, ppm) -> None:
    h, w = shading.shape
    across, _ = _line_distance(h, w, (rng.uniform(0, w), rng.uniform(0, h)), rng.uniform(0, np.pi))
    width = rng.uniform(4, 15) * ppm
    amplitude = rng.uniform(0.1, 0.3)
    d = across / width
    shading *= 1 - amplitude * d * np.exp(0.5 - 0.5 * d * d) + 0.5 * amplitude * np.exp(-((d / 0.4) ** 2))


def _wrinkles(rng, shading, ppm) -> None:
    h, w = shading.shape
    for _ in range(int(rng.integers(3, 8))):
        length = rng.uniform(40, 200) * ppm
        width = rng.uniform(2, 6) * ppm
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        half = int(length / 2 + 3 * width)
        x0, x1, y0, y1 = (
            max(int(cx) - half, 0),
            min(int(cx) + half, w),
            max(int(cy) - half, 0),
            min(int(cy) + half, h),
        )
        if x1 <= x0 or y1 <= y0:
            continue
        across, along = _line_distance(y1 - y0, x1 - x0, (cx - x0, cy - y0), rng.uniform(0, np.pi))
        d = across / width
        envelope = np.exp(-2 * (along / (length / 2)) ** 2)
        amplitude = rng.uniform(0.04, 0.15)
        shading[y0:y1, x0:x1] *= 1 - amplitude * envelope * d * np.exp(0.5 - 0.5 * d * d)


def _seam(rng, image, shading, ppm, base) -> None:
    h, w = image.shape[:2]
    vertical = rng.random() < 0.5
    angle = (np.pi / 2 if vertical else 0.0) + math.radians(rng.uniform(-4, 4))
    point = (rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h)
    # Everything below happens within ~12 mm of the line: work on that strip only.
    reach = 12 * ppm + abs(math.tan(angle if not vertical else angle - np.pi / 2)) * max(h, w) / 2 + 2
    if vertical:
        x0, x1 = max(int(point[0] - reach), 0), min(int(point[0] + reach), w)
        rows, cols, origin = slice(0, h), slice(x0, x1), (point[0] - x0, point[1])
    else:
        y0, y1 = max(int(point[1] - reach), 0), min(int(point[1] + reach), h)
        rows, cols, origin = slice(y0, y1), slice(0, w), (point[0], point[1] - y0)
    strip, strip_shading = image[rows, cols], shading[rows, cols]
    sh, sw = strip.shape[:2]
    across, _ = _line_distance(sh, sw, origin, angle)
    d = across / ppm
    strip_shading *= 1 + 0.08 * np.exp(-((d / 1.5) ** 2)) - 0.12 * np.exp(-(((d - 3.0) / 1.0) ** 2))
    panel = np.float32(rng.uniform(0.95, 1.05))  # another panel, another dye lot
    strip *= np.where(d > 0, panel, np.float32(1.0))[..., None]
    beyond = (slice(rows.stop, h), cols) if not vertical else (rows, slice(cols.stop, w))
    image[beyond] *= panel
    thread = (
        base * rng.uniform(0.6, 0.8)
        if rng.random() < 0.6
        else np.array([0.8, 0.8, 0.75] if base.mean() < 0.3 else [0.05, 0.05, 0.06], np.float32)
    )
    stitch, gap = rng.uniform(2.0, 3.5), rng.uniform(0.8, 1.5)
    rows_mm = [rng.uniform(2, 4)] + ([rng.uniform(5, 7)] if rng.random() < 0.5 else [])
    canvas = np.zeros((sh, sw), np.float32)
    span = math.hypot(sh, sw) / ppm
    thickness = max(int(round(0.5 * ppm)), 1)
    direction = np.array([math.cos(angle), math.sin(angle)])
    for offset in rows_mm:
        normal = offset * ppm * np.array([-math.sin(angle), math.cos(angle)])
        pos = -span
        while pos < span:
            p = np.array(origin) + pos * ppm * direction + normal
            q = p + stitch * ppm * direction
            if -10 < p[0] < sw + 10 and -10 < p[1] < sh + 10:
                cv2.line(canvas, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), 1.0, thickness, cv2.LINE_AA)
            pos += stitch + gap
    alpha = (0.85 * canvas)[..., None]
    strip *= 1 - alpha
    strip += alpha * thread[None, None, :]


def _placed_print(rng, image, ppm) -> None:
    """A graphic on the piece (the heart logo, a badge, a text line): crisp, saturated, not a defect."""
    size = int(rng.uniform(25, 120) * ppm)
    canvas = np.zeros((size, size), np.float32)
    kind = str(rng.choice(["heart", "badge", "text"]))
    c = (size // 2, size // 2)
    if kind == "heart":
        _draw_heart(canvas, c, size * 0.3)
    elif kind == "badge":
        cv2.circle(canvas, c, int(size * 0.45), 1.0, -1, cv2.LINE_AA)
        cv2.circle(canvas, c, int(size * 0.3), 0.0, max(int(size * 0.04), 1), cv2.LINE_AA)
    else:
        letter = size / 8
        for i in range(6):
            x0 = int(letter * (0.6 + i * 1.15))
            cv2.rectangle(
                canvas, (x0, int(size * 0.4)), (int(x0 + letter * 0.8), int(size * 0.6)), 1.0, -1, cv2.LINE_AA
            )
    x, y = _place(rng, image, size, size, [])
    region = image[y : y + size, x : x + size]
    canvas = canvas[: region.shape[0], : region.shape[1]]
    colour = _linear(np.array(PALETTE[str(rng.choice(list(PALETTE)))], np.float32) / 255)
    _apply_print(region, canvas, colour, opacity=float(rng.uniform(0.85, 1.0)))


def _lint(rng, image, ppm) -> None:
    h, w = image.shape[:2]
    canvas = np.zeros((h, w), np.float32)
    dark_canvas = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(5, 40))):
        length = rng.uniform(2, 15) * ppm
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, 2 * np.pi)
        bend = rng.uniform(-0.6, 0.6)
        points = []
        for t in np.linspace(0, 1, 6):
            a = angle + bend * t
            points.append((x + t * length * math.cos(a), y + t * length * math.sin(a)))
        target = dark_canvas if rng.random() < 0.3 else canvas
        strength = min(rng.uniform(0.15, 0.3) * ppm, 1.0)
        cv2.polylines(target, [np.array(points, np.int32)], False, strength, 1, cv2.LINE_AA)
    for _ in range(int(rng.integers(3, 20))):
        r = rng.uniform(0.15, 0.4) * ppm
        cv2.circle(
            canvas, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), max(int(r), 1), 0.8, -1, cv2.LINE_AA
        )
    # Lint covers a few hundred pixels: blend those only.
    ys, xs = np.nonzero(canvas)
    light = np.clip(canvas[ys, xs], 0, 1)[:, None]
    image[ys, xs] += light * (0.7 - image[ys, xs])
    ys, xs = np.nonzero(dark_canvas)
    image[ys, xs] *= 1 - 0.8 * np.clip(dark_canvas[ys, xs], 0, 1)[:, None]


def _hang_tag(rng, image, ppm, taken) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """A card hang tag (the sign of an unworn piece): printed name, barcode, punched hole, string, shadow."""
    tw, th = int(rng.uniform(32, 45) * ppm), int(rng.uniform(55, 85) * ppm)
    card = np.ones((th, tw, 3), np.float32) * (
        np.array([0.85, 0.84, 0.80]) if rng.random() < 0.75 else np.array([0.02, 0.02, 0.02])
    )
    ink = 0.03 if card[0, 0, 0] > 0.5 else 0.8
    cv2.rectangle(card, (int(tw * 0.2), int(th * 0.25)), (int(tw * 0.8), int(th * 0.33)), (ink,) * 3, -1)
    for i in range(3):
        y = int(th * (0.4 + i * 0.06))
        cv2.rectangle(
            card,
            (int(tw * 0.15), y),
            (int(tw * (0.5 + 0.3 * rng.random())), y + max(int(th * 0.02), 1)),
            (ink,) * 3,
            -1,
        )
    bx = int(tw * 0.15)
    while bx < tw * 0.85:
        bar = max(int(rng.integers(1, 4) * ppm * 0.25), 1)
        if rng.random() < 0.55:
            cv2.rectangle(card, (bx, int(th * 0.66)), (bx + bar, int(th * 0.86)), (ink,) * 3, -1)
        bx += bar + max(int(ppm * 0.25), 1)
    shape = np.zeros((th, tw), np.float32)
    cv2.rectangle(shape, (0, 0), (tw - 1, th - 1), 1.0, -1)
    cv2.circle(shape, (tw // 2, int(th * 0.1)), max(int(ppm * 2), 1), 0.0, -1, cv2.LINE_AA)
    angle = rng.uniform(-35, 35)
    diag = int(math.hypot(tw, th)) + int(ppm * 6)
    matrix = cv2.getRotationMatrix2D((tw / 2, th / 2), angle, 1.0)
    matrix[:, 2] += [(diag - tw) / 2, (diag - th) / 2]
    card_r = cv2.warpAffine(card, matrix, (diag, diag), flags=cv2.INTER_LINEAR)
    shape_r = cv2.warpAffine(shape, matrix, (diag, diag), flags=cv2.INTER_LINEAR)
    x, y = _place(rng, image, diag, diag, taken)
    region = image[y : y + diag, x : x + diag]
    card_r, shape_r = (
        card_r[: region.shape[0], : region.shape[1]],
        shape_r[: region.shape[0], : region.shape[1]],
    )
    shift = np.float32([[1, 0, ppm * 1.5], [0, 1, ppm * 2.0]])
    shadow = cv2.GaussianBlur(cv2.warpAffine(shape_r, shift, shape_r.shape[::-1]), (0, 0), ppm * 1.5)
    region *= (1 - 0.4 * shadow)[..., None]
    region *= (1 - shape_r)[..., None]
    region += shape_r[..., None] * card_r
    mask = shape_r > 0.5
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    bbox = (x + x0, y + y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1)
    return bbox, mask[y0 : y0 + bbox[3], x0 : x0 + bbox[2]].copy()


def _lighting(rng, image) -> None:
    h, w = image.shape[:2]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    angle = rng.uniform(0, 2 * np.pi)
    gradient = 1 + rng.uniform(0.08, 0.3) * (x * math.cos(angle) + y * math.sin(angle))
    vignette = 1 - rng.uniform(0.0, 0.2) * (x * x + y * y) / 2
    balance = rng.uniform(0.94, 1.06, 3).astype(np.float32)
    image *= (gradient * vignette)[..., None]
    image *= balance


# --- camera -------------------------------------------------------------------------------------------------


def _camera(rng, image, ppm, scene: Scene) -> np.ndarray:
    """Exposure, optics (and defocus), sRGB encoding and sensor noise; BGR uint8."""
    image *= np.float32(scene.exposure)
    sigma = math.hypot(0.4, scene.blur_mm * ppm)
    np.clip(image, 0, 1, out=image)
    np.power(image, np.float32(1 / 2.2), out=image)
    srgb = cv2.GaussianBlur(image, (0, 0), sigma, dst=image)
    noise = rng.random(srgb.shape[:2], dtype=np.float32)
    noise -= np.float32(0.5)
    srgb += np.float32(0.02) * noise[..., None]
    return cv2.cvtColor(cv2.convertScaleAbs(srgb, alpha=255), cv2.COLOR_RGB2BGR)
