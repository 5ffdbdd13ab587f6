"""Push: local people, families and group memberships written to PCO, one bounded page at a time."""
