"""Subscriber-facing URLs: subscribe, confirm, preferences, unsubscribe. Tokens are signed (tokens.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/sent/", views.subscribe_sent, name="subscribe_sent"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="subscribe_confirm"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("preferences/<str:token>/export/", views.preferences_export, name="preferences_export"),
    path("preferences/<str:token>/delete/", views.preferences_delete, name="preferences_delete"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
