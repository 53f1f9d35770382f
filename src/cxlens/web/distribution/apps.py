"""Survey distribution: contacts and consent, email invitations, triggers and contact rules."""
from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "cxlens.web.distribution"
    label = "distribution"
    verbose_name = "cxlens survey distribution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cxlens.web.distribution import jobs  # noqa: F401  (registers the background jobs)
