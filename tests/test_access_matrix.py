"""Who gets what: every URL the resolver knows, as every role, by GET and by POST, against one table.

The URLs come from walking newsletter.urls (the admin's registrations and custom views, the
editorial screens, the outbox, the token pages, the webhooks), so a URL without a row in ACCESS
fails `test_every_url_has_a_row`, naming it. Each role is a staff user in its group, never a
superuser standing in for one; "writer" acts on their own draft, its summary, the paper only it
uses and the email sent to them, "writer, other's" on another writer's. Every case runs in a
savepoint that is rolled back, so a POST that deletes or publishes leaves the next case the same
content, and a refusal under /admin/ or /outbox/ must be the refusal page, not a bare 403.
pytest's summary prints how many (role, URL, method) cases were checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from taggit.models import Tag

from editorial import previews, review, revisions
from newsletter.models import Issue, OutboxMessage, Paper, PaperSummary
from subscribers import tokens
from subscribers.models import Delivery, Send, Subscriber, Suppression
from tests.factories import make_author, make_issue, make_paper, make_section, make_summary, make_user

pytestmark = [
    pytest.mark.django_db,
    # Asking every ESP's webhook once makes Anymail warn about each of them.
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning"),
]

SUBJECTS = ("anonymous", "writer", "writer, other's", "editor", "managing editor", "superuser")

# The expected answers. One row per URL (its name, "namespace:name", or its route when it has
# none; a `*` matches any characters, for the ESP webhooks Anymail adds). Each cell is
# "<GET>/<POST>" for anonymous, a writer on their own draft, a writer on another writer's, an
# editor, a managing editor and a superuser:
#   200 400 403 404 405  that status (a 403 under /admin/ or /outbox/ is the refusal page)
#   go                   a redirect (a saved form, a button's result, the admin's "no such object")
#   L                    a redirect to the admin's sign-in page
ACCESS = """
# url name or route                                        anonym. writer  other's editor  managing super
# The public site
home                                                        200/405 200/405 200/405 200/405 200/405 200/405
issue_archive                                               200/405 200/405 200/405 200/405 200/405 200/405
issue_detail                                                200/405 200/405 200/405 200/405 200/405 200/405
section_detail                                              200/405 200/405 200/405 200/405 200/405 200/405
author_detail                                               200/405 200/405 200/405 200/405 200/405 200/405
tag_detail                                                  200/405 200/405 200/405 200/405 200/405 200/405
paper_index                                                 200/405 200/405 200/405 200/405 200/405 200/405
papers_bibtex                                               200/405 200/405 200/405 200/405 200/405 200/405
paper_detail                                                200/405 200/405 200/405 200/405 200/405 200/405
paper_bibtex                                                200/405 200/405 200/405 200/405 200/405 200/405
search                                                      200/405 200/405 200/405 200/405 200/405 200/405
feed_rss                                                    200/200 200/200 200/200 200/200 200/200 200/200
feed_atom                                                   200/200 200/200 200/200 200/200 200/200 200/200
section_feed_rss                                            200/200 200/200 200/200 200/200 200/200 200/200
section_feed_atom                                           200/200 200/200 200/200 200/200 200/200 200/200
sitemap                                                     200/200 200/200 200/200 200/200 200/200 200/200
robots                                                      200/405 200/405 200/405 200/405 200/405 200/405

# The outbox: managing editors and superusers read every email, other staff those sent to them
outbox_list                                                 L/405   200/405 200/405 200/405 200/405 200/405
outbox_detail                                               L/405   200/405 403/405 403/405 200/405 200/405
outbox_html                                                 L/405   200/405 403/405 403/405 200/405 200/405

# Operations: the probes answer anyone (GET only); the status page is for managing editors
healthz                                                     200/405 200/405 200/405 200/405 200/405 200/405
readyz                                                      200/405 200/405 200/405 200/405 200/405 200/405
ops_status                                                  L/405   403/405 403/405 403/405 200/405 200/405

