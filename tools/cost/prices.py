"""The price table (prices.csv): one row per billed unit, with its source page and the date read."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

PRICES_FILE = Path(__file__).with_name("prices.csv")
COLUMNS = ("region", "item", "unit", "price", "source", "read_on", "status", "note")


class PriceError(ValueError):
    """The table lacks a price the estimate needs, or a row is malformed."""


@dataclass(frozen=True)
class Price:
    region: str
    item: str
    unit: str
    price: float | None  # None: the rate was not found (the row says why)
    source: str
    read_on: str
    status: str
    note: str


class PriceTable:
    def __init__(self, rows: list[Price]) -> None:
        self._rows = {(row.region, row.item): row for row in rows}

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> PriceTable:
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        reader = csv.DictReader(lines)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise PriceError(f"{path.name}: columns must be {', '.join(COLUMNS)}")
        rows = []
        for number, raw in enumerate(reader, start=2):
            try:
                price = float(raw["price"]) if raw["price"].strip() else None
            except ValueError:
                raise PriceError(f"{path.name} row {number}: price {raw['price']!r} is not a "
                                 "number") from None
            rows.append(Price(**{**raw, "price": price}))
        return cls(rows)

    def regions(self) -> set[str]:
        return {region for region, _ in self._rows}

    def row(self, region: str, item: str) -> Price:
        try:
            return self._rows[(region, item)]
        except KeyError:
            raise PriceError(f"no price for {item!r} in {region} in {PRICES_FILE.name} (regions "
                             f"with prices: {', '.join(sorted(self.regions()))})") from None

    def __call__(self, region: str, item: str) -> float | None:
        return self.row(region, item).price
