"""Root URLs: the public archive, feeds, sitemap, the staff outbox, media and the admin."""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from . import account_views, feeds, media, outbox_views, upload_views, views
from .sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    path("issues/", views.issue_archive, name="issue_archive"),
    path("issues/<int:number>/", views.issue_detail, name="issue_detail"),
    path("sections/<slug:slug>/", views.section_detail, name="section_detail"),
    path("authors/<slug:slug>/", views.author_detail, name="author_detail"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag_detail"),
    path("papers/", views.paper_index, name="paper_index"),
    path("papers/bibtex/", views.papers_bibtex, name="papers_bibtex"),
    path("papers/<int:pk>/", views.paper_detail, name="paper_detail"),
    path("papers/<int:pk>/bibtex/", views.paper_bibtex, name="paper_bibtex"),
    path("search/", views.search, name="search"),
    path("feeds/rss/", feeds.IssuesRssFeed(), name="feed_rss"),
    path("feeds/atom/", feeds.IssuesAtomFeed(), name="feed_atom"),
    path("feeds/sections/<slug:slug>/rss/", feeds.SectionRssFeed(), name="section_feed_rss"),
    path("feeds/sections/<slug:slug>/atom/", feeds.SectionAtomFeed(), name="section_feed_atom"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots",
    ),
    path("outbox/", outbox_views.outbox_list, name="outbox_list"),
    path("outbox/<int:pk>/", outbox_views.outbox_detail, name="outbox_detail"),
    path("outbox/<int:pk>/html/", outbox_views.outbox_html, name="outbox_html"),
    path("", include("subscribers.urls")),
    path("", include("editorial.urls")),
    # /healthz, /readyz and the staff status page /admin/status/ (ahead of the admin's own URLs).
    path("", include("operations.urls")),
    # Anymail tracking webhooks (delivered, bounced, complained, opened, clicked), basic-auth protected,
    # guarded so that no request is a 500 (inbound mail is not handled, so not routed).
    path("webhooks/anymail/", include("subscribers.tracking.urls")),
    # The editor's live preview and image upload are for staff only.
    # Our own upload view: every image is decoded and re-encoded (newsletter/uploads.py).
    path("markdownx/upload/", upload_views.editor_image_upload, name="markdownx_upload"),
    path(
        "markdownx/markdownify/",
        upload_views.editor_preview,
        name="markdownx_markdownify",
    ),
    # The admin's sign-in (password, then a two-factor code where the user has a device) and the
    # page where staff turn two-factor sign-in on; ahead of the admin's own login URL.
    path("admin/login/", account_views.admin_login, name="account_login"),
    path("admin/login/verify/", account_views.login_verify, name="account_login_verify"),
    path("admin/two-factor/", account_views.two_factor, name="account_two_factor"),
    # The drafting forms' paper metadata lookup (JSON for static/js/paper_lookup.js), staff only.
    path("admin/paper-lookup/", include("newsletter.paper_lookup.urls")),
    path("admin/", admin.site.urls),
    re_path(r"^media/(?P<path>.+)$", media.serve_media, name="media"),
]

handler403 = "newsletter.access.permission_denied"
handler404 = "newsletter.views.page_not_found"
handler500 = "newsletter.views.server_error"
