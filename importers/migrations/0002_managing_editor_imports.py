"""The managing editor imports publications (editorial/roles.py's table): the permission
`importers.run_import`, created here when missing (post_migrate creates it only after every
migration) and given to the Managing editor group, which editorial 0002/0003 create."""

from django.db import migrations

ROLE = "Managing editor"


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="importers", model="importrun")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="run_import",
        defaults={"name": "Can import a publication from another platform"},
    )
    group, _ = Group.objects.get_or_create(name=ROLE)
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=ROLE):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="importers", codename="run_import"))


class Migration(migrations.Migration):
    dependencies = [
        ("importers", "0001_initial"),
        ("editorial", "0003_roles_by_what_they_do"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
