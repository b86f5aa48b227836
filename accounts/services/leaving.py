"""Writes about a person's data on the way out: "Download your data" (a ZIP built by a
task, kept 7 days) and account deletion (a task of recorded, idempotent steps that
resumes where it stopped), with the re-authentication both of them trust."""

import io
import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from accounts import hooks, tasks
from accounts.exports import ChunkReader, ExportArchive, archive_chunks, sections_read
from accounts.models import (
    EXPORT_KEEP,
    USERNAME_HOLD,
    AccountDeletion,
    Circle,
    CircleMembership,
    CircleRole,
    DataExport,
    ExportState,
    User,
    UsernameHold,
)
from accounts.models.leaving import UNFINISHED_EXPORT
from accounts.services import two_factor
from accounts.services.users import user_credentials_end
from circles.errors import ApiError
from circles.queue import enqueue_on_commit
from circles.ratelimits import enforce
from media import storage
from media.models import Image
from media.services import files_delete, images_purge
from media.tasks import files_delete_task
from notifications.services import notification_create_on_commit

logger = logging.getLogger(__name__)

EXPORT_STUCK_AFTER = timedelta(hours=4)  # past the task's time limit (3 h): given up
DELETION_STUCK_AFTER = timedelta(minutes=15)  # an unfinished deletion is resumed
IMAGE_BATCH = 200
EXPORT_RUNNING_MESSAGE = (
    "Your data is already being prepared. Wait for it to finish before asking again."
)


# --- re-authentication ----------------------------------------------------------------


def account_reauthenticate(
    *, user: User, password: str, otp_code: str | None = None, request=None
) -> None:
    """The person at the keyboard proves again that they are the account's owner before
    an irreversible act: the password, and the second factor for people who enrolled
    (checked as the sign-in step checks it: replays refused, under its limit). Wrong or
    missing: 400, nothing changed."""
    if not password:
        raise ValidationError({"password": ["Enter your password."]})
    if not user.check_password(password):
        raise ApiError(400, "invalid_credentials", "That password is not right.")
    if two_factor.two_factor_enabled(user):
        if not otp_code:
            raise two_factor.two_factor_required_error()
        two_factor.two_factor_verify(request=request, user=user, code=otp_code)


# --- "Download your data" -------------------------------------------------------------


def data_export_request(*, user: User, request=None) -> DataExport:
    """Start building the person's ZIP. One at a time: while one is pending or running
    another is refused (409). Every request counts against the "export" limit."""
    if request is not None:
        enforce(request, "export", key=f"user:{user.pk}")
    refused = ApiError(409, "export_running", EXPORT_RUNNING_MESSAGE)
    if DataExport.objects.filter(user=user, state__in=UNFINISHED_EXPORT).exists():
        raise refused
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
    except IntegrityError as exc:  # a concurrent request won (the partial unique index)
        raise refused from exc
    enqueue_on_commit(tasks.data_export_task, str(export.pk))
    return export


def _progress(export_id, percent: int) -> None:
    DataExport.objects.filter(pk=export_id, state=ExportState.RUNNING).update(percent=percent)


def data_export_build(*, export_id) -> None:
    """Build and store the ZIP. Claims the export with a conditional UPDATE (a redelivery
    of a finished one does nothing); a run that died left its key recorded, and the next
    run removes that partial file before writing under a new key."""
    export = DataExport.objects.filter(pk=export_id, state__in=UNFINISHED_EXPORT).first()
    if export is None:
        return
    if export.key:  # an earlier run was interrupted while writing
        storage.media_delete([export.key])
    key = storage.file_key("exports", ".zip")
    claimed = DataExport.objects.filter(pk=export.pk, state__in=UNFINISHED_EXPORT).update(
        state=ExportState.RUNNING, key=key, percent=1
    )
    if not claimed:
        return
    user = export.user
    archive = ExportArchive()
    sections = sections_read(user=user, archive=archive, contributors=hooks.export_sections.items())
    _progress(export.pk, 5)
    total, shown = max(archive.photo_count, 1), [5]

    def on_photo(done: int) -> None:
        percent = 5 + int(90 * done / total)
        if percent >= shown[0] + 2:  # a write per 2 %, not per photo
            shown[0] = percent
            _progress(export.pk, percent)

    reader = ChunkReader(
        archive_chunks(user=user, sections=sections, archive=archive, on_photo=on_photo)
    )
    saved = storage.stream_save(key, io.BufferedReader(reader, buffer_size=1024 * 1024))
    now = timezone.now()
    with transaction.atomic():
        finished = DataExport.objects.filter(pk=export.pk, state=ExportState.RUNNING).update(
            state=ExportState.READY,
            key=saved,  # the name storage kept (the same, keys being random)
            percent=100,
            size=reader.size,
            photo_count=archive.photo_count,
            finished_at=now,
            expires_at=now + EXPORT_KEEP,
        )
        if not finished:  # given up meanwhile: this file is nobody's
            transaction.on_commit(lambda: storage.media_delete([saved]))
            return
        # only the newest export is kept
        older = DataExport.objects.filter(user=user, state=ExportState.READY).exclude(pk=export.pk)
        old_keys = [k for k in older.values_list("key", flat=True) if k]
        older.delete()
        if old_keys:
            enqueue_on_commit(files_delete_task, old_keys)
        notification_create_on_commit(
            actor=user, recipient=user, kind="export_ready", target_id=export.pk
        )


def data_export_fail(*, export_id, reason: str) -> None:
    """A build that cannot finish: failed with a reason, its partial file removed."""
    export = DataExport.objects.filter(pk=export_id, state__in=UNFINISHED_EXPORT).first()
    if export is None:
        return
    DataExport.objects.filter(pk=export.pk).update(
        state=ExportState.FAILED, error=reason[:255], finished_at=timezone.now()
    )
    if export.key:
        enqueue_on_commit(files_delete_task, [export.key])


