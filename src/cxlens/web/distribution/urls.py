from __future__ import annotations

from django.urls import path

from cxlens.web.distribution import views

urlpatterns = [
    path("p/<slug:slug>/surveys/<slug:survey>/distribution/", views.survey_distribution, name="survey_distribution"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
