from django.db import migrations, models


def mark_administrators_passwords(apps, schema_editor):
    """An account still to change the password it was given holds an administrator's — made
    with it (``user_create``) or reset with a second administrator's approval — unless a
    leader collected a one-time password for it or the operator reset it on the command line."""
    User = apps.get_model("org", "User")
    PasswordHandover = apps.get_model("security", "PasswordHandover")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    collected = PasswordHandover.objects.filter(status="collected").values("user_id")
    by_operator = [int(pk) for pk in AuditEntry.objects.filter(
        object_type="user", detail__change="password_reset", detail__by_role="cli",
    ).values_list("object_id", flat=True) if pk.isdigit()]
    (User.objects.filter(must_change_password=True).exclude(password__startswith="!")
     .exclude(pk__in=collected).exclude(pk__in=by_operator).update(password_by_admin=True))


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0006_unit_name_history"),
        ("security", "0006_password_handover"),
        ("audit", "0008_no_pattern_index_on_hash"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_by_admin",
            field=models.BooleanField(default=False, editable=False,
                                      verbose_name="管理员设定的密码"),
        ),
        migrations.RunPython(mark_administrators_passwords, migrations.RunPython.noop),
    ]
