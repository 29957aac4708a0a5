"""Set-up of the grading browser tests over the running service's API: a seller's received trade-in, the
grader's token, small synthetic fabric photos on disk, and signing in through the page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from live_server import Server
from playwright.sync_api import Page, expect

from forever.grading import synthetic

GRADER = ("grader@forever.demo", "Forever-2026!")
PASSWORD = "Correct-horse-9"
PHOTO_SIZE = (640, 480)  # small: the station analyses each photo in well under a second


def new_seller(server: Server) -> tuple[str, dict[str, str]]:
    """A fresh seller's e-mail and bearer headers."""
    email = f"grade.{uuid.uuid4().hex[:10]}@example.com"
    registered = server.api.post("/api/v1/accounts", json={
        "email": email, "password": PASSWORD, "first_name": "Nora", "last_name": "Lefèvre", "country": "FR",
        "birth_date": "1989-03-14"})
    assert registered.status_code == 201, registered.text
    return email, {"Authorization": f"Bearer {server.token(email, PASSWORD)}"}


def grader_headers(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(*GRADER)}"}


def received_tradein(server: Server, seller: dict[str, str], *conditions: str,
                     category: str = "knitwear", refused_items: str = "return") -> dict[str, Any]:
    """A trade-in of eligible pieces (one per declared condition) whose parcel the warehouse has received."""
    products = [p for p in server.products(category=category) if p["tradein_eligible"]][:len(conditions)]
    quote = server.api.post("/api/v1/quotes", headers=seller, json={"items": [
        {"product_ref": product["ref"], "condition": condition}
        for product, condition in zip(products, conditions, strict=True)]})
    assert quote.status_code == 201, quote.text
    accepted = server.api.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=seller,
                               json={"refused_items": refused_items})
    assert accepted.status_code == 201, accepted.text
    received = server.api.post("/api/v1/warehouse/receptions", headers=grader_headers(server),
                               json={"tracking_number": accepted.json()["parcel"]["tracking_number"]})
    assert received.status_code == 200, received.text
    return received.json()


def queue_after(server: Server, item_id: str) -> str | None:
    """The piece the station should open after `item_id`: the next in the queue's order, else its first."""
    order = [item["item_id"] for item in server.api.get(
        "/api/v1/grading/queue", params={"limit": 100}, headers=grader_headers(server)).json()["items"]]
    following = order[order.index(item_id) + 1:] + [piece for piece in order if piece != item_id]
    return following[0] if following else None


def photo_file(folder: Path, name: str, *defects: synthetic.DefectSpec, seed: int = 3, **scene: Any) -> Path:
    """A small synthetic fabric photo (JPEG) written to `folder`."""
    options = {"family": "jersey", "colour": "navy", **scene}
    rendered = synthetic.render(synthetic.Scene(seed=seed, defects=defects, width=PHOTO_SIZE[0],
                                                height=PHOTO_SIZE[1], **options))
    path = folder / name
    path.write_bytes(rendered.jpeg)
    return path


def clean_photo(folder: Path, name: str = "clean.jpg", seed: int = 3) -> Path:
    return photo_file(folder, name, seed=seed)


def hole_photo(folder: Path, name: str = "hole.jpg") -> Path:
    return photo_file(folder, name, synthetic.DefectSpec("hole", 9.0))


def blurred_photo(folder: Path, name: str = "blurred.jpg") -> Path:
    """Out of focus: the analysis asks for it again."""
    return photo_file(folder, name, seed=21, family="jersey", colour="white", nuisances=("seam", "print", "blur"),
                      blur_mm=1.6)


def sign_in(page: Page, email: str, password: str, lands_on: str) -> None:
    page.goto("/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(lands_on) + "$"))
