"""Circles: small invite-only groups with an owner, admins and members."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

# People in a circle, counting pending invites: an invite reserves a seat.
CIRCLE_MAX_PEOPLE = 50


class CircleRole(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class CircleQuerySet(models.QuerySet):
    def with_member(self, user):
        """The circles user is in: THE membership rule (CircleMembershipQuerySet.of) seen
        from the circles, as a join, so a listing can read the membership row too.

        Pages and the API that show circles filter with this.
        """
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Circle(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_circles"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CircleMembership", related_name="circles"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CircleQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class CircleMembershipQuerySet(models.QuerySet):
    def of(self, *, user, circle):
        """THE rule for "is user in this circle?": user's membership row in circle, any
        role (a pending invitee has none). Each side may be an instance, an id or an
        OuterRef expression, so `Exists(CircleMembership.objects.of(user=viewer,
        circle=OuterRef("circle")))` asks it per row: circle posts, the circle chat's
        readers and the services all ask this."""
        return self.filter(circle=circle, user=user)


class CircleMembership(models.Model):
    circle = models.ForeignKey(
        Circle, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="circle_memberships",
        db_index=False,
    )
    role = models.CharField(max_length=10, choices=CircleRole.choices, default=CircleRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CircleMembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "user"], name="circlemember_unique_pair"),
            # exactly one owner row per circle (the service keeps Circle.owner in step)
            models.UniqueConstraint(
                fields=["circle"], condition=Q(role="owner"), name="circlemember_one_owner"
            ),
        ]
        indexes = [
            # "my circles", newest first
            models.Index(fields=["user", "-created_at"], name="circlemember_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.circle_id} ({self.role})"


class CircleInvite(models.Model):
    """A pending invitation; accepting or declining deletes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    circle = models.ForeignKey(
        Circle, on_delete=models.CASCADE, related_name="invites", db_index=False
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="circle_invites",
        db_index=False,
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="circle_invites_sent",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "invitee"], name="circleinvite_unique_pending"
            ),
        ]
        indexes = [
            # the invitee's inbox, newest first
            models.Index(fields=["invitee", "-created_at"], name="circleinvite_invitee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invitee_id} invited to {self.circle_id}"
