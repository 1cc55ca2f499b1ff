"""Prints how long the simulator takes to generate 100,000 listings and how much memory they hold."""

from __future__ import annotations

import time
import tracemalloc

from spapi_simulator.catalog_generator import make_catalog
from spapi_simulator.reports_api import flat_file_chunks


def main(skus: int = 100_000) -> None:
    catalog = make_catalog(seed=1, skus=skus)
    started = time.perf_counter()
    table = catalog.table("A1NASELLER0001", "ATVPDKIKX0DER")
    generated = time.perf_counter() - started
    tracemalloc.start()
    catalog.table("A1NASELLER0001", "A2EUQ1WTGCTBG2")
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in flat_file_chunks(catalog.listings("A1NASELLER0001", "ATVPDKIKX0DER")))
    written = time.perf_counter() - started
    print(f"generate {len(table):,} listings: {generated:.2f} s; one table holds {held / 1e6:.1f} MB")
    print(f"flat file of {len(table):,} rows: {size / 1e6:.1f} MB written in {written:.2f} s")


if __name__ == "__main__":
    main()
