from __future__ import annotations

from django.urls import path

from cxlens.web.loop import views

urlpatterns = [
    path("p/<slug:slug>/cases/", views.inbox, name="loop_inbox"),
    path("p/<slug:slug>/cases/<int:pk>/", views.case_detail, name="loop_case"),
    path("p/<slug:slug>/loop/", views.loop_dashboard, name="loop_dashboard"),
    path("p/<slug:slug>/loop/rules/", views.rules, name="loop_rules"),
    path("p/<slug:slug>/loop/rules/<int:pk>/", views.rule_detail, name="loop_rule"),
    path("p/<slug:slug>/loop/channels/", views.channels, name="loop_channels"),
]
