from django.apps import AppConfig


class LoopConfig(AppConfig):
    name = "cxlens.web.loop"
    label = "loop"
    verbose_name = "cxlens closed loop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cxlens.web.loop import jobs, signals  # noqa: F401 - registers the jobs and the signal handlers
