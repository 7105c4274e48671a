"""The machinery behind `make tour` and the tests: Redis provisioning, processes, narration."""
