"""The lesson's own code that more than one chapter's tests run verbatim."""

# The quick start, "checking the result" (查看任务结果.py), tabs and all, with the lesson's id.
LESSONS_ID = "0e615f80-0aae-4ecd-8bc4-ee0c94545b8a"
CHECK_RESULT = """\
from celery_task import app

from celery.result import AsyncResult

id = '0e615f80-0aae-4ecd-8bc4-ee0c94545b8a'
if __name__ == '__main__':
\ta = AsyncResult(id=id, app=app)
\tif a.successful():
\t\tresult = a.get()
\t\tprint("任务执行成功了")
\t\tprint(result)
\telif a.failed():
\t\tprint('任务失败')
\telif a.status == 'PENDING':
\t\tprint('任务等待中被执行')
\telif a.status == 'RETRY':
\t\tprint('任务异常后正在重试')
\telif a.status == 'STARTED':
\t\tprint('任务已经开始被执行')
"""


def check_result(task_id: str = LESSONS_ID, app_module: str = "celery_task") -> str:
    """The lesson's result check for task_id; app_module is where the app is imported from
    (the lesson's package layout keeps it in celery_task.celery)."""
    return (CHECK_RESULT.replace(LESSONS_ID, task_id)
            .replace("from celery_task import app", f"from {app_module} import app"))
