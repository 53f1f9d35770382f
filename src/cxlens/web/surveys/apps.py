from __future__ import annotations

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "cxlens.web.surveys"
    label = "cxsurveys"
    verbose_name = "cxlens surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cxlens.web.surveys import jobs  # noqa: F401  (registers the surveys-flush job)
