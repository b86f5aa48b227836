"""Staff actions: each one goes through the service that owns the rule (accounts, posts)
and leaves one audit row, in the same transaction."""

import ipaddress

from django.db import transaction
from django.http import Http404

from accounts import services as accounts_services
from accounts.models import User
from circles.ids import uuid_or_404
from posts import services as posts_services
from posts.models import Post
from staff.models import AuditEntry

TARGET_REPR_MAX = 200


def request_ip(request) -> str | None:
    """The client address the platform resolved (trusted proxies honoured); None when
    it is not an IP address (an odd proxy or test client), so the action still goes on."""
    address = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def audit_record(
    *,
    actor: User,
    ip: str | None,
    action: str,
    target_type: str,
    target_id="",
    target_repr="",
    detail: dict | None = None,
) -> AuditEntry:
    """Append one row to the audit log."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=actor.get_username(),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_repr=str(target_repr)[:TARGET_REPR_MAX],
        detail=detail or {},
        ip=ip,
    )


def _user_by_username(username: str) -> User:
    user = User.objects.filter(username=(username or "").strip().lower()).first()
    if user is None:
        raise Http404
    return user


def staff_user_ban(*, actor: User, username: str, ip: str | None) -> User:
    """Ban someone: they are signed out everywhere at once (sessions, tokens, sockets),
    their content leaves every path and stays stored. Refused for yourself, for a
    superuser unless you are one, and for the last superuser."""
    user = _user_by_username(username)
    with transaction.atomic():
        accounts_services.user_ban(user=user, by=actor)
        audit_record(
            actor=actor,
            ip=ip,
            action="user.ban",
            target_type="accounts.user",
            target_id=user.pk,
            target_repr=user.username,
        )
    return user


def staff_user_unban(*, actor: User, username: str, ip: str | None) -> User:
    """Let a banned person back in; their content shows again."""
    user = _user_by_username(username)
    with transaction.atomic():
        accounts_services.user_unban(user=user)
        audit_record(
            actor=actor,
            ip=ip,
            action="user.unban",
            target_type="accounts.user",
            target_id=user.pk,
            target_repr=user.username,
        )
    return user


def staff_post_remove(*, actor: User, post_id, ip: str | None) -> None:
    """Remove any post (whoever may see it): rows now, files by a task after commit."""
    post = Post.objects.filter(pk=uuid_or_404(post_id)).select_related("author").first()
    if post is None:
        raise Http404
    with transaction.atomic():
        audit_record(
            actor=actor,
            ip=ip,
            action="post.remove",
            target_type="posts.post",
            target_id=post.pk,
            target_repr=f"post by {post.author.username}",
            detail={"author": post.author.username, "created_at": post.created_at.isoformat()},
        )
        posts_services.post_delete(post=post, actor=actor)
