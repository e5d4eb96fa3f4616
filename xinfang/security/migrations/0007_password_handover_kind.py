from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('security', '0006_password_handover'),
    ]

    operations = [
        migrations.AddField(
            model_name='passwordhandover',
            name='kind',
            field=models.CharField(choices=[('reset', '重置'), ('first', '首次任职')], default='reset', max_length=10, verbose_name='缘由'),
        ),
    ]
