"""A message's photo points at media's Image (the same table as before)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('media', '0001_initial'),
        ('messaging', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # the table and its constraints stay as they are: only Django's view moves
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='message',
                    name='image',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='message', to='media.image'),
                ),
            ],
        ),
    ]
