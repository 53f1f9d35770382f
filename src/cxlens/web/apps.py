from __future__ import annotations

from django.apps import AppConfig


class CxlensWebConfig(AppConfig):
    name = "cxlens.web"
    label = "cxweb"
    verbose_name = "cxlens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cxlens.web import figures, textjobs  # noqa: F401, PLC0415 - register overview-warm, text-incremental
