"""Remember the id of the last task a script sent, so `python check_result.py` can find it.

submit.py, watch_states.py and bad_input.py call save_last_id(); check_result.py, given no
id, calls load_last_id(). The id lives in .last_task_id in this folder (git ignores it).
"""

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