# Subscribers' pages (the token pages work for whoever holds the link)
subscribe                                                   200/400 200/400 200/400 200/400 200/400 200/400
subscribe_sent                                              200/405 200/405 200/405 200/405 200/405 200/405
subscribe_confirm                                           200/200 200/200 200/200 200/200 200/200 200/200
preferences                                                 200/400 200/400 200/400 200/400 200/400 200/400
preferences_export                                          200/405 200/405 200/405 200/405 200/405 200/405
preferences_delete                                          200/400 200/400 200/400 200/400 200/400 200/400
unsubscribe                                                 200/400 200/400 200/400 200/400 200/400 200/400

# A share-preview link: whoever holds it
editorial:preview                                           200/405 200/405 200/405 200/405 200/405 200/405

# Anymail's tracking webhooks (subscribers/tracking/urls.py; inbound ones are not routed): 404
# while no ANYMAIL_WEBHOOK_SECRET is set, as here, or the ESP's own key is missing
anymail:amazon_ses_tracking_webhook                         404/404 404/404 404/404 404/404 404/404 404/404
anymail:brevo_tracking_webhook                              404/404 404/404 404/404 404/404 404/404 404/404
anymail:mailersend_tracking_webhook                         404/404 404/404 404/404 404/404 404/404 404/404
anymail:mailgun_tracking_webhook                            404/404 404/404 404/404 404/404 404/404 404/404
anymail:mailjet_tracking_webhook                            404/404 404/404 404/404 404/404 404/404 404/404
anymail:mailtrap_tracking_webhook                           404/404 404/404 404/404 404/404 404/404 404/404
anymail:postal_tracking_webhook                             404/404 404/404 404/404 404/404 404/404 404/404
anymail:postmark_tracking_webhook                           404/404 404/404 404/404 404/404 404/404 404/404
anymail:resend_tracking_webhook                             404/404 404/404 404/404 404/404 404/404 404/404
anymail:sendgrid_tracking_webhook                           404/404 404/404 404/404 404/404 404/404 404/404
anymail:sendinblue_tracking_webhook                         404/404 404/404 404/404 404/404 404/404 404/404
anymail:sparkpost_tracking_webhook                          404/404 404/404 404/404 404/404 404/404 404/404
anymail:unisender_go_tracking_webhook                       404/404 404/404 404/404 404/404 404/404 404/404
anymail:mandrill_webhook                                    404/404 404/404 404/404 404/404 404/404 404/404
anymail:mandrill_tracking_webhook                           404/404 404/404 404/404 404/404 404/404 404/404

# The Markdown editor's upload and preview (a post without a file or `content` is a 400)
markdownx_upload                                            L/L     405/400 405/400 405/400 405/400 405/400
markdownx_markdownify                                       L/L     405/400 405/400 405/400 405/400 405/400

# The drafting forms' paper metadata lookup: staff who write papers (a GET without `q` is a 400)
paper_lookup                                                L/L     400/405 400/405 400/405 400/405 400/405

# Signing in, two-factor
account_login                                               200/200 go/200  go/200  go/200  go/200  go/200
account_login_verify                                        L/L     L/L     L/L     L/L     L/L     L/L
account_two_factor                                          L/L     200/200 200/200 200/200 200/200 200/200

# Each staff member's own notifications and their settings (a POST without a notification says so)
editorial:notifications                                     L/L     200/405 200/405 200/405 200/405 200/405
editorial:notifications_read                                L/L     405/go  405/go  405/go  405/go  405/go
editorial:notification_preferences                          L/L     200/go  200/go  200/go  200/go  200/go

# The admin's own pages
admin:index                                                 L/L     200/200 200/200 200/200 200/200 200/200
admin:login                                                 200/200 go/200  go/200  go/200  go/200  go/200
admin:logout                                                go/go   405/200 405/200 405/200 405/200 405/200
admin:password_change                                       L/L     200/200 200/200 200/200 200/200 200/200
admin:password_change_done                                  L/L     200/405 200/405 200/405 200/405 200/405
admin:autocomplete                                          L/L     200/405 200/405 200/405 200/405 200/405
admin:jsi18n                                                L/L     200/405 200/405 200/405 200/405 200/405
admin:view_on_site                                          L/L     go/go   go/go   go/go   go/go   go/go

