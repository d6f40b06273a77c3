"""The health endpoints and the status page (under /admin/, where two-factor sign-in applies)."""

from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/status/", views.status, name="ops_status"),
]
