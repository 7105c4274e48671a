"""One clock for every time the scripts print: the learner's, to the millisecond."""

from datetime import datetime, timezone


def clock(moment):
    """A moment (aware datetime or epoch seconds) as the learner's clock shows it, to the ms."""
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    return moment.astimezone().strftime("%H:%M:%S.%f")[:-3]
