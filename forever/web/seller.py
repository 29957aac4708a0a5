"""The seller's pages: sign-up, sign-in, the quote builder and saved quotes. Thin: the services do the work."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from forever import clock
from forever.accounts import model as accounts_rules
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate, Principal, Session
from forever.api.accounts import client_address
from forever.api.tradeins import document_response
from forever.auth import SESSION_COOKIE, seller_only, signed_in
from forever.catalog import service as catalog
from forever.catalog.model import Product
from forever.errors import Conflict, InvalidInput, NotAuthenticated, TooManyRequests
from forever.grading import service as grading
from forever.grading.schemas import CounterOfferAnswer, GradedTradeInItem
from forever.money import Money
from forever.settings import Settings
from forever.tradein import model as tradein_rules
from forever.tradein import service as tradein
from forever.tradein.schemas import CatalogProduct, QuoteCreate, QuoteItemCreate, TradeInCreate
from forever.web import basket, tradeins, wording
from forever.web.basket import BasketLine
from forever.web.pages import form_key, is_htmx, once, render, safe_next, see_other

SEARCH_PAGE_SIZE = 20
SEARCH_KEYS = ("q", "category", "season", "cursor")

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
SearchText = Annotated[str | None, QueryParameter(max_length=100)]
SearchCode = Annotated[str | None, QueryParameter(max_length=32)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
NextPath = Annotated[str | None, QueryParameter(max_length=1000)]


class SignUpForm(msgspec.Struct, kw_only=True):
    """The sign-up form as posted (every field text, checked by the service)."""

    email: str = ""
    password: str = ""
    first_name: str = ""
    last_name: str = ""
    country: str = ""
    birth_date: str = ""


class SignInForm(msgspec.Struct, kw_only=True):
    email: str = ""
    password: str = ""
    next: str = ""


# --- sessions -----------------------------------------------------------------------------------------------


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state["settings"]


def _session_cookie(request: Request[Any, Any, Any], session: Session) -> Cookie:
    lifetime = int((session.expires_at - clock.now()).total_seconds())
    return Cookie(key=SESSION_COOKIE, value=session.token, max_age=max(lifetime, 0), path="/", httponly=True,
                  samesite="lax", secure=_settings(request).secure_cookies)


def _expired(key: str) -> Cookie:
    return Cookie(key=key, value="", max_age=0, expires=0, path="/")


def _basket_cookie(request: Request[Any, Any, Any], lines: list[BasketLine]) -> Cookie:
    if not lines:
        return _expired(basket.COOKIE)
    return Cookie(key=basket.COOKIE, value=basket.encode(lines), path="/", httponly=True, samesite="lax",
                  secure=_settings(request).secure_cookies)


def _home_of(role: str | None) -> str:
    """Where a person lands after signing in: sellers sell, graders receive parcels, admins watch the SLA,
    boutique staff take vouchers at the till."""
    homes = {accounts_rules.CUSTOMER: "/sell", accounts_rules.GRADER: "/warehouse/reception",
             accounts_rules.ADMIN: "/warehouse/sla", accounts_rules.STORE_STAFF: "/till"}
    return homes.get(role or "", "/")


# --- landing, sign-up, sign-in ------------------------------------------------------------------------------


@get("/", include_in_schema=False)
async def landing() -> Template:
    return render("seller/landing.html", nav="home")


@get("/signup", include_in_schema=False)
async def sign_up_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    if request.user is not None and request.user.kind == "person":
        return see_other(_home_of(request.user.role))
    return _sign_up_page(SignUpForm(country="FR"), {})


def _sign_up_page(form: SignUpForm, field_errors: dict[str, str], status: int = 200) -> Template:
    return render("seller/signup.html", status=status, nav="signup", form=form, errors=field_errors,
                  served_countries=wording.SERVED_COUNTRY_NAMES, other_countries=wording.OTHER_COUNTRY_NAMES)


_REQUIRED_FIELDS = {
    "first_name": "Enter your first name.",
    "last_name": "Enter your last name.",
    "email": "Enter your e-mail address.",
    "password": "Choose a password.",
    "country": "Choose the country you live in.",
    "birth_date": "Enter your date of birth.",
}
# Where each refusal of the service belongs on the form when it names no field itself.
_FIELD_OF_CODE = {"minor": "birth_date", "email_taken": "email", "weak_password": "password",
                  "invalid_email": "email", "invalid_country": "country", "invalid_birth_date": "birth_date"}


@post("/signup", include_in_schema=False, status_code=200)
async def sign_up(request: Request[Any, Any, Any], data: Annotated[SignUpForm, FormBody]) -> Template | Redirect:
    form = msgspec.structs.replace(data, password="")  # never echoed back
    field_errors = {name: message for name, message in _REQUIRED_FIELDS.items() if not getattr(data, name).strip()}
    # The same rules the service applies, checked here too so that every mistake shows at once.
    if data.email.strip() and not accounts_rules.is_valid_email(accounts_rules.normalise_email(data.email)):
        field_errors["email"] = "Enter an e-mail address such as name@example.com."
    if data.password and (lacking := accounts_rules.password_problems(data.password)):
        field_errors["password"] = "The password needs " + ", ".join(lacking) + "."
    if field_errors:
        return _sign_up_page(form, field_errors, 422)
    try:
        account = msgspec.convert(msgspec.structs.asdict(data), AccountCreate)
    except msgspec.ValidationError as exc:
        field = str(exc).rpartition("$.")[2].rstrip("`") or "email"
        message = ("Enter a date such as 1990-05-17." if field == "birth_date"
                   else "This is too long." if "length" in str(exc) else "Check this field.")
        return _sign_up_page(form, {field: message}, 422)
    try:
        await accounts.register(account)
    except (InvalidInput, Conflict) as exc:
        field_errors = {item["field"]: exc.detail for item in exc.errors if item.get("field")}
        if not field_errors:
            field_errors = {_FIELD_OF_CODE.get(exc.code, "email"): exc.detail}
        if exc.code == "minor":
            field_errors["birth_date"] = exc.detail + " Nothing you entered has been kept."
        return _sign_up_page(form, field_errors, 409 if isinstance(exc, Conflict) else 422)
    session = await accounts.login(account.email, account.password, client_address(request))
    return see_other("/sell", cookies=[_session_cookie(request, session)])


@get("/signin", include_in_schema=False)
async def sign_in_form(request: Request[Any, Any, Any], next: NextPath = None) -> Template | Redirect:
    if request.user is not None and request.user.kind == "person":
        return see_other(safe_next(next, _home_of(request.user.role)))
    return render("seller/signin.html", nav="signin", email="", next=safe_next(next, ""), error=None)


@post("/signin", include_in_schema=False, status_code=200)
async def sign_in(request: Request[Any, Any, Any], data: Annotated[SignInForm, FormBody]) -> Template | Redirect:
    try:
        session = await accounts.login(data.email, data.password, client_address(request))
    except NotAuthenticated:
        error, status, headers = "Wrong e-mail or password. Check both and try again.", 401, None
    except TooManyRequests as exc:
        minutes = int(exc.headers.get("Retry-After", "900")) // 60
        error = f"Too many failed sign-ins. For your security, wait {minutes} minutes and try again."
        status, headers = 429, exc.headers
    else:
        return see_other(safe_next(data.next, _home_of(session.role)),
                         cookies=[_session_cookie(request, session)])
    return render("seller/signin.html", status=status, headers=headers, nav="signin", email=data.email,
                  next=safe_next(data.next, ""), error=error)


@post("/signout", include_in_schema=False, status_code=200)
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    if request.auth:
        await accounts.logout(request.auth)
    return see_other("/", cookies=[_expired(SESSION_COOKIE), _expired(basket.COOKIE)])


# --- the quote builder --------------------------------------------------------------------------------------


def _refusals(product: Product | CatalogProduct) -> list[str]:
    """Why this product is never taken, in plain words (empty when it may be)."""
    if isinstance(product, CatalogProduct):
        product = Product(ref=product.ref, name=product.name, category=product.category,
                          season=product.season, retail_price=product.retail_price.amount)
    return [wording.reason_text(code) for code in tradein_rules.product_refusal_reasons(product, clock.today())]


def _search_query(**values: str | None) -> str:
    return urlencode({key: value for key, value in values.items() if value})


async def _search(q: str | None, category: str | None, season: str | None, cursor: str | None) -> dict[str, Any]:
    """The results block: products found, each with why it is refused, and where the next page starts."""
    q, category, season = (q or "").strip() or None, category or None, season or None
    query = _search_query(q=q, category=category, season=season)
    found: dict[str, Any] = {"asked": bool(q or category or season), "items": [], "next": None,
                             "query": query, "message": None, "q": q}
    if not found["asked"]:
        return found
    try:
        products, next_cursor = await tradein.browse_catalog(q, category, season, SEARCH_PAGE_SIZE, cursor)
    except InvalidInput as exc:
        found["message"] = exc.detail
        return found
    found["items"] = [{"product": product, "refusals": _refusals(product)} for product in products]
    found["next"] = _search_query(q=q, category=category, season=season, cursor=next_cursor) if next_cursor else None
    return found


async def _basket_view(lines: list[BasketLine], missing: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    products = await catalog.get_products(line.ref for line in lines)
    view = []
    for number, line in enumerate(lines):
        product = products.get(line.ref)
        view.append({
            "number": number, "line": line, "product": product,
            "retail_price": Money(product.retail_price) if product else None,
            "refusals": _refusals(product) if product else [wording.reason_text("unknown_product")],
            "missing_condition": number in missing,
        })
    return view


def _seller_problem(seller: Principal) -> str | None:
    """Why this seller cannot be quoted at all (the served countries, 18+), said before they start."""
    if seller.country is None or seller.birth_date is None:
        return None
    refusal = tradein_rules.seller_refusal(seller.country, seller.birth_date, clock.today())
    return wording.SELLER_REFUSAL_TEXTS.get(refusal) if refusal else None


async def _builder_page(request: Request[Any, Any, Any], principal: Principal, lines: list[BasketLine], *,
                        q: str | None = None, category: str | None = None, season: str | None = None,
                        cursor: str | None = None, status: int = 200, problem: str | None = None,
                        missing: frozenset[int] = frozenset(), save: bool = False) -> Template:
    current = clock.current_season()
    return render(
        "seller/sell.html", status=status, nav="sell", search=await _search(q, category, season, cursor),
        q=q or "", category=category or "", season=season or "", lines=await _basket_view(lines, missing),
        categories=wording.category_options(), season_groups=wording.season_groups(current),
        current_season=current, seller_problem=_seller_problem(principal), problem=problem,
        max_lines=basket.MAX_LINES, cookies=[_basket_cookie(request, lines)] if save else None,
    )


@get("/sell", guards=[seller_only], include_in_schema=False)
async def sell(request: Request[Any, Any, Any], principal: NamedDependency[Principal], q: SearchText = None,
               category: SearchCode = None, season: SearchCode = None, cursor: Cursor = None) -> Template:
    lines = basket.decode(request.cookies.get(basket.COOKIE))
    return await _builder_page(request, principal, lines, q=q, category=category, season=season, cursor=cursor)


@get("/sell/search", guards=[seller_only], include_in_schema=False)
async def search_fragment(q: SearchText = None, category: SearchCode = None, season: SearchCode = None,
                          cursor: Cursor = None) -> Template:
    """The results block alone, for htmx; the address bar follows the search."""
    found = await _search(q, category, season, cursor)
    return render("seller/_results.html", search=found, oob=True,
                  headers={"HX-Replace-Url": "/sell" + (f"?{found['query']}" if found["query"] else "")})


async def _basket_changed(request: Request[Any, Any, Any], lines: list[BasketLine], *, announce: str,
                          focus_basket: bool = False) -> Template | Redirect:
    """The new basket: its block alone for htmx, else back to the builder where the seller was."""
    cookie = _basket_cookie(request, lines)
    if is_htmx(request):
        return render("seller/_basket.html", lines=await _basket_view(lines), announce=announce,
                      focus_basket=focus_basket, max_lines=basket.MAX_LINES, cookies=[cookie])
    query = _search_query(**{key: request.query_params.get(key) for key in SEARCH_KEYS})
    return see_other("/sell" + (f"?{query}" if query else "") + "#basket", cookies=[cookie])


@post("/sell/basket/add", guards=[seller_only], include_in_schema=False, status_code=200)
async def add_to_basket(request: Request[Any, Any, Any]) -> Template | Redirect:
    form = await request.form()
    lines = basket.from_form(form)
    added = basket.line(form.get("add"))
    if len(lines) >= basket.MAX_LINES:
        return await _basket_changed(request, lines, announce=f"A quote holds at most {basket.MAX_LINES} pieces.")
    if added is None:
        return await _basket_changed(request, lines, announce="")
    product = (await catalog.get_products([added.ref])).get(added.ref)
    return await _basket_changed(request, [*lines, added], announce=f"Added {product.name if product else added.ref}. "
                                                                     "Choose its condition in your pieces below.")


@post("/sell/basket/remove", guards=[seller_only], include_in_schema=False, status_code=200)
async def remove_from_basket(request: Request[Any, Any, Any]) -> Template | Redirect:
    form = await request.form()
    lines = basket.from_form(form)
    remaining = basket.without(lines, form.get("remove"))
    announce = "Piece removed." if len(remaining) < len(lines) else ""
    return await _basket_changed(request, remaining, announce=announce, focus_basket=True)


@post("/sell/basket/save", guards=[seller_only], include_in_schema=False, status_code=200)
async def save_basket(request: Request[Any, Any, Any]) -> Response:
    """Keep the conditions and sizes chosen so far (htmx posts the form on every change)."""
    lines = basket.from_form(await request.form())
    return Response(content=None, status_code=204, cookies=[_basket_cookie(request, lines)])


@post("/quotes", guards=[seller_only], include_in_schema=False, status_code=200)
async def create_quote(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Template | Redirect:
    lines = basket.from_form(await request.form())
    missing = frozenset(number for number, line in enumerate(lines) if line.condition is None)
    if not lines:
        return await _builder_page(request, principal, lines, status=422, save=True,
                                   problem="Add at least one piece, then ask for your offer.")
    if missing:
        return await _builder_page(request, principal, lines, status=422, missing=missing, save=True,
                                   problem="Choose the condition of every piece: it sets the offer.")
    data = QuoteCreate(items=[QuoteItemCreate(product_ref=line.ref, condition=line.condition, size=line.size)
                              for line in lines])
    try:
        quote = await tradein.create_quote(principal, data)
    except InvalidInput as exc:
        return await _builder_page(request, principal, lines, status=422, save=True,
                                   problem=wording.SELLER_REFUSAL_TEXTS.get(exc.code, exc.detail))
    return see_other(f"/quotes/{quote.id}", cookies=[_expired(basket.COOKIE)])


# --- saved quotes -------------------------------------------------------------------------------------------


@get("/quotes", guards=[seller_only], include_in_schema=False)
async def quotes(principal: NamedDependency[Principal], cursor: Cursor = None) -> Template:
    items, next_cursor = await tradein.list_quotes(principal.account_id, 20, cursor)
    return render("seller/quotes.html", nav="quotes", quotes=items, status_labels=wording.QUOTE_STATUS_LABELS,
                  next=urlencode({"cursor": next_cursor}) if next_cursor else None)


@get("/quotes/{quote_id:str}", guards=[seller_only], include_in_schema=False)
async def quote(principal: NamedDependency[Principal], quote_id: FromPath[str]) -> Template:
    return await _quote_page(principal, quote_id)


async def _quote_page(principal: Principal, quote_id: str, *, status: int = 200, problem: str | None = None,
                      refused_items: str = "return") -> Template:
    found = await tradein.get_quote(principal.account_id, quote_id)
    accepted_as = await tradein.tradein_of_quote(principal.account_id, quote_id) if found.status == "accepted" else None
    return render("seller/quote.html", status=status, nav="quotes", quote=found,
                  status_labels=wording.QUOTE_STATUS_LABELS, taken=sum(1 for line in found.items if line.eligible),
                  tradein_id=accepted_as, problem=problem, refused_items=refused_items)


# --- trade-ins ----------------------------------------------------------------------------------------------


class AcceptForm(msgspec.Struct, kw_only=True):
    """The quote page's "Accept this offer" form."""

    refused_items: str = ""


