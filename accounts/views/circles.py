"""Circles pages: my circles (with the create form), a circle (members, roles, pending
invitations, and the owner's and admins' controls), and the invitations inbox. A form
that fails comes back on the circle page with its errors; other refusals get a page
that says why, with their status."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts import hooks, selectors, services
from accounts.forms import CircleForm, RoleForm, TransferForm, UsernameForm
from accounts.models import CIRCLE_MAX_PEOPLE
from accounts.views.edges import REFUSALS, page_action, refusal, refusals_as_pages, refused
from circles.pagination import MAX_LIMIT

# A circle holds at most 50 people, invitations included: one page shows them all.
PEOPLE_PAGE = min(MAX_LIMIT, CIRCLE_MAX_PEOPLE)


def _circle_url(circle) -> str:
    return reverse("circles:detail", args=[circle.pk])


# --- my circles, invitations --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@refusals_as_pages
def circle_list(request):
    form, status = CircleForm(request.POST or None), 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                circle = services.circle_create(owner=request.user, **form.cleaned_data)
                messages.success(request, f"Circle “{circle.name}” created.")
                return redirect(_circle_url(circle))
            except REFUSALS as exc:
                form.add_refusal(exc, refusal(exc)[1])
    context = {
        "form": form,
        "page": selectors.circle_list_for_user(user=request.user, cursor=request.GET.get("cursor")),
        "invite_count": selectors.circle_invite_count_for_user(user=request.user),
    }
    return render(request, "accounts/circles.html", context, status=status)


@login_required
@require_GET
@refusals_as_pages
def circle_invites(request):
    cursor = request.GET.get("cursor")
    page = selectors.circle_invite_list_for_user(user=request.user, cursor=cursor)
    return render(request, "accounts/circle_invites.html", {"page": page})


@page_action
def circle_invite_accept(request, invite_id):
    circle = services.circle_invite_accept(user=request.user, invite_id=invite_id)
    messages.success(request, f"You joined “{circle.name}”.")
    return redirect(_circle_url(circle))


@page_action
def circle_invite_decline(request, invite_id):
    services.circle_invite_decline(user=request.user, invite_id=invite_id)
    messages.success(request, "Invitation declined.")
    return redirect("circles:invites")


# --- one circle ---------------------------------------------------------------------------


def _circle_page(request, circle_id, *, status=200, **forms):
    """The circle page; a bound form passed in (with its errors) replaces its empty twin."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.user)
    members = selectors.circle_member_list(
        circle=circle, viewer=request.user, limit=PEOPLE_PAGE
    ).items
    invites = selectors.circle_invite_list_for_circle(
        circle=circle, viewer=request.user, limit=PEOPLE_PAGE
    ).items
    initial = {"name": circle.name, "description": circle.description}
    context = {
        "circle": circle,
        "members": members,
        "invites": invites,
        "invite_form": UsernameForm(auto_id="invite_%s"),
        "edit_form": CircleForm(initial=initial, auto_id="edit_%s"),
        "transfer_form": TransferForm(auto_id="transfer_%s"),
        "role_choices": RoleForm.base_fields["role"].choices,
        # the circle's space: its posts, albums and chat, from the apps that own them
        "sections": hooks.circle_sections(circle=circle, viewer=request.user),
        **forms,
    }
    context["transfer_form"].set_members([m for m in members if m.pk != request.user.pk])
    return render(request, "accounts/circle.html", context, status=status)


@login_required
@require_GET
def circle_detail(request, circle_id):
    return _circle_page(request, circle_id)


