from __future__ import annotations

from django.urls import path

from cxlens.web.surveys import views, widget

urlpatterns = [
    path("p/<slug:slug>/surveys/", views.survey_list, name="survey_list"),
    path("p/<slug:slug>/surveys/<slug:survey>/", views.survey_detail, name="survey_detail"),
    path("p/<slug:slug>/surveys/<slug:survey>/preview/", views.survey_preview, name="survey_preview"),
    path("p/<slug:slug>/surveys/<slug:survey>/results/", views.survey_results, name="survey_results"),
    path("s/widget.js", widget.widget_js, name="survey_widget_js"),
    path("s/<slug:slug>/collect", widget.collect, name="survey_collect"),
    path("s/<slug:slug>/", views.survey_start, name="survey_start"),
    path("s/<slug:slug>/r/<str:response>/", views.survey_page, name="survey_page"),
    path("s/<slug:slug>/r/<str:response>/thanks/", views.survey_thanks, name="survey_thanks"),
]
