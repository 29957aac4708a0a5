"""Training and evaluation end to end on a tiny synthetic set (the full runs go through the CLI), and
retraining with experts' decisions."""

import pytest
from click.testing import CliRunner

from forever.cli import main
from forever.grading import training
from forever.grading.analysis import examine, survey
from forever.grading.classifier import MANIFEST_FILE, MODEL_FILE, REGION_CLASSES, load_model
from forever.grading.synthetic import DefectSpec, Scene, render


def test_train_then_evaluate_through_the_cli_writes_the_model_card_and_the_report(tmp_path):
    runner = CliRunner()
    model_dir, report_dir = tmp_path / "model", tmp_path / "report"
    trained = runner.invoke(
        main,
        [
            "grading",
            "train",
            *("--images", "16", "--workers", "1", "--seed", "7", "--station-share", "0"),
            *("--out", str(model_dir), "--no-experts"),
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert (model_dir / MODEL_FILE).is_file() and (model_dir / MANIFEST_FILE).is_file()
    model = load_model(model_dir)
    assert model.training["images"] == 16 and model.training["seed"] == 7
    assert model.training["expert_photos"] == 0  # without a database: the experts' decisions are in the API tests
    assert model.training["holdout_family"] not in model.training["training_families"]
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "Synthetic only" in card and "--images 16" in card and "--no-experts" in card
    assert model.training["station_share"] == 0 and "--station-share 0" in card

    evaluated = runner.invoke(
        main,
        [
            "grading",
            "evaluate",
            "--model",
            str(model_dir),
            "--out",
            str(report_dir),
            "--per-kind",
            "2",
            "--negatives",
            "3",
            "--retake",
            "1",
            "--workers",
            "1",
            "--size",
            "1600x1200",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = (report_dir / "report.md").read_text()
    assert "synthetic" in report.lower() and "1600 x 1200" in report
    assert "Recall at 1% and 5% false positives" in report and "Grade" in report
    for picture in ("recall_at_fp.png", "recall_vs_size.png", "grade_confusion.png"):
        assert (report_dir / picture).stat().st_size > 1000
    assert list((report_dir / "examples").glob("*.jpg"))
    assert (report_dir / "metrics.json").is_file()


@pytest.fixture(scope="module")
def clean_photo() -> bytes:
    return render(Scene(seed=41, family="fleece", colour="beige")).jpeg


def test_expert_boxes_label_the_candidates_they_cover():
    sample = render(Scene(seed=42, family="plain_weave", colour="navy", defects=(DefectSpec("hole", 9.0),)))
    box = training.LabelledBox("hole", sample.defects[0].bbox)
    rows = training.rows_for_expert(training.LabelledPhoto(sample.jpeg, "refused", "hole", (box,)))
    assert REGION_CLASSES.index("hole") in set(rows.labels.tolist())
    assert rows.weight == training.EXPERT_WEIGHT and rows.source == "expert"
    unboxed = training.rows_for_expert(training.LabelledPhoto(sample.jpeg, "refused", "hole"))
    assert set(unboxed.labels.tolist()) == {-1}  # a defect somewhere: only the grade model learns from it


def test_retraining_with_experts_decisions_changes_what_is_suggested(clean_photo):
    """Experts graded this clean-looking piece new_with_tags (its tag was inside): retraining follows them."""
    config = training.TrainingConfig(images=8, seed=5, workers=1, region_iterations=20, station_share=0)
    before = training.fit(training.synthetic_rows(config), config)
    experts = [training.LabelledPhoto(clean_photo, "new_with_tags") for _ in range(3)]
    after = training.train(config, extra=experts)
    assert after.training["expert_photos"] == 3
    assert examine(clean_photo, model=before).suggestion.grade != "new_with_tags"
    assert examine(clean_photo, model=after).suggestion.grade == "new_with_tags"


def test_labelled_photos_refuse_unknown_grades_and_kinds(clean_photo):
    with pytest.raises(ValueError):
        training.LabelledPhoto(clean_photo, "worn")
    with pytest.raises(ValueError):
        training.LabelledPhoto(
            clean_photo, "refused", "stain", (training.LabelledBox("smudge", (0, 0, 5, 5)),)
        )
    assert survey(clean_photo).header.width == 1600
