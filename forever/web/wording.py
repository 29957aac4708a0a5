"""What the seller's pages say: conditions, refusal reasons, categories and seasons in plain words.

The French condition texts quote 003_38b7e7f894448fa2.txt word for word (with French typography's non-breaking
space before a colon); the English ones translate them.
"""

from __future__ import annotations

from typing import NamedTuple

from forever.catalog.model import CATEGORIES, CONDITIONS, EXCLUDED_CATEGORIES, Season, season_range


class ConditionText(NamedTuple):
    """One condition as the seller chooses it."""

    title: str
    english: str
    french: str
    example_english: str = ""
    example_french: str = ""
    accepted: bool = True


CONDITION_TEXTS: dict[str, ConditionText] = {
    "new_with_tags": ConditionText(
        "New with tags",
        "Never worn, original outer tag still on.",
        "Etat neuf\u00a0: ces articles n'ont jamais été portés et ont conservé leur étiquette extérieure d'origine",
    ),
    "excellent": ConditionText(
        "Excellent",
        "Practically new, no signs of wear and no visible defects.",
        "Excellent état\u00a0: Ces articles sont pratiquement neufs sans traces d'usure ni défauts visibles",
    ),
    "very_good": ConditionText(
        "Very good",
        "Minor signs of wear only.",
        "Très bon état\u00a0: Ces articles ne présentent que des traces d'usure mineures",
        "Acceptable signs of wear: creases from wearing, fabric softer than when new, slight pilling.",
        "Exemples de signes d’usure acceptables\u00a0: plis d’usage, matière plus souple que l’état neuf, "
        "léger boulochage",
    ),
    # The seed defines only the three accepted conditions; these two say why the others earn nothing.
    "worn": ConditionText(
        "Worn",
        "More than minor wear. Not accepted: it earns no credit.",
        "Usure au-delà des traces mineures\u00a0: article non repris",
        accepted=False,
    ),
    "damaged": ConditionText(
        "Damaged",
        "Stained, torn, holed, smelly, altered, or missing buttons or labels. Not accepted: it earns no credit.",
        "Les articles tachés, endommagés et/ou nécessitant une réparation ne pourront pas faire l'objet d'un "
        "crédit de reprise",
        accepted=False,
    ),
}
assert tuple(CONDITION_TEXTS) == CONDITIONS

REASON_TEXTS: dict[str, str] = {
    "unknown_product": "We could not find this piece in the AMI catalog.",
    "excluded_category": "AMI For Ever does not take underwear, swimwear or lifestyle items.",
    "current_season": "Pieces from the current season are not taken yet.",
    "season_too_old": "Pieces from before 2016 are not taken.",
    "condition_not_accepted": "Only pieces in new, excellent or very good condition are taken: worn or damaged "
                              "pieces earn no credit.",
}

SELLER_REFUSAL_TEXTS: dict[str, str] = {
    "country_not_served": "AMI For Ever takes pieces from sellers living in France, Germany, Italy, Spain, "
                          "Belgium or the Netherlands. Your account's country is not one of them, so we "
                          "cannot make you an offer.",
    "minor": "AMI For Ever is open to people aged 18 and over.",
}

CATEGORY_LABELS: dict[str, str] = {
    "tshirts": "T-shirts", "sweatshirts": "Sweatshirts", "shirts": "Shirts", "knitwear": "Knitwear",
    "trousers": "Trousers", "denim": "Denim", "shorts": "Shorts", "jackets": "Jackets", "coats": "Coats",
    "suits": "Suits", "dresses": "Dresses", "skirts": "Skirts", "shoes": "Shoes", "bags": "Bags",
    "small_leather_goods": "Small leather goods", "accessories": "Accessories", "underwear": "Underwear",
    "swimwear": "Swimwear", "lifestyle": "Lifestyle",
}
assert tuple(CATEGORY_LABELS) == CATEGORIES

QUOTE_STATUS_LABELS: dict[str, str] = {"open": "Open", "expired": "Expired", "accepted": "Accepted"}

# Sellers may register from anywhere (CONTRACT.md); the six served countries come first.
SERVED_COUNTRY_NAMES: dict[str, str] = {
    "FR": "France", "DE": "Germany", "IT": "Italy", "ES": "Spain", "BE": "Belgium", "NL": "Netherlands",
}
OTHER_COUNTRY_NAMES: dict[str, str] = {
    "AT": "Austria", "AU": "Australia", "CA": "Canada", "CH": "Switzerland", "DK": "Denmark", "FI": "Finland",
    "GB": "United Kingdom", "GR": "Greece", "IE": "Ireland", "JP": "Japan", "LU": "Luxembourg", "NO": "Norway",
    "PL": "Poland", "PT": "Portugal", "SE": "Sweden", "US": "United States",
}

# AMI's first collection; the season filter offers nothing older.
FIRST_AMI_SEASON = "FW11"
FIRST_TAKEN_SEASON = "SS16"


def category_label(code: str | None) -> str:
    return CATEGORY_LABELS.get(code or "", code or "")


def category_options() -> list[tuple[str, str]]:
    """(code, label) of every category, those never taken marked as such."""
    return [(code, CATEGORY_LABELS[code] + (" (not taken)" if code in EXCLUDED_CATEGORIES else ""))
            for code in CATEGORIES]


def season_label(code: str | None) -> str:
    """"SS24" -> "Spring-Summer 2024"."""
    if not code:
        return ""
    season = Season(code)
    return f"{'Spring-Summer' if season.half == 0 else 'Fall-Winter'} {season.year}"


def season_groups(current: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The season filter's option groups, newest first: the current season, those taken, those too old."""
    previous = season_range(FIRST_TAKEN_SEASON, current)[:-1]
    too_old = season_range(FIRST_AMI_SEASON, FIRST_TAKEN_SEASON)[:-1]
    return [
        ("Current season (not taken yet)", [(current, f"{current} · {season_label(current)}")]),
        ("Seasons taken", [(code, f"{code} · {season_label(code)}") for code in reversed(previous)]),
        ("Before 2016 (not taken)", [(code, f"{code} · {season_label(code)}") for code in reversed(too_old)]),
    ]


def reason_text(code: str) -> str:
    return REASON_TEXTS.get(code, code.replace("_", " ").capitalize() + ".")
