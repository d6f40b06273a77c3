"""The lookup endpoint, under admin/paper-lookup/ (newsletter/urls.py includes it)."""

from django.urls import path

from . import views

urlpatterns = [path("", views.paper_lookup, name="paper_lookup")]
