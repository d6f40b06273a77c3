"""Managing editors see the operations status page (the permission operations.view_status).

The permission is created here when missing (post_migrate creates it only after every migration);
the group is made if it does not exist yet, as editorial's role migrations make it.
"""

from django.db import migrations

GROUP = "Managing editor"


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="operations", model="healthsample")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="view_status",
        defaults={"name": "Can see the operations status page"},
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="operations", codename="view_status"))


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        # After the roles are set: 0003 sets each group's permissions to exactly its list.
        ("editorial", "0003_roles_by_what_they_do"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
