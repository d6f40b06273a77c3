"""The outbox in the admin: read-only rows with a link to the outbox page that renders them.

Imported by newsletter/admin.py (`from . import admin_outbox  # noqa: F401`).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    list_display = ["subject", "to", "created_at", "outbox_link"]
    search_fields = ["subject", "to"]
    date_hierarchy = "created_at"
    readonly_fields = ("outbox_link", "created_at", "from_email", "to", "subject", "headers", "text_body")
    fields = readonly_fields
    list_per_page = 50

    @admin.display(description="Outbox page")
    def outbox_link(self, message: OutboxMessage) -> str:
        return format_html('<a href="{}">View the email</a>', message.get_absolute_url())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False
