"""The Celery app, configured from the one Settings object.

Delivery is at-least-once: a task is acknowledged only after it ran (`task_acks_late`), a task whose worker
process died is handed back to the queue (`task_reject_on_worker_lost`), and a worker reserves one task at a
time (`worker_prefetch_multiplier=1`), so a killed worker strands at most one task per process. On Redis such a
task comes back after `broker_visibility_timeout`; on the embedded broker it is gone, and the ledger's
reconciliation enqueues the file again. Running a task twice is harmless because storage is idempotent.
"""

from __future__ import annotations

from celery import Celery

from nianbao.settings import Settings, get_settings
from worker import broker  # importing it registers the embedded transport before any connection

QUEUE = "nianbao"


def broker_options(settings: Settings) -> dict[str, object]:
    scheme = settings.broker.split("://", 1)[0]
    if scheme in ("redis", "rediss", "sentinel"):
        return {
            "visibility_timeout": settings.broker_visibility_timeout,
            "socket_keepalive": True,
            "health_check_interval": 30,
            "retry_on_timeout": True,
        }
    if scheme == "filesystem":  # kombu's filesystem transport: one file per message in data_dir/broker
        folder = (settings.data_dir / "broker").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return {"data_folder_in": str(folder), "data_folder_out": str(folder), "polling_interval": broker.BUSY_POLLING}
    return {}


def make_app(settings: Settings) -> Celery:
    app = Celery("nianbao", include=["worker.tasks"])
    app.conf.update(
        broker_url=settings.broker,
        broker_transport_options=broker_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits for its broker forever instead of exiting
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(1, settings.task_time_limit - 30),
        worker_max_tasks_per_child=1000,  # recycle pool processes now and then over a year of parsing
        # The embedded broker has no fanout exchange for remote control (inspect/ping/shutdown broadcasts).
        worker_enable_remote_control=not settings.embedded_broker,
        enable_utc=True,
    )
    return app


app = make_app(get_settings())
