"""factory_boy factories. Every test builds its world from these."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import User

DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    display_name = factory.LazyAttribute(lambda o: o.username.title())
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save(update_fields=["password"])


# --- accounts: the graph and circles (issue 3) -----------------------------------------


class FollowFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.Follow"

    follower = factory.SubFactory(UserFactory)
    following = factory.SubFactory(UserFactory)


class FollowRequestFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.FollowRequest"

    requester = factory.SubFactory(UserFactory)
    target = factory.SubFactory(UserFactory, is_private=True)


class BlockFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.Block"

    blocker = factory.SubFactory(UserFactory)
    blocked = factory.SubFactory(UserFactory)


class CircleFactory(DjangoModelFactory):
    """A circle with its owner's membership, like accounts.services.circle_create."""

    class Meta:
        model = "accounts.Circle"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Circle {n}")
    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def owner_membership(self, create, extracted, **kwargs):
        if create:
            from accounts.models import CircleMembership, CircleRole

            CircleMembership.objects.get_or_create(
                circle=self, user=self.owner, defaults={"role": CircleRole.OWNER}
            )


class CircleMembershipFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.CircleMembership"

    circle = factory.SubFactory(CircleFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"


class CircleInviteFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.CircleInvite"

    circle = factory.SubFactory(CircleFactory)
    invitee = factory.SubFactory(UserFactory)
    invited_by = factory.LazyAttribute(lambda o: o.circle.owner)