# Users, groups, the task queue, sign-in records, two-factor devices and tags: superusers only
# (a device's secret and QR code for nobody: OTP_ADMIN_HIDE_SENSITIVE_DATA)
admin:auth_group_changelist                                 L/L     403/403 403/403 403/403 403/403 200/200
admin:auth_group_add                                        L/L     403/403 403/403 403/403 403/403 200/200
admin:auth_group_history                                    L/L     403/403 403/403 403/403 403/403 200/200
admin:auth_group_delete                                     L/L     403/403 403/403 403/403 403/403 200/go
admin:auth_group_change                                     L/L     403/403 403/403 403/403 403/403 200/200
admin/auth/group/<path:object_id>/                          L/L     go/go   go/go   go/go   go/go   go/go
admin:auth_user_password_change                             L/L     403/403 403/403 403/403 403/403 200/200
admin:auth_user_changelist                                  L/L     403/403 403/403 403/403 403/403 200/200
admin:auth_user_add                                         L/L     403/403 403/403 403/403 403/403 200/200
admin:auth_user_history                                     L/L     403/403 403/403 403/403 403/403 200/200
admin:auth_user_delete                                      L/L     403/403 403/403 403/403 403/403 200/go
admin:auth_user_change                                      L/L     403/403 403/403 403/403 403/403 200/200
admin/auth/user/<path:object_id>/                           L/L     go/go   go/go   go/go   go/go   go/go
admin:django_tasks_database_dbtaskresult_changelist         L/L     403/403 403/403 403/403 403/403 200/200
admin:django_tasks_database_dbtaskresult_add                L/L     403/403 403/403 403/403 403/403 403/403
admin:django_tasks_database_dbtaskresult_history            L/L     403/403 403/403 403/403 403/403 200/200
admin:django_tasks_database_dbtaskresult_delete             L/L     403/403 403/403 403/403 403/403 403/403
admin:django_tasks_database_dbtaskresult_change             L/L     403/403 403/403 403/403 403/403 200/403
admin/django_tasks_database/dbtaskresult/<path:object_id>/  L/L     go/go   go/go   go/go   go/go   go/go
admin:axes_accessattempt_changelist                         L/L     403/403 403/403 403/403 403/403 200/200
admin:axes_accessattempt_add                                L/L     403/403 403/403 403/403 403/403 403/403
admin:axes_accessattempt_history                            L/L     403/403 403/403 403/403 403/403 200/200
admin:axes_accessattempt_delete                             L/L     403/403 403/403 403/403 403/403 200/go
admin:axes_accessattempt_change                             L/L     403/403 403/403 403/403 403/403 200/go
admin/axes/accessattempt/<path:object_id>/                  L/L     go/go   go/go   go/go   go/go   go/go
admin:axes_accesslog_changelist                             L/L     403/403 403/403 403/403 403/403 200/200
admin:axes_accesslog_add                                    L/L     403/403 403/403 403/403 403/403 403/403
admin:axes_accesslog_history                                L/L     403/403 403/403 403/403 403/403 200/200
admin:axes_accesslog_delete                                 L/L     403/403 403/403 403/403 403/403 200/go
admin:axes_accesslog_change                                 L/L     403/403 403/403 403/403 403/403 200/go
admin/axes/accesslog/<path:object_id>/                      L/L     go/go   go/go   go/go   go/go   go/go
admin:axes_accessfailurelog_changelist                      L/L     403/403 403/403 403/403 403/403 200/200
admin:axes_accessfailurelog_add                             L/L     403/403 403/403 403/403 403/403 403/403
admin:axes_accessfailurelog_history                         L/L     403/403 403/403 403/403 403/403 200/200
admin:axes_accessfailurelog_delete                          L/L     403/403 403/403 403/403 403/403 200/go
admin:axes_accessfailurelog_change                          L/L     403/403 403/403 403/403 403/403 200/go
admin/axes/accessfailurelog/<path:object_id>/               L/L     go/go   go/go   go/go   go/go   go/go
admin:otp_totp_totpdevice_config                            L/L     403/403 403/403 403/403 403/403 403/403
admin:otp_totp_totpdevice_qrcode                            L/L     403/403 403/403 403/403 403/403 403/403
admin:otp_totp_totpdevice_changelist                        L/L     403/403 403/403 403/403 403/403 200/200
admin:otp_totp_totpdevice_add                               L/L     403/403 403/403 403/403 403/403 200/200
admin:otp_totp_totpdevice_history                           L/L     403/403 403/403 403/403 403/403 200/200
admin:otp_totp_totpdevice_delete                            L/L     403/403 403/403 403/403 403/403 200/go
admin:otp_totp_totpdevice_change                            L/L     403/403 403/403 403/403 403/403 200/200
admin/otp_totp/totpdevice/<path:object_id>/                 L/L     go/go   go/go   go/go   go/go   go/go

