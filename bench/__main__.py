"""`make bench`: run every benchmark and print its figures (BENCH_PEOPLE overrides the church size)."""

import os

from bench import pull

pull.main(people=int(os.environ.get("BENCH_PEOPLE", "10000")))
