"""{% icon "house" %} (`{% load icons %}`; `icon("house")` in Jinja2 templates): an icon
from the Lucide sprite (static/vendor/lucide/icons.svg), decorative — the control around
it carries the label.

A tag, not an include: the shell draws ~16 on every page, and an include cost ~30 µs
each (a context pushed, the template looked up); each icon's markup is made once per
process.
"""

import functools

from django import template
from django.utils.html import format_html

from circles.links import icon_sprite_url

register = template.Library()


@register.simple_tag
@functools.cache
def icon(name: str) -> str:
    return format_html(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        icon_sprite_url(),
        name,
    )