# Sections and authors: everyone sees them; managing editors keep sections, editors authors
admin:newsletter_section_changelist                         L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_section_add                                L/L     403/403 403/403 403/403 200/200 200/200
admin:newsletter_section_history                            L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_section_delete                             L/L     403/403 403/403 403/403 403/403 200/200
admin:newsletter_section_change                             L/L     200/403 200/403 200/403 200/200 200/200
admin/newsletter/section/<path:object_id>/                  L/L     go/go   go/go   go/go   go/go   go/go
admin:newsletter_author_changelist                          L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_author_add                                 L/L     403/403 403/403 200/200 200/200 200/200
admin:newsletter_author_history                             L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_author_delete                              L/L     403/403 403/403 403/403 403/403 200/go
admin:newsletter_author_change                              L/L     200/403 200/403 200/200 200/200 200/200
admin/newsletter/author/<path:object_id>/                   L/L     go/go   go/go   go/go   go/go   go/go
admin:taggit_tag_merge_tags                                 L/L     403/403 403/403 403/403 403/403 go/go
admin:taggit_tag_changelist                                 L/L     403/403 403/403 403/403 403/403 200/200
admin:taggit_tag_add                                        L/L     403/403 403/403 403/403 403/403 200/200
admin:taggit_tag_history                                    L/L     403/403 403/403 403/403 403/403 200/200
admin:taggit_tag_delete                                     L/L     403/403 403/403 403/403 403/403 200/go
admin:taggit_tag_change                                     L/L     403/403 403/403 403/403 403/403 200/200
admin/taggit/tag/<path:object_id>/                          L/L     go/go   go/go   go/go   go/go   go/go

# The outbox in the admin: managing editors and superusers
admin:newsletter_outboxmessage_changelist                   L/L     403/403 403/403 403/403 200/200 200/200
admin:newsletter_outboxmessage_add                          L/L     403/403 403/403 403/403 403/403 403/403
admin:newsletter_outboxmessage_history                      L/L     403/403 403/403 403/403 200/200 200/200
admin:newsletter_outboxmessage_delete                       L/L     403/403 403/403 403/403 403/403 200/go
admin:newsletter_outboxmessage_change                       L/L     403/403 403/403 403/403 200/403 200/403
admin/newsletter/outboxmessage/<path:object_id>/            L/L     go/go   go/go   go/go   go/go   go/go

# Papers: a writer's own are those only their drafts use; another's only in another's draft
admin:newsletter_paper_changelist                           L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_paper_add                                  L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_paper_history                              L/L     200/200 403/403 200/200 200/200 200/200
admin:newsletter_paper_delete                               L/L     403/403 403/403 403/403 403/403 200/200
admin:newsletter_paper_change                               L/L     200/200 403/403 200/200 200/200 200/200
admin/newsletter/paper/<path:object_id>/                    L/L     go/go   go/go   go/go   go/go   go/go

# The editorial screens of one issue: its writer, editors, managing editors
admin:editorial_action                                      L/L     405/go  403/403 405/go  405/go  405/go
admin:editorial_schedule                                    L/L     405/go  403/403 405/go  405/go  405/go
admin:editorial_comment                                     L/L     405/go  403/403 405/go  405/go  405/go
admin:editorial_resolve_comment                             L/L     405/go  403/403 405/go  405/go  405/go
admin:editorial_revisions                                   L/L     200/200 403/403 200/200 200/200 200/200
admin:editorial_restore                                     L/L     405/go  403/403 405/go  405/go  405/go
admin:editorial_preview_create                              L/L     405/go  403/403 405/go  405/go  405/go
admin:editorial_preview_revoke                              L/L     405/go  403/403 405/go  405/go  405/go
admin:editorial_draft_page                                  L/L     200/200 403/403 200/200 200/200 200/200
admin:editorial_email                                       L/L     200/200 403/403 200/200 200/200 200/200
admin:editorial_email_html                                  L/L     200/200 403/403 200/200 200/200 200/200
admin:editorial_test_email                                  L/L     405/go  403/403 405/go  405/go  405/go

