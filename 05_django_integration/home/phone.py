"""Phone numbers in logs and results: never the whole number."""


def masked(mobile):
    """13800138000 -> 138****8000: the first three and the last four digits."""
    return mobile[:3] + "*" * max(len(mobile) - 7, 0) + mobile[-4:]