@post("/quotes/{quote_id:str}/accept", guards=[seller_only], include_in_schema=False, status_code=200)
async def accept_quote(principal: NamedDependency[Principal], quote_id: FromPath[str],
                       data: Annotated[AcceptForm, FormBody]) -> Template | Redirect:
    if data.refused_items not in tradein_rules.REFUSED_ITEM_CHOICES:
        return await _quote_page(principal, quote_id, status=422, refused_items="",
                                 problem="Choose what we do with pieces our experts refuse: send them back, or donate.")
    try:
        created = await tradein.accept_quote(principal, quote_id, TradeInCreate(refused_items=data.refused_items))
    except Conflict as exc:
        existing = await tradein.tradein_of_quote(principal.account_id, quote_id)
        if existing is not None:  # accepted already (a second tab, a double click): show what it became
            return see_other(f"/tradeins/{existing}")
        return await _quote_page(principal, quote_id, status=409, problem=exc.detail,
                                 refused_items=data.refused_items)
    return see_other(f"/tradeins/{created.id}")


@get("/tradeins", guards=[seller_only], include_in_schema=False)
async def tradeins_list(principal: NamedDependency[Principal], cursor: Cursor = None) -> Template:
    items, next_cursor = await tradein.list_tradeins(principal.account_id, 20, cursor)
    return render("seller/tradeins.html", nav="tradeins", tradeins=items, **tradeins.VIEW_HELPERS,
                  next=urlencode({"cursor": next_cursor}) if next_cursor else None)