# Issues and summaries: a writer's own; editors all; managing editors also delete issues
admin:newsletter_issue_changelist                           L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_issue_add                                  L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_issue_history                              L/L     200/200 403/403 200/200 200/200 200/200
admin:newsletter_issue_delete                               L/L     403/403 403/403 403/403 200/go  200/go
admin:newsletter_issue_change                               L/L     200/200 403/403 200/200 200/200 200/200
admin/newsletter/issue/<path:object_id>/                    L/L     go/go   go/go   go/go   go/go   go/go
admin:newsletter_papersummary_changelist                    L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_papersummary_add                           L/L     200/200 200/200 200/200 200/200 200/200
admin:newsletter_papersummary_history                       L/L     200/200 403/403 200/200 200/200 200/200
admin:newsletter_papersummary_delete                        L/L     200/go  403/403 200/go  200/go  200/go
admin:newsletter_papersummary_change                        L/L     200/200 403/403 200/200 200/200 200/200
admin/newsletter/papersummary/<path:object_id>/             L/L     go/go   go/go   go/go   go/go   go/go

# Subscribers, suppressions, sends and deliveries: managing editors watch, superusers manage
admin:subscribers_subscriber_import                         L/L     403/403 403/403 403/403 403/403 200/200
admin:subscribers_subscriber_export                         L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_subscriber_changelist                     L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_subscriber_add                            L/L     403/403 403/403 403/403 403/403 200/200
admin:subscribers_subscriber_history                        L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_subscriber_delete                         L/L     403/403 403/403 403/403 403/403 200/go
admin:subscribers_subscriber_change                         L/L     403/403 403/403 403/403 200/403 200/200
admin/subscribers/subscriber/<path:object_id>/              L/L     go/go   go/go   go/go   go/go   go/go
admin:subscribers_suppression_changelist                    L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_suppression_add                           L/L     403/403 403/403 403/403 403/403 200/200
admin:subscribers_suppression_history                       L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_suppression_delete                        L/L     403/403 403/403 403/403 403/403 200/go
admin:subscribers_suppression_change                        L/L     403/403 403/403 403/403 200/403 200/403
admin/subscribers/suppression/<path:object_id>/             L/L     go/go   go/go   go/go   go/go   go/go
admin:subscribers_send_progress                             L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_send_control                              L/L     405/403 405/403 405/403 405/go  405/go
admin:subscribers_send_changelist                           L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_send_add                                  L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_send_history                              L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_send_delete                               L/L     403/403 403/403 403/403 403/403 403/403
admin:subscribers_send_change                               L/L     403/403 403/403 403/403 200/403 200/403
admin/subscribers/send/<path:object_id>/                    L/L     go/go   go/go   go/go   go/go   go/go
admin:subscribers_delivery_changelist                       L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_delivery_add                              L/L     403/403 403/403 403/403 403/403 403/403
admin:subscribers_delivery_history                          L/L     403/403 403/403 403/403 200/200 200/200
admin:subscribers_delivery_delete                           L/L     403/403 403/403 403/403 403/403 403/403
admin:subscribers_delivery_change                           L/L     403/403 403/403 403/403 200/403 200/403
admin/subscribers/delivery/<path:object_id>/                L/L     go/go   go/go   go/go   go/go   go/go

