"""The grading station's pages: the queue by SLA, a piece with its photos analysed on arrival and the decision
forms (every decision has a key: forever/web/static/grading.js), photos for staff and the piece's seller, and
the agreement dashboard. Thin: the grading service does the work.

Without JavaScript the station is two plain forms (a photo as a file, a decision) answered with redirects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import File, Redirect, Template

from forever import clock
from forever.accounts import model as accounts_rules
from forever.accounts.schemas import Principal
from forever.api.idempotency import upload
from forever.api.tradeins import grader_or_admin_only
from forever.auth import grader_only, signed_in
from forever.errors import Conflict, DomainError, InvalidInput, NotFound
from forever.grading import decisions, intake
from forever.grading import service as grading
from forever.grading.model import REFUSED, SHOWN_SCORE
from forever.grading.schemas import DecisionCreate, PhotoAdded, StationPiece, StoredPhoto
from forever.problems import status_of
from forever.web import wording
from forever.web.pages import form_key, is_htmx, once, render, see_other

QUEUE_PATH = "/warehouse/grading"
QUEUE_PAGE_SIZE = 50
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
PieceId = Annotated[str | None, QueryParameter(max_length=64)]
Period = Annotated[str | None, QueryParameter(max_length=10)]
SinceDay = Annotated[str | None, QueryParameter(max_length=10)]

# The station's keys (shown on the page, read from it by grading.js): one per view, grade and refusal reason.
VIEW_KEYS: dict[str, tuple[str, str]] = {
    "front": ("F", "Front"), "back": ("B", "Back"), "brand_label": ("L", "Brand label"),
    "care_label": ("C", "Care label"), "detail": ("D", "Detail"),
}
GRADE_KEYS: dict[str, str] = {"new_with_tags": "1", "excellent": "2", "very_good": "3"}
REFUSAL_KEYS: dict[str, tuple[str, str]] = {
    "stain": ("S", "Stain"), "hole": ("H", "Hole"), "tear": ("T", "Tear"), "odor": ("O", "Odour"),
    "missing_label": ("L", "Missing label"), "missing_part": ("P", "Missing part"),
    "altered": ("A", "Altered"), "not_ami": ("N", "Not AMI"), "counterfeit": ("C", "Counterfeit"),
    "excluded_category": ("X", "Excluded category"), "other": ("E", "Other"),
}
assert tuple(VIEW_KEYS) == decisions.VIEWS and tuple(REFUSAL_KEYS) == decisions.REFUSAL_REASONS
RETAKE_WORDS = {"blurred": "blurred", "dark": "too dark", "overexposed": "overexposed"}
OUTCOME_WORDS = {"credited": "credited", "counter_offer": "counter-offer sent", "refused": "refused"}
# The dashboard's periods: days back from today (None: since the first decision).
PERIODS: dict[str, tuple[str, int | None]] = {
    "today": ("Today", 1), "7": ("7 days", 7), "30": ("30 days", 30), "90": ("90 days", 90),
    "all": ("All time", None),
}
DEFAULT_PERIOD = "30"


# --- what the pages show ------------------------------------------------------------------------------------


def grade_title(grade: str | None) -> str:
    if grade == REFUSED:
        return "Refused"
    return wording.CONDITION_TEXTS[grade].title if grade in wording.CONDITION_TEXTS else (grade or "")


def days_left(left: int | None) -> str:
    """A piece's SLA in words: "3 business days left", "Due today", "Overdue by 2 business days"."""
    if left is None:
        return ""
    if left < 0:
        return f"Overdue by {-left} business day{'s' if -left != 1 else ''}"
    if left == 0:
        return "Due today"
    return f"{left} business day{'s' if left != 1 else ''} left"


def decision_words(piece: StationPiece) -> str:
    """A decided piece's outcome in a few words: "Excellent, credited", "Refused: missing label"."""
    decision = piece.decision
    if decision is None:
        return ""
    if decision.refused:
        reason = REFUSAL_KEYS[decision.reason][1] if decision.reason in REFUSAL_KEYS else decision.reason
        return f"Refused: {(reason or 'no reason').lower()}"
    return f"{grade_title(decision.grade)}, {OUTCOME_WORDS.get(decision.outcome, decision.outcome)}"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def photo_src(photo_id: str) -> str:
    """The page address of a stored photo (the API's address takes a bearer token, not the session)."""
    return f"/grading/photos/{photo_id}"


