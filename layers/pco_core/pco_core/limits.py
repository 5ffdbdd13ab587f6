"""The most PCO Sync accepts of anything it stores: string lengths (in characters) and body sizes (bytes).

One module for every way records come in. A PCO record (pull or webhook) holding a longer value than
these is a failed record with its reason, never truncated (pco/models.py); the admin API refuses longer
values with a 422 naming the field. The names and values are the admin API's (the api branch's
limits.py), so both sides of the sync hold a record to the same numbers.
"""

from __future__ import annotations

NAME_MAX = 100  # a person's first_name, last_name
FAMILY_NAME_MAX = 200  # a family's (PCO household's) name
GROUP_NAME_MAX = 200  # a group's name
GENDER_MAX = 50  # PCO's values are Male/Female; other text passes through as PCO sent it
EMAIL_MAX = 254  # RFC 5321's limit on an address
PHONE_MAX = 40
LOCATION_MAX = 50  # "Home", "Work", "Mobile"
STREET_MAX = 500  # may hold several lines
CITY_MAX = 100
STATE_MAX = 100
ZIP_MAX = 20

# PCO's webhook deliveries are a few kilobytes (one record and its includes); API Gateway alone would let
# 10 MB through. A larger body is answered 413 before its signature is even checked, and nothing is stored.
# 1 MiB still takes an unusually large record (queued compressed when over SQS's 256 KiB).
WEBHOOK_BODY_MAX_BYTES = 1024 * 1024