# Imports from other platforms (importers/): managing editors upload, check and run them (no run
# exists here: a run's pages answer "no such run"); redirects are seen by them, kept by superusers
admin:importers_importrun_progress                          L/L     403/403 403/403 403/403 404/404 404/404
admin:importers_importrun_start                             L/L     405/403 405/403 405/403 405/404 405/404
admin:importers_importrun_changelist                        L/L     403/403 403/403 403/403 200/200 200/200
admin:importers_importrun_add                               L/L     403/403 403/403 403/403 200/200 200/200
admin:importers_importrun_history                           L/L     go/go   go/go   go/go   go/go   go/go
admin:importers_importrun_delete                            L/L     403/403 403/403 403/403 403/403 go/go
admin:importers_importrun_change                            L/L     403/403 403/403 403/403 go/403  go/403
admin/importers/importrun/<path:object_id>/                 L/L     go/go   go/go   go/go   go/go   go/go
admin:importers_redirect_changelist                         L/L     403/403 403/403 403/403 200/200 200/200
admin:importers_redirect_add                                L/L     403/403 403/403 403/403 403/403 200/200
admin:importers_redirect_history                            L/L     go/go   go/go   go/go   go/go   go/go
admin:importers_redirect_delete                             L/L     403/403 403/403 403/403 403/403 go/go
admin:importers_redirect_change                             L/L     403/403 403/403 403/403 go/403  go/go
admin/importers/redirect/<path:object_id>/                  L/L     go/go   go/go   go/go   go/go   go/go

