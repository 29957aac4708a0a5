"""The grading station in headless Chromium: photos as files or from the (fake) camera, analysed on arrival
with their findings boxed over them, decisions by key that land on the next piece, retakes, and the forms
without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from station_helpers import (
    GRADER,
    blurred_photo,
    clean_photo,
    grader_headers,
    hole_photo,
    new_seller,
    queue_after,
    received_tradein,
    sign_in,
)

from live_server import Server

pytestmark = pytest.mark.browser

STATION = "/warehouse/grading"
# An upload's answer waits for its analysis: the server's first one also loads the model, and other tests
# may share the machine's two cores.
ANALYSIS_TIMEOUT_MS = 30_000


def piece_of(server: Server, item_id: str) -> dict:
    response = server.api.get(f"/api/v1/grading/items/{item_id}", headers=grader_headers(server))
    assert response.status_code == 200, response.text
    return response.json()


def open_station(page: Page, item_id: str, *, script: bool = True) -> None:
    page.goto(f"{STATION}/{item_id}")
    expect(page.locator("#grading")).to_have_attribute("data-item", item_id)
    if script:
        expect(page.locator("html")).to_have_class(re.compile("keys-on"))  # the keys work from now on


class FilePicker:
    """The person at the file chooser: whenever the page opens it, picks the next photo put in their hands.

    (Listening from the start: a chooser awaited only around the key press may open before it is watched.)
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.photos: list[Path] = []
        page.on("filechooser", lambda chooser: chooser.set_files(self.photos.pop(0)))

    def take(self, key: str, photo: Path) -> None:
        """Press a view's key without a camera: the file chooser opens, the photo is sent once chosen."""
        self.photos.append(photo)
        self.page.keyboard.press(key)


def analysed(page: Page, view: str, photos: int = 1) -> Locator:
    """Wait until the view shows this many photos (each analysed, its findings drawn); the latest first."""
    figures = page.locator(f"#shot-{view} .finding-photo")
    expect(figures).to_have_count(photos, timeout=ANALYSIS_TIMEOUT_MS)
    return figures.first


def assert_inside(box: Locator, frame: Locator) -> None:
    """A finding's box is drawn over the photo, within it (the SVG scales it with the photo)."""
    drawn, photo = box.bounding_box(), frame.bounding_box()
    assert drawn and photo and drawn["width"] > 0 and drawn["height"] > 0
    assert photo["x"] - 2 <= drawn["x"] and drawn["x"] + drawn["width"] <= photo["x"] + photo["width"] + 2
    assert photo["y"] - 2 <= drawn["y"] and drawn["y"] + drawn["height"] <= photo["y"] + photo["height"] + 2


def test_a_grader_grades_by_keys_and_goes_on_to_the_next_piece(server: Server, desktop: Page,
                                                               tmp_path: Path) -> None:
    page = desktop
    picker = FilePicker(page)
    _, seller = new_seller(server)
    clean, stained = received_tradein(server, seller, "excellent", "excellent")["items"]
    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    page.get_by_role("link", name="Grading", exact=True).click()
    expect(page).to_have_url(re.compile(f"{STATION}$"))
    expect(page.locator(f'.sla-item[data-item="{clean["id"]}"]')).to_contain_text("15 business days left")

    open_station(page, clean["id"])
    expect(page.locator(".facts")).to_contain_text("Excellent")
    expect(page.locator(".facts")).to_contain_text("Retail price")
    expect(page.locator(".shortcuts")).to_contain_text("refuse")
    # A clean piece: two photos and one key.
    picker.take("f", clean_photo(tmp_path))
    analysed(page, "front")
    expect(page.locator("#upload-status")).to_have_text("Front photo analysed.")
    picker.take("b", clean_photo(tmp_path, "back.jpg", seed=4))
    analysed(page, "back")
    expect(page.locator("#suggestion")).to_have_attribute("data-grade", re.compile("excellent|new_with_tags"))
    expect(page.locator("#suggestion")).to_contain_text("sure")
    expect(page.locator(".finding--defect")).to_have_count(0)
    following = queue_after(server, clean["id"])
    page.keyboard.press("2")
    expect(page).to_have_url(re.compile(rf"{STATION}/{following}\?decided={clean['id']}$"))
    expect(page.locator("#decided")).to_contain_text("Excellent, credited")
    decided = piece_of(server, clean["id"])
    assert decided["status"] == "credited" and decided["grade"] == "excellent"
    assert decided["decision"]["photo_ids"] == [photo["photo_id"] for photo in decided["photos"]]

    # A holed piece: the hole boxed over the photo as a defect, then R and H refuse it for the hole.
    open_station(page, stained["id"])
    picker.take("d", hole_photo(tmp_path))
    detail = analysed(page, "detail")
    hole = detail.locator('.finding--defect[data-kind="hole"]')
    expect(hole).to_have_count(1)
    expect(hole.locator("text")).to_have_text(re.compile(r"^hole \d\.\d\d$"))
    assert_inside(hole.locator("rect"), detail.locator("svg"))
    expect(page.locator("#suggestion")).to_contain_text("Refused")
    page.screenshot(path="/tmp/forever-grading-station.png", full_page=True)
    following = queue_after(server, stained["id"])
    page.keyboard.press("r")
    expect(page.locator("#refuse-form")).to_have_class(re.compile("refuse--active"))
    page.keyboard.press("h")
    expect(page).to_have_url(re.compile(rf"{STATION}(/{following})?\?decided={stained['id']}$"))
    refused = piece_of(server, stained["id"])
    assert refused["status"] == "refused" and refused["decision"]["reason"] == "hole"
    assert refused["return_shipment"]["tracking_number"]


