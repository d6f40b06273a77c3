"""Drafting in the admin: an editor writes a whole issue (intro, summaries, figures, papers) on
the issue's page. Lists stay at a constant number of queries however many rows they show."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from markdownx.models import MarkdownxField
from taggit.admin import TagAdmin
from taggit.models import Tag

from .forms import AuthorForm, IssueAdminForm, MarkdownEditor, PaperForm, PaperSummaryForm, figure_not_kept
from .models import Author, Issue, Paper, PaperSummary, Section

# Read when a page is drawn, not when this module is imported: the setting may change after.
admin.site.site_header = admin.site.site_title = lazy(lambda: settings.SITE_NAME, str)()

# Markdown fields get the editor with live preview and image upload, in inlines as well.
MARKDOWN_EDITOR = {MarkdownxField: {"widget": MarkdownEditor}}
# A link typed without its scheme is an https one (Django 6's default, without the warning).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}
DRAFTING_MEDIA = {"css": {"all": ["css/admin-drafting.css"]}, "js": ["js/admin-drafting.js"]}


class TagFilter(admin.SimpleListFilter):
    """The tags used on this list's model (not every tag of every model)."""

    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return [(tag.slug, tag.name) for tag in model_admin.model.tags.all().order_by("name")]

    def queryset(self, request, queryset):
        return queryset.filter(tags__slug=self.value()) if self.value() else queryset


class PublishedYearFilter(admin.SimpleListFilter):
    title = "year published"
    parameter_name = "year"
    field_path = "published_at"

    def lookups(self, request, model_admin):
        years = Issue.objects.dates("published_at", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.field_path}__year": int(value)})
        return queryset


class IssueYearFilter(PublishedYearFilter):
    title = "issue year"
    field_path = "issue__published_at"


class SummarySectionFilter(admin.SimpleListFilter):
    """Issues with at least one summary in the section."""

    title = "section"
    parameter_name = "section"

    def lookups(self, request, model_admin):
        return list(Section.objects.values_list("slug", "name"))

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        in_section = PaperSummary.objects.filter(issue=OuterRef("pk"), section__slug=self.value())
        return queryset.filter(Exists(in_section))


class FigurePreviewMixin:
    @admin.display(description="web rendition")
    def figure_preview(self, summary: PaperSummary) -> str:
        if not_kept := figure_not_kept(summary.figure):
            return format_html('<strong class="figure-not-kept">{}</strong>', not_kept)
        if not summary.figure_web:
            return "The rendition is made when the summary is saved." if summary.figure else "No figure yet."
        return format_html(
            '<a href="{}"><img class="figure-thumb" src="{}" width="{}" height="{}" alt="{}"></a>'
            '<span class="figure-size">{} × {} px</span>',
            summary.figure.url,
            summary.figure_web.url,
            summary.figure_width,
            summary.figure_height,
            summary.figure_alt or "Figure",
            summary.figure_width,
            summary.figure_height,
        )


SUMMARY_PAPER_FIELDSET = (
    "Paper",
    {
        "fields": [
            "paper",
            ("paper_link", "paper_doi"),
            ("paper_title", "paper_year"),
            ("paper_authors", "paper_venue"),
            "paper_abstract",
        ],
        "description": "Pick a stored paper, or paste the paper's link: a paper already stored with "
        "the same arXiv id, DOI or URL is reused, otherwise it is created, its details fetched from "
        "arXiv, Crossref or OpenReview (or typed in).",
    },
)
SUMMARY_FIGURE_FIELDSET = (
    "Figure",
    {"fields": ["figure", "figure_preview", ("figure_caption", "figure_alt")]},
)


class JunkSafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget re-renders a submitted value by looking it up; a value that is
    not an id (`paper=x`, an integer past 64 bits) raised there, a 500 on a form that already has
    its error. Such values are left out of the lookup; the form still reports them."""

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta.get_field(self.field.remote_field.field_name)
        return super().optgroups(name, [item for item in value if _is_valid_key(target, item)], attr)


def _is_valid_key(field: models.Field, value) -> bool:
    try:
        key = field.to_python(value)
    except ValidationError:
        return False
    return not isinstance(key, int) or -(2**63) <= key < 2**63


class JunkSafeAutocompleteMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            using = kwargs.get("using")
            kwargs["widget"] = JunkSafeAutocompleteSelect(db_field, self.admin_site, using=using)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PaperSummaryInline(JunkSafeAutocompleteMixin, FigurePreviewMixin, admin.StackedInline):
    model = PaperSummary
    form = PaperSummaryForm
    template = "admin/newsletter/issue/summaries_inline.html"
    extra = 0
    show_change_link = True
    ordering = ["section__position", "position", "pk"]
    autocomplete_fields = ["paper"]
    readonly_fields = ["figure_preview"]
    formfield_overrides = MARKDOWN_EDITOR
    fieldsets = [
        (None, {"fields": [("section", "kind", "position"), "headline", "body", ("writer", "tags")]}),
        SUMMARY_PAPER_FIELDSET,
        SUMMARY_FIGURE_FIELDSET,
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaperSummary]:
        return super().get_queryset(request).select_related("section", "paper", "writer")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in {"section", "writer"}:
            # Every row offers the same choices: query them once per page, not once per row.
            field.choices = list(field.choices)
        return field


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    form = IssueAdminForm
    inlines = [PaperSummaryInline]
    list_display = ["number", "title", "status", "published_at", "summary_count", "updated_at"]
    # Explicit, because the annotated count makes the model's default ordering not apply.
    ordering = ["-number"]
    list_display_links = ["number", "title"]
    list_filter = ["status", TagFilter, PublishedYearFilter, SummarySectionFilter]
    search_fields = ["title", "intro", "summaries__headline"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["authors"]
    formfield_overrides = MARKDOWN_EDITOR
    save_on_top = True
    # The status and dates are shown, not edited: editorial/workflow.py moves them.
    readonly_fields = ["status", "published_at", "scheduled_for"]
    fieldsets = [
        (None, {"fields": [("number", "status"), "title", "slug", "intro", "authors", "tags"]}),
        ("Email", {"fields": ["subject", "preheader"]}),
        ("Publication", {"fields": [("published_at", "scheduled_for")]}),
    ]

    class Media:
        css = DRAFTING_MEDIA["css"]
        js = DRAFTING_MEDIA["js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Issue]:
        return super().get_queryset(request).annotate(summary_count=Count("summaries", distinct=True))

    @admin.display(description="summaries", ordering="summary_count")
    def summary_count(self, issue: Issue) -> int:
        return issue.summary_count


@admin.register(PaperSummary)
class PaperSummaryAdmin(JunkSafeAutocompleteMixin, FigurePreviewMixin, admin.ModelAdmin):
    form = PaperSummaryForm
    list_display = ["headline", "issue_number", "section", "kind", "paper", "has_figure", "tag_list"]
    list_select_related = ["issue", "section", "paper"]
    list_filter = ["section", "kind", TagFilter, IssueYearFilter]
    search_fields = ["headline", "body", "paper__title", "paper__arxiv_id", "issue__title"]
    autocomplete_fields = ["issue", "paper"]
    readonly_fields = ["figure_preview"]
    formfield_overrides = MARKDOWN_EDITOR
    fieldsets = [
        (
            None,
            {"fields": ["issue", ("section", "kind", "position"), "headline", "body", ("writer", "tags")]},
        ),
        SUMMARY_PAPER_FIELDSET,
        SUMMARY_FIGURE_FIELDSET,
    ]

    class Media:
        css = DRAFTING_MEDIA["css"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaperSummary]:
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description="issue", ordering="issue__number")
    def issue_number(self, summary: PaperSummary) -> str:
        url = reverse("admin:newsletter_issue_change", args=[summary.issue_id])
        return format_html('<a href="{}" title="{}">#{}</a>', url, summary.issue.title, summary.issue.number)

    @admin.display(description="figure", boolean=True)
    def has_figure(self, summary: PaperSummary) -> bool:
        return bool(summary.figure)

    @admin.display(description="tags")
    def tag_list(self, summary: PaperSummary) -> str:
        return ", ".join(tag.name for tag in summary.tags.all())


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    form = PaperForm
    list_display = ["title", "arxiv_id", "doi", "year", "venue", "summary_count"]
    ordering = ["title", "pk"]
    list_filter = ["year", "venue"]
    search_fields = ["title", "authors", "arxiv_id", "doi", "url", "venue"]
    readonly_fields = ["summarised_in"]
    fields = ["url", "title", "authors", ("venue", "year"), ("arxiv_id", "doi"), "abstract", "summarised_in"]

    class Media:
        css = DRAFTING_MEDIA["css"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Paper]:
        return super().get_queryset(request).annotate(summary_count=Count("summaries"))

    @admin.display(description="summaries", ordering="summary_count")
    def summary_count(self, paper: Paper) -> int:
        return paper.summary_count

    @admin.display(description="summarised in")
    def summarised_in(self, paper: Paper) -> str:
        if paper.pk is None:
            return "Not summarised yet."
        summaries = paper.summaries.select_related("issue").order_by("-issue__number", "position")
        if not summaries:
            return "Not summarised yet."
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> in <a href="{}">{}</a></li>',
            (
                (
                    reverse("admin:newsletter_papersummary_change", args=[summary.pk]),
                    summary.headline,
                    reverse("admin:newsletter_issue_change", args=[summary.issue_id]),
                    summary.issue,
                )
                for summary in summaries
            ),
        )
        return format_html('<ul class="summarised-in">{}</ul>', items)


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "summary_count"]
    ordering = ["position", "name"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Section]:
        return super().get_queryset(request).annotate(summary_count=Count("summaries"))

    @admin.display(description="summaries", ordering="summary_count")
    def summary_count(self, section: Section) -> int:
        return section.summary_count


@admin.register(Author)
class AuthorAdmin(JunkSafeAutocompleteMixin, admin.ModelAdmin):
    form = AuthorForm
    list_display = ["name", "slug", "user", "website"]
    list_select_related = ["user"]
    search_fields = ["name", "bio"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["user"]
    formfield_overrides = HTTPS_URLS


class MergeCheckedTagAdmin(TagAdmin):
    """django-taggit's tag admin, whose "merge tags" page checks no permission and fails on ids it
    does not know: merging re-tags content, so it needs the right to change tags."""

    def merge_tags_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied("Your role does not allow you to merge tags.")
        chosen = [pk for pk in request.session.get("selected_tag_ids", "").split(",") if pk.isdigit()]
        known = [str(pk) for pk in Tag.objects.filter(pk__in=chosen).values_list("pk", flat=True)]
        if not known:
            self.message_user(request, "Select the tags to merge in the list first.", messages.WARNING)
            return redirect("admin:taggit_tag_changelist")
        request.session["selected_tag_ids"] = ",".join(known)
        return super().merge_tags_view(request)


admin.site.unregister(Tag)
admin.site.register(Tag, MergeCheckedTagAdmin)


# The local outbox has its own module; importing it registers it with the admin.
from . import admin_outbox  # noqa: E402, F401