# The rest of the admin, and media files
admin:app_list                                              L/L     200/200 200/200 200/200 200/200 200/200
admin/(?P<url>.*)$                                          L/L     404/404 404/404 404/404 404/404 404/404
media                                                       404/405 404/405 404/405 404/405 404/405 404/405
"""


# Walking the resolver -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route itself when the pattern has no name
    route: str  # the whole route, prefixes included
    params: tuple[str, ...]

    @property
    def reversible(self) -> bool:
        return self.key != self.route


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str, params: tuple[str, ...]) -> None:
        for pattern in patterns:
            own = tuple(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner, params + own)
                continue
            route = prefix + str(pattern.pattern)
            key = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else route
            found.append(Route(key, route, params + own))

    walk(get_resolver().url_patterns, "", "", ())
    return found


def parse_table(table: str) -> dict[str, dict[str, tuple[str, str]]]:
    rows = {}
    for line in table.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, *cells = line.split()
        assert key not in rows, f"Two rows for {key}."
        assert len(cells) == len(SUBJECTS), f"The row for {key} needs {len(SUBJECTS)} cells."
        rows[key] = {subject: tuple(cell.split("/")) for subject, cell in zip(SUBJECTS, cells, strict=True)}
    return rows


EXPECTED = parse_table(ACCESS)


def expected_for(route: Route) -> dict[str, tuple[str, str]] | None:
    if route.key in EXPECTED:
        return EXPECTED[route.key]
    matches = [key for key in EXPECTED if "*" in key and fnmatchcase(route.key, key)]
    return EXPECTED[matches[0]] if matches else None


# The content every case works on ---------------------------------------------------------------


class Content:
    """One of everything, owned by the writer or by another writer where ownership matters."""

    def __init__(self) -> None:
        self.users = {
            "writer": make_user("wanda", "Writer"),
            "other": make_user("otto", "Writer"),
            "editor": make_user("edith", "Editor"),
            "managing editor": make_user("max", "Managing editor"),
            "superuser": User.objects.create_superuser("root", "root@example.org", "pw"),
        }
        writer, other = self.users["writer"], self.users["other"]
        section = self.section = make_section("Robustness")
        self.author = make_author("Dan Hendrycks", slug="dan-hendrycks")
        self.published = make_issue(1, title="Robust vision")
        self.published.tags.add("robustness")
        self.published.authors.add(self.author)
        self.tag = Tag.objects.get(slug="robustness")
        self.public_paper = make_paper("A public paper", url="https://arxiv.org/abs/2111.00001")
        make_summary(self.published, section, headline="Public summary", paper=self.public_paper)
        self.issues = {
            "own": make_issue(2, published=False, created_by=writer, last_edited_by=writer),
            "other": make_issue(3, published=False, created_by=other, last_edited_by=other),
        }
        self.papers, self.summaries, self.comments, self.links, self.versions = {}, {}, {}, {}, {}
        for variant, issue in self.issues.items():
            author = issue.created_by
            self.papers[variant] = make_paper(
                f"The {variant} paper", url=f"https://arxiv.org/abs/2111.0000{issue.number}"
            )
            self.summaries[variant] = make_summary(
                issue, section, headline=f"The {variant} summary", paper=self.papers[variant]
            )
            self.comments[variant] = review.add_comment(issue, author, "Is this clear?")
            self.links[variant] = previews.create_link(issue, author)
            revisions.save_revision(issue, author, "Created.")
            self.versions[variant] = revisions.issue_versions(issue).first()
            issue.title += " (revised)"
            issue.save()
            revisions.save_revision(issue, author, "Changed.")  # so the versions page shows a diff
        self.subscriber = Subscriber.objects.create(
            email="reader@example.org", status=Subscriber.Status.ACTIVE, confirmed_at=timezone.now()
        )
        self.pending = Subscriber.objects.create(email="new@example.org")
        self.suppression = Suppression.objects.create(email_hash="0" * 64, reason=Suppression.Reason.MANUAL)
        self.send = Send.objects.create(issue=self.published, recipient_count=1)
        self.delivery = Delivery.objects.create(
            send=self.send, subscriber=self.subscriber, email_hash="1" * 64
        )
        self.outbox = {
            "own": OutboxMessage.objects.create(
                to=writer.email, subject="[Test] Issue #2", html_body="<p>Hi</p>", raw=""
            ),
            "other": OutboxMessage.objects.create(to=self.subscriber.email, subject="Issue #1", raw=""),
        }
        self.task = DBTaskResult.objects.create(
            args_kwargs={"args": [], "kwargs": {}},
            task_path="editorial.tasks.send_test_email",
            backend_name="default",
            run_after=get_date_max(),
            exception_class_path="",
            traceback="",
        )
        self._security_rows()
        self.objects = {
            Issue: self.issues,
            PaperSummary: self.summaries,
            Paper: self.papers,
            OutboxMessage: self.outbox,
        }
        self.single = {
            "auth.group": Group.objects.get(name="Writer"),
            "auth.user": writer,
            "django_tasks_database.dbtaskresult": self.task,
            "taggit.tag": self.tag,
            "newsletter.section": section,
            "newsletter.author": self.author,
            "subscribers.subscriber": self.subscriber,
            "subscribers.suppression": self.suppression,
            "subscribers.send": self.send,
            "subscribers.delivery": self.delivery,
        }

    def _security_rows(self) -> None:
        """A row for each admin list the sign-in protections add (django-axes, django-otp)."""
        seen = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "wanda", "path_info": "/admin/"}
        if apps.is_installed("axes"):
            from axes.models import AccessAttempt, AccessFailureLog, AccessLog

            AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
            AccessFailureLog.objects.create(**seen)
            AccessLog.objects.create(**seen)
        if apps.is_installed("django_otp.plugins.otp_totp"):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            TOTPDevice.objects.create(user=self.users["other"], name="phone")

    def object(self, model, variant: str):
        if model in self.objects:
            return self.objects[model][variant]
        if model._meta.label_lower in self.single:
            return self.single[model._meta.label_lower]
        return model._default_manager.order_by("pk").first() or model(pk=999999)

    def values(self, route: Route, variant: str) -> dict[str, object]:
        """A value for each of the route's parameters that names a real object."""
        model = admin_model(route.route)
        tokens_by_route = {
            "subscribe/confirm/": tokens.confirm_token(self.pending),
            "preferences/": tokens.preferences_token(self.subscriber),
            "unsubscribe/": tokens.unsubscribe_token(self.subscriber),
            "preview/": previews.token_for(self.links[variant]),
        }
        slugs = {"sections/": self.section.slug, "feeds/sections/": self.section.slug}
        slugs |= {"authors/": self.author.slug, "tags/": self.tag.slug}
        choices = {
            "object_id": lambda: self.object(model or Issue, variant).pk,
            "pk": lambda: (
                self.send.pk
                if model is Send
                else self.outbox[variant].pk
                if route.route.startswith("outbox/")
                else self.public_paper.pk
            ),
            "id": lambda: self.users["writer"].pk,
            "content_type_id": lambda: ContentType.objects.get_for_model(Issue).pk,
            "comment_id": lambda: self.comments[variant].pk,
            "verb": lambda: "resolve",
            "action": lambda: "pause" if model is Send else "submit",
            "version_id": lambda: self.versions[variant].pk,
            "link_id": lambda: self.links[variant].pk,
            "number": lambda: self.published.number,
            "slug": lambda: next(slug for start, slug in slugs.items() if route.route.startswith(start)),
            "token": lambda: next(t for start, t in tokens_by_route.items() if route.route.startswith(start)),
            "app_label": lambda: "newsletter",
            "url": lambda: "no-such-page/",
            "path": lambda: "figures/missing.png",
        }
        return {name: choices[name]() for name in route.params}


