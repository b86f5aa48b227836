"""Notification tasks: take nothing or ids, call one service."""

from celery import shared_task

from notifications.services import notifications_prune


@shared_task(name="notifications.prune")
def notifications_prune_task() -> int:
    return notifications_prune()
