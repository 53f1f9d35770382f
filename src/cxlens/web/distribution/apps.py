from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "cxlens.web.distribution"
    label = "distribution"
    verbose_name = "cxlens survey distribution"
    default_auto_field = "django.db.models.BigAutoField"
