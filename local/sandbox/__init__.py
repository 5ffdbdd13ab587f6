"""A faithful local Planning Center (People, Groups, Webhooks APIs) for tests, demos and the local stack."""
