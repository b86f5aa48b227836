"""The audit log: every staff action in the admin leaves a row (who, what, target, when,
address); rows never change or go; only superusers read them."""

import pytest
from django.urls import reverse

from accounts.models import User
from posts.models import Post
from staff.models import AuditAppendOnly, AuditEntry
from staff.services import audit_record
from tests.accounts.test_admin import change_form_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IP = "192.0.2.44"


def test_an_admin_change_is_audited_with_fields_and_address(client_for, superuser, member):
    client = client_for(superuser)
    url = reverse("admin:accounts_user_change", args=[member.pk])
    response = client.post(url, change_form_data(member, display_name="Renamed"), REMOTE_ADDR=IP)
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_type) == (
        superuser,
        "admin.change",
        "accounts.user",
    )
    assert entry.target_id == str(member.pk) and entry.ip == IP
    assert entry.detail == {"fields": ["Display name"]}


def test_unticking_active_in_the_admin_bans_and_is_audited(client_for, superuser, member):
    client = client_for(superuser)
    url = reverse("admin:accounts_user_change", args=[member.pk])
    client.post(url, change_form_data(member, is_active=None), REMOTE_ADDR=IP)
    member.refresh_from_db()
    assert member.is_active is False
    entry = AuditEntry.objects.get()
    assert entry.action == "admin.change" and entry.detail == {"fields": ["Active"]}


def test_unticking_your_own_active_box_is_refused(client_for, superuser):
    UserFactory(username="chief2", is_staff=True, is_superuser=True)
    client = client_for(superuser)
    url = reverse("admin:accounts_user_change", args=[superuser.pk])
    form = change_form_data(superuser, is_active=None, is_staff="on", is_superuser="on")
    response = client.post(url, form, follow=True)
    assert "You can&#x27;t ban yourself." in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.is_active and superuser.is_staff


@pytest.mark.parametrize("action", ["ban", "unban"])
def test_admin_ban_and_unban_actions_are_audited(client_for, superuser, member, action):
    if action == "unban":
        User.objects.filter(pk=member.pk).update(is_active=False)
    client = client_for(superuser)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": action, "_selected_action": [str(member.pk)]},
        REMOTE_ADDR=IP,
    )
    member.refresh_from_db()
    assert member.is_active is (action == "unban")
    entry = AuditEntry.objects.get()
    assert entry.action == f"admin.action.{action}" and entry.ip == IP
    assert entry.detail == {"ids": [str(member.pk)], "count": 1}


def test_admin_ban_action_refuses_yourself_and_the_last_superuser(client_for, superuser):
    client = client_for(superuser)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "ban", "_selected_action": [str(superuser.pk)]},
        follow=True,
    )
    assert "You can&#x27;t ban yourself." in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.is_active


def test_removing_a_post_in_the_admin_is_audited(client_for, superuser, member):
    post = Post.objects.create(author=member, caption="spam", status="published")
    client = client_for(superuser)
    response = client.post(
        reverse("admin:posts_post_delete", args=[post.pk]), {"post": "yes"}, REMOTE_ADDR=IP
    )
    assert response.status_code == 302
    assert not Post.objects.filter(pk=post.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_type, entry.target_id, entry.ip) == (
        "admin.delete",
        "posts.post",
        str(post.pk),
        IP,
    )


def test_adding_in_the_admin_is_audited(client_for, superuser):
    client = client_for(superuser)
    response = client.post(reverse("admin:posts_hashtag_add"), {"name": "sunsets"}, REMOTE_ADDR=IP)
    assert response.status_code == 302
    assert AuditEntry.objects.get().action == "admin.add"


# --- append-only, superusers only ---------------------------------------------------------


@pytest.fixture
def entry(superuser):
    return audit_record(
        actor=superuser, ip=IP, action="user.ban", target_type="accounts.user", target_id="x"
    )


def test_rows_refuse_to_change_or_go(entry):
    entry.action = "user.unban"
    with pytest.raises(AuditAppendOnly):
        entry.save()
    with pytest.raises(AuditAppendOnly):
        entry.delete()
    with pytest.raises(AuditAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="nothing")
    with pytest.raises(AuditAppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().action == "user.ban"


def test_the_actor_leaving_keeps_the_row(entry, superuser):
    superuser.delete()
    entry.refresh_from_db()
    assert entry.actor is None and entry.actor_username == "chief"


def test_superusers_read_the_log_and_nobody_edits_it(client_for, superuser, staff_user, entry):
    root = client_for(superuser)
    changelist = reverse("admin:staff_auditentry_changelist")
    page = root.get(changelist)
    assert page.status_code == 200 and "user.ban" in page.content.decode()
    assert root.get(reverse("admin:staff_auditentry_change", args=[entry.pk])).status_code == 200
    assert root.get(reverse("admin:staff_auditentry_add")).status_code == 403
    assert (
        root.post(
            reverse("admin:staff_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    root.post(reverse("admin:staff_auditentry_change", args=[entry.pk]), {"action": "forged"})
    entry.refresh_from_db()
    assert entry.action == "user.ban"
    # staff who are not superusers do not see it at all
    operator = client_for(staff_user)
    assert operator.get(changelist).status_code == 403
    assert "Audit entries" not in operator.get(reverse("admin:index")).content.decode()
    assert "Audit entries" in root.get(reverse("admin:index")).content.decode()


def test_an_address_that_is_not_an_ip_is_recorded_as_unknown(client_for, superuser, member):
    client = client_for(superuser)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "ban", "_selected_action": [str(member.pk)]},
        REMOTE_ADDR="not-an-address",
    )
    member.refresh_from_db()
    assert member.is_active is False
    assert AuditEntry.objects.get().ip is None
