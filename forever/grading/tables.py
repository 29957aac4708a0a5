"""The grading station's records: stored photos with their analyses, who opened which piece and who holds it,
decisions with the model's suggestion beside them, counter-offers, and return parcels.

Pieces are trade-in items (forever.tradein owns them): they are referred to by id, not by a foreign key, so
each domain keeps its own tables.
"""

from piccolo.columns import JSON, UUID, ForeignKey, Integer, OnDelete, Real, Text, Timestamptz, Varchar
from piccolo.table import Table

from forever.accounts.tables import Account


class GradingPhoto(Table, tablename="grading_photo"):
    """A photo of a piece, as taken at the station: the file under `<data dir>/photos/` and what the analysis
    found in it (the analysis, the suggestion, retake flags and the model version, as JSON)."""

    id = UUID(primary_key=True)
    item = UUID(index=True)
    view = Varchar(length=16)
    path = Varchar(length=255)  # relative to the data directory
    media_type = Varchar(length=16)
    width = Integer()
    height = Integer()
    size_bytes = Integer()
    sha256 = Varchar(length=64)
    examination = JSON()
    model_version = Varchar(length=64)
    # Who took it; their account leaving must not take the photo with it.
    uploaded_by = ForeignKey(references=Account, null=True, default=None, on_delete=OnDelete.set_null)
    uploaded_at = Timestamptz(index=True)


class StationVisit(Table, tablename="grading_visit"):
    """When a grader first opened a piece at the station: the start of the time they spent on it."""

    item = UUID(index=True)
    grader = ForeignKey(references=Account, null=True, default=None, on_delete=OnDelete.set_null)
    opened_at = Timestamptz()
    # "<item>:<grader>", unique: only the first opening counts (see forever.tradein.tables.ParcelEvent).
    once_key = Varchar(length=80, unique=True)


class GradingHold(Table, tablename="grading_hold"):
    """Which grader has a piece in hand at the station: taken when they open it, kept while they work on it
    (`touched_at`), released by their decision, by them or by an admin, or left idle too long (read as free,
    forever.grading.decisions.HOLD_IDLE). One row per piece at most."""

    item = UUID(unique=True)
    grader = ForeignKey(references=Account, null=True, default=None, on_delete=OnDelete.set_null)
    taken_at = Timestamptz()
    touched_at = Timestamptz()


class GradingDecision(Table, tablename="grading_decision"):
    """An expert's decision on a piece, with the model's suggestion beside it and the photos it rested on."""

    id = UUID(primary_key=True)
    # Unique: a piece is decided once, even by two requests at the same moment.
    item = UUID(unique=True)
    tradein = UUID(index=True)
    grader = ForeignKey(references=Account, null=True, default=None, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(index=True)
    declared_condition = Varchar(length=16)
    grade = Varchar(length=16)  # a condition, or "refused"
    outcome = Varchar(length=16)  # credited, counter_offer, refused
    refusal_reason = Varchar(length=24, null=True, default=None)
    note = Text(null=True, default=None)
    refused_items = Varchar(length=8, null=True, default=None)  # a refused piece goes: return, donate
    suggested_grade = Varchar(length=16, null=True, default=None)
    suggested_confidence = Real(null=True, default=None)
    suggestion_reasons = JSON(default=[])
    model_version = Varchar(length=64, null=True, default=None)
    photo_ids = JSON(default=[])
    seconds_spent = Integer(null=True, default=None)


class CounterOffer(Table, tablename="counter_offer"):
    """A lower offer for a piece graded below its declared condition, priced with its quote's grid."""

    id = UUID(primary_key=True)
    item = UUID(unique=True)
    tradein = UUID(index=True)
    grade = Varchar(length=16)
    amount = Integer()
    currency = Varchar(length=3, default="EUR")
    grid_version = Varchar(length=32)
    status = Varchar(length=16, default="open", index=True)
    offered_at = Timestamptz()
    deadline = Timestamptz(index=True)
    answered_at = Timestamptz(null=True, default=None)


class ReturnParcel(Table, tablename="grading_return"):
    """A prepaid parcel sending a refused or counter-offered piece back to its seller."""

    id = UUID(primary_key=True)
    item = UUID(unique=True)
    tradein = UUID(index=True)
    carrier = Varchar(length=32)
    tracking_number = Varchar(length=32, unique=True)
    booked_at = Timestamptz()
