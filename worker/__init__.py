"""The Celery side of the pipeline: `celery -A worker worker` runs the tasks of worker/tasks.py."""

from worker.app import app

__all__ = ["app"]
