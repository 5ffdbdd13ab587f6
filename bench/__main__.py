"""`make bench`: every benchmark and its figures (BENCH_PEOPLE and BENCH_PUSH_PEOPLE set the sizes)."""

import os

from bench import pull, push

pull.main(people=int(os.environ.get("BENCH_PEOPLE", "10000")))
push.main(people=int(os.environ.get("BENCH_PUSH_PEOPLE", "1000")))
