"""The embedded local default: the PCO sandbox and the local stack (no AWS account, no Docker)."""
