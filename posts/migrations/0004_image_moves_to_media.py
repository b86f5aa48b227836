"""Post photos point at media's Image (the same table); posts no longer has the model."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_avatar_is_a_media_image'),
        ('media', '0001_initial'),
        ('messaging', '0002_image_is_a_media_image'),
        ('posts', '0003_image_claimed_by'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # the table and its constraints stay as they are: only Django's view moves
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='postimage',
                    name='image',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='post_image', to='media.image'),
                ),
                migrations.AlterField(
                    model_name='post',
                    name='images',
                    field=models.ManyToManyField(related_name='posts', through='posts.PostImage', to='media.image'),
                ),
                migrations.DeleteModel(
                    name='Image',
                ),
            ],
        ),
    ]
