from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.conf import settings

        # The task framework's signals are a third-party hook, like Anymail's tracking signal: the
        # request id travels with each task enqueued while it is set (request_id.py).
        from django_tasks.signals import task_enqueued, task_finished, task_started

        from . import request_id

        task_enqueued.connect(request_id.remember_for_task, dispatch_uid="operations_request_id_enqueued")
        task_started.connect(request_id.restore_in_task, dispatch_uid="operations_request_id_started")
        task_finished.connect(request_id.forget_after_task, dispatch_uid="operations_request_id_finished")

        if settings.SENTRY_DSN:
            from .errors import start_sentry

            start_sentry(
                settings.SENTRY_DSN,
                environment=settings.SENTRY_ENVIRONMENT,
                release=settings.SENTRY_RELEASE,
                traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
            )
