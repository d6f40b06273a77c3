from django.apps import AppConfig


class EditorialConfig(AppConfig):
    name = "editorial"
    verbose_name = "Editorial workflow"

    def ready(self) -> None:
        from . import hooks, revisions

        revisions.register()
        hooks.connect()  # the send pipeline's news becomes notifications
