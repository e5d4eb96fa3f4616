from django.db import migrations, models


def forget_marks(apps, schema_editor):
    """The kept rows and sums hold ``owed`` as 0 until their cases are counted again. Without a
    mark the page counts straight (exact) and the next refresh counts every case again, moving
    the sums by the difference: run ``manage.py refresh_figures`` after migrating."""
    apps.get_model("figures", "FigureMark").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("figures", "0001_sup9_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="casefigure",
            name="owed",
            field=models.SmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="figuresum",
            name="owed",
            field=models.IntegerField(default=0),
        ),
        migrations.RunPython(forget_marks, migrations.RunPython.noop),
    ]
