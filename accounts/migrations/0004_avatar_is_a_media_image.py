"""The avatar points at media's Image (the same table as before)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_avatar_from_image_pipeline'),
        ('media', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # the table and its constraints stay as they are: only Django's view moves
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='user',
                    name='avatar',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='media.image'),
                ),
            ],
        ),
    ]
