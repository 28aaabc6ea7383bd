"""What a stack costs per month: an estimate from the program's own resource graph.

    python -m tools.cost --stack dev --events-per-second 100 [--payload-bytes 200]

graph.py reads the counts and sizes from the program run under mocks, figures.py the measured
per-event work (bench/figures.json), prices.py the price table (prices.csv), model.py turns
the three into billed items, report.py prints them, readme.py keeps README's cost block current.
"""