def test_escape_leaves_the_refusal_and_keys_do_not_fire_while_typing(server: Server, desktop: Page) -> None:
    page = desktop
    _, seller = new_seller(server)
    piece = received_tradein(server, seller, "very_good")["items"][0]
    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    open_station(page, piece["id"])
    page.keyboard.press("r")
    page.keyboard.press("Escape")
    expect(page.locator("#refuse-form")).not_to_have_class(re.compile("refuse--active"))
    page.get_by_label("Note").fill("123 rhnfbld")  # every shortcut typed as text
    expect(page).to_have_url(re.compile(rf"{STATION}/{piece['id']}$"))
    assert piece_of(server, piece["id"])["status"] == "awaiting_grading"
    # R, then Enter with no reason ticked: nothing; with the reason ticked, refused.
    page.locator("#main").focus()
    page.keyboard.press("r")
    page.keyboard.press("Enter")
    assert piece_of(server, piece["id"])["status"] == "awaiting_grading"
    page.get_by_label("Odour").check()
    page.locator("#main").focus()
    page.keyboard.press("r")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"decided={piece['id']}$"))
    refused = piece_of(server, piece["id"])
    assert refused["decision"]["reason"] == "odor" and refused["decision"]["note"] == "123 rhnfbld"


def test_a_blurred_photo_asks_for_a_retake(server: Server, phone: Page, tmp_path: Path) -> None:
    page = phone
    _, seller = new_seller(server)
    piece = received_tradein(server, seller, "excellent")["items"][0]
    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    open_station(page, piece["id"])
    page.get_by_text("Front", exact=False).first.click()
    page.set_input_files("#photo-file", blurred_photo(tmp_path))
    analysed(page, "front")
    retake = page.locator("#shot-front .retake")
    expect(retake).to_be_visible()
    expect(retake).to_contain_text("Take it again: this photo is blurred")
    expect(page.locator("#upload-status")).to_contain_text("Take it again")
    expect(page.locator("#suggestion")).to_contain_text("photo blurred, take it again")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # fits a phone
    page.screenshot(path="/tmp/forever-grading-retake.png", full_page=True)

    page.set_input_files("#photo-file", clean_photo(tmp_path))
    analysed(page, "front", photos=2)
    expect(retake).to_have_count(0)