def admin_model(route: str):
    """The model an admin route is about (admin/<app>/<model>/...), or None."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if not match:
        return None
    try:
        return apps.get_model(match.group(1), match.group(2))
    except LookupError:
        return None


# Query strings some URLs need to be a real request rather than a malformed one.
QUERIES = {"admin:autocomplete": "?app_label=newsletter&model_name=papersummary&field_name=paper&term=paper"}


def url_of(route: Route, values: dict[str, object]) -> str:
    if route.reversible:
        return reverse(route.key, kwargs=values) + QUERIES.get(route.key, "")
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), route.route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: str(values[match.group(1)]), path)
    return "/" + path.replace("^", "").replace("$", "")


# Asking ------------------------------------------------------------------------------------------


def client_for(content: Content, subject: str) -> tuple[Client, str]:
    """A signed-in client for the subject, and which of the writers' objects it acts on."""
    client = Client(raise_request_exception=False)
    user = {"writer, other's": content.users["writer"]}.get(subject) or content.users.get(subject)
    if user is not None:
        client.force_login(user)
    return client, "other" if subject == "writer, other's" else "own"


def ask(client: Client, method: str, url: str) -> str:
    """The answer to one request, undone afterwards (rows, cache, the client's session cookie)."""
    cookies = client.cookies
    client.cookies = type(cookies)(cookies.output(header="", sep=";"))
    cache.clear()
    with transaction.atomic():
        # "post" confirms a deletion; every other view ignores it.
        response = client.get(url) if method == "GET" else client.post(url, {"post": "yes"})
        transaction.set_rollback(True)
    client.cookies = cookies
    return answer_of(response, url)


def answer_of(response, url: str) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307):
        return "L" if urlsplit(response["Location"]).path == reverse("admin:login") else "go"
    if status == 403 and url.startswith(("/admin/", "/outbox/")):
        page = response.content.decode()
        if 'id="access-refused"' not in page or "admin/base" not in "".join(
            template.name or "" for template in getattr(response, "templates", [])
        ):
            return "403-bare"
    return str(status)


# The tests --------------------------------------------------------------------------------------


def test_every_url_has_a_row():
    missing = [route.key for route in routes() if expected_for(route) is None]

    assert not missing, "URLs without a row in ACCESS: " + ", ".join(missing)


@pytest.fixture
def content() -> Content:
    return Content()


def test_where_nothing_is_owned_both_writer_columns_agree(content):
    """A URL that names the same thing for either writer (a section, a send) must be answered the
    same; the writer is asked once, and the other column only says so."""
    differ = [
        route.key
        for route in routes()
        if (expected := expected_for(route)) is not None
        and url_of(route, content.values(route, "own")) == url_of(route, content.values(route, "other"))
        and expected["writer"] != expected["writer, other's"]
    ]

    assert not differ, "Rows whose writer columns differ on the same URL: " + ", ".join(differ)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("subject", SUBJECTS)
def test_each_role_gets_the_answer_in_the_table(content, subject, method, summary_count):
    client, variant = client_for(content, subject)
    wrong, checked = [], 0
    for route in routes():
        expected = expected_for(route)
        if expected is None:
            continue  # test_every_url_has_a_row names it
        url = url_of(route, content.values(route, variant))
        if variant == "other" and url == url_of(route, content.values(route, "own")):
            continue  # the writer's own case asked it already
        got = ask(client, method, url)
        want = expected[subject][0 if method == "GET" else 1]
        checked += 1
        if got != want:
            wrong.append(f"{method} {url} ({route.key}) as {subject}: expected {want}, got {got}")
    summary_count("access matrix: (role, URL, method) cases checked", checked)

    assert checked
    assert not wrong, f"{len(wrong)} of {checked} answers differ from ACCESS:\n" + "\n".join(wrong)
