"""The price table (tools/cost/prices.csv): every row sourced and dated, lookups that fail
clearly."""

from __future__ import annotations

import re

import pytest

from tools.cost.prices import PRICES_FILE, PriceError, PriceTable

STATUSES = {"aws-page", "secondary", "assumption", "not-found"}


def test_every_row_names_its_aws_page_the_date_read_and_how_it_was_checked():
    text = [line for line in PRICES_FILE.read_text().splitlines() if not line.startswith("#")]
    table = PriceTable.load()
    items = [line.split(",")[1] for line in text[1:]]
    assert len(items) == len(set(items)) >= 20, "one row per billed unit"
    for item in items:
        row = table.row("us-east-1", item)
        assert re.fullmatch(r"https://aws\.amazon\.com/[a-z0-9/-]+/", row.source), row
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.read_on), row
        assert row.status in STATUSES, row
        assert row.note, f"{item}: say where the figure was read"
        # A price is either given or explicitly not found; never a silent blank.
        assert (row.price is None) == (row.status == "not-found"), row


def test_the_rates_the_estimate_multiplies_by(tmp_path):
    table = PriceTable.load()
    # Spot-checks against the quoted pages (notes in prices.csv): a typo here changes a bill.
    assert table("us-east-1", "alb-hour") == 0.0225
    assert table("us-east-1", "alb-lcu-hour") == 0.008
    assert table("us-east-1", "kms-key-month") == 1.0
    assert table("us-east-1", "ipam-active-ip-hour") == 0.00027
    assert table("us-east-1", "lambda-kafka-epu-hour") == 0.185


def test_an_unknown_item_or_region_is_refused_by_name():
    table = PriceTable.load()
    with pytest.raises(PriceError, match=r"no price for 'fargate-x86-vcpu-hour' in us-east-1"):
        table("us-east-1", "fargate-x86-vcpu-hour")
    with pytest.raises(PriceError, match=r"in eu-west-1 .*regions with prices: us-east-1"):
        table("eu-west-1", "alb-hour")


def test_a_malformed_table_is_refused_with_its_row(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("region,item,unit,price,source,read_on,status,note\n"
                    "us-east-1,alb-hour,hour,cheap,https://aws.amazon.com/x/,2026-01-01,aws-page,n\n")
    with pytest.raises(PriceError, match=r"row 2: price 'cheap' is not a number"):
        PriceTable.load(path)
    path.write_text("item,price\nalb-hour,1\n")
    with pytest.raises(PriceError, match="columns must be"):
        PriceTable.load(path)