# CONTRACT.md: a finding scored SHOWN_SCORE (0.5) or more is shown as a defect, lower as a hint.
PHOTO_HELPERS: dict[str, Any] = {"photo_src": photo_src, "shown_score": SHOWN_SCORE}
VIEW_HELPERS: dict[str, Any] = {
    "grade_title": grade_title, "retake_words": RETAKE_WORDS, "decision_words": decision_words, **PHOTO_HELPERS,
}


@dataclass(frozen=True)
class Shot:
    """One view of the piece at the station: its key, its photos so far, and whether to take it again."""

    view: str
    key: str
    title: str
    photos: list[StoredPhoto]

    @property
    def retake(self) -> list[str]:
        return self.photos[-1].retake if self.photos else []


def shots_of(piece: StationPiece) -> list[Shot]:
    return [Shot(view, key, title, [photo for photo in piece.photos if photo.view == view])
            for view, (key, title) in VIEW_KEYS.items()]


def held_by_another(item: Any, viewer: str) -> bool:
    """Whether a piece (in the queue, or at the station) is in another grader's hand than the viewer's."""
    return item.taken_by is not None and item.taken_by.grader_id != viewer


def _paris_time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(clock.PARIS):%H:%M}"


HOLD_HELPERS: dict[str, Any] = {"held_by_another": held_by_another, "paris_time": _paris_time}


def _piece_context(piece: StationPiece) -> dict[str, Any]:
    return {"piece": piece, "shots": shots_of(piece), "days_left": days_left, "percent": percent,
            "grade_keys": GRADE_KEYS, "refusal_keys": REFUSAL_KEYS, **VIEW_HELPERS, **HOLD_HELPERS}


async def _decided(item_id: str | None) -> StationPiece | None:
    """The piece decided just before (said at the top of the next one), if it is one."""
    if not item_id:
        return None
    try:
        return await grading.station_piece(item_id)
    except NotFound:
        return None


# --- the queue ----------------------------------------------------------------------------------------------


@get(QUEUE_PATH, guards=[grader_only], include_in_schema=False)
async def grading_queue(principal: NamedDependency[Principal], cursor: Cursor = None,
                        decided: PieceId = None, released: PieceId = None) -> Template:
    items, next_cursor = await grading.queue(QUEUE_PAGE_SIZE, cursor)
    free = [item for item in items if not held_by_another(item, principal.account_id)]
    return render("warehouse/grading_queue.html", nav="grading", items=items, days_left=days_left,
                  first_free=free[0] if free else None, my_id=principal.account_id,
                  decided=await _decided(decided), released=await _decided(released), grade_title=grade_title,
                  decision_words=decision_words, **HOLD_HELPERS,
                  next=urlencode({"cursor": next_cursor}) if next_cursor else None)


@get(f"{QUEUE_PATH}/{{item_id:str}}", guards=[grader_only], include_in_schema=False)
async def station(principal: NamedDependency[Principal], item_id: FromPath[str],
                  decided: PieceId = None) -> Template:
    """The piece, taken in hand; one another grader has is shown without its forms (409)."""
    try:
        piece = await grading.open_piece(principal, item_id)
    except Conflict as exc:
        return _station_page(principal, await grading.station_piece(item_id), status=status_of(exc),
                             problem=exc.detail, decided=await _decided(decided))
    return _station_page(principal, piece, decided=await _decided(decided))


def _station_page(principal: Principal, piece: StationPiece, *, status: int = 200,
                  decided: StationPiece | None = None, problem: str | None = None,
                  upload_problem: str | None = None, refusing: bool = False) -> Template:
    return render("warehouse/grading_piece.html", status=status, nav="grading", decided=decided,
                  problem=problem, upload_problem=upload_problem, refusing=refusing, form_key=form_key(),
                  photo_key=form_key(), max_upload_bytes=intake.MAX_UPLOAD_BYTES, my_id=principal.account_id,
                  **_piece_context(piece))


