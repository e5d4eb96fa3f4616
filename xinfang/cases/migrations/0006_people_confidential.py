"""Confidentiality follows the petitioner (issue 8): a flag on the person and on each link of the
person to a case, filled from the cases flagged confidential so far."""

from django.db import migrations, models


def people_of_confidential_cases(apps, schema_editor):
    CasePetitioner = apps.get_model("cases", "CasePetitioner")
    Petitioner = apps.get_model("cases", "Petitioner")
    secret = CasePetitioner.objects.filter(case__confidential=True)
    # Merged-in and reviewed copies of a confidential case's people are the same people.
    Petitioner.objects.filter(pk__in=secret.values("petitioner")).update(confidential=True)
    CasePetitioner.objects.filter(
        petitioner__in=Petitioner.objects.filter(confidential=True)
    ).update(confidential=True)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0005_several_units_and_alert_once"),
    ]

    operations = [
        migrations.AddField(
            model_name="casepetitioner",
            name="confidential",
            field=models.BooleanField(default=False, db_default=False, verbose_name="要求保密"),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="confidential",
            field=models.BooleanField(default=False, db_default=False, verbose_name="要求保密"),
        ),
        migrations.RunPython(people_of_confidential_cases, migrations.RunPython.noop),
    ]
