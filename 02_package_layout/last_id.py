"""Remember the id of the last task submit.py sent, so check_result.py can look it up."""

import sys

LAST_ID_FILE = ".last_task_id"


def save_last_id(task_id):
    with open(LAST_ID_FILE, "w") as f:
        f.write(task_id + "\n")


def load_last_id():
    try:
        with open(LAST_ID_FILE) as f:
            return f.read().strip()
    except FileNotFoundError:
        sys.exit("[!] no task id given and no .last_task_id here yet: run `python submit.py` first")
