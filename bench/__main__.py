"""`make bench`: every benchmark and its figures (BENCH_PEOPLE, BENCH_PUSH_PEOPLE and BENCH_WEBHOOKS set
the sizes)."""

import os

from bench import pull, push, webhooks

pull.main(people=int(os.environ.get("BENCH_PEOPLE", "10000")))
push.main(people=int(os.environ.get("BENCH_PUSH_PEOPLE", "1000")))
webhooks.main(deliveries=int(os.environ.get("BENCH_WEBHOOKS", "1000")))
