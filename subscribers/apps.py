from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers and sending"

    def ready(self) -> None:
        # Anymail's tracking webhooks are a third-party hook: the one place this app uses a signal.
        from anymail.signals import tracking

        from .tracking.webhooks import record_tracking_event

        tracking.connect(record_tracking_event, dispatch_uid="record_tracking_event")