@get(f"{QUEUE_PATH}/{{item_id:str}}/next", guards=[grader_only], include_in_schema=False)
async def next_piece(principal: NamedDependency[Principal], item_id: FromPath[str]) -> Redirect:
    """N at the station: the piece after this one that no other grader has in hand (this one stays in the
    queue, still in the grader's hand until they release it or leave it idle)."""
    following = await grading.next_in_queue(item_id, principal.account_id)
    return see_other(f"{QUEUE_PATH}/{following}" if following else QUEUE_PATH)


@post(f"{QUEUE_PATH}/{{item_id:str}}/release", guards=[grader_or_admin_only], include_in_schema=False)
async def release(principal: NamedDependency[Principal], item_id: FromPath[str]) -> Template | Redirect:
    """Put the piece back in the queue for any grader: its grader, or an admin from the dashboard."""
    try:
        await grading.release(principal, item_id)
    except Conflict as exc:
        return _station_page(principal, await grading.station_piece(item_id), status=status_of(exc),
                             problem=exc.detail)
    done = urlencode({"released": item_id})
    if principal.role == accounts_rules.ADMIN:
        return see_other(f"{QUEUE_PATH}/dashboard?{done}")
    return see_other(f"{QUEUE_PATH}?{done}")


# --- photos -------------------------------------------------------------------------------------------------


@dataclass
class PhotoForm:
    """The station's photo form (multipart): the view, and the photo from the camera or a file; its key makes
    a double submit one photo (the station's script sends no key: it empties the file field as it sends)."""

    view: str = ""
    photo: UploadFile | None = None
    form_key: str = ""


# What the station says when a photo is refused (the service's own words otherwise).
UPLOAD_PROBLEMS: dict[str, str] = {
    intake.PHOTO_TOO_LARGE: f"This photo is too large: at most {intake.MAX_UPLOAD_BYTES // 1_000_000} MB and "
                            f"{intake.MAX_UPLOAD_PIXELS // 1_000_000} megapixels.",
    intake.UNSUPPORTED_IMAGE: "This file is not a photo the station reads: send a JPEG, PNG or WebP.",
    intake.UNREADABLE_IMAGE: "This photo could not be read (empty, cut short or damaged): take it again.",
    "invalid_view": "Choose which view the photo shows.",
}


def _photo_too_large(_: Request[Any, Any, Any], __: RequestEntityTooLarge) -> Template:
    """A body above the app's limit, refused before the form is read."""
    return render("error.html", status=413, code=413, title="Photo too large",
                  message=UPLOAD_PROBLEMS[intake.PHOTO_TOO_LARGE])


@post(f"{QUEUE_PATH}/{{item_id:str}}/photos", guards=[grader_only], include_in_schema=False, status_code=200,
      exception_handlers={RequestEntityTooLarge: _photo_too_large})
async def add_photo(request: Request[Any, Any, Any], principal: NamedDependency[Principal],
                    item_id: FromPath[str], data: Annotated[PhotoForm, Multipart]) -> Template | Redirect:
    """A photo analysed on arrival: for the station's script the photos and the suggestion alone, else back
    to the piece."""
    problem = None
    if not isinstance(data.photo, UploadFile) or not data.photo.filename:
        problem, status = "Choose a photo first.", 422
    else:
        photo = await data.photo.read()
        try:
            added = await once(principal, data.form_key, f"{QUEUE_PATH}/{item_id}/photos",
                               upload(photo=photo, view=data.view), PhotoAdded,
                               partial(grading.add_photo, principal, item_id, data.view, photo))
        except NotFound:
            raise
        except DomainError as exc:
            problem, status = UPLOAD_PROBLEMS.get(exc.code, exc.detail), status_of(exc)
        else:
            if not is_htmx(request):
                return see_other(f"{QUEUE_PATH}/{item_id}#shot-{added.view}")
            status = 201
    piece = await grading.station_piece(item_id)
    if is_htmx(request):
        return render("warehouse/_grading_work.html", status=status, upload_problem=problem,
                      **_piece_context(piece))
    return _station_page(principal, piece, status=status, upload_problem=problem)


