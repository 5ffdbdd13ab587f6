"""Pull sync: PCO people, households, groups and memberships merged into local records, a page at a time."""