@get("/tradeins/{tradein_id:str}", guards=[signed_in], include_in_schema=False)
async def tradein_page(principal: NamedDependency[Principal], tradein_id: FromPath[str],
                       answered: Annotated[str | None, QueryParameter(max_length=64)] = None) -> Template:
    return await _tradein_page(principal, tradein_id, answered=answered)


async def _tradein_page(principal: Principal, tradein_id: str, *, status: int = 200,
                        answered: str | None = None, problems: dict[str, str] | None = None) -> Template:
    """The trade-in with each piece's way so far and, once graded, its outcome, photos and counter-offer."""
    found = await grading.seller_tradein(principal, tradein_id)
    return render("seller/tradein.html", status=status, nav="tradeins", tradein=found,
                  timeline=tradeins.parcel_timeline(found), outlook=tradeins.credit_outlook(found),
                  steps={item.id: tradeins.piece_steps(found, item) for item in found.items},
                  can_answer=principal.role == accounts_rules.CUSTOMER, answered=answered,
                  problems=problems or {}, new_form_key=form_key, **tradeins.VIEW_HELPERS,
                  **tradeins.GRADING_HELPERS)


class CounterOfferForm(msgspec.Struct, kw_only=True):
    """A counter-offer's three buttons: accept, return, donate."""

    decision: str = ""
    form_key: str = ""


