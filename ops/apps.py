from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: backup and restore (manage.py backup / restore). The top floor: it
    reads every app's data through the database dump and media's Image table."""

    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"
