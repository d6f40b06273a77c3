"""Editorial URLs outside the admin: signed share-preview links (robots.txt disallows /preview/)."""

from django.urls import path

from . import views

app_name = "editorial"

urlpatterns = [
    path("preview/<str:token>/", views.preview, name="preview"),
]
