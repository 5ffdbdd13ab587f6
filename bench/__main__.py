"""`make bench`: every benchmark and its figures (BENCH_PEOPLE, BENCH_PUSH_PEOPLE and BENCH_WEBHOOKS set
the sizes), then the monthly cost model fed with the pull benchmark's per-page figures."""

import os

from bench import cost, pull, push, webhooks

pull.main(people=int(os.environ.get("BENCH_PEOPLE", "15000")))
cost.main()
push.main(people=int(os.environ.get("BENCH_PUSH_PEOPLE", "1000")))
webhooks.main(deliveries=int(os.environ.get("BENCH_WEBHOOKS", "1000")))
