"""Jinja2 for the templates on the hot path, where Django's engine cost several times
as much a render (README, "Performance"): the feed's cards and their like and save
buttons (templates/jinja2/posts/), the stories tray's rings (templates/jinja2/stories/:
~50 on a home page), and the shell's navigation and badges, drawn on every page
(templates/jinja2/components/). Every other template stays Django's.

- environment(): the Jinja2 engine's environment (settings.TEMPLATES), with Django's own
  filters for what those templates use, so they read and render as Django's would (but
  for how a quote is escaped), and `icon("bell")` (circles/icons.py);
- csrf_input: its context processor, the CSRF field made once per request (Django's
  Jinja2 backend masks a new token at every use: twenty a feed page, and a page renders
  several Jinja2 templates), and csrf_token, the Django templates' one (`{{ csrf_token }}`,
  `{% csrf_token %}`): both show the same masked token, made once a request
  (request_csrf_token) — masking draws 32 random characters, a system call each;
- {% jinja "posts/_like_button.html" %}: a Django template tag (`{% load jinja %}`) that
  renders a Jinja2 template in place with the current context.
"""

from django import template
from django.contrib.humanize.templatetags import humanize
from django.middleware.csrf import get_token
from django.template import defaultfilters, engines
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from jinja2 import Environment

from circles.icons import icon
from circles.links import reverse_with_id


def environment(**options) -> Environment:
    # autoescape: Django's Jinja2 backend turns it on in options. It is markupsafe's (C):
    # the characters Django escapes, with &#39; and &#34; where Django writes &#x27; and
    # &quot; — and a tenth of a feed page's time less than Django's escape in finalize.
    env = Environment(**options)  # noqa: S701
    env.globals.update(url=reverse, url_with_id=reverse_with_id, static=static, icon=icon)
    env.filters.update(
        naturaltime=humanize.naturaltime,  # "now", "5 minutes ago": never "0 minutes ago"
        truncatechars=defaultfilters.truncatechars,
        pluralize=defaultfilters.pluralize,
    )
    return env


def request_csrf_token(request) -> str:
    """get_token(request), masked once per request and CSRF secret: any masked token of
    the secret passes the check, so one serves a whole response. A new secret (a sign-in
    rotates it) gets a token of its own."""
    secret = request.META.get("CSRF_COOKIE")
    made = getattr(request, "_csrf_token_made", None)
    if made is None or made[0] != secret:
        token = get_token(request)  # may make the secret: key the token by it after
        made = request._csrf_token_made = (request.META.get("CSRF_COOKIE"), token)
    return made[1]


def csrf_input(request) -> dict:
    """The Jinja2 templates' context processor: the CSRF form field."""
    field = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', request_csrf_token(request)
    )
    return {"csrf_input": field}


def csrf_token(request) -> dict:
    """The Django templates' context processor: `csrf_token` as Django's own (always on,
    this one comes after it), with request_csrf_token's token."""
    return {"csrf_token": SimpleLazyObject(lambda: request_csrf_token(request))}


register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, template_name):
    """Render the Jinja2 template template_name (templates/jinja2/) here, with this context."""
    found = engines["jinja2"].get_template(template_name)
    return mark_safe(found.render(context.flatten(), request=context.get("request")))  # noqa: S308 (Jinja2 escaped it)
