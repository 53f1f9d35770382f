from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cxlens.web import views
from cxlens.web.api import api

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(template_name="cxlens/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.overview, name="overview"),
    path("p/<slug:slug>/explore/", views.explorer, name="explorer"),
    path("p/<slug:slug>/customers/", views.customers, name="customers"),
    path("p/<slug:slug>/customers/<str:customer_id>/", views.customer, name="customer"),
    path("p/<slug:slug>/settings/", views.settings_page, name="settings"),
    path("p/<slug:slug>/journeys/", views.journeys, name="journeys"),
    path("p/<slug:slug>/text/", views.text, name="text"),
    path("p/<slug:slug>/text/themes/<str:theme_id>/", views.theme, name="theme"),
    path("p/<slug:slug>/responses/", views.responses, name="responses"),
    path("", include("cxlens.web.surveys.urls")),
    path("", include("cxlens.web.distribution.urls")),
    path("", include("cxlens.web.loop.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

handler404 = "cxlens.web.views.not_found"
handler500 = "cxlens.web.views.server_error"