def _form_action(request, circle_id, form, form_name, act):
    """Validate form, then act(circle, cleaned_data) and go back to the circle page. Bad
    input shows the page again with the form's errors (400; 404 for an unknown
    username); anything else refused gets its own page and status."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.user)
    status = 400
    if form.is_valid():
        try:
            act(circle, form.cleaned_data)
            return redirect(_circle_url(circle))
        except Http404:  # a username that names no one the viewer may know about
            if "username" not in form.fields:
                raise
            form.add_error("username", f"No one is called @{form.cleaned_data['username']}.")
            status = 404
        except ValidationError as exc:
            form.add_refusal(exc)
        except REFUSALS as exc:  # not theirs to do: a page that says so
            return refused(request, exc, back=_circle_url(circle))
    return _circle_page(request, circle_id, status=status, **{form_name: form})


@page_action
def circle_update(request, circle_id):
    def act(circle, data):
        services.circle_update(actor=request.user, circle=circle, **data)
        messages.success(request, "Circle saved.")

    form = CircleForm(request.POST, auto_id="edit_%s")
    return _form_action(request, circle_id, form, "edit_form", act)


@page_action
def circle_invite(request, circle_id):
    def act(circle, data):
        invitee = selectors.user_get_visible(username=data["username"], viewer=request.user)
        services.circle_invite(actor=request.user, circle=circle, invitee=invitee)
        messages.success(request, f"@{invitee.username} is invited.")

    form = UsernameForm(request.POST, auto_id="invite_%s")
    return _form_action(request, circle_id, form, "invite_form", act)


@page_action
def circle_transfer(request, circle_id):
    def act(circle, data):
        new_owner = selectors.user_get_visible(username=data["username"], viewer=request.user)
        services.circle_transfer_ownership(actor=request.user, circle=circle, new_owner=new_owner)
        messages.success(request, f"@{new_owner.username} owns the circle now.")

    form = TransferForm(request.POST, auto_id="transfer_%s")
    return _form_action(request, circle_id, form, "transfer_form", act)


@page_action
def circle_delete(request, circle_id):
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.user)
    services.circle_delete(actor=request.user, circle=circle)
    messages.success(request, f"Circle “{circle.name}” deleted.")
    return redirect("circles:list")


@page_action
def circle_leave(request, circle_id):
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.user)
    try:
        services.circle_leave(user=request.user, circle=circle)
    except REFUSALS as exc:  # the owner must hand the circle on first
        return refused(request, exc, back=_circle_url(circle))
    messages.success(request, f"You left “{circle.name}”.")
    return redirect("circles:list")


def _member_action(request, circle_id, username, act, *, in_circle=False):
    """act(circle, person); in_circle: look person up among the circle's members and
    invitees, whatever the blocks, rather than among the people the viewer may see."""
    circle = selectors.circle_get_for_member(circle_id=circle_id, viewer=request.user)
    if in_circle:
        person = selectors.circle_person_get(circle=circle, username=username, viewer=request.user)
    else:
        person = selectors.user_get_visible(username=username, viewer=request.user)
    try:
        act(circle, person)
    except REFUSALS as exc:
        return refused(request, exc, back=_circle_url(circle))
    return redirect(_circle_url(circle))


@page_action
def circle_invite_cancel(request, circle_id, username):
    def act(circle, invitee):
        services.circle_invite_cancel(actor=request.user, circle=circle, invitee=invitee)
        messages.success(request, f"Invitation of @{invitee.username} withdrawn.")

    return _member_action(request, circle_id, username, act)


@page_action
def circle_member_remove(request, circle_id, username):
    def act(circle, member):
        services.circle_member_remove(actor=request.user, circle=circle, user=member)
        messages.success(request, f"@{member.username} was removed from the circle.")

    return _member_action(request, circle_id, username, act, in_circle=True)


@page_action
def circle_member_role(request, circle_id, username):
    role = request.POST.get("role", "")  # the service accepts "admin" or "member"

    def act(circle, member):
        services.circle_member_set_role(actor=request.user, circle=circle, user=member, role=role)
        title = "an admin" if role == "admin" else "a member"
        messages.success(request, f"@{member.username} is now {title}.")

    return _member_action(request, circle_id, username, act)
