"""Forms validate and normalise what people type; subscriptions.py (or the sending, importing
and suppression modules) then does the work. The public pages' forms come first, then the
admin's: adding a subscriber, importing a CSV, suppressing an address, starting a send."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from newsletter.models import Issue, Section

from . import suppression
from .addresses import InvalidAddress, address_hash, normalise_email
from .models import Send, Subscriber, Suppression

MAX_IMPORT_BYTES = 20 * 1024 * 1024

PAUSE_CHOICES = [
    (0, "Not paused"),
    (1, "Skip the next issue"),
    (2, "Skip the next 2 issues"),
    (3, "Skip the next 3 issues"),
    (4, "Skip the next 4 issues"),
    (6, "Skip the next 6 issues"),
    (12, "Skip the next 12 issues"),
]


class SectionsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(
            queryset=Section.objects.all(),
            to_field_name="slug",
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )


class SectionChoiceMixin:
    """Checkboxes for sections: all ticked means all (and new ones); none ticked is refused when
    the checkboxes were on the form, and means all when they were not (the one-field sign-up box)."""

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("sections_shown"):
            cleaned["sections"] = None
        elif "sections" in cleaned and not cleaned["sections"]:
            if Section.objects.exists():
                self.add_error("sections", "Choose at least one section.")
            else:  # no sections yet: every issue, in full
                cleaned["sections"] = None
        return cleaned


class SubscribeForm(SectionChoiceMixin, forms.Form):
    email = forms.CharField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = forms.CharField(
        label="Name (optional)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    sections = SectionsField(label="Sections to receive")
    sections_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The honeypot: hidden from people by CSS, filled in by naive bots.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, data=None, *args, **kwargs) -> None:
        if data is not None and "sections_shown" not in data:
            # The one-field box on other pages: every section, shown ticked if the form comes back.
            data = data.copy()
            slugs = list(Section.objects.values_list("slug", flat=True))
            if hasattr(data, "setlist"):
                data.setlist("sections", slugs)
            else:
                data["sections"] = slugs
            data["sections_shown"] = "1"
        kwargs.setdefault("initial", {"sections_shown": True, "sections": list(Section.objects.all())})
        super().__init__(data, *args, **kwargs)

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except InvalidAddress as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def clean_website(self) -> str:
        if self.cleaned_data.get("website"):
            raise ValidationError(
                "This form was filled in automatically. If you are a person, leave the hidden "
                "“Leave this field empty” field empty and send it again.",
                code="honeypot",
            )
        return ""


class PreferencesForm(SectionChoiceMixin, forms.Form):
    name = forms.CharField(
        label="Name", max_length=200, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    sections = SectionsField(label="Sections to receive")
    sections_shown = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)
    format = forms.ChoiceField(label="Format", choices=Subscriber.Format.choices, widget=forms.RadioSelect)
    paused_issues = forms.TypedChoiceField(label="Pause", coerce=int, choices=PAUSE_CHOICES)

    def __init__(self, *args, subscriber: Subscriber, **kwargs) -> None:
        chosen = list(subscriber.sections.all())
        kwargs.setdefault(
            "initial",
            {
                "name": subscriber.name,
                "sections": chosen or list(Section.objects.all()),
                "sections_shown": True,
                "format": subscriber.format,
                "paused_issues": subscriber.paused_issues,
            },
        )
        super().__init__(*args, **kwargs)
        # A pause counting down (5 of 6 left) stays choosable as it is.
        if subscriber.paused_issues not in dict(PAUSE_CHOICES):
            remaining = subscriber.paused_issues
            self.fields["paused_issues"].choices = sorted(
                [*PAUSE_CHOICES, (remaining, f"Skip the next {remaining} issues")]
            )


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: this deletes my subscription and everything you hold about me, for good.",
        error_messages={"required": "Tick the box to confirm that you want everything deleted."},
    )


# The admin's forms ---------------------------------------------------------------------------


class SubscriberAddForm(forms.ModelForm):
    consent_basis = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How and when this person agreed to receive the newsletter. Recorded with the subscriber.",
    )

    class Meta:
        model = Subscriber
        fields = ["email", "name", "sections", "format", "consent_basis"]
        widgets = {"sections": forms.CheckboxSelectMultiple}

    def clean_email(self) -> str:
        try:
            email = normalise_email(self.cleaned_data["email"])
        except InvalidAddress as exc:
            raise ValidationError(str(exc)) from exc
        if suppression.is_suppressed(email):
            raise ValidationError("This address is on the suppression list and will not be added.")
        if Subscriber.objects.filter(email=email).exists():
            raise ValidationError("This address is already on the list; edit it instead.")
        return email


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, header row first: email, and optionally name and sections.")
    consent_basis = forms.CharField(
        label="Consent basis",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "How and when these people agreed to receive the newsletter (for example: “signed up on "
            "the old site’s form, 2023–2024, double opt-in”). Recorded on every imported subscriber."
        ),
    )
    dry_run = forms.BooleanField(label="Dry run: report only, change nothing", required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(
                f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it."
            )
        return upload


class SuppressionAddForm(forms.ModelForm):
    email = forms.CharField(max_length=320, help_text="Stored only as a hash.")

    class Meta:
        model = Suppression
        fields = ["email", "reason", "note"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if Suppression.objects.filter(email_hash=address_hash(email)).exists():
            raise ValidationError("This address is already suppressed.")
        return email


class StartSendForm(forms.Form):
    # The choices are set per form: "published" compares with the time the form is made.
    issue = forms.ModelChoiceField(
        queryset=Issue.objects.none(), help_text="Only published issues can be sent."
    )
    kind = forms.ChoiceField(
        label="Audience",
        choices=[
            (Send.Kind.FULL, "Every mailable subscriber (once per issue)"),
            (Send.Kind.RESEND, "Again, only to subscribers who did not get this issue"),
        ],
        widget=forms.RadioSelect,
        initial=Send.Kind.FULL,
    )
    confirm = forms.BooleanField(label="Yes, send this issue now", required=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issue"].queryset = Issue.objects.published().order_by("-number")
