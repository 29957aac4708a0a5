"""The analysis on generated photos, with the committed model: clear defects found where they are, clean cloth
left alone, retake flags, the contract's shape, and bboxes in the uploaded (EXIF-oriented) pixels."""

import io

import msgspec
import numpy as np
import pytest
from PIL import Image

from forever.grading.analysis import analyse, examine, survey
from forever.grading.features import FEATURE_NAMES, FINE_PX_PER_MM
from forever.grading.model import BLURRED, DARK, DEFECT_KINDS, GRADES, SEVERITIES, SHOWN_SCORE
from forever.grading.synthetic import STATION_SIZE, DefectSpec, Scene, render


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def clear_hole(
    seed: int = 11, family: str = "plain_weave", colour: str = "navy", size_mm: float = 8.0
) -> Scene:
    return Scene(seed=seed, family=family, colour=colour, defects=(DefectSpec("hole", size_mm),))


@pytest.mark.parametrize(
    ("family", "colour"), [("plain_weave", "navy"), ("jersey", "grey_marl"), ("twill", "indigo")]
)
def test_a_clear_hole_is_found_where_it_is(family, colour):
    sample = render(clear_hole(family=family, colour=colour))
    hole = sample.defects[0]
    analysis = analyse(sample.jpeg)
    holes = [f for f in analysis.findings if f.kind == "hole" and f.score >= SHOWN_SCORE]
    assert holes, analysis.findings
    assert any(overlaps(f.bbox, hole.bbox) for f in holes)
    assert analysis.suggested_grade == "refused"


def test_a_clear_stain_is_found_where_it_is():
    scene = Scene(seed=5, family="fleece", colour="ecru", defects=(DefectSpec("stain", 30.0, 20.0),))
    sample = render(scene)
    stains = [f for f in analyse(sample.jpeg).findings if f.kind == "stain" and f.score >= SHOWN_SCORE]
    assert any(overlaps(f.bbox, sample.defects[0].bbox) for f in stains)


@pytest.mark.parametrize(
    ("seed", "family", "colour"),
    [
        (1, "plain_weave", "white"),
        (2, "jersey", "black"),
        (3, "fleece", "camel"),
        (4, "rib_knit", "red"),
        (5, "twill", "indigo"),
    ],
)
def test_clean_cloth_has_no_finding_shown(seed, family, colour):
    analysis = analyse(render(Scene(seed=seed, family=family, colour=colour)).jpeg)
    assert [f for f in analysis.findings if f.score >= SHOWN_SCORE] == []
    assert analysis.suggested_grade in ("excellent", "new_with_tags")


def test_the_analysis_has_exactly_the_contracts_shape():
    analysis = analyse(render(clear_hole()).jpeg)
    wire = msgspec.json.decode(msgspec.json.encode(analysis))
    assert set(wire) == {"width", "height", "findings", "quality", "suggested_grade", "elapsed_ms"}
    assert (wire["width"], wire["height"]) == (1600, 1200)
    assert set(wire["quality"]) == {"sharpness", "exposure"}
    assert 0 <= wire["quality"]["sharpness"] <= 1 and 0 <= wire["quality"]["exposure"] <= 1
    assert wire["suggested_grade"] in GRADES
    assert wire["elapsed_ms"] > 0
    for finding in wire["findings"]:
        assert set(finding) == {"kind", "bbox", "score", "severity"}
        assert finding["kind"] in DEFECT_KINDS and finding["severity"] in SEVERITIES
        assert 0 <= finding["score"] <= 1
        x, y, w, h = finding["bbox"]
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= 1600 and y + h <= 1200


def test_the_examination_suggests_with_confidence_and_reasons():
    result = examine(render(clear_hole(size_mm=14)).jpeg)
    assert result.suggestion.grade == "refused"
    assert result.suggestion.refusal_reason == "hole"
    assert 0 < result.suggestion.confidence <= 1
    assert any("hole" in reason for reason in result.suggestion.reasons)


