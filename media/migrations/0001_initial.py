"""The Image model moves here from posts/ with its table (posts_image) and every row:
only Django's state changes. Its content type follows it, so admin permissions and log
entries keep pointing at it."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label=source, model="image").update(app_label=target)


def content_type_follows(apps, schema_editor):
    _move_content_type(apps, "posts", "media")


def content_type_goes_back(apps, schema_editor):
    _move_content_type(apps, "media", "posts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
        ('posts', '0003_image_claimed_by'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # the table and its constraints stay as they are: only Django's view moves
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Image',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('purpose', models.CharField(max_length=10)),
                        ('original_key', models.CharField(editable=False, max_length=255)),
                        ('state', models.CharField(choices=[('pending', 'Pending'), ('processing', 'Processing'), ('ready', 'Ready'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('error', models.CharField(blank=True, max_length=255)),
                        ('alt', models.CharField(blank=True, max_length=500)),
                        ('width', models.PositiveIntegerField(blank=True, null=True)),
                        ('height', models.PositiveIntegerField(blank=True, null=True)),
                        ('blurhash', models.CharField(blank=True, max_length=64)),
                        ('renditions', models.JSONField(blank=True, default=dict)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('claimed_at', models.DateTimeField(blank=True, null=True)),
                        ('claimed_by', models.CharField(blank=True, editable=False, max_length=64)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='images', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'posts_image',
                        'indexes': [models.Index(fields=['state', 'claimed_at'], name='image_state_claimed_idx')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_follows, content_type_goes_back),
    ]
