"""{% editorial_dashboard %}: the editorial panels of the admin index (templates/admin/index.html)."""

from __future__ import annotations

from django import template

from editorial.dashboard import dashboard_for

register = template.Library()


@register.inclusion_tag("editorial/admin/_dashboard.html", takes_context=True)
def editorial_dashboard(context: template.Context) -> dict[str, object]:
    request = context.get("request")
    return {
        "board": dashboard_for(request.user) if request else None,
        # The notifications' buttons are forms that come back here.
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path() if request else "",
    }