@get("/grading/photos/{photo_id:str}", guards=[signed_in], include_in_schema=False)
async def photo(principal: NamedDependency[Principal], photo_id: FromPath[str]) -> File:
    """A photo taken at the station, for staff and for the piece's seller (anyone else: 404)."""
    path, media_type = await grading.photo_for(principal, photo_id)
    return File(path=path, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": "private, max-age=86400"})


# --- decisions ----------------------------------------------------------------------------------------------


class DecisionForm(msgspec.Struct, kw_only=True):
    """The station's decision forms: a grade button, or a refusal with its reason (and a note)."""

    grade: str = ""
    refused: str = ""
    reason: str = ""
    note: str = ""
    form_key: str = ""


def _decision_of(form: DecisionForm) -> DecisionCreate:
    """The form as the service's decision; InvalidInput when it names no known grade or reason."""
    if form.refused:
        asked: dict[str, Any] = {"refused": True, "reason": form.reason or None,
                                 "note": form.note.strip() or None}
    else:
        asked = {"grade": form.grade or None}
    try:
        return msgspec.convert(asked, DecisionCreate)
    except msgspec.ValidationError:
        raise InvalidInput("Choose one of the grades, or a reason to refuse the piece.",
                           code="invalid_decision") from None


@post(f"{QUEUE_PATH}/{{item_id:str}}/decision", guards=[grader_only], include_in_schema=False,
      status_code=200)
async def decide(principal: NamedDependency[Principal], item_id: FromPath[str],
                 data: Annotated[DecisionForm, FormBody]) -> Template | Redirect:
    """Grade or refuse the piece, then straight on to the next one in the queue."""
    action = f"{QUEUE_PATH}/{item_id}/decision"
    try:
        decision = _decision_of(data)
        await once(principal, data.form_key, action, decision, StationPiece,
                   partial(grading.decide, principal, item_id, decision))
    except (InvalidInput, Conflict) as exc:
        piece = await grading.station_piece(item_id)
        return _station_page(principal, piece, status=status_of(exc), problem=exc.detail,
                             refusing=bool(data.refused))
    following = await grading.next_in_queue(item_id, principal.account_id)
    done = urlencode({"decided": item_id})
    return see_other(f"{QUEUE_PATH}/{following}?{done}" if following else f"{QUEUE_PATH}?{done}")


# --- the dashboard ------------------------------------------------------------------------------------------


def period_start(period: str, since_day: str | None) -> dt.datetime | None:
    """The start of the chosen period, Paris time: the day typed in (ValueError if it is not a date), else so
    many days back from today, today included; None for all time."""
    if since_day:
        day = dt.date.fromisoformat(since_day)
    else:
        days = PERIODS[period][1]
        if days is None:
            return None
        day = clock.today() - dt.timedelta(days=days - 1)
    return dt.datetime.combine(day, dt.time(), tzinfo=clock.PARIS)


@get(f"{QUEUE_PATH}/dashboard", guards=[grader_or_admin_only], include_in_schema=False)
async def dashboard(principal: NamedDependency[Principal], period: Period = None, since: SinceDay = None,
                    released: PieceId = None) -> Template:
    """Agreement and pace, and the pieces graders have in hand now (an admin may release them)."""
    chosen = "" if since else (period if period in PERIODS else DEFAULT_PERIOD)
    page = {"nav": "dashboard", "periods": PERIODS, "period": chosen, "since": since or "", "percent": percent,
            "in_hand": await grading.pieces_in_hand(), "can_release": principal.role == accounts_rules.ADMIN,
            "released": await _decided(released), **HOLD_HELPERS}
    try:
        start = period_start(chosen, since)
    except ValueError:
        return render("warehouse/grading_dashboard.html", status=422, board=None,
                      problem="Enter a date such as 2026-11-01.", **page)
    return render("warehouse/grading_dashboard.html", board=await grading.dashboard(start), problem=None, **page)


handlers = [grading_queue, dashboard, station, next_piece, release, add_photo, photo, decide]
