"""The health endpoints and the staff status page.

/healthz answers 200 as long as the process serves requests (no database, no cache). /readyz runs
the readiness checks (health.py) and answers 200 or 503 with their JSON, which has no secrets; each
check offers itself to the history (history.py). Both are for probes and monitors: never cached,
exempt from the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT). The status page, under the admin
(so two-factor applies), shows the same checks with what only staff should see and the history.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health, history

STATUS_PERMISSION = "operations.view_status"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    report = health.readiness()
    history.offer(report)
    return JsonResponse(report.as_dict(), status=200 if report.ready else 503)


@never_cache
@require_safe
def status(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (request.user.is_staff and request.user.has_perm(STATUS_PERMISSION)):
        raise PermissionDenied("Your role does not allow you to see the operations status page.")
    report = health.readiness()
    history.offer(report)
    samples = history.recent(report.checked_at)
    context = {
        **admin.site.each_context(request),
        "title": "Operations status",
        "report": report,
        "components": [(check.name, check.status, check.values) for check in report.checks],
        "heartbeat": health.heartbeat_row(),
        "chart": history.chart(samples, report.checked_at),
        "failures": history.failures(),
    }
    return TemplateResponse(request, "admin/operations/status.html", context)
