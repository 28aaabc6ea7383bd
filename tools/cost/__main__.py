"""python -m tools.cost --stack dev --events-per-second 100 [--payload-bytes 200] [--write]"""

from __future__ import annotations

import argparse
import sys

from tools.cost.figures import FiguresError
from tools.cost.graph import StackError
from tools.cost.prices import PriceError
from tools.cost.readme import ReadmeError
from tools.cost.records import api_record_bytes


def _number(kind: type, minimum: float, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {what}") from None
        if not value >= minimum or value != value or value in (float("inf"),):
            raise argparse.ArgumentTypeError(
                f"{text!r}: must be a finite {what} of at least {minimum}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost",
                                     description="Monthly cost of a stack file at a given load.")
    parser.add_argument("--stack", help="the stack file Pulumi.<stack>.yaml, e.g. dev")
    parser.add_argument("--events-per-second", type=_number(float, 0, "number"),
                        help="average events per second over the month")
    parser.add_argument("--payload-bytes", type=_number(int, 1, "whole number"),
                        help="bytes per Kafka record (default: the API's own event record)")
    parser.add_argument("--http-bytes-per-event", type=_number(int, 1, "whole number"),
                        default=1000, help="request + response bytes through the ALB")
    parser.add_argument("--requests-per-connection", type=_number(int, 1, "whole number"),
                        default=100, help="requests a client sends per connection")
    parser.add_argument("--retention-hours", type=_number(int, 1, "whole number"), default=168,
                        help="the topic's retention (Kafka's default: 168)")
    parser.add_argument("--write", action="store_true",
                        help="rewrite README.md's cost block (dev and prod at 10 and 1,000 "
                             "events/s) instead of printing one estimate")
    args = parser.parse_args(argv)
    try:
        if args.write:
            from tools.cost.readme import write_readme

            print(write_readme())
            return 0
        if args.stack is None or args.events_per_second is None:
            parser.error("--stack and --events-per-second are required (or --write)")
        from tools.cost.figures import load_figures
        from tools.cost.graph import read_stack
        from tools.cost.model import Load
        from tools.cost.prices import PriceTable
        from tools.cost.report import Estimate, render

        prices, figures = PriceTable.load(), load_figures()
        shape = read_stack(args.stack)
        load = Load(args.events_per_second, args.payload_bytes or api_record_bytes(),
                    args.http_bytes_per_event, args.requests_per_connection,
                    args.retention_hours)
        print(render(Estimate(shape, prices, figures, load)))
        return 0
    except (StackError, PriceError, FiguresError, ReadmeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
