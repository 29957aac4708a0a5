"""PO boxes refused as delivery addresses (002_: "PO Boxes are not eligible delivery addresses. Orders made to
PO Box addresses will not be accepted."), without refusing the street addresses that look like them."""

import pytest

from forever.rules import delivery_address_problems


@pytest.mark.parametrize("address", [
    "PO Box 123, Springfield IL 62701",
    "P.O. Box 123",
    "p.o.box 12",
    "P O Box 7",
    "POBox 55",
    "PO-Box 9",
    "Post Office Box 9, Dublin 2",
    "POB 12",
    "P.O.B. 12",
    "GPO Box 1234, Sydney NSW 2001",
    "Locked Bag 3, Parramatta NSW 2150",
    "Boîte postale 123, 75001 Paris",
    "BOITE POSTALE 5",
    "BP 123, 13001 Marseille",
    "B.P. 123",
    "BP123 69001 Lyon",
    "BP n° 45",
    "CS 70001, 33000 Bordeaux Cedex",
    "Case postale 45, 1211 Genève",
    "Postfach 10 20 30, 10115 Berlin",
    "Postbus 123, 1000 AC Amsterdam",
    "Postboks 123, 0101 Oslo",
    "Apartado de correos 45, 28080 Madrid",
    "Apdo. de Correos 45",
    "Apdo. 45, Sevilla",
    "Apartado postal 7",
    "Apartado 1234, 1001-001 Lisboa",
    "Casella postale 12, 20100 Milano",
    "Caixa Postal 12",
    "Skrytka pocztowa 5, 00-950 Warszawa",
    "Postilokero 4, 00101 Helsinki",
    "Poštovní přihrádka 12, 110 00 Praha",
])
def test_po_boxes_are_not_eligible_delivery_addresses(address):
    assert delivery_address_problems(address) == ["po_box"]


@pytest.mark.parametrize("address", [
    "12 Boulevard de la Madeleine, 75009 Paris",
    "Boulevard Anspach 12 BPost, 1000 Bruxelles",
    "12 BPost Boulevard",
    "Station BP, Route de Lyon",
    "Avenue Louise 54 bte 3, 1050 Bruxelles",
    "Avenue Louise 54 box 3, 1050 Bruxelles",
    "Kerkstraat 12 bus 3, 2000 Antwerpen",
    "Boxhagener Straße 12, 10245 Berlin",
    "12 Box Hill Road, Box Hill VIC 3128",
    "Via Po 12, 10124 Torino",
    "Postplatz 1, 01067 Dresden",
    "1 Post Office Square, Boston MA 02109",
    "Calle Mayor 5, Apartamento 3, 28013 Madrid",
    "Carrer de Pujades 12, Poblenou, 08005 Barcelona",
    "Rue de la Boétie 10, 75008 Paris",
    "3 rue du Cherche-Midi, boîte aux lettres 4, 75006 Paris",
    "54 rue Etienne Marcel, 75002 Paris",
    "Expo Boxing Club, 3 High Street, London",
])
def test_street_addresses_that_look_like_po_boxes_are_fine(address):
    assert delivery_address_problems(address) == []


def test_a_bare_box_number_is_a_po_box_in_sweden_only():
    """In Sweden a PO box is written "Box 1234"; in Belgium "box 3" is a flat's box number."""
    swedish = {"line1": "Box 1234", "postal_code": "111 22", "city": "Stockholm", "country": "SE"}
    assert delivery_address_problems(swedish) == ["po_box"]
    assert delivery_address_problems("Företaget AB\nBox 1234\n111 22 Stockholm", country="SE") == ["po_box"]
    belgian = {"line1": "Avenue Louise 54", "line2": "Box 3", "city": "Bruxelles", "country": "BE"}
    assert delivery_address_problems(belgian) == []
    assert delivery_address_problems("Sveavägen 12, 111 22 Stockholm", country="SE") == []


def test_every_text_field_of_an_address_is_read():
    address = {"line1": "Jane Doe", "line2": "PO Box 5", "city": "Leeds", "postal_code": "LS1 1AA",
               "floor": 3}
    assert delivery_address_problems(address) == ["po_box"]


@pytest.mark.parametrize("address", ["", "   ", {}, {"line1": " ", "floor": 2}])
def test_an_empty_address_is_missing(address):
    assert delivery_address_problems(address) == ["missing_address"]
