"""Editorial URLs outside the admin's registrations: signed share-preview links (robots.txt
disallows /preview/), and each staff member's notifications, under /admin/ with the admin's own
check (they come before admin.site.urls in newsletter/urls.py)."""

from django.urls import path

from . import notification_views, views

app_name = "editorial"

urlpatterns = [
    path("preview/<str:token>/", views.preview, name="preview"),
    path("admin/notifications/", notification_views.notification_list, name="notifications"),
    path("admin/notifications/read/", notification_views.mark_read, name="notifications_read"),
    path(
        "admin/notifications/settings/",
        notification_views.preferences,
        name="notification_preferences",
    ),
]