def test_a_blurred_photo_asks_for_a_retake():
    scene = Scene(seed=21, family="jersey", colour="white", nuisances=("seam", "print", "blur"), blur_mm=1.6)
    result = examine(render(scene).jpeg)
    assert BLURRED in result.retake
    sharp = examine(render(Scene(seed=21, family="jersey", colour="white", nuisances=("seam", "print"))).jpeg)
    assert BLURRED not in sharp.retake
    assert sharp.analysis.quality.sharpness > result.analysis.quality.sharpness


def test_a_dark_photo_asks_for_a_retake():
    dark = examine(render(Scene(seed=22, family="fleece", colour="grey_marl", exposure=0.01)).jpeg)
    assert DARK in dark.retake
    normal = examine(render(Scene(seed=22, family="fleece", colour="black")).jpeg)
    assert DARK not in normal.retake
    assert normal.analysis.quality.exposure > dark.analysis.quality.exposure


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_bboxes_are_in_the_uploaded_images_pixels_after_exif_orientation(orientation):
    """The same photo stored sideways with an EXIF orientation: the hole is reported where a viewer sees it."""
    sample = render(clear_hole(size_mm=10))
    x, y, w, h = sample.defects[0].bbox
    rgb = np.ascontiguousarray(sample.image[..., ::-1])
    # Store the pixels so that applying `orientation` gives back the upright photo.
    stored = {6: np.rot90(rgb, 1), 8: np.rot90(rgb, -1), 3: np.rot90(rgb, 2)}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(stored)).save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    analysis = analyse(buffer.getvalue())
    assert (analysis.width, analysis.height) == (1600, 1200)
    holes = [f for f in analysis.findings if f.kind == "hole" and f.score >= SHOWN_SCORE]
    assert any(overlaps(f.bbox, (x, y, w, h)) for f in holes), analysis.findings


def test_a_larger_photo_of_the_same_framing_reports_in_its_own_pixels():
    scene = Scene(
        seed=31,
        family="plain_weave",
        colour="navy",
        defects=(DefectSpec("hole", 9.0),),
        width=2400,
        height=1800,
    )
    sample = render(scene)
    analysis = analyse(sample.jpeg)
    assert (analysis.width, analysis.height) == (2400, 1800)
    holes = [f for f in analysis.findings if f.kind == "hole" and f.score >= SHOWN_SCORE]
    assert any(overlaps(f.bbox, sample.defects[0].bbox) for f in holes)


@pytest.mark.parametrize(("size", "tile_px_per_mm"), [((1600, 1200), 8 / 3), (STATION_SIZE, FINE_PX_PER_MM)])
def test_pilling_is_examined_on_tiles_at_the_photos_full_resolution(size, tile_px_per_mm):
    """The pilled patch's candidates are cut from the photo at its own resolution (at most FINE_PX_PER_MM) and
    hold far more small blobs than the photo's reference tiles; the same cloth without pills has none."""
    at = {name: FEATURE_NAMES.index(name) for name in ("fine_px_per_mm", "fine_peaks_photo")}
    pilled = render(Scene(seed=8, family="fleece", colour="navy", defects=(DefectSpec("pilling", 100.0, 0.7),),
                          width=size[0], height=size[1]))
    found = survey(pilled.jpeg)
    scale = found.work_size[0] / size[0]
    x, y, w, h = (v * scale for v in pilled.defects[0].bbox)
    tiled = [c for c in found.candidates if not np.isnan(c.features[at["fine_px_per_mm"]])]
    on_patch = [c for c in tiled if overlaps(c.bbox, (x, y, w, h))]
    assert on_patch and all(c.features[at["fine_px_per_mm"]] == pytest.approx(tile_px_per_mm) for c in tiled)
    assert all(c.features[at["fine_peaks_photo"]] > 1.5 for c in on_patch)  # log ratio: 4.5 times as many
    clean = survey(render(Scene(seed=8, family="fleece", colour="navy", width=size[0], height=size[1])).jpeg)
    assert all(c.features[at["fine_peaks_photo"]] < 1.0 for c in clean.candidates if c.proposer == "pill")