@post("/tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer", guards=[seller_only],
      include_in_schema=False, status_code=200)
async def answer_counter_offer(principal: NamedDependency[Principal], tradein_id: FromPath[str],
                               item_id: FromPath[str],
                               data: Annotated[CounterOfferForm, FormBody]) -> Template | Redirect:
    try:
        answer = msgspec.convert({"decision": data.decision}, CounterOfferAnswer)
    except msgspec.ValidationError:
        return await _tradein_page(principal, tradein_id, status=422, problems={
            item_id: "Choose: accept the new offer, ask for the piece back, or donate it."})
    action = f"/tradeins/{tradein_id}/items/{item_id}/counter-offer"
    try:
        piece = await once(principal, data.form_key, action, answer, GradedTradeInItem,
                           partial(grading.answer_counter_offer, principal, tradein_id, item_id, answer))
    except Conflict as exc:
        return await _tradein_page(principal, tradein_id, status=409, problems={item_id: exc.detail})
    return see_other(f"/tradeins/{tradein_id}?{urlencode({'answered': item_id})}#piece-{piece.line}")


@get("/tradeins/{tradein_id:str}/{name:str}", guards=[signed_in], include_in_schema=False)
async def tradein_document(principal: NamedDependency[Principal], tradein_id: FromPath[str],
                           name: FromPath[str]) -> Response[bytes]:
    """The label (PDF, ZPL) or the deed, for the signed-in seller (the API takes a bearer token instead)."""
    return document_response(await tradein.get_document(principal, tradein_id, name))


handlers = [
    landing, sign_up_form, sign_up, sign_in_form, sign_in, sign_out, sell, search_fragment, add_to_basket,
    remove_from_basket, save_basket, create_quote, quotes, quote, accept_quote, tradeins_list, tradein_page,
    answer_counter_offer, tradein_document,
]
