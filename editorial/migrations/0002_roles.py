"""The three roles as groups, with exactly the permissions each needs (see editorial/roles.py).

Permissions are created here rather than left to post_migrate, which runs only after every
migration: on a fresh database the groups would otherwise get nothing.
"""

from django.db import migrations

WRITER = [
    ("newsletter", "issue", ["add", "change", "view"]),
    ("newsletter", "papersummary", ["add", "change", "delete", "view"]),
    ("newsletter", "paper", ["add", "change", "view"]),
    ("newsletter", "section", ["view"]),
    ("newsletter", "author", ["view"]),
    ("editorial", "reviewcomment", ["add", "view"]),
    ("editorial", "transition", ["submit_issue"]),
]
EDITOR = WRITER + [
    ("newsletter", "author", ["add", "change"]),
    ("editorial", "reviewcomment", ["change"]),
    ("editorial", "transition", ["review_issue", "edit_any_issue"]),
]
MANAGING_EDITOR = EDITOR + [
    ("newsletter", "issue", ["delete"]),
    ("newsletter", "section", ["add", "change"]),
    ("editorial", "transition", ["publish_issue", "send_issue"]),
]
ROLES = {"Writer": WRITER, "Editor": EDITOR, "Managing editor": MANAGING_EDITOR}
CUSTOM = {
    "submit_issue": "Can submit an issue for review",
    "review_issue": "Can review, request changes to and approve issues",
    "edit_any_issue": "Can edit any draft, not only one's own",
    "publish_issue": "Can publish, schedule and unpublish issues",
    "send_issue": "Can send issues to subscribers",
}
VERBOSE = {
    "issue": "issue",
    "papersummary": "paper summary",
    "paper": "paper",
    "section": "section",
    "author": "author",
    "reviewcomment": "review comment",
    "transition": "transition",
}


def _permission(apps, app_label, model, action):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    codename = action if action in CUSTOM else f"{action}_{model}"
    name = CUSTOM.get(action) or f"Can {action} {VERBOSE[model]}"
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [_permission(apps, app, model, action) for app, model, actions in grants for action in actions]
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("editorial", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
