"""The AMI product catalog."""

from piccolo.columns import JSON, Integer, Timestamptz, Varchar
from piccolo.table import Table


class Product(Table):
    """One AMI reference. `name_key` is the case- and accent-folded name that search matches."""

    ref = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    name_key = Varchar(length=200, index=True)
    category = Varchar(length=32, index=True)
    season = Varchar(length=4, index=True)
    season_ordinal = Integer(index=True)
    retail_price = Integer()
    color = Varchar(length=100, default="")
    materials = JSON(default=[])
    sizes = JSON(default=[])
    updated_at = Timestamptz()
