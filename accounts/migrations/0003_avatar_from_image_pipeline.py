"""Avatars move from a raw stored file to an image of the pipeline. The column changes
type (path → image id), so the old field is dropped rather than converted: stored raw
avatars kept their metadata and were never served, so nothing shown is lost."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_graph_circles_session_epoch"),
        ("posts", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="user", name="avatar"),
        migrations.AddField(
            model_name="user",
            name="avatar",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="posts.image",
            ),
        ),
    ]
