"""Messaging pages. Everything works without JavaScript: forms post and pages show what
is new on load; static/js/chat.js adds the socket (live messages, typing, receipts,
presence, optimistic sending) on top of the same markup.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from circles import errors
from circles.errors import ApiError
from circles.links import reverse_with_id
from messaging import presence, selectors, services
from messaging.forms import (
    REACTION_CHOICES,
    ConversationStartForm,
    MessageForm,
    ReactionForm,
    StoryReplyForm,
)
from messaging.models import MESSAGE_MAX

INBOX_PAGE = 30
HISTORY_PAGE = 30
REFUSALS = errors.PAGE_REFUSALS


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _refusal(exc) -> tuple[int, str, dict]:
    """(status, message, headers) for an exception in REFUSALS: circles.errors.refusal,
    with messaging pages' words for a rate limit."""
    refused = errors.refusal(exc, too_often="You're sending too fast. Try again in a minute.")
    return refused.status, refused.message, refused.headers


def _render(request, template, context, *, status=200, headers=None):
    response = render(request, template, context, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _refused(request, exc):
    status, message, headers = _refusal(exc)
    context = {"message": message}
    return _render(request, "messaging/refused.html", context, status=status, headers=headers)


@login_required
@require_GET
def inbox(request):
    """Conversations by latest activity, with last message, unread counts and online dots."""
    try:
        page = selectors.conversation_list_for_inbox(
            viewer=request.user, cursor=request.GET.get("cursor"), limit=INBOX_PAGE
        )
    except ApiError as exc:  # a bad cursor
        return _refused(request, exc)
    others = [c.other_user.pk for c in page.items if c.other_user is not None]
    online = presence.online_map(others)
    for conversation in page.items:
        other = conversation.other_user
        conversation.online = bool(other and online.get(other.pk))
    template = "messaging/_inbox_list.html" if _htmx(request) else "messaging/inbox.html"
    return render(request, template, {"page": page, "conversations": page.items})


@login_required
@require_http_methods(["GET", "POST"])
def conversation_start(request):
    """New conversation with one person (reused if it exists) or several (a group)."""
    if request.method == "GET":
        form = ConversationStartForm(initial={"usernames": request.GET.get("to", "")[:100]})
        status = 200
    else:
        form, status = ConversationStartForm(request.POST), 400
        if form.is_valid():
            try:
                conversation, _ = services.conversation_start(
                    creator=request.user, **form.cleaned_data
                )
                return redirect("messaging:conversation", conversation_id=conversation.pk)
            except Http404:
                form.add_error("usernames", "We couldn't find everyone you named.")
                status = 404
            except REFUSALS as exc:
                status, message, _ = _refusal(exc)
                form.add_refusal(exc, message)
    suggestions = selectors.user_list_message_suggestions(user=request.user)
    context = {"form": form, "suggestions": suggestions}
    return render(request, "messaging/new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def conversation(request, conversation_id):
    """A conversation: its latest messages (?before= for older ones) and the composer."""
    conversation = selectors.conversation_get_readable(
        viewer=request.user, conversation_id=conversation_id, with_last_message=False
    )
    form, status, headers = MessageForm.fresh(), 200, {}
    if request.method == "POST":
        form, status = MessageForm(request.POST, request.FILES), 400
        if form.is_valid():
            try:
                services.message_send(
                    sender=request.user, conversation_id=conversation.pk, **form.cleaned_data
                )
                return redirect(reverse("messaging:conversation", args=[conversation.pk]) + "#end")
            except REFUSALS as exc:
                status, message, headers = _refusal(exc)
                form.add_refusal(exc, message)
    return _conversation_page(request, conversation, form, status=status, headers=headers)


def _conversation_page(request, conversation, form, *, status=200, headers=None):
    before = request.GET.get("before")
    try:
        page = selectors.message_list_for_conversation(
            viewer=request.user, conversation=conversation, cursor=before, limit=HISTORY_PAGE
        )
    except ApiError as exc:  # a bad cursor
        return _refused(request, exc)
    history = list(reversed(page.items))  # oldest first on the page
    if history and not before and request.method == "GET":
        newest = history[-1]
        if newest.seq > (conversation.my_last_read_seq or 0):
            services.conversation_mark_read(
                user=request.user, conversation_id=conversation.pk, message_id=newest.pk
            )
    other = conversation.other_user
    context = {
        "conversation": conversation,
        "history": history,
        "older_cursor": page.next_cursor,
        "showing_older": bool(before),
        "form": form,
        "other": other,
        "other_online": bool(other and presence.is_online(other.pk)),
        "seen": selectors.conversation_seen_text(
            conversation=conversation, viewer=request.user, history=history
        ),
        "reaction_choices": REACTION_CHOICES,
        "message_max": MESSAGE_MAX,
        "chat_data": selectors.conversation_page_data(
            conversation=conversation, viewer=request.user, history=history
        ),
    }
    return _render(request, "messaging/conversation.html", context, status=status, headers=headers)


@login_required
@require_POST
def conversation_delete(request, conversation_id):
    """Delete for yourself: the history so far disappears for you only."""
    services.conversation_hide(user=request.user, conversation_id=conversation_id)
    messages.success(request, "Conversation deleted. The others still have it.")
    return redirect("messaging:inbox")


@login_required
@require_POST
def reaction(request, message_id):
    """Add or take back a reaction (the no-JS picker); back to the message."""
    message = selectors.message_get_readable(viewer=request.user, message_id=message_id)
    form = ReactionForm(request.POST)
    if not form.is_valid():
        return _refused(request, ValidationError("Pick one emoji."))
    try:
        if form.cleaned_data["remove"]:
            services.reaction_remove(
                user=request.user, message_id=message.pk, emoji=form.cleaned_data["emoji"]
            )
        else:
            services.reaction_add(
                user=request.user, message_id=message.pk, emoji=form.cleaned_data["emoji"]
            )
    except REFUSALS as exc:
        return _refused(request, exc)
    url = reverse("messaging:conversation", args=[message.conversation_id])
    return redirect(f"{url}#m-{message.pk}")


def story_reply_url(story_id) -> str:
    """The reply box's action (once per story in the viewer: reversed once per process)."""
    return reverse_with_id("messaging:story_reply", "story_id", story_id)


@login_required
@require_POST
def story_reply(request, story_id):
    """The story viewer's reply box without JavaScript: send, then back to the story
    (404 for a story you may not see; other refusals say why)."""
    form = StoryReplyForm(request.POST)
    if not form.is_valid():
        return _refused(request, ValidationError("Write a reply first."))
    try:
        services.story_reply_send(sender=request.user, story_id=story_id, **form.cleaned_data)
    except REFUSALS as exc:
        return _refused(request, exc)
    messages.success(request, "Reply sent.")
    return redirect("stories:detail", story_id=story_id)


@require_GET
def message_button(request, username):
    """A profile's "Message" button, only for people request.user may message (loaded
    after the profile by htmx: the rule stays here, and the profile pays no query)."""
    messageable = selectors.user_list_messageable(user=request.user)
    if not messageable.filter(username=username).exists():
        return HttpResponse(status=204)
    return render(request, "messaging/_message_button.html", {"username": username})


def circle_chat_section(*, circle, viewer) -> dict | None:
    """The circle page's chat section (accounts.hooks.circle_sections): a link to the
    group chat with viewer's unread count."""
    chat = selectors.circle_chat_for_viewer(circle=circle, viewer=viewer)
    if chat is None:
        return None
    return {
        "template": "messaging/_circle_section.html",
        "title": "Chat",
        "badge": chat.unread_count or 0,
        "chat": chat,
    }