def test_the_station_camera_takes_the_photo(server: Server, camera_desktop: Page) -> None:
    page = camera_desktop
    _, seller = new_seller(server)
    first, second = received_tradein(server, seller, "excellent", "very_good")["items"]
    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    open_station(page, first["id"])
    page.get_by_role("button", name="Use the camera").click()
    expect(page.locator("#upload-status")).to_have_text(re.compile("Camera ready"))
    page.wait_for_function("() => document.getElementById('camera-video').videoWidth > 0")
    page.keyboard.press("f")
    analysed(page, "front")
    photo = piece_of(server, first["id"])["photos"][0]
    size = page.evaluate("[document.getElementById('camera-video').videoWidth, "
                         "document.getElementById('camera-video').videoHeight]")
    assert photo["view"] == "front" and [photo["width"], photo["height"]] == size
    assert photo["media_type"] == "image/jpeg"

    open_station(page, second["id"])  # the camera stays on from one piece to the next
    expect(page.get_by_role("button", name="Stop the camera")).to_be_visible()
    page.wait_for_function("() => document.getElementById('camera-video').videoWidth > 0")
    page.keyboard.press("l")
    analysed(page, "brand_label")
    page.get_by_role("button", name="Stop the camera").click()
    expect(page.get_by_role("button", name="Use the camera")).to_be_visible()


def test_the_station_works_without_javascript(server: Server, no_script: Page, tmp_path: Path) -> None:
    page = no_script
    _, seller = new_seller(server)
    kept, refused = received_tradein(server, seller, "excellent", "excellent")["items"]
    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    open_station(page, kept["id"], script=False)
    expect(page.locator("#camera")).to_be_hidden()
    expect(page.locator(".shortcuts")).to_be_hidden()
    page.get_by_role("radio", name=re.compile("Back$")).check()
    page.get_by_label("Photo (from the camera or a file)").set_input_files(hole_photo(tmp_path))
    page.get_by_role("button", name="Add the photo").click(timeout=ANALYSIS_TIMEOUT_MS)
    expect(page).to_have_url(re.compile(rf"{STATION}/{kept['id']}#shot-back$"), timeout=ANALYSIS_TIMEOUT_MS)
    expect(page.locator('#shot-back .finding--defect[data-kind="hole"]')).to_have_count(1)
    # The expert overrules the analysis: graded very good (a counter-offer) with a plain form.
    following = queue_after(server, kept["id"])
    page.get_by_role("button", name=re.compile("Very good")).click()
    expect(page).to_have_url(re.compile(rf"{STATION}(/{following})?\?decided={kept['id']}$"))
    expect(page.locator("#decided")).to_contain_text("Very good, counter-offer sent")
    assert piece_of(server, kept["id"])["status"] == "counter_offer"

    open_station(page, refused["id"], script=False)
    page.get_by_label("Missing label").check()
    page.get_by_role("button", name="Refuse the piece").click()
    expect(page.locator("#decided")).to_contain_text("Refused: missing label")
    assert piece_of(server, refused["id"])["decision"]["reason"] == "missing_label"


def test_the_dashboard_on_a_phone(server: Server, phone: Page) -> None:
    page = phone
    sign_in(page, "admin@forever.demo", GRADER[1], lands_on="/warehouse/sla")
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(rf"{STATION}/dashboard$"))
    page.get_by_role("link", name="7 days").click()
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")
    decided = int(page.locator("#pieces-decided").text_content() or "-1")
    board = server.api.get("/api/v1/grading/dashboard", headers=grader_headers(server)).json()
    assert decided == board["pieces_decided"]  # the browser tests' decisions are all from today
    if decided:
        expect(page.locator("#graders")).to_contain_text("grader@forever.demo")
    page.get_by_label("Since").fill("2020-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#period")).to_contain_text("Decisions since 1 January 2020")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/forever-grading-dashboard.png", full_page=True)


def test_a_grader_puts_a_piece_back_in_the_queue_by_keyboard(server: Server, desktop: Page) -> None:
    page = desktop
    _, seller = new_seller(server)
    piece = received_tradein(server, seller, "excellent")["items"][0]
    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    open_station(page, piece["id"])
    assert piece_of(server, piece["id"])["taken_by"]["name"] == GRADER[0]
    page.goto(STATION)
    expect(page.locator(f'[data-item="{piece["id"]}"] .badge--taken')).to_have_text("With you")

    open_station(page, piece["id"])
    release = page.get_by_role("button", name="Put it back in the queue for another grader")
    release.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{STATION}\?released={piece['id']}$"))
    expect(page.locator("#released")).to_contain_text("Put back in the queue")
    expect(page.locator(f'[data-item="{piece["id"]}"] .badge--taken')).to_have_count(0)
    queue = server.api.get("/api/v1/grading/queue", params={"limit": 100}, headers=grader_headers(server))
    assert next(item for item in queue.json()["items"] if item["item_id"] == piece["id"])["taken_by"] is None
