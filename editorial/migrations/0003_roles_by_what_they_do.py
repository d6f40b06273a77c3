"""The three roles' permissions, written from what each role does (see editorial/roles.py).

0002_roles gave the managing editor the send permission but no way to watch a send: the send's
page, the list of sends and the subscribers answered 403. This sets every group's permissions to
exactly the list below (permissions a group had and no longer needs are taken away).

- Writer: drafts issues and summaries (their own; editorial/roles.py decides which objects), the
  papers only their drafts use, comments, submits for review. Sees sections and authors.
- Editor: all a writer may, on any issue under review; comments, requests changes, approves;
  keeps the authors.
- Managing editor: all an editor may; publishes, schedules, unpublishes, deletes issues, keeps
  the sections; starts, watches and controls sends (sends, their deliveries), sees the
  subscribers, the suppression list and the whole outbox.

Permissions are created here when missing (post_migrate creates them only after every migration).
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
PUBLISHING = EDITOR + [
    ("newsletter", "issue", ["delete"]),
    ("newsletter", "section", ["add", "change"]),
    ("editorial", "transition", ["publish_issue", "send_issue"]),
]
# What 0002_roles left out: watching what the managing editor starts.
MANAGING_EDITOR = PUBLISHING + [
    ("subscribers", "send", ["view"]),
    ("subscribers", "delivery", ["view"]),
    ("subscribers", "subscriber", ["view"]),
    ("subscribers", "suppression", ["view"]),
    ("newsletter", "outboxmessage", ["view"]),
]
ROLES = {"Writer": WRITER, "Editor": EDITOR, "Managing editor": MANAGING_EDITOR}
CUSTOM = {
    "submit_issue": "Can submit an issue for review",
    "review_issue": "Can review, request changes to and approve issues",
    "edit_any_issue": "Can edit any draft, not only one's own",
    "publish_issue": "Can publish, schedule and unpublish issues",
    "send_issue": "Can send issues to subscribers",
}


def _permission(apps, app_label, model_name, action):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model_name)
    if action in CUSTOM:
        codename, name = action, CUSTOM[action]
    else:
        verbose_name = apps.get_model(app_label, model_name)._meta.verbose_name_raw
        codename, name = f"{action}_{model_name}", f"Can {action} {verbose_name}"
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def _set_roles(apps, roles):
    Group = apps.get_model("auth", "Group")
    for name, grants in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [_permission(apps, app, model, action) for app, model, actions in grants for action in actions]
        )


def roles_by_what_they_do(apps, schema_editor):
    _set_roles(apps, ROLES)


def roles_of_0002(apps, schema_editor):
    _set_roles(apps, {"Writer": WRITER, "Editor": EDITOR, "Managing editor": PUBLISHING})


class Migration(migrations.Migration):
    dependencies = [
        ("editorial", "0002_roles"),
        ("newsletter", "0003_issue_authorship"),
        ("subscribers", "0004_delivery_claim_index"),
    ]

    operations = [migrations.RunPython(roles_by_what_they_do, roles_of_0002)]
