"""`manage.py create_demo_admin`: a superuser `admin` with password `admin`, for local demos only.

It refuses when DEBUG is off (a production settings file) unless --force is given, and it never
resets the password of an `admin` account that already exists.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

USERNAME = PASSWORD = "admin"
EMAIL = "admin@example.org"


class Command(BaseCommand):
    help = "Create the demo superuser admin/admin (only with DEBUG on, or with --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Create the account even though DEBUG is off. Never do this on a public site.",
        )

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create the demo admin account (password 'admin') because DEBUG is off, "
                "which means this looks like a production site. Create a real account with "
                "`manage.py createsuperuser`, or pass --force if this really is a throwaway demo."
            )
        login_url = f"{settings.SITE_URL}/admin/"
        user_model = get_user_model()
        if user_model.objects.filter(username=USERNAME).exists():
            self.stdout.write(
                f"Demo admin exists (password left as it is). Admin login: {login_url}  user: {USERNAME}"
            )
            return
        user = user_model.objects.create_superuser(USERNAME, EMAIL, PASSWORD)
        # The editorial roles, where they exist, so the demo admin can try every workflow step.
        user.groups.add(*Group.objects.all())
        self.stdout.write(
            self.style.SUCCESS(f"Admin login: {login_url}  user: {USERNAME}  password: {PASSWORD}")
        )