def data_exports_cleanup(*, now=None) -> int:
    """Remove exports past their 7 days (file, then row) and give up builds stuck far
    longer than any takes; returns how many exports went. Idempotent."""
    now = now or timezone.now()
    for stuck in DataExport.objects.filter(
        state__in=UNFINISHED_EXPORT, created_at__lt=now - EXPORT_STUCK_AFTER
    ).values_list("pk", flat=True):
        data_export_fail(export_id=stuck, reason="It took too long. Try again.")
    expired = DataExport.objects.filter(expires_at__lte=now) | DataExport.objects.filter(
        state=ExportState.FAILED, created_at__lt=now - EXPORT_KEEP
    )
    removed = 0
    for export in expired:
        if export.key:
            files_delete(keys=[export.key])  # before the row: no file left without one
        export.delete()
        removed += 1
    return removed


# --- account deletion -----------------------------------------------------------------


def account_delete_request(*, user: User, password: str, otp_code: str | None = None, request=None):
    """Delete the account once the password (and, later, the second factor) proves it is
    its owner: it stops at once — signed out everywhere, tokens revoked, sockets closed,
    the username held for 30 days — and a task removes everything it owns. Each attempt
    counts against the "account_delete" limit; a refused one changes nothing."""
    if request is not None:
        enforce(request, "account_delete", key=f"user:{user.pk}")
    account_reauthenticate(user=user, password=password, otp_code=otp_code, request=request)
    account_delete_start(user=user)


def account_delete_start(*, user: User) -> None:
    """Stop the account at once — inactive, signed out everywhere, tokens revoked, sockets
    closed, the username held for 30 days — and queue the task that removes everything
    it owns, files included. The one way an account is deleted: by its owner above, or by
    an operator in the admin."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        UsernameHold.objects.update_or_create(
            username=user.username, defaults={"until": timezone.now() + USERNAME_HOLD}
        )
        AccountDeletion.objects.get_or_create(user=user)
        user_credentials_end(user=user)
        enqueue_on_commit(tasks.account_delete_task, str(user.pk))


def _record(deletion: AccountDeletion, step: str) -> None:
    deletion.steps_done = [*deletion.steps_done, step]
    AccountDeletion.objects.filter(pk=deletion.pk).update(
        steps_done=deletion.steps_done, error="", updated_at=timezone.now()
    )


def account_delete_run(*, user_id) -> bool:
    """Run the deletion's steps not yet done, each in its own transaction and recorded
    as done in it; then the user row goes (with the record, its username hold staying).
    An interruption anywhere leaves the record to resume from. True once finished."""
    deletion = AccountDeletion.objects.filter(user_id=user_id).select_related("user").first()
    if deletion is None:
        return True  # finished before (or never asked)
    user = deletion.user
    AccountDeletion.objects.filter(pk=deletion.pk).update(attempts=deletion.attempts + 1)
    for step, remove in hooks.account_deleting.items():
        if step in deletion.steps_done:
            continue
        with transaction.atomic():
            remove(user=user)
            _record(deletion, step)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).delete()  # what is left cascades, the record too
    logger.info("account deleted", extra={"user_id": str(user_id)})
    return True


def account_deletions_resume() -> int:
    """Queue again every deletion that has made no progress for a while (its worker was
    lost); beat runs it."""
    stale = AccountDeletion.objects.filter(
        updated_at__lt=timezone.now() - DELETION_STUCK_AFTER
    ).values_list("user_id", flat=True)
    for user_id in stale:
        enqueue_on_commit(tasks.account_delete_task, str(user_id))
    return len(stale)


# accounts' own steps (registered in AccountsConfig around the content apps' ones)


def circles_hand_over(*, user: User) -> None:
    """Circles the person owns pass to their longest-standing admin, else member (the
    person stays an admin until they leave); a circle with nobody else goes later."""
    for circle in Circle.objects.filter(owner=user).select_for_update():
        heir = (
            CircleMembership.objects.filter(circle=circle)
            .exclude(user=user)
            .annotate(
                rank=Case(
                    When(role=CircleRole.ADMIN, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("rank", "created_at")
            .first()
        )
        if heir is None:
            continue
        # one owner row per circle: the old owner steps down before the heir steps up
        CircleMembership.objects.of(user=user, circle=circle).update(role=CircleRole.ADMIN)
        CircleMembership.objects.filter(pk=heir.pk).update(role=CircleRole.OWNER)
        Circle.objects.filter(pk=circle.pk).update(owner=heir.user_id)


def circles_leave_all(*, user: User) -> None:
    """Leave every circle (the others' chats and albums follow through the hooks); a
    circle still owned had nobody else in it and is deleted."""
    for circle in Circle.objects.filter(owner=user):
        hooks.circle_deleting(circle=circle)
        circle.delete()
    for membership in CircleMembership.objects.filter(user=user).select_related("circle"):
        membership.delete()
        hooks.circle_members_changed(circle=membership.circle)


def owned_images_purge(*, user: User) -> None:
    """Every image the person still owns (avatar, and any a content step left): files
    first, then rows, batch by batch — a failure leaves rows to find the files again."""
    while True:
        if not images_purge(images_to_purge=Image.objects.filter(owner=user)[:IMAGE_BATCH]):
            return


def exports_purge(*, user: User) -> None:
    """The person's data exports: files, then rows."""
    for export in DataExport.objects.filter(user=user):
        if export.key:
            files_delete(keys=[export.key])
        export.delete()
